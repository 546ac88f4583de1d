"""The report: JSON round trip, MLflow metrics, import cost."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.drift import DriftReport, detect_drift


@pytest.fixture(scope="module")
def report() -> DriftReport:
    rng = np.random.default_rng(21)
    n = 3_000
    reference = pd.DataFrame(
        {
            "price (€)": rng.normal(50, 10, n),
            "price___": rng.normal(0, 1, n),
            "flat": np.full(n, 2.0),
            "plan": rng.choice(["a", "b", "c"], n),
            "empty": np.full(n, np.nan),
            "score": rng.uniform(size=n),
        }
    )
    current = reference.assign(
        **{"price (€)": rng.normal(60, 10, n), "flat": np.r_[np.full(n - 1, 2.0), 3.0]}
    )
    return detect_drift(reference, current, {"prediction_column": "score"})


def test_json_round_trip_keeps_everything(report):
    text = report.to_json()
    assert DriftReport.from_json(text) == report
    payload = json.loads(text)  # strict JSON: infinities are strings
    flat = next(c for c in payload["columns"] if c["column"] == "flat")
    assert flat["statistics"]["wasserstein"] == "Infinity"
    assert DriftReport.from_json(text).column("flat").statistics.wasserstein == math.inf


def test_mlflow_metrics_are_valid_keys_and_floats(report):
    from mlflow.utils.validation import _validate_metric_name

    metrics = report.to_mlflow_metrics()
    for key, value in metrics.items():
        _validate_metric_name(key)
        assert isinstance(value, float)
    assert metrics["drift.dataset.share"] == report.drift_share
    assert metrics["drift.dataset.drifted"] == float(report.dataset_drift)
    # two columns that sanitise to the same name stay apart
    assert metrics["drift.column.price.drifted"] == 1.0
    assert "drift.column.price_2.drifted" in metrics
    assert metrics["drift.column.price_2.drifted"] == 0.0
    # the prediction column has its own group; every column has its decision
    assert "drift.prediction.score.drifted" in metrics
    decisions = [k for k in metrics if k.endswith(".drifted") and ".dataset." not in k]
    assert len(decisions) == len(report.columns) + 1
    assert "drift.column.empty.score" not in metrics  # no score: not compared


def test_report_orders_columns_by_severity(report):
    drifted = [c for c in report.columns if c.drifted]
    assert report.columns[: len(drifted)] == drifted
    severities = [c.severity for c in drifted]
    assert severities == sorted(severities, reverse=True)


def test_import_is_cheap():
    code = (
        "import sys, kedro_mlops.drift;"
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in "
        "('scipy', 'matplotlib', 'mlflow', 'sklearn')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == ""


def test_examples_in_docstrings_run():
    import doctest

    import kedro_mlops.drift as package
    from kedro_mlops.drift import (
        config,
        decision,
        errors,
        evidence,
        gate,
        html,
        profile,
        report,
        selection,
        statistics,
        summaries,
    )

    modules = (package, config, decision, errors, evidence, gate, html, profile)
    for module in (*modules, report, selection, statistics, summaries):
        failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failures == 0, module.__name__
