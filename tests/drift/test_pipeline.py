"""The drift check as a Kedro pipeline, configured like mlops.yml's drift section."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset

from kedro_mlops.drift import DriftConfig, DriftDetectedError
from kedro_mlops.drift.pipeline import CONFIG_DATASET, create_pipeline


def _frames(shift: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    reference = pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000)})
    # the same rows reshuffled, with x moved by `shift`: only x can drift
    current = reference.sample(frac=1.0, random_state=1).reset_index(drop=True)
    return reference, current.assign(x=current["x"] + shift)


class _Outputs:
    """Every node's outputs, as the runner hands them to the hooks."""

    def __init__(self) -> None:
        self.seen: dict = {}

    @hook_impl
    def after_node_run(self, outputs: dict) -> None:
        self.seen.update(outputs)


def _run(shift: float, on_drift: str) -> dict:
    reference, current = _frames(shift)
    catalog = DataCatalog()
    catalog["ref"] = reference
    catalog["cur"] = current
    catalog[CONFIG_DATASET] = DriftConfig(on_drift=on_drift)
    pipeline = create_pipeline(reference="ref", current="cur", namespace="monitor")
    hooks, outputs = _create_hook_manager(), _Outputs()
    hooks.register(outputs)
    SequentialRunner().run(pipeline, catalog, hooks)
    return outputs.seen


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


def _scoring(tmp_path: Path, on_drift: str) -> tuple[DataCatalog, Path, Path]:
    """A batch scored, checked, and released as predictions, with files as the
    starter has them: the previous batch's predictions are already there."""
    reference, current = _frames(shift=1.0)
    predictions, decision = tmp_path / "predictions.csv", tmp_path / "decision.json"
    pd.DataFrame({"id": [0], "p": [0.5]}).to_csv(predictions, index=False)
    catalog = DataCatalog(
        {
            "predictions": CSVDataset(filepath=str(predictions)),
            "monitor.retrain_decision": JSONDataset(filepath=str(decision)),
        }
    )
    catalog["ref"], catalog["cur"] = reference, current
    catalog["scores"] = pd.DataFrame({"id": [1, 2], "p": [0.1, 0.9]})
    catalog[CONFIG_DATASET] = DriftConfig(on_drift=on_drift)
    return catalog, predictions, decision


def test_fail_writes_the_decision_and_keeps_the_previous_predictions(tmp_path):
    # given a drifted batch, its scores to release as predictions, and on_drift fail
    catalog, predictions, decision = _scoring(tmp_path, "fail")
    previous = predictions.read_text()
    pipeline = create_pipeline(
        reference="ref", current="cur", namespace="monitor",
        release={"scores": "predictions"},
    )  # fmt: skip
    # when the pipeline runs, then the gate stops it, naming the drifted column
    with pytest.raises(DriftDetectedError, match=r"x \("):
        SequentialRunner().run(pipeline, catalog)
    # after the decision about this batch was written
    assert JSONDataset(filepath=str(decision)).load()["drifted_columns"] == ["x"]
    # and the previous batch's predictions were not overwritten
    assert predictions.read_text() == previous


def test_flag_and_warn_release_the_scores(tmp_path, caplog):
    for on_drift in ("flag", "warn"):
        catalog, predictions, _ = _scoring(tmp_path, on_drift)
        pipeline = create_pipeline(
            reference="ref", current="cur", namespace="monitor",
            release={"scores": "predictions"},
        )  # fmt: skip
        SequentialRunner().run(pipeline, catalog)
        assert pd.read_csv(predictions)["id"].tolist() == [1, 2]
    assert "Data drift: 1 of 2 feature columns drifted" in caplog.text


def test_the_nodes_are_namespaced_and_their_inputs_mapped():
    pipeline = create_pipeline(
        reference="reference_sample", current="batch", namespace="d"
    )
    check, gate = pipeline.nodes
    assert (check.name, gate.name) == ("d.check_drift", "d.gate")
    assert check.namespace == gate.namespace == "d"
    assert gate.inputs == ["d.report"] and gate.outputs == []
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
    assert outputs["drift.retrain_decision"].load()["drifted_columns"] == ["x"]
    # (y is compared as the prediction column, apart from the features)
    assert "drift.prediction.y.drifted" in outputs["drift.metrics"].load()
