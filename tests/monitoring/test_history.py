"""The drift history in a real sqlite MLflow store: one point per window, never twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from kedro_mlops.drift import DriftConfig
from kedro_mlops.monitoring import drift_by_window, log_history
from kedro_mlops.monitoring.history import MONITORING_TAG, ROWS_METRIC, VERSION_TAG
from tests.monitoring.captured import STARTER_DATA, made_up_scores

SETTINGS = DriftConfig(
    prediction_column="churned_probability", ignore_columns=["customer_id"]
)
HOURS = ["2024-05-01T10", "2024-05-01T11", "2024-05-01T12"]


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    rows = pd.read_csv(STARTER_DATA / "batch_control.csv")
    return made_up_scores(rows, seed=1).drop(columns=["churned_prediction"])


@pytest.fixture(scope="module")
def traffic() -> pd.DataFrame:
    rows = pd.read_csv(STARTER_DATA / "batch_control.csv")
    return made_up_scores(rows, seed=2).assign(
        _model_name="churn_model", _model_version="3"
    )


def results_for(traffic, reference, keys, version="3"):
    frames = {
        key: traffic.iloc[i * 500 : (i + 1) * 500].assign(_model_version=version)
        for i, key in enumerate(keys)
    }
    return drift_by_window(frames, reference, SETTINGS, min_rows=100)


def step(key: str) -> int:
    return int(datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=UTC).timestamp())


def test_each_window_is_one_point_at_its_start_and_rerunning_adds_none(
    tracking_uri, traffic, reference
):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment("monitoring")
    results = results_for(traffic, reference, HOURS)
    # when the history is logged, then logged again over the same windows
    first = log_history(results, experiment_id=experiment)
    again = log_history(results, experiment_id=experiment)
    # then one run holds one point per window per column, at the window's start
    assert first["logged"] == HOURS and first["already_logged"] == []
    assert again["logged"] == [] and again["already_logged"] == HOURS
    (run_id,) = first["runs"].values()
    assert again["runs"] == first["runs"]
    for key in ("drift.column.age.score", "drift.dataset.share", ROWS_METRIC):
        history = client.get_metric_history(run_id, key)
        assert sorted(m.step for m in history) == [step(k) for k in HOURS], key
        assert {m.timestamp for m in history} == {step(k) * 1000 for k in HOURS}
    rows = client.get_metric_history(run_id, ROWS_METRIC)
    assert {m.value for m in rows} == {500.0}
    # and the run is tagged with the model and its version, and FINISHED
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags[MONITORING_TAG] == "churn_model"
    assert run.data.tags[VERSION_TAG] == "3"
    (only,) = client.search_runs([experiment])
    assert only.info.run_id == run_id


def test_an_overlapping_range_adds_only_the_new_windows(
    tracking_uri, traffic, reference
):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment("monitoring")
    log_history(results_for(traffic, reference, HOURS[:2]), experiment_id=experiment)
    later = log_history(
        results_for(traffic, reference, HOURS[1:]), experiment_id=experiment
    )
    assert later["logged"] == HOURS[2:] and later["already_logged"] == HOURS[1:2]
    (run_id,) = later["runs"].values()
    history = client.get_metric_history(run_id, "drift.column.contract.score")
    assert sorted(m.step for m in history) == [step(k) for k in HOURS]
    assert client.get_run(run_id).info.status == "FINISHED"


def test_each_model_version_has_its_own_run(tracking_uri, traffic, reference):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment("monitoring")
    results = {
        **results_for(traffic, reference, HOURS[:1], version="3"),
        **results_for(traffic, reference, HOURS[1:2], version="4"),
    }
    summary = log_history(results, experiment_id=experiment)
    assert set(summary["runs"]) == {"churn_model v3", "churn_model v4"}
    for label, key in (("churn_model v3", HOURS[0]), ("churn_model v4", HOURS[1])):
        points = client.get_metric_history(summary["runs"][label], ROWS_METRIC)
        assert [m.step for m in points] == [step(key)]
    runs = client.search_runs([experiment])
    assert {r.info.status for r in runs} == {"FINISHED"} and len(runs) == 2


def test_a_window_with_too_few_rows_logs_its_rows_only(
    tracking_uri, traffic, reference
):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment("monitoring")
    frames = {HOURS[0]: traffic.head(30)}
    results = drift_by_window(frames, reference, SETTINGS, min_rows=100)
    assert results[HOURS[0]]["status"] == "too_few_rows"
    summary = log_history(results, experiment_id=experiment)
    run = client.get_run(summary["runs"]["churn_model v3"])
    assert run.data.metrics == {ROWS_METRIC: 30.0}


def test_the_active_runs_experiment_is_the_default(tracking_uri, traffic, reference):
    import mlflow

    experiment = mlflow.set_experiment("pipeline runs").experiment_id
    with mlflow.start_run() as active:
        summary = log_history(results_for(traffic, reference, HOURS[:1]))
    (run_id,) = summary["runs"].values()
    run = mlflow.MlflowClient().get_run(run_id)
    assert run.info.experiment_id == experiment and run_id != active.info.run_id
    # the pipeline's own run got none of the history
    assert mlflow.MlflowClient().get_run(active.info.run_id).data.metrics == {}
