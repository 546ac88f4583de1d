"""ScoringModel: a Spark DataFrame scored partition by partition gives the
pandas scores, the pandas refusals (rows counted over the whole frame), and
loads the model once per Python worker.

One local Spark session (``spark`` in tests/conftest.py) for the test session;
the model is a real bundled model (tests/spark/model.py) saved to disk.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from kedro_mlops.spark.scoring import ScoringModel
from tests.spark.model import rows, save_bundled_model

ID = "customer_id"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return save_bundled_model(tmp_path_factory.mktemp("bundled") / "model")


def _scoring(saved: Path, tmp_path: Path) -> ScoringModel:
    """A ScoringModel of its own folder: its workers load it anew."""
    import mlflow

    folder = Path(shutil.copytree(saved, tmp_path / "model"))
    with warnings.catch_warnings():  # MLflow's hint about kedro-mlflow's model class
        warnings.filterwarnings("ignore", message=".*Add type hints to the `predict`")
        return ScoringModel(mlflow.pyfunc.load_model(str(folder)), str(folder))


def in_order(spark, batch: pd.DataFrame, partitions: int):
    """``batch`` as a Spark DataFrame of ``partitions`` partitions that hold its
    rows in their order (as a file read by Spark does)."""
    schema = spark.createDataFrame(batch.head(1)).schema
    values = batch.astype(object).where(batch.notna(), None)
    records = list(values.itertuples(index=False, name=None))
    return spark.createDataFrame(
        spark.sparkContext.parallelize(records, partitions), schema
    )


def _refusal(call) -> str:
    with pytest.raises(Exception) as raised:
        call()
    return f"{type(raised.value).__name__}: {raised.value}"


def test_spark_scores_equal_the_pandas_scores(spark, saved, tmp_path):
    model = _scoring(saved, tmp_path)
    batch = rows(3_000)
    expected = model.predict(batch)
    scores = model.predict(spark.createDataFrame(batch).repartition(4))
    # a Spark DataFrame of the model's columns, typed from the schema, not from rows
    assert scores.schema.simpleString() == (
        "struct<customer_id:string,churned_probability:double,churned_prediction:bigint>"
    )
    got = scores.toPandas().set_index(ID).loc[expected[ID]].reset_index()
    assert len(got) == len(expected) == 3_000
    assert (
        got["churned_probability"] - expected["churned_probability"]
    ).abs().max() < 1e-9
    assert got["churned_prediction"].tolist() == expected["churned_prediction"].tolist()
    # and a pandas frame is still the model's own predict
    pd.testing.assert_frame_equal(model.predict(batch.head(10)), expected.head(10))


def test_the_model_is_loaded_once_per_python_worker(spark, saved, tmp_path):
    model = _scoring(saved, tmp_path)
    frame = spark.createDataFrame(rows(4_000)).repartition(8)
    model.predict(frame)
    reports = model.reports
    processes = {r["__kedro_mlops_process"] for r in reports}
    loads = [r["__kedro_mlops_process"] for r in reports if r["__kedro_mlops_loaded"]]
    # eight partitions, each reporting its rows; the model loaded once in each
    # worker process that scored them (local[2]: at most two), not per task
    assert len(reports) == 8 and sum(r["__kedro_mlops_rows"] for r in reports) == 4_000
    assert sorted(loads) == sorted(processes) and len(processes) <= 2
    # a second frame: the workers keep the model
    model.predict(frame.limit(1_000))
    assert model.reports and not any(r["__kedro_mlops_loaded"] for r in model.reports)


def test_a_refused_row_gives_the_pandas_message(spark, saved, tmp_path):
    model = _scoring(saved, tmp_path)
    batch = rows(3_000)
    batch.loc[4, "age"] = 7  # in the first partition
    batch.loc[2_500, "age"] = 300  # in the last
    batch.loc[2_999, ID] = batch.loc[3, ID]  # an id repeated across partitions
    expected = _refusal(lambda: model.predict(batch))
    assert "rows 5, 2501" in expected and "rows 4, 3000" in expected
    got = _refusal(lambda: model.predict(in_order(spark, batch, 3)))
    assert got == expected


def test_an_id_repeated_across_partitions_only_is_refused_as_in_pandas(
    spark, saved, tmp_path
):
    model = _scoring(saved, tmp_path)
    batch = rows(2_000)
    batch.loc[1_900, ID] = batch.loc[10, ID]
    expected = _refusal(lambda: model.predict(batch))
    assert "(id) repeats values in rows 11, 1901" in expected
    # four partitions in row order: no partition holds both rows
    got = _refusal(lambda: model.predict(in_order(spark, batch, 4)))
    assert got == expected


def test_an_empty_frame_is_refused_as_in_pandas(spark, saved, tmp_path):
    model = _scoring(saved, tmp_path)
    empty = rows(10).head(0)
    expected = _refusal(lambda: model.predict(empty))
    assert "The data is empty (0 rows, 4 columns)" in expected
    got = _refusal(lambda: model.predict(spark.createDataFrame(rows(10)).limit(0)))
    assert got == expected


def test_the_dataset_loads_the_registered_champion_as_a_scoring_model(
    tracking_uri, saved
):
    import mlflow
    from mlflow import MlflowClient

    from kedro_mlops.datasets import SparkModelRegistryDataset

    # given the bundled model registered, with the champion alias
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(saved), "model")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "churn")
    MlflowClient().set_registered_model_alias("churn", "champion", version.version)
    # when the catalog dataset loads it
    model = SparkModelRegistryDataset(model_name="churn", alias="champion").load()
    # then it is a ScoringModel over a folder of its own, scoring pandas as the model
    assert isinstance(model, ScoringModel)
    assert (Path(model.path) / "MLmodel").is_file() and Path(model.path) != saved
    batch = rows(20)
    expected = mlflow.pyfunc.load_model(str(saved)).predict(batch)
    pd.testing.assert_frame_equal(model.predict(batch), expected)
    assert model.metadata.signature.inputs.input_names() == list(batch.columns)
