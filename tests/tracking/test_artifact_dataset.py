"""RegistryArtifactDataset: a file of the run behind a registry alias or version,
against a real sqlite MLflow store."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DatasetError

from kedro_mlops.datasets import RegistryArtifactDataset
from kedro_mlops.plugin.inputs import missing_inputs


def _version_with_reference(client, tmp_path, rows: list[float], alias: str) -> str:
    """A run that logged ``reference/sample.parquet``, registered as a new
    version of ``churn`` with ``alias``; the version number."""
    import mlflow

    sample = tmp_path / "sample.parquet"
    pd.DataFrame({"x": rows}).to_parquet(sample)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(sample), artifact_path="reference")
    if not client.search_registered_models(filter_string="name='churn'"):
        client.create_registered_model("churn")
    version = client.create_model_version(
        "churn", f"runs:/{run.info.run_id}/model", run.info.run_id
    )
    client.set_registered_model_alias("churn", alias, version.version)
    return str(version.version)


def _dataset(**kwargs) -> RegistryArtifactDataset:
    return RegistryArtifactDataset(
        model_name="churn",
        artifact_path="reference/sample.parquet",
        dataset="pandas.ParquetDataset",
        **kwargs,
    )


@pytest.fixture
def client(tracking_uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri)


def test_loads_the_file_of_the_champions_run(client, tmp_path):
    _version_with_reference(client, tmp_path, [1.0, 2.0], "champion")
    second = _version_with_reference(client, tmp_path, [5.0, 6.0, 7.0], "challenger")
    assert _dataset().load()["x"].tolist() == [1.0, 2.0]  # the champion by default
    assert _dataset(alias="challenger").load()["x"].tolist() == [5.0, 6.0, 7.0]
    assert _dataset(version=int(second)).load()["x"].tolist() == [5.0, 6.0, 7.0]
    assert _dataset().exists()
    client.set_registered_model_alias("churn", "champion", second)  # a new champion
    assert _dataset().load()["x"].tolist() == [5.0, 6.0, 7.0]


def test_no_such_alias_is_one_clear_error(client, tmp_path, tracking_uri):
    _version_with_reference(client, tmp_path, [1.0], "challenger")
    dataset = _dataset()
    expected = (
        "No version of registered model 'churn' has the alias 'champion' in "
        f"{tracking_uri}: train one first (`kedro run --pipelines training`)."
    )
    assert dataset.missing_reason() == expected
    assert not dataset.exists()
    with pytest.raises(DatasetError) as error:
        dataset.load()
    assert expected in str(error.value)


def test_a_run_without_the_artifact_is_named(client, tmp_path):
    import mlflow

    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
    client.create_registered_model("churn")
    client.create_model_version("churn", "runs:/x/model", run.info.run_id)
    client.set_registered_model_alias("churn", "champion", "1")
    assert _dataset().missing_reason() == (
        f"Version 1 of registered model 'churn' (the alias 'champion') was logged "
        f"by run {run.info.run_id}, which has no artifact 'reference/sample.parquet': "
        "it was trained before the file was logged with the model. Train again "
        "(`kedro run --pipelines training`)."
    )


def test_the_reason_stops_a_run_before_it_starts(client, tmp_path, tracking_uri):
    from kedro.io import DataCatalog
    from kedro.pipeline import Node, Pipeline

    catalog = DataCatalog({"champion_reference": _dataset()})
    pipeline = Pipeline([Node(len, "champion_reference", "n", name="count")])
    [(name, reason)] = missing_inputs(pipeline, catalog)
    assert name == "champion_reference"
    assert reason.startswith("No version of registered model 'churn' has the alias")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"alias": "champion", "version": 2},
            "give alias or version, not both (alias='champion', version=2).",
        ),
        (
            {"dataset": {"load_args": {}}},
            "`dataset` needs a type, e.g. dataset: pandas.ParquetDataset.",
        ),
        (
            {"dataset": {"type": "pandas.ParquetDataset", "filepath": "x.parquet"}},
            "remove `filepath` from `dataset`: the file is the downloaded artifact.",
        ),
    ],
)
def test_a_wrong_entry_is_refused(kwargs, message):
    arguments = {
        "model_name": "churn",
        "artifact_path": "reference/sample.parquet",
        "dataset": "pandas.ParquetDataset",
        **kwargs,
    }
    with pytest.raises(DatasetError, match="RegistryArtifactDataset of 'churn'") as e:
        RegistryArtifactDataset(**arguments)
    assert str(e.value).endswith(message)


def test_it_is_read_only():
    with pytest.raises(DatasetError, match="is read-only: the training run logs"):
        _dataset().save(pd.DataFrame({"x": [1.0]}))
