"""A run whose inputs have no data yet stops before it starts."""

from __future__ import annotations

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro_datasets.pandas import CSVDataset

from kedro_mlops.plugin.inputs import MissingInputsError, check_inputs, missing_inputs


def _catalog(tmp_path) -> DataCatalog:
    (tmp_path / "raw.csv").write_text("a\n1\n")
    return DataCatalog(
        {
            "raw": CSVDataset(filepath=str(tmp_path / "raw.csv")),
            "sample": CSVDataset(filepath=str(tmp_path / "sample.csv")),
            "held": MemoryDataset(),
            "params:n": MemoryDataset(3),
        }
    )


SCORING = Pipeline([Node(max, ["sample", "held", "raw", "params:n"], "out", name="s")])
TRAINING = Pipeline(
    [
        Node(abs, "raw", "sample", name="prepare"),
        Node(abs, "sample", "held", name="fit"),
    ]
)


def test_only_inputs_without_data_are_reported(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert missing_inputs(SCORING, _catalog(tmp_path)) == [
        ("sample", "nothing saved yet (sample.csv)")
    ]


def test_the_error_names_the_pipeline_that_writes_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    registry = {"training": TRAINING, "scoring": SCORING, "__default__": TRAINING}
    with pytest.raises(MissingInputsError) as caught:
        check_inputs(SCORING, _catalog(tmp_path), registry)
    assert str(caught.value).splitlines() == [
        "This run needs data that is missing or empty:",
        "  - sample: nothing saved yet (sample.csv)",
        "Run `kedro run --pipelines training` first: it writes them.",
    ]


def test_a_run_with_its_inputs_passes(tmp_path):
    (tmp_path / "sample.csv").write_text("a\n1\n")
    check_inputs(SCORING, _catalog(tmp_path), {})


def test_a_registry_model_without_the_alias_is_missing(tracking_uri, tmp_path):
    from kedro_mlflow.io.models import MlflowModelRegistryDataset
    from mlflow import MlflowClient

    MlflowClient().create_registered_model("churn")
    catalog = DataCatalog(
        {"champion": MlflowModelRegistryDataset(model_name="churn", alias="champion")}
    )
    scoring = Pipeline([Node(abs, "champion", "scores", name="score")])
    assert missing_inputs(scoring, catalog) == [
        ("champion", "no version of registered model 'churn' has the alias 'champion'")
    ]


def test_a_spark_champion_without_the_alias_is_missing_too(tracking_uri):
    from mlflow import MlflowClient

    from kedro_mlops.datasets import SparkModelRegistryDataset

    MlflowClient().create_registered_model("churn")
    catalog = DataCatalog(
        {"champion": SparkModelRegistryDataset(model_name="churn", alias="champion")}
    )
    scoring = Pipeline([Node(abs, "champion", "scores", name="score")])
    assert missing_inputs(scoring, catalog) == [
        ("champion", "no version of registered model 'churn' has the alias 'champion'")
    ]


def test_an_empty_file_is_reported_as_empty(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    catalog = _catalog(tmp_path)
    (tmp_path / "sample.csv").write_text("a\n1\n")
    (tmp_path / "raw.csv").write_bytes(b"")
    assert missing_inputs(SCORING, catalog) == [
        ("raw", "the file is empty, 0 bytes (raw.csv)")
    ]


def test_the_registered_model_and_its_files_are_written_by_the_bundled_pipeline(
    tracking_uri,
):
    from kedro_mlflow.io.models import MlflowModelRegistryDataset

    from kedro_mlops.datasets import RegistryArtifactDataset
    from kedro_mlops.serving import bundle_model

    catalog = DataCatalog(
        {
            "champion": MlflowModelRegistryDataset(
                model_name="churn", alias="champion"
            ),
            "reference": RegistryArtifactDataset(
                model_name="churn",
                artifact_path="reference/sample.parquet",
                dataset="pandas.ParquetDataset",
            ),
        }
    )
    scoring = Pipeline(
        [Node(lambda m, r: m, ["champion", "reference"], "scores", name="score")]
    )
    training = bundle_model(
        training=Pipeline([Node(abs, "rows", "model", name="fit")]),
        inference=Pipeline([Node(abs, ["batch"], "scored", name="predict")]),
        input_name="batch",
    )
    pipelines = {"__default__": training, "training": training, "scoring": scoring}
    with pytest.raises(MissingInputsError) as error:
        check_inputs(scoring, catalog, pipelines)
    lines = str(error.value).splitlines()
    assert lines[1].startswith("  - champion: no version of registered model 'churn'")
    assert lines[2].startswith("  - reference: No version of registered model 'churn'")
    assert lines[-1] == "Run `kedro run --pipelines training` first: it writes them."
