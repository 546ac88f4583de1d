"""The monitoring pipeline on a real PartitionedDataset and a real sqlite MLflow store."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.partitions import PartitionedDataset
from kedro_datasets.pickle import PickleDataset

from kedro_mlops.config import MonitoringConfig
from kedro_mlops.drift import DriftConfig
from kedro_mlops.monitoring.pipeline import (
    DRIFT_CONFIG_DATASET,
    MONITORING_CONFIG_DATASET,
    NotEnoughTrafficError,
    create_pipeline,
    latest_report,
)
from kedro_mlops.monitoring.tracking import log_monitoring_outputs
from kedro_mlops.plugin.inputs import missing_inputs
from tests.monitoring.captured import (
    STARTER_DATA,
    made_up_scores,
    with_scores,
    write_captured,
)

SETTINGS = DriftConfig(
    prediction_column="churned_probability",
    ignore_columns=["customer_id"],
    on_drift="flag",
)


#: The control batch with made-up scores: the reference, and the traffic that matches it.
CONTROL = made_up_scores(pd.read_csv(STARTER_DATA / "batch_control.csv"), seed=1)


def production() -> pd.DataFrame:
    """Production rows, scored higher than the control rows."""
    rows = pd.read_csv(STARTER_DATA / "batch_production.csv").head(600)
    return with_scores(rows, np.random.default_rng(9).uniform(0.3, 1.0, len(rows)))


WINDOW_OUTPUTS = (
    "monitoring.windows",
    "monitoring.window_summary",
    "monitoring.window_drift",
)


def catalog_for(root, monitoring: MonitoringConfig | None = None) -> DataCatalog:
    reference = CONTROL.drop(columns=["churned_prediction"])
    return DataCatalog(
        datasets={
            "captured_requests": PartitionedDataset(
                path=str(root),
                dataset="pandas.ParquetDataset",
                filename_suffix=".parquet",
            ),
            "monitored_reference": MemoryDataset(reference),
            DRIFT_CONFIG_DATASET: MemoryDataset(SETTINGS),
            MONITORING_CONFIG_DATASET: MemoryDataset(
                monitoring or MonitoringConfig(windows=6, min_rows=100)
            ),
            # saved, not in memory: the runner releases memory once they are read
            **{
                name: PickleDataset(filepath=str(root.parent / f"{name}.pickle"))
                for name in WINDOW_OUTPUTS
            },
        }
    )


@pytest.fixture(scope="module")
def monitored(tmp_path_factory, migrated_store):
    """Four closed hours of traffic (production rows in the last) run once
    through the pipeline, with its outputs; the store is a copy of a migrated one."""
    import shutil

    import mlflow

    folder = tmp_path_factory.mktemp("monitoring")
    shutil.copyfile(migrated_store, folder / "mlflow.db")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    root = folder / "captured"
    last = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=1
    )
    hours = [last - timedelta(hours=i) for i in (3, 2, 1, 0)]
    for i, hour in enumerate(hours[:-1]):
        rows = CONTROL.iloc[i * 500 : (i + 1) * 500]
        write_captured(root, rows.iloc[:250], hour, seq=1)
        write_captured(root, rows.iloc[250:], hour, seq=2)
    write_captured(root, production(), hours[-1], model_version="2")
    pipeline = create_pipeline(
        captured="captured_requests", reference="monitored_reference"
    )
    catalog = catalog_for(root)
    before = Path.cwd()
    os.chdir(folder)  # a sqlite store keeps artifacts in ./mlruns
    try:
        outputs = SequentialRunner().run(pipeline, catalog)
    finally:
        os.chdir(before)
    loaded = {name: dataset.load() for name, dataset in outputs.items()}
    loaded |= {name: catalog.load(name) for name in WINDOW_OUTPUTS}
    loaded["hours"] = [f"{h:%Y-%m-%dT%H}" for h in hours]
    loaded["root"] = root
    loaded["uri"] = uri
    loaded["folder"] = folder
    yield loaded
    mlflow.set_tracking_uri(None)


def test_the_window_frames_are_an_output_for_later_nodes(monitored):
    frames = monitored["monitoring.windows"]
    assert list(frames) == monitored["hours"]
    assert [len(f) for f in frames.values()] == [500, 500, 500, 600]
    assert "_request_id" in frames[monitored["hours"][0]]


def test_only_the_production_window_drifts(monitored):
    results = monitored["monitoring.window_drift"]
    drifted = {
        key: (
            [c["column"] for c in entry["report"]["columns"] if c["drifted"]],
            entry["report"]["prediction"]["drifted"],
        )
        for key, entry in results.items()
        if entry["report"]
    }
    assert list(drifted) == monitored["hours"]
    assert all(drifted[key] == ([], False) for key in monitored["hours"][:-1])
    columns, prediction = drifted[monitored["hours"][-1]]
    assert {"monthly_charges", "contract", "support_tickets"} <= set(columns)
    assert prediction is True
    assert [r["status"] for r in results.values()][:2] == ["no_traffic"] * 2


def test_the_decision_is_the_inference_pipelines_for_the_latest_window(monitored):
    decision = monitored["monitoring.retrain_decision"]
    assert decision["retrain"] is True and decision["window"] == monitored["hours"][-1]
    assert {"monthly_charges", "contract", "support_tickets"} <= set(
        decision["drifted_columns"]
    )
    assert decision["model_version"] == "2" and decision["rows"] == 600
    inference_keys = {
        "retrain",
        "dataset_drift",
        "drift_share",
        "drifted_columns",
        "prediction_drift",
        "on_drift",
    }
    assert inference_keys <= set(decision)


def test_the_latest_report_has_the_trend_of_the_windows(monitored):
    page = monitored["monitoring.report_html"]
    assert '<section id="trend">' in page
    trend = page[page.index('<section id="trend">') :]
    trend = trend[: trend.index("</section>")]
    # one row per compared or empty window, and a small chart per top column
    for key in monitored["hours"]:
        assert f"<td>{key}</td>" in trend
    assert trend.count('<td class="spark">') == 5 + 1  # five columns and the prediction
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert monitored["monitoring.report"]["prediction"]["drifted"] is True


def test_each_version_got_its_windows_in_the_history(monitored):
    from mlflow import MlflowClient

    runs = monitored["monitoring.history"]["runs"]
    assert set(runs) == {"churn_model v1", "churn_model v2"}
    client = MlflowClient(monitored["uri"])
    assert (
        len(client.get_metric_history(runs["churn_model v1"], "drift.column.age.score"))
        == 3
    )
    assert (
        len(client.get_metric_history(runs["churn_model v2"], "drift.column.age.score"))
        == 1
    )


def test_the_report_goes_into_the_active_run(monitored, monkeypatch):
    import mlflow

    node = next(
        n
        for n in create_pipeline(captured="c", reference="r").nodes
        if n.func is latest_report
    )
    outputs = {name: monitored[name] for name in node.outputs}
    mlflow.set_tracking_uri(monitored["uri"])
    monkeypatch.chdir(monitored["folder"])
    with mlflow.start_run() as run:
        assert log_monitoring_outputs(node, outputs) is True
    client = mlflow.MlflowClient()
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "monitoring")}
    assert artifacts == {
        "monitoring/monitoring_report.html",
        "monitoring/monitoring_report.json",
        "monitoring/monitoring_retrain_decision.json",
    }
    metrics = client.get_run(run.info.run_id).data.metrics
    assert metrics["drift.prediction.churned_probability.drifted"] == 1.0


def test_no_window_with_enough_rows_names_the_setting(monitored):
    results = {
        key: {**entry, "status": "too_few_rows", "report": None}
        for key, entry in monitored["monitoring.window_drift"].items()
    }
    with pytest.raises(NotEnoughTrafficError, match="monitoring.min_rows"):
        latest_report(results, MonitoringConfig(min_rows=1000))


def test_a_missing_capture_folder_is_named_before_the_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pipeline = create_pipeline(
        captured="captured_requests", reference="monitored_reference"
    )
    catalog = catalog_for(tmp_path / "data" / "09_monitoring" / "captured")
    ((name, why),) = missing_inputs(pipeline, catalog)
    assert name == "captured_requests"
    assert why.startswith("No captured traffic in data/09_monitoring/captured")
    assert "serving.capture.enabled" in why
