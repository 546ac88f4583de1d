"""The drift check as a Kedro pipeline, configured like mlops.yml's drift section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner

from kedro_mlops.drift import DriftConfig, DriftDetectedError
from kedro_mlops.drift.pipeline import CONFIG_DATASET, create_pipeline


def _frames(shift: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    reference = pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000)})
    # the same rows reshuffled, with x moved by `shift`: only x can drift
    current = reference.sample(frac=1.0, random_state=1).reset_index(drop=True)
    return reference, current.assign(x=current["x"] + shift)


def _run(shift: float, on_drift: str) -> dict:
    reference, current = _frames(shift)
    catalog = DataCatalog()
    catalog["ref"] = reference
    catalog["cur"] = current
    catalog[CONFIG_DATASET] = DriftConfig(on_drift=on_drift)
    pipeline = create_pipeline(reference="ref", current="cur", namespace="monitor")
    outputs = SequentialRunner().run(pipeline, catalog)
    return {name: dataset.load() for name, dataset in outputs.items()}


def test_flag_writes_the_retrain_decision_and_the_reports():
    outputs = _run(shift=1.0, on_drift="flag")
    decision = outputs["monitor.retrain_decision"]
    assert decision["retrain"] is True
    assert decision["drifted_columns"] == ["x"]
    assert outputs["monitor.report"]["drift_share"] == 0.5
    assert outputs["monitor.report_html"].startswith("<!DOCTYPE html>")
    metrics = outputs["monitor.metrics"]
    assert metrics["drift.dataset.share"] == {"value": 0.5, "step": 0}
    assert metrics["drift.column.x.drifted"]["value"] == 1.0


def test_no_drift_no_retrain():
    decision = _run(shift=0.0, on_drift="fail")["monitor.retrain_decision"]
    assert decision == {
        "retrain": False,
        "dataset_drift": False,
        "drift_share": 0.0,
        "drifted_columns": [],
        "prediction_drift": False,
        "on_drift": "fail",
    }


def test_fail_stops_the_pipeline_naming_the_columns():
    with pytest.raises(
        DriftDetectedError, match=r"1 of 2 feature columns drifted.*x \("
    ):
        _run(shift=1.0, on_drift="fail")


def test_the_node_is_namespaced_and_its_inputs_mapped():
    pipeline = create_pipeline(
        reference="reference_sample", current="batch", namespace="d"
    )
    (node,) = pipeline.nodes
    assert node.name == "d.check_drift"
    assert node.namespace == "d"
    assert pipeline.inputs() == {"reference_sample", "batch", CONFIG_DATASET}


def test_settings_from_another_dataset():
    # given settings that a node produced (y is the model's output), not mlops.yml's
    reference, current = _frames(shift=1.0)
    catalog = DataCatalog()
    catalog["ref"], catalog["cur"] = reference, current
    catalog["settings"] = DriftConfig(on_drift="flag", prediction_column="y")
    pipeline = create_pipeline(reference="ref", current="cur", config="settings")
    assert pipeline.inputs() == {"ref", "cur", "settings"}
    # when the check runs, then it reads them
    outputs = SequentialRunner().run(pipeline, catalog)
    report = outputs["drift.report"].load()
    assert report["prediction"]["column"] == "y"
    assert outputs["drift.retrain_decision"].load()["drifted_columns"] == ["x"]
