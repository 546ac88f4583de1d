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


def test_two_promotions_at_once_end_with_one_champion_the_better_one(
    client, tracking_uri, monkeypatch
):
    import threading
    import time

    from mlflow import MlflowClient

    from kedro_mlops.tracking import registry

    # given two finished training runs, the worse one first
    config = RegistryConfig(model_name="churn")
    runs = {
        "worse": _training_run({"test.roc_auc": 0.70}),
        "better": _training_run({"test.roc_auc": 0.90}),
    }
    # and the worse one's promotion slow between reading the champion and
    # moving it: a second promotion starting meanwhile would also read "no
    # champion", and the slow one would then crown the worse model
    read_champion = registry._champion

    def slow_for_the_worse(client, name):
        found = read_champion(client, name)
        if threading.current_thread().name == "worse":
            time.sleep(1.0)
        return found

    monkeypatch.setattr(registry, "_champion", slow_for_the_worse)
    results = {}

    def promote(name: str) -> None:
        results[name] = register_and_promote(
            MlflowClient(tracking_uri), runs[name], config
        )

    # when both are promoted at once
    worse = threading.Thread(target=promote, args=("worse",), name="worse")
    better = threading.Thread(target=promote, args=("better",), name="better")
    worse.start()
    time.sleep(0.3)
    better.start()
    worse.join()
    better.join()
    # then the better model is the one champion, compared with the worse one
    assert results["better"].promoted
    assert results["better"].previous_champion == results["worse"].version
    assert _alias(client, CHAMPION) == results["better"].version
    # and each run's model was registered once
    versions = client.search_model_versions("name = 'churn'")
    assert sorted(v.run_id for v in versions) == sorted(runs.values())
