"""Drift settings completed from the schema."""

from __future__ import annotations

import pytest

from kedro_mlops.config import MlopsConfigError
from kedro_mlops.drift import DriftConfig
from kedro_mlops.schema import drift_settings

SCHEMA = {
    "id_column": "account_id",
    "target": {"column": "cancelled", "positive_class": True},
    "numeric": {"seats": {"min": 1}},
    "categorical": {"plan": ["free", "team"]},
}


def test_prediction_column_and_ignored_columns_come_from_the_schema():
    # given mlops.yml's drift section, which names no column
    configured = DriftConfig(on_drift="flag", share_threshold=0.3)
    # when it is completed with the schema
    settings = drift_settings(configured, SCHEMA)
    # then the schema's names are in, and the other settings unchanged
    assert settings.prediction_column == "cancelled_probability"
    assert settings.ignore_columns == ["account_id", "cancelled"]
    assert (settings.on_drift, settings.share_threshold) == ("flag", 0.3)


def test_columns_already_ignored_are_kept_once():
    settings = drift_settings({"ignore_columns": ["signup_date", "account_id"]}, SCHEMA)
    assert settings.ignore_columns == ["signup_date", "account_id", "cancelled"]


def test_no_settings_mean_the_defaults():
    settings = drift_settings(None, SCHEMA)
    assert settings.on_drift == DriftConfig().on_drift
    assert settings.prediction_column == "cancelled_probability"


def test_the_same_prediction_column_is_accepted_another_is_an_error():
    same = {"prediction_column": "cancelled_probability"}
    assert drift_settings(same, SCHEMA).prediction_column == "cancelled_probability"
    with pytest.raises(MlopsConfigError, match="drift.prediction_column is 'churned_"):
        drift_settings({"prediction_column": "churned_probability"}, SCHEMA)


def test_settings_that_contradict_the_schema_are_named():
    with pytest.raises(MlopsConfigError) as error:
        drift_settings({"columns": {"account_id": {"test": "chi2"}}}, SCHEMA)
    assert "columns ['account_id'] are both configured under 'columns'" in str(
        error.value
    )
