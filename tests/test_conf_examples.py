"""The configuration examples in conf-examples/ are valid and hold no secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kedro_mlops.config import MlopsConfigError, parse_config
from kedro_mlops.tracking.access import PLACEHOLDER

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "conf-examples"


def _examples(name: str) -> list[Path]:
    found = sorted(EXAMPLES.glob(f"**/{name}"))
    assert found, f"no {name} under conf-examples/"
    return found


def _ids(path: Path) -> str:
    return str(path.relative_to(REPO))


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _leaves(node: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [
            leaf
            for key, value in node.items()
            for leaf in _leaves(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(node, list):
        return [
            leaf
            for i, value in enumerate(node)
            for leaf in _leaves(value, f"{path}[{i}]")
        ]
    return [(path, node)]


@pytest.mark.parametrize("mlflow_yml", _examples("mlflow.yml"), ids=_ids)
def test_mlflow_yml_matches_kedro_mlflow_schema(mlflow_yml):
    from kedro_mlflow.config.kedro_mlflow_config import KedroMlflowConfig

    # given an example mlflow.yml, when kedro-mlflow's model validates it
    config = KedroMlflowConfig.model_validate(_load(mlflow_yml))
    # then it is accepted (unknown keys would raise) and names a tracking server
    assert config.server.mlflow_tracking_uri


@pytest.mark.parametrize("mlops_yml", _examples("mlops.yml"), ids=_ids)
def test_mlops_yml_matches_kedro_mlops_schema(mlops_yml):
    config = parse_config(_load(mlops_yml), source=str(mlops_yml))
    # every key the example sets is a real setting that differs from the default
    assert config.registry.min_improvement > 0


@pytest.mark.parametrize("credentials_yml", _examples("credentials.yml"), ids=_ids)
def test_credentials_yml_holds_only_placeholders(credentials_yml):
    # given an example credentials.yml
    leaves = _leaves(_load(credentials_yml))
    # then it has values, and each one is a string with the placeholder marker
    assert leaves
    real_looking = [
        key
        for key, value in leaves
        if not isinstance(value, str) or PLACEHOLDER not in value
    ]
    assert real_looking == [], f"values without '{PLACEHOLDER}': {real_looking}"


@pytest.mark.parametrize("mlflow_yml", _examples("mlflow.yml"), ids=_ids)
def test_credentials_key_named_in_mlflow_yml_exists_beside_it(mlflow_yml):
    key = (_load(mlflow_yml).get("server") or {}).get("credentials")
    if key is None:
        pytest.skip("this mlflow.yml uses no credentials")
    credentials = mlflow_yml.with_name("credentials.yml")
    assert credentials.is_file()
    assert key in _load(credentials)


@pytest.mark.parametrize("mlops_yml", _examples("mlops.yml"), ids=_ids)
def test_unknown_key_in_a_copy_of_the_example_is_an_error(mlops_yml, tmp_path):
    # given a copy of the example with a misspelt key added to `registry`
    raw = _load(mlops_yml)
    raw["registry"]["metrc"] = "test.f1"
    copy = tmp_path / "mlops.yml"
    copy.write_text(yaml.safe_dump(raw), encoding="utf-8")
    # when it is parsed, then the error names the key and the file
    with pytest.raises(MlopsConfigError, match=r"registry\.metrc: unknown key") as err:
        parse_config(_load(copy), source=str(copy))
    assert str(copy) in str(err.value)
