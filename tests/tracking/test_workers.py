"""kedro-mlflow's artifact datasets and the run, shared with ParallelRunner's workers."""

from __future__ import annotations

import os
import pickle
from multiprocessing.managers import SyncManager

import pytest
from kedro.io import DataCatalog
from kedro.io.data_catalog import SharedMemoryDataCatalog

from kedro_mlops.tracking import workers

ARTIFACT = {
    "type": "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
    "dataset": {"type": "pickle.PickleDataset", "filepath": "x.pkl"},
    "artifact_path": "plots",
}


def test_a_parallel_catalog_with_artifact_datasets_validates(tmp_path, tracking_uri):
    import mlflow

    config = {
        "plot": {
            **ARTIFACT,
            "dataset": {**ARTIFACT["dataset"], "filepath": str(tmp_path / "p.pkl")},
        },
        "table": {"type": "pandas.CSVDataset", "filepath": str(tmp_path / "t.csv")},
    }
    # given the catalog ParallelRunner gets, with a kedro-mlflow artifact dataset
    catalog = SharedMemoryDataCatalog.from_config(config)
    catalog["plot"]  # noqa: B018  (materialised, as the runner does)
    with pytest.raises(AttributeError, match="cannot be used with multiprocessing"):
        catalog.validate_catalog()
    # when the plugin has made its artifact datasets picklable
    assert workers.make_artifact_datasets_picklable(catalog) == ["plot"]
    manager = SyncManager()
    manager.start()
    try:
        catalog.set_manager_datasets(manager)
        # then ParallelRunner's check passes
        catalog.validate_catalog()
    finally:
        manager.shutdown()
    # and a copy saves where the original does and logs it into the run
    copy = pickle.loads(pickle.dumps(catalog["plot"]))
    with mlflow.start_run() as run:
        copy.save({"a": 1})
    assert (tmp_path / "p.pkl").exists()
    logged = mlflow.MlflowClient().list_artifacts(run.info.run_id, "plots")
    assert [a.path for a in logged] == ["plots/p.pkl"]


def test_a_copy_keeps_the_datasets_state():
    catalog = DataCatalog.from_config({"plot": ARTIFACT})
    workers.make_artifact_datasets_picklable(catalog)
    catalog["plot"]._logging_activated = False  # as kedro-mlflow sets it
    assert pickle.loads(pickle.dumps(catalog["plot"]))._logging_activated is False


def test_other_datasets_are_left_alone():
    catalog = DataCatalog.from_config(
        {"table": {"type": "pandas.CSVDataset", "filepath": "t.csv"}}
    )
    assert workers.make_artifact_datasets_picklable(catalog) == []


def test_the_run_is_shared_unless_the_environment_names_one(monkeypatch):
    monkeypatch.delenv(workers.RUN_ID_VARIABLE, raising=False)
    assert workers.share_run("abc") is True
    assert os.environ[workers.RUN_ID_VARIABLE] == "abc"
    workers.stop_sharing("abc")
    assert workers.RUN_ID_VARIABLE not in os.environ
    # a run id the user set stays, and is not removed
    monkeypatch.setenv(workers.RUN_ID_VARIABLE, "theirs")
    assert workers.share_run("abc") is False
    workers.stop_sharing("abc")
    assert os.environ[workers.RUN_ID_VARIABLE] == "theirs"
