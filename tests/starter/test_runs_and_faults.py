"""Runs at once and a broken tracking store, on a freshly generated project.

1. two `kedro run --pipelines training` start together on the new project: the
   first use of its MLflow store, its experiment, its registered model;
2. its store then disappears, or is damaged, before `kedro run --pipelines
   inference`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.envs import Env, new_project
from tests.starter.runs import NOT_NESTED

pytestmark = pytest.mark.integration

MODEL = "churn_model"
WEAK = "train.model.max_iter=3,train.model.max_leaf_nodes=3,train.tuning.enabled=false"
WEAKER = (
    "train.model.max_iter=1,train.model.max_leaf_nodes=2,train.tuning.enabled=false"
)


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory) -> Path:
    return new_project(installed, tmp_path_factory.mktemp("runs-and-faults"))


def _start(env: Env, project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(env.bin / "kedro"), "run", *args],
        cwd=project,
        env=env.environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def trained_at_once(installed, project) -> Path:
    """Two training runs started together on the new project, one weaker
    (both small models: the test is about the store, not the training)."""
    processes = [
        _start(installed, project, "--pipelines", "training", "--params", params)
        for params in (WEAKER, WEAK)
    ]
    for process in processes:
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, output[-6000:]
    return project


def test_two_first_runs_at_once_finish_with_one_champion_the_better(trained_at_once):
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{trained_at_once / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, NOT_NESTED)
    # one of them created the store whole: no temporary file of it is left
    assert sorted(p.name for p in trained_at_once.glob("*mlflow.db*")) == [
        "mlflow.db",
        "mlflow.db.lock",
    ]
    # both runs finished, in the one experiment they both created at first use
    assert sorted(r.info.status for r in runs) == ["FINISHED", "FINISHED"]
    assert len({r.info.experiment_id for r in runs}) == 1
    # each run's model is registered once, and the champion is the better one.
    # (Both runs write the project's same intermediate files, so one may read
    # the other's model and both measure the same: then either is the best.)
    versions = client.search_model_versions(f"name = '{MODEL}'")
    assert sorted(v.run_id for v in versions) == sorted(r.info.run_id for r in runs)
    scores = {r.info.run_id: r.data.metrics["test.roc_auc"] for r in runs}
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert scores[champion.run_id] == max(scores.values())
    # and git sees neither the store's lock nor a temporary file of a save
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=trained_at_once,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert not [
        line for line in status.splitlines() if "lock" in line or ".tmp" in line
    ]


def _inference(installed: Env, project: Path) -> str:
    result = installed.run(
        "kedro", "run", "--pipelines", "inference", cwd=project, check=False
    )
    assert result.returncode != 0
    return " ".join((result.stdout + result.stderr).split())  # unwrapped lines


def test_inference_after_the_store_was_deleted_says_what_happened(
    installed, trained_at_once
):
    store = trained_at_once / "mlflow.db"
    kept = trained_at_once.parent / "mlflow.db.kept"
    shutil.move(store, kept)
    try:
        output = _inference(installed, trained_at_once)
    finally:
        store.unlink(missing_ok=True)
        shutil.move(kept, store)
    assert f"There was no MLflow tracking store at {store}" in output
    assert (
        f"the dataset 'champion_model' has no model to load (models:/{MODEL}@champion)"
        in output
    )
    assert "Run `kedro run --pipelines training`" in output
    assert "MlflowException" not in output


def test_inference_with_a_damaged_store_leaves_it_and_says_so(
    installed, trained_at_once
):
    store = trained_at_once / "mlflow.db"
    kept = trained_at_once.parent / "mlflow.db.kept"
    shutil.copyfile(store, kept)
    cut = kept.read_bytes()[: store.stat().st_size // 3]
    store.write_bytes(cut)
    try:
        output = _inference(installed, trained_at_once)
        assert store.read_bytes() == cut  # not migrated over, not deleted
    finally:
        shutil.move(kept, store)
    assert (
        f"The MLflow tracking store at {store} is unreadable: it is cut short" in output
    )
    assert "left the file as it is" in output
    assert "kedro run --pipelines training" in output
