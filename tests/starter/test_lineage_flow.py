"""The starter's data versioning, end to end with the real commands.

Generate -> train (the raw data's md5 is in the run) -> edit the raw data ->
train again (a new md5) -> `kedro mlops lineage RUN --checkout` on the first run
brings the first bytes back.
"""

from __future__ import annotations

import pandas as pd
import pytest

from harness.envs import new_project
from tests.git_dvc import DVC, sh
from tests.starter.runs import NO_SEARCH, NOT_NESTED

pytestmark = pytest.mark.integration

RAW = "data/01_raw/customers.csv"


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory):
    return new_project(installed, tmp_path_factory.mktemp("lineage"))


def _runs(project):
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    return client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        NOT_NESTED,
        order_by=["attributes.start_time ASC"],
    )


def _recorded_md5(project) -> str:
    return (project / f"{RAW}.dvc").read_text().split("md5: ")[1].split()[0]


def test_new_project_is_a_repository_with_dvc_tracked_raw_data(project):
    assert (project / ".git").is_dir() and (project / ".dvc").is_dir()
    assert len(sh("git", "log", "--oneline", cwd=project).splitlines()) == 1
    tracked = sh("git", "ls-files", cwd=project).split()
    assert f"{RAW}.dvc" in tracked and RAW not in tracked
    assert sh("git", "status", "--porcelain", cwd=project) == ""
    assert (
        sh(DVC, "status", cwd=project).strip() == "Data and pipelines are up to date."
    )
    assert sh(DVC, "remote", "list", cwd=project).strip() == ""  # none by default


def test_edit_rerun_and_restore_the_first_runs_data(installed, project):
    # the very first run records the raw data's md5
    original = (project / RAW).read_bytes()
    first_md5 = _recorded_md5(project)
    installed.run("kedro", "run", "--params", NO_SEARCH, cwd=project)
    first = _runs(project)[-1]
    tags = first.data.tags
    assert tags["mlops.lineage.data.raw_customers.md5"] == first_md5
    assert tags["mlops.lineage.data.raw_customers.state"] == "committed"
    assert (
        tags["mlops.lineage.git.commit"]
        == sh("git", "rev-parse", "HEAD", cwd=project).strip()
    )
    digests = {i.dataset.name: i.dataset.digest for i in first.inputs.dataset_inputs}
    assert digests["raw_customers"] == first_md5
    # a user edits the raw data and trains again: a new md5 in the new run
    raw = pd.read_csv(project / RAW)
    raw.loc[:199, "monthly_charges"] += 10
    raw.to_csv(project / RAW, index=False)
    result = installed.run("kedro", "run", "--params", NO_SEARCH, cwd=project)
    assert "was edited but not added to DVC" in result.stdout + result.stderr
    second = _runs(project)[-1]
    second_md5 = second.data.tags["mlops.lineage.data.raw_customers.md5"]
    assert second_md5 != first_md5
    # restoring now would lose the edit: refused, nothing changed
    refused = installed.run(
        "kedro",
        "mlops",
        "lineage",
        first.info.run_id,
        "--checkout",
        cwd=project,
        check=False,
    )
    assert refused.returncode != 0
    assert "dvc add" in refused.stdout + refused.stderr
    # once the new version is kept, the first run's data comes back
    sh(DVC, "add", "-q", RAW, cwd=project)
    sh("git", "commit", "-qam", "customers with new prices", cwd=project)
    shown = installed.run("kedro", "mlops", "lineage", first.info.run_id, cwd=project)
    assert (
        f"git checkout {tags['mlops.lineage.git.commit']} -- {RAW}.dvc" in shown.stdout
    )
    assert first_md5 in shown.stdout
    installed.run(
        "kedro", "mlops", "lineage", first.info.run_id, "--checkout", cwd=project
    )
    assert (project / RAW).read_bytes() == original


def test_generated_inside_a_git_repository_it_does_not_nest_one(installed, tmp_path):
    outer = tmp_path / "monorepo"
    outer.mkdir()
    sh("git", "init", "-q", cwd=outer)
    (outer / "other.txt").write_text("staged, not ours\n")
    sh("git", "add", "other.txt", cwd=outer)
    project = new_project(installed, outer / "models")
    assert not (project / ".git").exists()
    assert (project / ".dvc").is_dir()
    committed = sh("git", "show", "--name-only", "--format=", "HEAD", cwd=outer).split()
    assert f"models/churn-model/{RAW}.dvc" in committed
    assert "other.txt" not in committed  # the user's staged change stays staged
    assert "A  other.txt" in sh("git", "status", "--porcelain", cwd=outer)
    assert (
        sh(DVC, "status", cwd=project).strip() == "Data and pipelines are up to date."
    )


def test_generated_in_a_folder_the_enclosing_repository_ignores(installed, tmp_path):
    # like scripts/demo.sh, which generates under the ignored demo/ of a checkout
    outer = tmp_path / "checkout"
    (outer / "demo").mkdir(parents=True)
    sh("git", "init", "-q", cwd=outer)
    (outer / ".gitignore").write_text("demo/\n")
    project = new_project(installed, outer / "demo")
    assert (
        project / ".git"
    ).is_dir()  # its own repository: the outer one cannot track it
    assert len(sh("git", "log", "--oneline", cwd=project).splitlines()) == 1
    assert (
        sh(DVC, "status", cwd=project).strip() == "Data and pipelines are up to date."
    )
