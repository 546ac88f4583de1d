"""mlops.yml: the defaults, errors that name the key, the shipped file, env merging."""

import pytest
from kedro.config import OmegaConfigLoader

from kedro_mlops.config import MlopsConfig, MlopsConfigError, load_config, parse_config
from kedro_mlops.tracking.uri import register_resolvers


def test_empty_file_gives_the_defaults():
    config = parse_config(None)
    assert config == MlopsConfig()
    assert config.registry.metric == "test.roc_auc"
    assert config.registry.min_improvement == 0.0


def test_capture_is_off_by_default_and_its_settings_are_checked():
    capture = parse_config({}).serving.capture
    assert (capture.enabled, capture.path) == (False, "data/09_monitoring/captured")
    assert (capture.max_queue_rows, capture.flush_seconds, capture.file_rows) == (
        100_000,
        5.0,
        50_000,
    )
    with pytest.raises(MlopsConfigError) as error:
        parse_config({"serving": {"capture": {"max_queue_rows": 0, "pth": "x"}}})
    message = str(error.value)
    assert "serving.capture.max_queue_rows: Input should be greater than 0" in message
    assert "serving.capture.pth: unknown key (allowed: enabled, file_rows" in message


def test_serving_limit_defaults_to_16_mb_and_must_be_positive():
    assert parse_config({}).serving.max_request_mb == 16.0
    assert parse_config({"serving": {"max_request_mb": 2}}).serving.max_request_mb == 2
    with pytest.raises(MlopsConfigError, match="serving.max_request_mb"):
        parse_config({"serving": {"max_request_mb": 0}})


def test_unknown_key_is_named_with_the_allowed_keys():
    with pytest.raises(MlopsConfigError) as error:
        parse_config({"registry": {"metrc": "test.f1"}})
    message = str(error.value)
    assert "registry.metrc: unknown key" in message
    assert "metric" in message and "min_improvement" in message


def test_unknown_section_is_an_error():
    with pytest.raises(MlopsConfigError, match="registy: unknown key .*registry"):
        parse_config({"registy": {}})


def test_wrong_type_names_key_and_value():
    with pytest.raises(
        MlopsConfigError, match=r"registry.min_improvement: .*'-0.1'|-0.1"
    ):
        parse_config({"registry": {"min_improvement": -0.1}})
    with pytest.raises(MlopsConfigError, match="registry.greater_is_better"):
        parse_config({"registry": {"greater_is_better": "sometimes"}})


def test_config_is_frozen():
    config = parse_config({})
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        config.registry.metric = "x"  # type: ignore[misc]


def test_shipped_starter_config_is_valid(rendered_project):
    # given the starter's conf/base, read the way a Kedro session reads it
    loader = OmegaConfigLoader(
        str(rendered_project / "conf"), base_env="base", default_run_env="local"
    )
    register_resolvers(rendered_project)
    # then mlops.yml validates and its model name resolves from globals.yml
    config = load_config(loader)
    assert config.registry.model_name == "churn_model"
    assert config.registry.metric == "test.roc_auc"
    # and the whole file sets only keys the model knows, with no value left to chance
    assert (
        config.model_dump()["registry"].keys()
        == MlopsConfig().model_dump()["registry"].keys()
    )
    # its serving limit is the default, written out where users look for it, and
    # it captures the served requests to the default folder
    defaults = MlopsConfig().serving
    assert config.serving.max_request_mb == defaults.max_request_mb
    assert config.serving.capture == defaults.capture.model_copy(
        update={"enabled": True}
    )
    # and the monitoring windows are the defaults
    assert config.monitoring == MlopsConfig().monitoring


def test_shipped_mlflow_store_is_anchored_at_the_project_root(
    rendered_project, monkeypatch, tmp_path
):
    loader = OmegaConfigLoader(
        str(rendered_project / "conf"), base_env="base", default_run_env="local"
    )
    loader.config_patterns["mlflow"] = ["mlflow*"]
    register_resolvers(rendered_project)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    mlflow = loader["mlflow"]
    uri = mlflow["server"]["mlflow_tracking_uri"]
    assert uri == f"sqlite:///{rendered_project.resolve().as_posix()}/mlflow.db"
    experiment = mlflow["tracking"]["experiment"]["create_experiment_kwargs"]
    assert experiment["artifact_location"] == "mlartifacts"
    # the environment points it at a server, which then decides where artifacts go
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    mlflow = loader["mlflow"]
    assert mlflow["server"]["mlflow_tracking_uri"] == "http://mlflow.internal:5000"
    experiment = mlflow["tracking"]["experiment"]["create_experiment_kwargs"]
    assert experiment["artifact_location"] is None
    # a sqlite file named by the environment keeps its artifacts beside it
    store = tmp_path / "volume" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    experiment = loader["mlflow"]["tracking"]["experiment"]["create_experiment_kwargs"]
    assert experiment["artifact_location"] == (store.parent / "mlartifacts").as_posix()
    monkeypatch.chdir(tmp_path)  # a relative file is opened from the current folder
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///runs/mlflow.db?timeout=5")
    experiment = loader["mlflow"]["tracking"]["experiment"]["create_experiment_kwargs"]
    assert experiment["artifact_location"] == f"{tmp_path.resolve()}/runs/mlartifacts"


def test_an_environment_overrides_single_keys_of_base(tmp_path):
    # given base settings and an environment that changes one key
    (tmp_path / "base").mkdir()
    (tmp_path / "prod").mkdir()
    (tmp_path / "base" / "mlops.yml").write_text(
        "registry:\n  model_name: churn\n  metric: test.f1\n"
    )
    (tmp_path / "prod" / "mlops.yml").write_text("registry:\n  min_improvement: 0.01\n")
    loader = OmegaConfigLoader(str(tmp_path), base_env="base", default_run_env="prod")
    # then base's other keys survive (a "soft" merge, not Kedro's default)
    registry = load_config(loader).registry
    assert (registry.model_name, registry.metric, registry.min_improvement) == (
        "churn",
        "test.f1",
        0.01,
    )


def test_unknown_key_inside_a_mapping_of_sections_lists_that_sections_keys():
    # given a typo in one column's drift settings (drift.columns is a mapping)
    with pytest.raises(MlopsConfigError) as error:
        parse_config({"drift": {"columns": {"age": {"tst": "ks"}}}})
    # then the keys listed are those of a column's settings
    assert "drift.columns.age.tst: unknown key (allowed: kind, test, threshold)" in str(
        error.value
    )


def test_a_contradiction_between_keys_is_told_in_plain_words():
    with pytest.raises(MlopsConfigError) as error:
        parse_config({"drift": {"columns": {"age": {}}, "ignore_columns": ["age"]}})
    assert str(error.value).endswith(
        "  - drift: columns ['age'] are both configured under 'columns' and listed "
        "in 'ignore_columns'; remove them from one of the two"
    )


def test_monitoring_windows_have_defaults_and_must_divide_a_day():
    assert parse_config({}).monitoring.window_hours == 1
    assert parse_config({}).monitoring.windows == 24
    assert (
        parse_config({"monitoring": {"window_hours": 6}}).monitoring.window_hours == 6
    )
    with pytest.raises(
        MlopsConfigError, match="monitoring.window_hours: must divide 24"
    ):
        parse_config({"monitoring": {"window_hours": 5}})
    with pytest.raises(
        MlopsConfigError, match=r"monitoring.window: unknown key \(allowed: min_rows"
    ):
        parse_config({"monitoring": {"window": 2}})


def test_the_promotion_gate_is_optional_and_its_rules_are_checked():
    # no gate by default
    registry = parse_config({}).registry
    assert (registry.rules, registry.slices, registry.gate_metrics()) == ([], None, [])
    # a gate names the metrics it reads
    gated = parse_config(
        {
            "registry": {
                "rules": [{"metric": "test.brier_score", "greater_is_better": False}],
                "slices": {"max_loss": 0.05},
            }
        }
    ).registry
    assert gated.gate_metrics() == ["test.brier_score", "slices.flagged"]
    # a misspelt key, a rule without its metric, a negative allowance: each named
    with pytest.raises(MlopsConfigError) as error:
        parse_config(
            {
                "registry": {
                    "rules": [
                        {"metric": "test.f1", "max_los": 0.1},
                        {"greater_is_better": False},
                    ],
                    "slices": {"max_loss": -1},
                }
            }
        )
    assert str(error.value).splitlines()[1:] == [
        "  - registry.rules.0.max_los: unknown key (allowed: greater_is_better, "
        "max_loss, metric)",
        "  - registry.rules.1.metric: Field required",
        "  - registry.slices.max_loss: Input should be greater than or equal to 0 "
        "(got -1)",
    ]
