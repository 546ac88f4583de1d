"""The monitoring loop of a starter project, end to end, with the real commands:
train a (weak) model, serve it with capture on, send it drifted traffic, then
`kedro mlops monitor --retrain` twice. The first retraining beats the champion
and replaces it; the second only matches it and stays a challenger. (Every
training run here is without the search over the model's parameters.)"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import UTC, datetime, timedelta

import mlflow
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.envs import new_project, read_json
from tests.starter.runs import search_off_in_conf_local
from tests.starter.test_docker import _request, _split, serving

pytestmark = pytest.mark.integration

MODEL = "churn_model"
WEAK = (
    "train.model.max_iter=10,train.model.learning_rate=0.02,train.tuning.enabled=false"
)


def _scraped(url: str) -> dict[str, float]:
    status, text = _request(url + "/metrics")
    assert status == 200
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


def _monitor(installed, project) -> str:
    result = installed.run("kedro", "mlops", "monitor", "--retrain", cwd=project)
    return result.stdout


@pytest.fixture(scope="module")
def loop(installed, tmp_path_factory):
    project = new_project(installed, tmp_path_factory.mktemp("loop"))
    # the retraining runs of `kedro mlops monitor` take no --params: they train
    # the shipped model without the search through conf/local
    search_off_in_conf_local(project)
    installed.run("kedro", "run", "--params", WEAK, cwd=project)
    batch = pd.read_csv(project / "data/01_raw/batch_production.csv")
    tmp = tmp_path_factory.mktemp("serve")
    with serving(installed, project, tmp) as server:
        for start in range(0, len(batch), 100):
            status, body = _request(
                server["url"] + "/invocations", _split(batch.iloc[start : start + 100])
            )
            assert status == 200, body
        deadline = time.monotonic() + 30  # the writer flushes every 5 s
        while time.monotonic() < deadline:
            metrics = _scraped(server["url"])
            if metrics.get("kedro_mlops_captured_rows_total") == len(batch):
                break
            time.sleep(0.5)
    root = project / "data/09_monitoring/captured"
    files = sorted(root.glob("hour=*/*.parquet"))
    # An hour passes: only complete windows are monitored. The captured files
    # go to the previous hour's folder (where they would be an hour later); the
    # requests may have straddled an hour's turn, so files move, not folders.
    earlier = root / f"hour={datetime.now(UTC) - timedelta(hours=1):%Y-%m-%dT%H}"
    earlier.mkdir(exist_ok=True)
    for file in files:
        if file.parent != earlier:
            shutil.move(file, earlier / file.name)
    for folder in root.glob("hour=*"):
        if folder != earlier:
            folder.rmdir()  # empty now: anything else left in it is an error
    first = _monitor(installed, project)
    first_decision = read_json(
        project / "data/08_reporting/monitoring_retrain_decision.json"
    )
    second = _monitor(installed, project)
    return {
        "project": project,
        "files": files,
        "first": first,
        "first_decision": first_decision,
        "second": second,
        "batch": batch,
        "metrics": metrics,
        "log": (tmp / "server.log").read_text(),
    }


def test_the_server_captured_every_scored_row(loop):
    assert loop["metrics"]["kedro_mlops_scored_rows_total"] == len(loop["batch"])
    assert loop["metrics"]["kedro_mlops_captured_rows_total"] == len(loop["batch"])
    assert loop["metrics"]["kedro_mlops_capture_dropped_rows_total"] == 0
    assert loop["files"]  # the rows below were read from the capture's files
    captured = pd.read_parquet(loop["project"] / "data/09_monitoring/captured")
    assert len(captured) == len(loop["batch"])
    assert set(captured["customer_id"]) == set(loop["batch"]["customer_id"])
    assert set(captured["_model_version"]) == {"1"}
    assert {"churned_probability", "churned_prediction"} <= set(captured.columns)


def test_monitoring_flags_the_drift_and_the_performance_drop(loop):
    decision = loop["first_decision"]
    assert decision["retrain"] is True
    assert sorted(decision["drifted_columns"]) == [
        "contract",
        "monthly_charges",
        "support_tickets",
    ]
    assert decision["rows"] == len(loop["batch"])
    assert decision["model_version"] == "1"
    # estimated from the scores alone, and measured on the labels that arrived:
    # below the champion's test-set figures (this weak model's ranking holds up
    # better than its decisions: its estimated ROC AUC does not fall, its
    # estimated accuracy falls by about 0.1)
    assert decision["estimated_accuracy"] < decision["test_accuracy"] - 0.05
    assert decision["realized_accuracy"] < decision["test_accuracy"] - 0.05
    assert decision["realized_roc_auc"] < decision["test_roc_auc"]
    assert "Monitoring decision: retrain (drift share" in loop["first"]


def test_the_first_retraining_beats_the_weak_champion_and_replaces_it(loop):
    assert (
        "Retrained: churn_model v2 registered and now champion (was v1)."
        in (loop["first"])
    )
    client = mlflow.MlflowClient(f"sqlite:///{loop['project'] / 'mlflow.db'}")
    first = client.get_model_version(MODEL, "1")
    second = client.get_model_version(MODEL, "2")
    auc = [
        client.get_run(v.run_id).data.metrics["test.roc_auc"] for v in (first, second)
    ]
    assert auc[1] > auc[0]


def test_the_second_retraining_only_matches_and_stays_a_challenger(loop):
    assert re.search(
        r"Retrained: churn_model v3 registered as challenger; the champion stays v2",
        loop["second"],
    )
    client = mlflow.MlflowClient(f"sqlite:///{loop['project'] / 'mlflow.db'}")
    assert int(client.get_model_version_by_alias(MODEL, "champion").version) == 2
    assert int(client.get_model_version_by_alias(MODEL, "challenger").version) == 3


def test_the_window_is_in_the_history_of_the_version_that_served_it(loop):
    client = mlflow.MlflowClient(f"sqlite:///{loop['project'] / 'mlflow.db'}")
    runs = client.search_runs(
        [client.get_experiment_by_name(MODEL).experiment_id],
        filter_string="tags.`mlops.monitoring` = 'churn_model'",
    )
    assert [run.data.tags["mlops.model_version"] for run in runs] == ["1"]
    (run,) = runs
    assert run.info.status == "FINISHED"
    rows = client.get_metric_history(run.info.run_id, "monitoring.rows")
    assert [point.value for point in rows] == [len(loop["batch"])]  # once, not twice
    for name in ("estimated.roc_auc", "realized.roc_auc", "realized.rows_labelled"):
        (point,) = client.get_metric_history(run.info.run_id, f"performance.{name}")
        assert point.step == rows[0].step
    performance = json.loads(
        (loop["project"] / "data/08_reporting/monitoring_performance.json").read_text()
    )
    (window,) = performance.values()
    assert window["realized"]["rows_labelled"] == len(loop["batch"])
