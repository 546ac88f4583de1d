"""The three engines (pandas in memory, pyarrow record batches, Spark partitions)
give the same decisions and the same statistics on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.drift import DriftConfig, DriftInputError, detect_drift
from kedro_mlops.drift import batches as batches_engine
from kedro_mlops.drift import spark as spark_engine

#: Where approximate edges (a sampled reference in batches, a compressed
#: quantile sketch on Spark) may move a numeric statistic (docs/drift.md).
APPROXIMATE_EDGES = 2e-2
#: Sums added in another order differ in the last bits only.
ROUNDING = 1e-12

CONFIG = DriftConfig(ignore_columns=["customer_id"], max_categories=20)


def churn_like(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    """Continuous, discrete, categorical, many-level, boolean and id columns,
    with missing and infinite values; ``shift`` moves three of them."""
    amount = rng.normal(50 + 10 * shift, 12, n)
    amount[rng.random(n) < 0.02] = np.nan
    amount[:3] = np.inf
    mix = [0.5, 0.3, 0.2] if shift == 0 else [0.3, 0.3, 0.4]
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "amount": amount,
            "visits": rng.poisson(3, n).astype("int64"),
            "tenure": rng.exponential(12 * (1 + shift), n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=mix),
            "city": rng.choice([f"city-{i:02d}" for i in range(60)], n),
            "active": rng.random(n) < 0.7,
        }
    )


@pytest.fixture(scope="module")
def parquet(tmp_path_factory) -> dict[str, Path]:
    """The reference as one file, the current data as a folder of four files."""
    folder = tmp_path_factory.mktemp("parquet")
    rng = np.random.default_rng(7)
    reference = churn_like(rng, 20_000, shift=0)
    current = churn_like(rng, 12_000, shift=0.2)
    reference.to_parquet(folder / "reference.parquet", index=False)
    (folder / "current").mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(current)), 4)):
        current.iloc[part].to_parquet(folder / "current" / f"part-{i}.parquet")
    return {"reference": folder / "reference.parquet", "current": folder / "current"}


@pytest.fixture(scope="module")
def in_memory(parquet):
    return detect_drift(
        pd.read_parquet(parquet["reference"]),
        pd.read_parquet(parquet["current"]),
        CONFIG,
    )


def assert_same(report, expected, tolerance: float = 0.0) -> None:
    assert report.drifted_columns == expected.drifted_columns
    assert report.dataset_drift == expected.dataset_drift
    assert (report.rows_reference, report.rows_current) == (
        expected.rows_reference,
        expected.rows_current,
    )
    for column in expected.columns:
        got = report.column(column.column)
        assert got.test == column.test, column.column
        assert got.score == pytest.approx(column.score, rel=tolerance, abs=tolerance), (
            column.column
        )
        assert (got.n_reference, got.n_current, got.infinite_current) == (
            column.n_reference,
            column.n_current,
            column.infinite_current,
        ), column.column
        for name in ("ks_statistic", "wasserstein", "psi", "jensenshannon"):
            value = getattr(column.statistics, name)
            if value is not None:
                assert getattr(got.statistics, name) == pytest.approx(
                    value, rel=tolerance, abs=tolerance
                ), (column.column, name)
    assert report.skipped == expected.skipped


def test_the_shift_is_found(in_memory):
    # the data are made so that the engines have something to agree on
    assert set(in_memory.drifted_columns) == {"amount", "plan", "tenure"}
    assert in_memory.skipped == {"customer_id": "ignored by configuration"}


def test_record_batches_give_the_in_memory_report_exactly(
    parquet, in_memory, monkeypatch
):
    # given batches far smaller than the data (the reference fits the sample)
    monkeypatch.setattr(batches_engine, "BATCH_ROWS", 1_500)
    # when the engine reads the Parquet file and folder in record batches
    report = detect_drift(str(parquet["reference"]), parquet["current"], CONFIG)
    # then every decision and statistic is the in-memory one (summaries merge
    # exactly; sums added in another order differ in the last bits only)
    assert_same(report, in_memory, tolerance=ROUNDING)


def test_a_sampled_reference_gives_the_same_decisions(parquet, in_memory, monkeypatch):
    # given a reference larger than the sample its edges come from
    monkeypatch.setattr(batches_engine, "BATCH_ROWS", 1_500)
    monkeypatch.setattr(batches_engine, "SAMPLE_ROWS", 2_000)
    report = detect_drift(parquet["reference"], parquet["current"], CONFIG)
    # then the decisions are the same and the statistics close
    assert_same(report, in_memory, tolerance=APPROXIMATE_EDGES)
    categorical = [c for c in in_memory.columns if c.kind != "numeric"]
    for column in categorical:  # categories are counted exactly: no difference
        assert report.column(column.column).score == column.score


def test_spark_gives_the_in_memory_report(spark, parquet, in_memory):
    # when both sides are Spark DataFrames read from the same files (fewer
    # values per column than a quantile sketch keeps)
    reference = spark.read.parquet(str(parquet["reference"]))
    current = spark.read.parquet(str(parquet["current"]))
    report = detect_drift(reference, current, CONFIG)
    # then the same edges, so the same decisions and statistics
    assert_same(report, in_memory, tolerance=ROUNDING)


@pytest.mark.parametrize(
    "smaller", [("SKETCH_SIZE", spark_engine), ("SAMPLE_ROWS", batches_engine)]
)
def test_spark_with_approximate_edges_gives_the_same_decisions(
    smaller, spark, parquet, in_memory, monkeypatch
):
    # given quantile sketches, or a sample of the reference, far smaller than
    # the reference (20,000 rows)
    name, module = smaller
    monkeypatch.setattr(module, name, 500 if name == "SKETCH_SIZE" else 2_000)
    reference = spark.read.parquet(str(parquet["reference"])).repartition(4)
    current = spark.read.parquet(str(parquet["current"]))
    report = detect_drift(reference, current, CONFIG)
    # then the decisions are the same and the statistics close
    assert_same(report, in_memory, tolerance=APPROXIMATE_EDGES)


def test_spark_summaries_are_made_per_partition(spark, parquet, monkeypatch):
    # given five rows of the current data spread over 8 partitions, some empty
    rows = pd.read_parquet(parquet["current"]).iloc[:5]
    current = spark.createDataFrame(rows).repartition(8)
    sizes = current.rdd.glom().map(len).collect()
    assert len(sizes) == 8 and 0 in sizes and sum(sizes) == 5
    collected = []
    summarize = spark_engine._summarize

    def spy(prepared, profile, frame, source):
        collected.append(prepared.rdd.getNumPartitions())
        return summarize(prepared, profile, frame, source)

    monkeypatch.setattr(spark_engine, "_summarize", spy)
    reference = pd.read_parquet(parquet["reference"])
    # when it is checked against an in-memory reference
    report = detect_drift(reference, current, CONFIG)
    # then its summary came from its 8 partitions, and the report is the one
    # of the same rows in memory
    assert collected == [8]
    assert_same(report, detect_drift(reference, rows, CONFIG), tolerance=ROUNDING)


def test_an_empty_spark_frame_has_nothing_to_compare(spark, parquet):
    current = spark.read.parquet(str(parquet["current"])).limit(0)
    with pytest.raises(DriftInputError, match="The current data has no rows"):
        detect_drift(pd.read_parquet(parquet["reference"]), current, CONFIG)


def test_a_spark_column_of_a_type_drift_cannot_compare(spark):
    frame = spark.createDataFrame(
        [(1.0, ["a", "b"]), (2.0, ["c"])], "x double, tags array<string>"
    )
    with pytest.raises(DriftInputError) as error:
        detect_drift(frame, frame, CONFIG)
    assert str(error.value) == (
        "Column 'tags' of the reference data has type array<string>, which drift "
        "cannot compare (it compares numbers, text, booleans and dates); list it "
        "under drift.ignore_columns, or select it out."
    )
    # and ignored, it is no obstacle
    report = detect_drift(frame, frame, DriftConfig(ignore_columns=["tags"]))
    assert report.drifted_columns == []


@pytest.mark.parametrize("engine", ["batches", "spark"])
def test_a_column_missing_in_one_file_of_a_folder(engine, parquet, tmp_path, request):
    # given a folder whose second file lacks the column 'plan'
    folder = tmp_path / "batch"
    folder.mkdir()
    current = pd.read_parquet(parquet["current"])
    current.iloc[:100].to_parquet(folder / "part-0.parquet")
    current.iloc[100:200].drop(columns="plan").to_parquet(folder / "part-1.parquet")
    data: object = folder
    if engine == "spark":
        data = request.getfixturevalue("spark").read.parquet(str(folder))
    # when it is checked, then the file and the column are named
    with pytest.raises(DriftInputError) as error:
        detect_drift(pd.read_parquet(parquet["reference"]), data, CONFIG)
    assert str(error.value) == (
        f"Column(s) ['plan'] are missing from {folder / 'part-1.parquet'}, one file "
        "of the current data; every file must have the same columns. Rewrite that "
        "file with them, or move it out of the folder."
    )


def test_a_path_that_does_not_exist(parquet, tmp_path):
    with pytest.raises(DriftInputError) as error:
        detect_drift(parquet["reference"], tmp_path / "nowhere", CONFIG)
    assert str(error.value) == (
        f"The current data '{tmp_path / 'nowhere'}' does not exist: give a Parquet "
        "file or a folder of Parquet files."
    )


def test_data_of_no_known_kind():
    with pytest.raises(DriftInputError) as error:
        detect_drift([1, 2, 3], pd.DataFrame({"x": [1.0]}))
    assert str(error.value) == (
        "The reference data is a list: drift compares pandas DataFrames, Spark "
        "DataFrames, and Parquet files or folders (a path or a pyarrow dataset)."
    )


def test_spark_timestamps_compare_like_pandas_datetimes(spark):
    # given a configured datetime column, shifted by a week
    start = pd.Timestamp("2026-01-01")
    rng = np.random.default_rng(3)
    offsets = pd.to_timedelta(rng.integers(0, 30 * 86_400, 2_000), unit="s")
    reference = pd.DataFrame({"seen": start + offsets})
    current = pd.DataFrame({"seen": start + pd.Timedelta(days=7) + offsets})
    config = DriftConfig(columns={"seen": {"kind": "numeric"}})
    expected = detect_drift(reference, current, config)
    # when both go through Spark (session time zone UTC, as pandas reads naive times)
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    report = detect_drift(
        spark.createDataFrame(reference), spark.createDataFrame(current), config
    )
    # then the same verdict and statistic
    assert expected.drifted_columns == ["seen"]
    assert_same(report, expected, tolerance=ROUNDING)


def test_the_drift_node_takes_spark_frames_and_parquet_batches(spark, parquet):
    # given the drift pipeline's node, and the same data in three forms
    from kedro_mlops.datasets import ParquetBatchesDataset
    from kedro_mlops.drift.pipeline import check_batch

    settings = CONFIG.model_dump()
    pandas_outputs = check_batch(
        pd.read_parquet(parquet["reference"]),
        pd.read_parquet(parquet["current"]),
        settings,
    )
    spark_outputs = check_batch(
        spark.read.parquet(str(parquet["reference"])),
        spark.read.parquet(str(parquet["current"])),
        settings,
    )
    batch_outputs = check_batch(
        pd.read_parquet(parquet["reference"]),
        ParquetBatchesDataset(filepath=str(parquet["current"])).load(),
        settings,
    )
    # then the retrain decisions are the same, and the metrics agree
    assert spark_outputs[3] == pandas_outputs[3] == batch_outputs[3]
    assert pandas_outputs[3]["retrain"] is True
    for outputs, tolerance in (
        (spark_outputs, ROUNDING),
        (batch_outputs, ROUNDING),
    ):
        assert outputs[2].keys() == pandas_outputs[2].keys()
        for name, metric in pandas_outputs[2].items():
            assert outputs[2][name]["value"] == pytest.approx(
                metric["value"], rel=tolerance, abs=tolerance
            ), name
