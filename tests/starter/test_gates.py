"""What stops a generated project's runs, or its models, in a real `kedro run`:
a parameter that cannot be, a training table too small to learn from, a second
name for the model, a promotion gate on a metric never logged, a drifted batch
with `on_drift: fail`; and the model card of the version training registered."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.envs import new_project, read_json
from tests.starter.runs import NO_SEARCH, NOT_NESTED

pytestmark = pytest.mark.integration

RENAMED = "churn_renamed"


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory):
    return new_project(installed, tmp_path_factory.mktemp("gates"))


@pytest.fixture(scope="module")
def client(project):
    from mlflow import MlflowClient

    return MlflowClient(f"sqlite:///{project / 'mlflow.db'}")


def _runs(client) -> list:
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(
        experiments, NOT_NESTED, order_by=["attributes.start_time ASC"]
    )


def _run_count(project: Path, client) -> int:
    """Runs in the project's store (none before it exists: asking would make it)."""
    return len(_runs(client)) if (project / "mlflow.db").exists() else 0


def _versions(project: Path, client) -> int:
    exists = (project / "mlflow.db").exists()
    return len(client.search_model_versions()) if exists else 0


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _swap(path: Path, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` in ``path``; returns the text it had."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return text


def test_a_bad_parameter_stops_the_run_before_any_node(installed, project, client):
    # given a reference sample of 0 rows (inference would fail on it later)
    params = project / "conf/base/parameters_ingest.yml"
    shipped = _swap(params, "reference_sample_size: 2000", "reference_sample_size: 0")
    runs = _run_count(project, client)
    try:
        result = installed.run("kedro", "run", cwd=project, check=False)
    finally:
        params.write_text(shipped)
    # then training stops before any node, with one line naming file, key and fix
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert (
        "Error: Invalid parameter in conf/base/parameters_ingest.yml: "
        "ingest.reference_sample_size: Input should be greater than 0 (got 0)"
    ) in output
    assert "Running node" not in output
    assert _run_count(project, client) == runs  # no MLflow run was opened


def test_a_model_trained_on_six_rows_is_not_registered(installed, project, client):
    # given a training table of 6 rows
    raw = project / "data/01_raw/customers.csv"
    shipped = raw.read_bytes()
    pd.read_csv(raw, nrows=6).to_csv(raw, index=False)
    versions = _versions(project, client)
    try:
        result = installed.run("kedro", "run", cwd=project)
    finally:
        raw.write_bytes(shipped)
    # then the run finishes, the model is not registered, and the run says why
    assert "not registered: it was trained on 6 rows" in result.stdout + result.stderr
    run = _runs(client)[-1]
    assert run.info.status == "FINISHED"
    assert run.data.metrics["training_rows"] == 6
    assert run.data.tags["mlops.registry.promoted"] == "false"
    assert "registry.min_training_rows (100)" in run.data.tags["mlops.registry.summary"]
    assert _versions(project, client) == versions


@pytest.fixture(scope="module")
def renamed(installed, project, client):
    """The model renamed: first in mlops.yml alone (a second name, which stops
    the run), then where the starter names it, globals.yml, and trained
    (without the search)."""
    mlops_yml = project / "conf/base/mlops.yml"
    named = "model_name: ${globals:registered_model_name}"
    shipped = _swap(mlops_yml, named, f"model_name: {RENAMED}")
    runs = _run_count(project, client)
    try:
        mismatch = installed.run("kedro", "run", cwd=project, check=False)
    finally:
        mlops_yml.write_text(shipped)
    mismatch_runs = _run_count(project, client) - runs
    _swap(
        project / "conf/base/globals.yml",
        "registered_model_name: churn_model",
        f"registered_model_name: {RENAMED}",
    )
    installed.run("kedro", "run", "--params", NO_SEARCH, cwd=project)
    return mismatch, mismatch_runs


def test_a_second_model_name_stops_the_run_naming_both(renamed):
    mismatch, runs = renamed
    assert mismatch.returncode != 0
    output = mismatch.stdout + mismatch.stderr
    assert (
        f"Error: The model has two names: registry.model_name is '{RENAMED}' "
        "in mlops.yml, but the catalog dataset 'champion_model' loads the champion "
        "of 'churn_model' (catalog.yml)."
    ) in output
    assert "Running node" not in output
    assert runs == 0


@pytest.fixture(scope="module")
def stopped(installed, project, renamed):
    """Batch inference of the drifted production batch with `on_drift: fail`
    (an environment of its own), over the previous batch's predictions."""
    predictions = project / "data/07_model_output/predictions.csv"
    predictions.write_text("customer_id,churned_probability,churned_prediction\n")
    previous = _md5(predictions)
    (project / "conf/strict").mkdir()
    (project / "conf/strict/mlops.yml").write_text("drift:\n  on_drift: fail\n")
    try:
        result = installed.run(
            "kedro", "run", "--pipelines", "inference", "--env", "strict",
            cwd=project, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(project / "conf/strict")
    return result, previous


def test_training_and_inference_use_the_renamed_model(stopped, client):
    # training registered the new name only
    assert [m.name for m in client.search_registered_models()] == [RENAMED]
    assert str(client.get_model_version_by_alias(RENAMED, "champion").version) == "1"
    # and batch inference scored with that champion: its predictions were compared
    inference = _runs(client)[-1]
    assert inference.info.run_name == "inference"
    assert "drift.prediction.churned_probability.score" in inference.data.metrics


def test_the_registered_version_has_its_model_card(project, renamed, client, tmp_path):
    import pyarrow.parquet as pq

    # the version that training registered (in `renamed`)
    version = client.get_model_version_by_alias(RENAMED, "champion")
    run = client.get_run(version.run_id)
    card = {a.path for a in client.list_artifacts(run.info.run_id, "model_card")}
    assert card == {"model_card/model_card.html", "model_card/model_card.md"}
    link = f"runs:/{run.info.run_id}/model_card/model_card.html"
    assert (
        version.description.startswith("Model card: ") and link in version.description
    )
    client.download_artifacts(run.info.run_id, "model_card", str(tmp_path))
    html = (tmp_path / "model_card/model_card.html").read_text(encoding="utf-8")
    # with what the run recorded: the raw data's md5, the baseline, the reference
    assert run.data.tags["mlops.lineage.data.raw_customers.md5"] in html
    assert run.data.tags["mlops.lineage.git.commit"] in html
    accuracy = run.data.metrics["test.accuracy"]
    baseline = run.data.metrics["test.baseline_accuracy"]
    assert f"Accuracy {accuracy:.4f} against {baseline:.4f}" in html
    rows = pq.read_metadata(project / "data/02_intermediate/reference_sample.parquet")
    assert f"{rows.num_rows} rows of {rows.num_columns} columns" in html


def test_a_gate_rule_on_a_metric_never_logged_stops_training_at_once(
    installed, project, renamed, client
):
    # given a gate rule whose metric the registered model's run never logged
    (project / "conf/gate").mkdir()
    (project / "conf/gate/mlops.yml").write_text(
        "registry:\n  rules:\n    - metric: test.brer\n      greater_is_better: false\n"
    )
    runs = _run_count(project, client)
    try:
        result = installed.run(
            "kedro", "run", "--env", "gate", cwd=project, check=False
        )
    finally:
        shutil.rmtree(project / "conf/gate")
    # then training stops before any node and any MLflow run, naming the rule
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert (
        "Error: The promotion gate in mlops.yml reads metric 'test.brer' "
        f"(registry.rules), which the runs of {RENAMED} v1 (champion, challenger) "
        "never logged"
    ) in output
    assert "Running node" not in output
    assert _run_count(project, client) == runs


def test_on_drift_fail_keeps_the_previous_predictions_and_logs_the_evidence(
    project, stopped, client
):
    result, previous = stopped
    # the run stops on the drift
    assert result.returncode != 0
    assert "Data drift: 3 of 11 feature columns drifted" in (
        result.stdout + result.stderr
    )
    # after writing this batch's report and decision, and not its predictions
    decision = read_json(project / "data/08_reporting/retrain_decision.json")
    assert (decision["on_drift"], decision["retrain"]) == ("fail", True)
    drifted = {"monthly_charges", "contract", "support_tickets"}
    assert set(decision["drifted_columns"]) == drifted
    assert _md5(project / "data/07_model_output/predictions.csv") == previous
    # and the MLflow run ended FAILED, with the error and the evidence in it
    run = _runs(client)[-1]
    assert run.info.status == "FAILED"
    assert run.data.tags["mlops.error"].startswith(
        "DriftDetectedError: Data drift: 3 of 11"
    )
    assert run.data.metrics["drift.column.contract.drifted"] == 1.0
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "drift")}
    assert "drift/drift_retrain_decision.json" in artifacts
