"""Champion/challenger promotion against a real sqlite MLflow store."""

from __future__ import annotations

import pytest

from kedro_mlops.config import RegistryConfig
from kedro_mlops.tracking.registry import (
    CHALLENGER,
    CHAMPION,
    RegistryError,
    register_and_promote,
)
from tests.mlflow_models import log_constant_model


def _training_run(metrics: dict[str, float], log_model: bool = True) -> str:
    """A finished run with ``metrics`` and, optionally, a logged pyfunc model."""
    import mlflow

    with mlflow.start_run() as run:
        mlflow.log_metrics(metrics)
        if log_model:
            log_constant_model()
    return run.info.run_id


def _alias(client, alias: str) -> str:
    return str(client.get_model_version_by_alias("churn", alias).version)


@pytest.fixture
def client(tracking_uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri)


def test_first_model_becomes_champion(client):
    run_id = _training_run({"test.roc_auc": 0.80})
    result = register_and_promote(client, run_id, RegistryConfig(model_name="churn"))
    assert result.promoted and result.previous_champion is None
    assert _alias(client, CHAMPION) == _alias(client, CHALLENGER) == "1"
    tags = client.get_run(run_id).data.tags
    assert tags["mlops.registry.version"] == "1"
    assert tags["mlops.registry.promoted"] == "true"
    assert "now champion" in tags["mlops.registry.summary"]


def test_worse_model_is_challenger_only_and_better_one_takes_over(client):
    config = RegistryConfig(model_name="churn")
    register_and_promote(client, _training_run({"test.roc_auc": 0.80}), config)
    # a worse model: challenger, champion unchanged
    worse = register_and_promote(client, _training_run({"test.roc_auc": 0.70}), config)
    assert not worse.promoted
    assert (_alias(client, CHAMPION), _alias(client, CHALLENGER)) == ("1", "2")
    assert (
        worse.summary()
        == "churn v2 is challenger (test.roc_auc=0.7000); champion stays v1 at 0.8000"
    )
    # a better model: both aliases move
    better = register_and_promote(client, _training_run({"test.roc_auc": 0.85}), config)
    assert better.promoted and better.previous_champion == "1"
    assert _alias(client, CHAMPION) == _alias(client, CHALLENGER) == "3"


def test_a_tie_or_a_gain_within_the_margin_does_not_promote(client):
    config = RegistryConfig(model_name="churn", min_improvement=0.02)
    register_and_promote(client, _training_run({"test.roc_auc": 0.80}), config)
    assert not register_and_promote(
        client, _training_run({"test.roc_auc": 0.80}), config
    ).promoted
    assert not register_and_promote(
        client, _training_run({"test.roc_auc": 0.815}), config
    ).promoted
    assert register_and_promote(
        client, _training_run({"test.roc_auc": 0.83}), config
    ).promoted
    assert _alias(client, CHAMPION) == "4"


def test_a_gain_equal_to_the_margin_is_a_tie_despite_float_noise(client):
    # 0.81 - 0.80 is 0.010000000000000009 in floating point
    config = RegistryConfig(model_name="churn", min_improvement=0.01)
    register_and_promote(client, _training_run({"test.roc_auc": 0.80}), config)
    assert not register_and_promote(
        client, _training_run({"test.roc_auc": 0.81}), config
    ).promoted
    assert _alias(client, CHAMPION) == "1"


def test_lower_is_better_metrics(client):
    config = RegistryConfig(
        model_name="churn", metric="test.log_loss", greater_is_better=False
    )
    register_and_promote(client, _training_run({"test.log_loss": 0.50}), config)
    assert not register_and_promote(
        client, _training_run({"test.log_loss": 0.60}), config
    ).promoted
    assert register_and_promote(
        client, _training_run({"test.log_loss": 0.40}), config
    ).promoted


def test_run_without_a_model_registers_nothing(client):
    run_id = _training_run({"test.roc_auc": 0.9}, log_model=False)
    assert (
        register_and_promote(client, run_id, RegistryConfig(model_name="churn")) is None
    )
    assert client.search_registered_models() == []


def test_missing_metric_is_a_clear_error_and_registers_nothing(client):
    run_id = _training_run({"test.f1": 0.6})
    with pytest.raises(
        RegistryError,
        match=r"no metric 'test.roc_auc'.*metrics logged: test.f1.*registry.metric",
    ):
        register_and_promote(client, run_id, RegistryConfig(model_name="churn"))
    assert client.search_registered_models() == []


def test_a_model_trained_on_too_few_rows_is_not_registered(client):
    config = RegistryConfig(model_name="churn", min_training_rows=100)
    # given a run whose model saw 6 rows (on a fresh registry: no champion yet)
    few = _training_run({"test.roc_auc": 1.0, "training_rows": 6})
    # when the registry flow sees it
    result = register_and_promote(client, few, config)
    # then nothing is registered, and the run says why, with the setting to change
    assert client.search_registered_models() == []
    assert not result.promoted and result.version == ""
    assert result.summary() == (
        "churn: the new model is not registered: it was trained on 6 rows, fewer "
        "than registry.min_training_rows (100) in mlops.yml. Train on more data, "
        "or lower the setting."
    )
    tags = client.get_run(few).data.tags
    assert tags["mlops.registry.summary"] == result.summary()
    assert tags["mlops.registry.promoted"] == "false"
    assert tags["mlops.registry.refused"].startswith("it was trained on 6 rows")
    assert "mlops.registry.version" not in tags
    # and a model trained on the minimum, or with the check off, is registered
    enough = _training_run({"test.roc_auc": 0.8, "training_rows": 100})
    assert register_and_promote(client, enough, config).version == "1"
    off = RegistryConfig(model_name="churn", min_training_rows=0)
    assert register_and_promote(client, few, off).version == "2"
