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


# ------------------------------------------------------------- the promotion gate

BRIER_RULE = {"metric": "test.brier_score", "greater_is_better": False}


def _gated(**registry) -> RegistryConfig:
    return RegistryConfig(model_name="churn", **registry)


def test_a_worse_brier_score_keeps_the_champion_and_the_summary_names_the_rule(
    client,
):
    config = _gated(rules=[BRIER_RULE])
    register_and_promote(
        client, _training_run({"test.roc_auc": 0.80, "test.brier_score": 0.15}), config
    )
    # given a new model better on roc_auc and worse on the Brier score
    run_id = _training_run({"test.roc_auc": 0.85, "test.brier_score": 0.17})
    result = register_and_promote(client, run_id, config)
    # then the champion stays, and the summary says which rule decided
    assert not result.promoted
    assert (_alias(client, CHAMPION), _alias(client, CHALLENGER)) == ("1", "2")
    assert result.summary() == (
        "churn v2 is challenger (test.roc_auc=0.8500); champion stays v1 at "
        "0.8000: registry.rules[test.brier_score] decided: test.brier_score "
        "0.1700 is worse than the champion's 0.1500 by 0.0200, more than the "
        "0.0000 allowed"
    )
    tags = client.get_run(run_id).data.tags
    assert tags["mlops.registry.decided_by"] == "registry.rules[test.brier_score]"
    assert tags["mlops.registry.gate"].startswith("test.brier_score: failed (")


def test_a_model_that_passes_every_rule_is_promoted_and_the_summary_says_so(client):
    config = _gated(rules=[BRIER_RULE], slices={"max_loss": 0.05})
    register_and_promote(
        client,
        _training_run(
            {"test.roc_auc": 0.80, "test.brier_score": 0.15, "slices.flagged": 0}
        ),
        config,
    )
    run_id = _training_run(
        {"test.roc_auc": 0.85, "test.brier_score": 0.14, "slices.flagged": 0}
    )
    result = register_and_promote(client, run_id, config)
    assert result.promoted and _alias(client, CHAMPION) == "2"
    assert result.summary().endswith(
        "and now champion (was v1 at 0.8000; gate passed: test.brier_score, slices)"
    )
    assert client.get_run(run_id).data.tags["mlops.registry.decided_by"] == (
        "registry.metric"
    )


def test_a_flagged_slice_worse_than_the_champions_keeps_the_champion(client, tmp_path):
    from tests.quality.runs import slices_report, training_run

    config = _gated(slices={"max_loss": 0.05})
    before = slices_report({("contract", "monthly"): 0.70})
    register_and_promote(
        client,
        training_run({"test.roc_auc": 0.80}, tmp_path / "champion", before),
        config,
    )
    # a better model overall, whose flagged monthly-contract slice lost 0.12
    after = slices_report({("contract", "monthly"): 0.58})
    run_id = training_run({"test.roc_auc": 0.85}, tmp_path / "new", after)
    result = register_and_promote(client, run_id, config)
    assert not result.promoted and _alias(client, CHAMPION) == "1"
    assert result.decided_by == "registry.slices"
    assert result.summary().endswith(
        "champion stays v1 at 0.8000: registry.slices decided: flagged slice "
        "contract=monthly: recall 0.5800 against the champion's 0.7000, worse by "
        "0.1200, more than the 0.0500 allowed"
    )


def test_the_metric_decides_before_the_gate_is_asked(client):
    config = _gated(rules=[BRIER_RULE])
    register_and_promote(
        client, _training_run({"test.roc_auc": 0.80, "test.brier_score": 0.15}), config
    )
    result = register_and_promote(
        client, _training_run({"test.roc_auc": 0.70, "test.brier_score": 0.10}), config
    )
    assert not result.promoted and result.gate == ()
    assert result.decided_by == "registry.metric"


def test_a_run_without_a_gate_metric_is_a_clear_error_and_registers_nothing(client):
    config = _gated(rules=[{"metric": "test.brer"}])
    run_id = _training_run({"test.roc_auc": 0.8})
    with pytest.raises(
        RegistryError,
        match=r"no metric 'test.brer' \(registry.rules\) for the promotion gate "
        r"of mlops.yml \(metrics logged: test.roc_auc\)\. Name a logged metric",
    ):
        register_and_promote(client, run_id, config)
    assert client.search_registered_models() == []


def test_before_training_a_gate_metric_no_registered_run_logged_is_an_error(client):
    from kedro_mlops.tracking.registry import check_gate_metrics

    config = _gated(rules=[{"metric": "test.brer"}], slices={})
    # nothing registered yet: nothing to know, nothing refused
    check_gate_metrics(client, config)
    register_and_promote(client, _training_run({"test.roc_auc": 0.8}), _gated())
    with pytest.raises(RegistryError) as error:
        check_gate_metrics(client, config)
    assert str(error.value) == (
        "The promotion gate in mlops.yml reads metric 'test.brer' (registry.rules), "
        "'slices.flagged' (registry.slices), which the runs of churn v1 (champion, "
        "challenger) never logged (they logged: test.roc_auc). Name a logged "
        "metric, or remove the rule."
    )
    # a metric only the challenger's run has (new since the champion) is known
    register_and_promote(
        client,
        _training_run({"test.roc_auc": 0.7, "test.brer": 0.1, "slices.flagged": 0}),
        _gated(),
    )
    check_gate_metrics(client, config)


def test_an_unreadable_slices_file_stops_the_gate_and_keeps_the_champion(
    client, tmp_path
):
    import mlflow

    from tests.quality.runs import slices_report, training_run

    config = _gated(slices={})
    champion = slices_report({("contract", "monthly"): 0.70})
    register_and_promote(
        client, training_run({"test.roc_auc": 0.8}, tmp_path / "old", champion), config
    )
    with mlflow.start_run() as run:
        broken = tmp_path / "slices.json"
        broken.write_text("{")
        mlflow.log_artifact(str(broken), "quality")
        mlflow.log_metrics({"test.roc_auc": 0.9, "slices.flagged": 1})
        log_constant_model()
    with pytest.raises(RegistryError, match=r"quality/slices.json of run .* not valid"):
        register_and_promote(client, run.info.run_id, config)
    assert _alias(client, CHAMPION) == "1"
