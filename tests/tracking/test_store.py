"""The tracking store: an unreadable sqlite file is left as it is, a server is left
alone, and a pipeline that loads a registered model from a store made just now
stops before its run. (Creating a new store: tests/starter/test_runs_and_faults.py.)"""

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
from kedro_datasets.pandas import CSVDataset
from kedro_mlflow.io.models import MlflowModelRegistryDataset

from kedro_mlops.tracking.store import (
    Store,
    TrackingStoreError,
    opening_store,
    require_existing_store,
)

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
        assert store == Store("http://user:secret@mlflow.internal", None)
    assert list(tmp_path.glob("*mlflow.db*")) == []


# ------------------------------------ a pipeline that loads a model from a new store


def _scoring() -> tuple[Pipeline, DataCatalog]:
    pipeline = Pipeline([Node(lambda m, b: b, ["champion_model", "batch"], "scores")])
    catalog = DataCatalog(
        datasets={
            "champion_model": MlflowModelRegistryDataset(
                model_name="churn", alias="champion"
            ),
            "batch": MemoryDataset([1.0]),
        }
    )
    return pipeline, catalog


def test_a_pipeline_that_loads_a_model_from_a_store_made_just_now_says_so(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/mlflow.db", tmp_path / "mlflow.db", True)
    with pytest.raises(TrackingStoreError) as error:
        require_existing_store(*_scoring(), store)
    message = str(error.value)
    assert message.startswith(f"There was no MLflow tracking store at {store.path}")
    assert "the dataset 'champion_model' has no model to load" in message
    assert "(models:/churn@champion)" in message
    assert "Run `kedro run --pipelines training`" in message
    assert "point MLFLOW_TRACKING_URI (or mlflow.yml) at it" in message


def test_left_to_the_input_check_a_store_that_was_there_or_a_project_never_trained(
    tmp_path,
):
    # plugin/inputs.py reports these with every missing input of the run
    there = Store(f"sqlite:///{tmp_path}/mlflow.db", tmp_path / "mlflow.db", False)
    require_existing_store(*_scoring(), there)
    require_existing_store(*_scoring(), None)
    made = Store(there.uri, there.path, True)
    pipeline, catalog = _scoring()
    catalog["batch"] = CSVDataset(filepath=str(tmp_path / "never_written.csv"))
    require_existing_store(pipeline, catalog, made)
    # and a pipeline that loads no registered model is not stopped either
    training = Pipeline([Node(lambda b: b, "batch", "scores")])
    require_existing_store(training, DataCatalog(), made)
