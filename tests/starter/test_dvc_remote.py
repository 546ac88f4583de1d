"""A team shares a trained starter project through git and a DVC remote.

Generate -> train -> add a directory remote, commit what a user commits, `dvc
push` -> `git clone` into a fresh folder -> `kedro mlops lineage RUN --checkout`
there brings the run's files back from the remote, byte for byte. With the
remote emptied, it says where it looked and changes nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.envs import new_project
from tests.git_dvc import sh
from tests.starter.runs import NO_SEARCH, NOT_NESTED

pytestmark = pytest.mark.integration

RUN_FILES = ("data/01_raw/customers.csv", "data/05_model_input/model_input.parquet")
IDENTITY = ("-c", "user.name=tests", "-c", "user.email=tests@example.com")


@pytest.fixture(scope="module")
def shared(installed, tmp_path_factory) -> tuple[Path, Path, str]:
    """The trained project, its remote (pushed) and its training run's id."""
    from mlflow import MlflowClient

    base = tmp_path_factory.mktemp("dvc-remote")
    project = new_project(installed, base)
    installed.run("kedro", "run", "--params", NO_SEARCH, cwd=project)
    remote = base / "dvc-store"
    installed.run("dvc", "remote", "add", "-d", "storage", str(remote), cwd=project)
    # what the user commits: the remote's configuration and the run's .dvc records
    sh("git", "add", "-A", cwd=project)
    sh("git", *IDENTITY, "commit", "-qm", "DVC remote, model input", cwd=project)
    installed.run("dvc", "push", cwd=project)
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    (run,) = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], NOT_NESTED
    )
    return project, remote, run.info.run_id


def _clone(project: Path, folder: Path) -> Path:
    sh("git", "clone", "-q", str(project), str(folder), cwd=folder.parent)
    return folder


def _records(project: Path) -> dict[str, bytes]:
    return {
        p.relative_to(project).as_posix(): p.read_bytes()
        for p in project.glob("data/*/*.dvc")
    }


def _remote_object(remote: Path, record: bytes) -> Path:
    md5 = record.decode().split("md5: ")[1].split()[0]
    return remote / "files" / "md5" / md5[:2] / md5[2:]


def test_dvc_push_sends_every_tracked_output(installed, shared):
    project, remote, _ = shared
    records = _records(project)
    # the raw tables and the run's model input, each in the remote
    assert "data/05_model_input/model_input.parquet.dvc" in records
    for name, record in records.items():
        data = project / name.removesuffix(".dvc")
        assert _remote_object(remote, record).read_bytes() == data.read_bytes(), name
    status = installed.run("dvc", "status", "-c", cwd=project).stdout
    assert status.strip() == "Cache and remote 'storage' are in sync."
    assert sh("git", "status", "--porcelain", cwd=project) == ""


def test_a_fresh_clone_gets_the_runs_data_back_from_the_remote(
    installed, shared, tmp_path
):
    project, _, run_id = shared
    clone = _clone(project, tmp_path / "clone")
    assert not (clone / "data/05_model_input/model_input.parquet").exists()
    # without a tracking store: a clear error, and no empty mlflow.db made
    refused = installed.run("kedro", "mlops", "lineage", run_id, cwd=clone, check=False)
    assert refused.returncode == 1
    assert (
        f"No MLflow tracking store at {clone / 'mlflow.db'} (mlflow.yml of the "
        "environment 'local'); nothing was created." in refused.stderr
    )
    assert not (clone / "mlflow.db").exists()
    # pointed at the team's store, --checkout fetches the run's data
    store = {"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}
    result = installed.run(
        "kedro", "mlops", "lineage", run_id, "--checkout", cwd=clone, extra_env=store
    )
    remote = f"in the DVC remote 'storage' ({shared[1]}), not in the local cache"
    assert result.stdout.count(remote) == 2
    assert "Fetching 2 data version(s)" in result.stdout
    assert "Restored 2 data version(s)" in result.stdout
    for data in RUN_FILES:
        assert (clone / data).read_bytes() == (project / data).read_bytes(), data
    assert sh("git", "status", "--porcelain", cwd=clone) == ""
    assert not (clone / "mlflow.db").exists()


def test_a_remote_without_the_data_is_a_clear_error_that_changes_nothing(
    installed, shared, tmp_path
):
    project, remote, run_id = shared
    clone = _clone(project, tmp_path / "clone")
    before = _records(clone)
    store = {"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}
    aside = remote.with_name("dvc-store-aside")
    remote.rename(aside)
    remote.mkdir()  # the remote emptied
    try:
        result = installed.run(
            "kedro",
            "mlops",
            "lineage",
            run_id,
            "--checkout",
            cwd=clone,
            extra_env=store,
            check=False,
        )
    finally:
        shutil.rmtree(remote)
        aside.rename(remote)
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: The run's data cannot be restored: ")
    assert (
        f"are in neither the local DVC cache nor the DVC remote 'storage' ({remote})"
        in error
    )
    assert error.endswith("Nothing was changed.")
    assert "Traceback" not in result.stderr
    assert _records(clone) == before
    assert sh("git", "status", "--porcelain", "--untracked-files=all", cwd=clone) == ""
    assert not [data for data in RUN_FILES if (clone / data).exists()]
