"""The tracking store: an unreadable sqlite file is left as it is, a server is left
alone, and a pipeline that loads a registered model the store lacks stops before
its run. (Creating a new store: tests/starter/test_runs_and_faults.py.)"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro_mlflow.io.models import MlflowModelRegistryDataset

from kedro_mlops.tracking.store import (
    Store,
    TrackingStoreError,
    opening_store,
    require_registered_models,
)
from tests.mlflow_models import log_constant_model

MLFLOW_YML = "server:\n  mlflow_tracking_uri: ${mlops.tracking_uri:}\n"


def _context(project: Path) -> SimpleNamespace:
    """What opening_store reads of a KedroContext: the project and its config."""
    (project / "conf/base").mkdir(parents=True, exist_ok=True)
    (project / "conf/local").mkdir(parents=True, exist_ok=True)
    (project / "conf/base/mlflow.yml").write_text(MLFLOW_YML)
    loader = OmegaConfigLoader(
        conf_source=str(project / "conf"), base_env="base", default_run_env="local"
    )
    return SimpleNamespace(project_path=project, config_loader=loader)


def _random_bytes(database: Path, migrated: Path) -> None:
    database.write_bytes(bytes(range(256)) * 64)


def _cut_short(database: Path, migrated: Path) -> None:
    content = migrated.read_bytes()
    database.write_bytes(content[: len(content) // 2])


def _empty(database: Path, migrated: Path) -> None:
    database.write_bytes(b"")


def _another_database(database: Path, migrated: Path) -> None:
    with closing(sqlite3.connect(database)) as db, db:
        db.execute("CREATE TABLE customers (id INTEGER)")


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_random_bytes, "it is not an SQLite database"),
        (_cut_short, "it is cut short: "),
        (_empty, "the file is empty (0 bytes)"),
        (_another_database, "not an MLflow store"),
    ],
    ids=["random-bytes", "truncated", "empty", "not-mlflow"],
)
def test_an_unreadable_store_stops_and_is_left_as_it_was(
    tmp_path, monkeypatch, migrated_store, damage, problem
):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    database = tmp_path / "mlflow.db"
    damage(database, migrated_store)
    before = database.read_bytes()
    with pytest.raises(TrackingStoreError) as error:
        with opening_store(_context(tmp_path)):
            pytest.fail("kedro-mlflow must not open an unreadable store")
    message = str(error.value)
    assert message.startswith(f"The MLflow tracking store at {database} is unreadable")
    assert problem in message
    assert "left the file as it is" in message
    assert f"mv {database} {database}.unreadable" in message
    assert "kedro run --pipelines training" in message
    # nothing was migrated over it or deleted
    assert database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.glob("*mlflow*")) == [
        "mlflow.db",
        "mlflow.db.lock",
    ]


def test_a_store_named_by_the_environment_is_the_one_checked(
    tmp_path, monkeypatch, migrated_store
):
    shared = tmp_path / "shared" / "mlflow.db"
    shared.parent.mkdir()
    shutil.copyfile(migrated_store, shared)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{shared}")
    with opening_store(_context(tmp_path / "project")) as store:
        assert (store.path, store.created) == (shared, False)
    assert (shared.parent / "mlflow.db.lock").exists()


def test_a_tracking_server_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://user:secret@mlflow.internal")
    with opening_store(_context(tmp_path)) as store:
        assert store.path is None
        assert store.describe() == "The MLflow tracking store http://mlflow.internal"


# ------------------------------------------------ a pipeline that loads the champion


def _scoring(model: str = "churn") -> tuple[Pipeline, DataCatalog]:
    pipeline = Pipeline([Node(lambda m, b: b, ["champion_model", "batch"], "scores")])
    catalog = DataCatalog(
        datasets={
            "champion_model": MlflowModelRegistryDataset(
                model_name=model, alias="champion"
            ),
            "batch": MemoryDataset([1.0]),
        }
    )
    return pipeline, catalog


def _register(model: str, alias: str | None) -> None:
    import mlflow

    with mlflow.start_run():
        info = log_constant_model()
    version = mlflow.register_model(info.model_uri, model).version
    if alias:
        mlflow.MlflowClient().set_registered_model_alias(model, alias, version)


@pytest.mark.parametrize(
    ("registered", "created", "said"),
    [
        (None, False, "has no registered model 'churn'"),
        (
            "no alias",
            False,
            "has the model 'churn', but no version of it has the alias 'champion'",
        ),
        (None, True, "There was no MLflow tracking store at "),
    ],
    ids=["no-model", "no-champion", "store-just-created"],
)
def test_a_pipeline_that_loads_a_missing_champion_says_what_to_run(
    tracking_uri, tmp_path, registered, created, said
):
    if registered:
        _register("churn", alias=None)
    pipeline, catalog = _scoring()
    store = Store(tracking_uri, tmp_path / "mlflow.db", created)
    with pytest.raises(TrackingStoreError) as error:
        require_registered_models(pipeline, catalog, store)
    message = str(error.value)
    assert said in message
    if not created:
        assert message.startswith(f"The MLflow tracking store at {tmp_path}")
    assert "the dataset 'champion_model' has no model to load" in message
    assert "(models:/churn@champion)" in message
    assert "Run `kedro run --pipelines training`" in message


def test_a_pipeline_with_its_champion_or_without_registry_datasets_runs(tracking_uri):
    _register("churn", alias="champion")
    require_registered_models(*_scoring(), None)
    require_registered_models(
        Pipeline([Node(lambda b: b, "batch", "scores")]), DataCatalog(), None
    )
