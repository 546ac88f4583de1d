"""The drift settings model: strict, frozen, with defaults."""

from __future__ import annotations

import pydantic
import pytest

from kedro_mlops.drift import DriftConfig


def test_defaults():
    config = DriftConfig()
    assert (config.share_threshold, config.on_drift, config.max_categories) == (
        0.5,
        "warn",
        1000,
    )
    thresholds = config.thresholds
    assert (thresholds.ks, thresholds.chi2) == (0.05, 0.05)
    assert (thresholds.wasserstein, thresholds.jensenshannon, thresholds.psi) == (
        0.1,
        0.05,
        0.2,
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"treshold": 0.1},
        {"thresholds": {"kss": 0.1}},
        {"columns": {"age": {"tests": "ks"}}},
        {"columns": {"age": {"test": "t-test"}}},
        {"on_drift": "explode"},
        {"share_threshold": 0},
        {"share_threshold": 1.5},
        {"thresholds": {"ks": 1.0}},
        {"columns": {"age": {"threshold": -1}}},
        {"ignore_columns": ["age"], "columns": {"age": {}}},
        {"prediction_column": "p", "ignore_columns": ["p"]},
        {"max_categories": 1},
    ],
)
def test_invalid_settings_are_rejected(raw):
    with pytest.raises(pydantic.ValidationError):
        DriftConfig.model_validate(raw)


def test_frozen():
    with pytest.raises(pydantic.ValidationError):
        DriftConfig().on_drift = "fail"  # type: ignore[misc]


def test_full_example_validates():
    config = DriftConfig.model_validate(
        {
            "thresholds": {"ks": 0.01, "wasserstein": 0.2},
            "columns": {
                "age": {"test": "psi", "threshold": 0.25},
                "zip": {"kind": "categorical"},
            },
            "ignore_columns": ["customer_id"],
            "share_threshold": 0.3,
            "prediction_column": "churn_probability",
            "on_drift": "fail",
            "max_categories": 200,
        }
    )
    assert config.columns["zip"].kind == "categorical"
    assert DriftConfig.model_validate(config.model_dump()) == config
