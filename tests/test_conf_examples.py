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


# ---------------------------------------------------------------- DVC remote

#: Remote settings that hold a secret: never in a committed .dvc/config.
DVC_SECRETS = {
    "access_key_id",
    "secret_access_key",
    "session_token",
    "password",
    "ask_password",
    "key",
    "keyfile",
    "credentialpath",
    "gdrive_client_secret",
    "account_key",
    "sas_token",
    "connection_string",
}
STARTER_CATALOG = (
    REPO / "starters" / "mlops" / "{{ cookiecutter.repo_name }}" / "conf" / "base"
) / "catalog.yml"


def _dvc_config(example: Path, folder: Path) -> dict[str, Any]:
    """The example read by DVC as the ``.dvc/config`` of a repository in ``folder``."""
    from dvc.config import Config

    dvc_dir = folder / ".dvc"
    dvc_dir.mkdir(parents=True)
    (dvc_dir / "config").write_text(example.read_text(encoding="utf-8"))
    return dict(Config(dvc_dir=str(dvc_dir), validate=True))


@pytest.mark.parametrize("example", _examples("dvc-config-*"), ids=_ids)
def test_dvc_config_passes_dvc_schema_and_holds_no_secret(example, tmp_path):
    # given an example .dvc/config, when DVC reads and validates it
    config = _dvc_config(example, tmp_path)
    # then its default remote is one it configures, with a URL and no secret
    name = config["core"]["remote"]
    remote = config["remote"][name]
    assert remote["url"]
    assert sorted(set(remote) & DVC_SECRETS) == []


def test_the_s3_example_is_an_s3_remote(tmp_path):
    config = _dvc_config(EXAMPLES / "dvc-remote" / "dvc-config-s3", tmp_path)
    assert config["remote"]["storage"]["url"].startswith("s3://")
    readme = (EXAMPLES / "dvc-remote" / "README.md").read_text(encoding="utf-8")
    assert "dvc remote add -d storage s3://" in readme
    assert 'pip install "dvc[s3]"' in readme


@pytest.mark.parametrize("catalog_yml", _examples("catalog.yml"), ids=_ids)
def test_catalog_yml_entries_override_the_starters_with_a_push(catalog_yml):
    from kedro.io import DataCatalog

    from kedro_mlops.datasets import DVCDataset

    # given an example catalog.yml, when Kedro builds each of its datasets
    entries = _load(catalog_yml)
    catalog = DataCatalog.from_config(entries)
    starter = _load(STARTER_CATALOG)
    for name, entry in entries.items():
        dataset = catalog.get(name)
        # then it is a DVCDataset that pushes, over the starter's same file
        assert isinstance(dataset, DVCDataset)
        assert entry["push"] is True
        assert {k: v for k, v in entry.items() if k not in ("push", "remote")} == (
            starter[name]
        )


@pytest.mark.integration  # a real git + DVC repository
def test_folder_remote_example_receives_a_pushed_save(tmp_path, monkeypatch):
    import pandas as pd
    from kedro.io import DataCatalog

    from tests.git_dvc import DVC, init_repo, sh

    # given a project with the example's .dvc/config, its folder moved to tmp_path
    project = init_repo(tmp_path / "project")
    example = EXAMPLES / "dvc-remote" / "dvc-config-folder"
    store = tmp_path / "mnt" / "dvc-store"
    text = example.read_text(encoding="utf-8").replace(
        "/mnt/shared/dvc-store", str(store)
    )
    (project / ".dvc" / "config").write_text(text)
    monkeypatch.chdir(project)
    # when the example catalog's dataset is saved
    catalog = DataCatalog.from_config(_load(EXAMPLES / "dvc-remote" / "catalog.yml"))
    catalog.save("model_input", pd.DataFrame({"id": [1, 2], "value": [0.5, 1.5]}))
    # then the bytes are in the remote, where DVC's status finds them
    saved = project / "data/05_model_input/model_input.parquet"
    pushed = [p for p in store.rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in pushed] == [saved.read_bytes()]
    status = sh(DVC, "status", "-c", cwd=project).strip()
    assert status == "Cache and remote 'storage' are in sync."
