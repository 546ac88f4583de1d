"""The starter's sample batches: the production batch drifts in exactly three columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kedro_mlops.drift import detect_drift

RAW = (
    Path(__file__).resolve().parents[2]
    / "starters/mlops/{{ cookiecutter.repo_name }}/data/01_raw"
)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    # the first 4,800 rows stand in for the training split; the starter's ingest
    # pipeline keeps a 2,000-row sample of it as the drift reference
    train = pd.read_csv(RAW / "customers.csv").iloc[:4800]
    sample = train.sample(n=2000, random_state=42)
    return sample.drop(columns=["customer_id", "churned"]).reset_index(drop=True)


def _batch(name: str) -> pd.DataFrame:
    return pd.read_csv(RAW / name).drop(columns=["customer_id"])


def test_production_batch_drifts_in_exactly_the_drifted_columns(reference):
    report = detect_drift(reference, _batch("batch_production.csv"))
    assert sorted(report.drifted_columns) == [
        "contract",
        "monthly_charges",
        "support_tickets",
    ]
    assert not report.dataset_drift  # 3 of 11 columns: below the 0.5 share


def test_control_batch_does_not_drift(reference):
    report = detect_drift(reference, _batch("batch_control.csv"))
    assert report.drifted_columns == []
    # not by a hair: every p-value is far from the 5% level
    for column in report.columns:
        p_value = column.statistics.ks_p_value or column.statistics.chi2_p_value
        assert p_value > 0.2, column.column
