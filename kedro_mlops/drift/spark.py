"""Drift on Spark DataFrames: summaries computed on the executors, decided on the driver.

No row reaches the driver. Each partition is worked on where it lives, by
``mapInPandas`` over its Arrow batches. The reference's numeric edges come from
quantile sketches (:mod:`kedro_mlops.drift.sketch`) of a uniform sample of it
drawn on the executors, its categories from Spark's counts per label; then a
pass over the reference, and one over the current data, summarise
(:func:`~kedro_mlops.drift.summaries.summarize`). Sketches and summaries are
merged in a tree on the executors (``treeAggregate``), so the driver receives
one of each, whatever the number of rows or partitions.

Against the in-memory engine on the same data, only the numeric edges can
differ, and only beyond :data:`SKETCH_SIZE` values per column; the counts on
them are exact.
docs/drift.md gives the tolerance this leaves on the statistics; the tests
check that the decisions are the same.

Dates and timestamps are compared as seconds since the epoch (UTC), Spark's
own cast, so that the session's time zone plays no part.

pyspark is imported by the functions that need it only.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import batches
from .batches import check_files, refuse_unsupported
from .config import DriftConfig
from .errors import DriftInputError
from .profile import (
    FINE_BINS,
    ColumnPlan,
    ColumnProfile,
    DriftProfile,
    categorical_column,
    check_reference_rows,
    numeric_column,
    plan_columns,
)
from .sketch import QuantileSketch
from .summaries import DatasetSummary, sorted_numbers, summarize

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

#: Values kept per quantile sketch: up to this many values per column, the
#: edges are the in-memory engine's exactly.
SKETCH_SIZE = 10 * FINE_BINS
#: Rows of one partition summarised together (Spark hands them over in Arrow
#: batches of ``spark.sql.execution.arrow.maxRecordsPerBatch`` rows).
PARTITION_CHUNK_ROWS = 250_000


def is_spark_frame(data: Any) -> bool:
    """A pyspark DataFrame (checked without importing pyspark).

    Example:
        >>> is_spark_frame(pd.DataFrame())
        False
    """
    module = type(data).__module__
    return module.startswith("pyspark.") and hasattr(data, "mapInPandas")


def _natural_kind(data_type: Any) -> str | None:
    from pyspark.sql import types as t

    if isinstance(data_type, t.BooleanType):
        return "boolean"
    if isinstance(data_type, t.NumericType):
        return "numeric"
    if isinstance(data_type, t.StringType | t.VarcharType | t.CharType):
        return "categorical"
    if isinstance(data_type, t.DateType | t.TimestampType | t.TimestampNTZType):
        return "datetime"
    if isinstance(data_type, t.NullType):
        return None
    return "unsupported"


def _described(frame: DataFrame) -> list[tuple[str, str | None, str]]:
    return [
        (field.name, _natural_kind(field.dataType), field.dataType.simpleString())
        for field in frame.schema.fields
    ]


def _check_parquet_files(frame: DataFrame, names: list[str], source: str) -> None:
    """When the frame reads local Parquet files, each has every compared column
    (Spark would read a column missing from one file as nulls)."""
    import pyarrow.dataset as ds

    try:
        files = frame.inputFiles()
    except Exception:  # not a file scan
        return
    local = [
        re.sub(r"^file:(//)?", "", f) for f in files if f.startswith(("file:", "/"))
    ]
    if (
        local
        and len(local) == len(files)
        and all(f.endswith(".parquet") for f in local)
    ):
        dataset = ds.dataset(local, format="parquet")
        # a column no file has was computed (a join, say): nothing to check
        stored = {
            name
            for fragment in dataset.get_fragments()
            for name in fragment.physical_schema.names
        }
        check_files(dataset, [name for name in names if name in stored], source)


def _compared(frame: DataFrame, plans: dict[str, Any]) -> list[Column]:
    """The compared columns, dates and timestamps as seconds since the epoch."""
    from pyspark.sql import functions as F

    kinds = {name: kind for name, kind, _ in _described(frame)}
    columns = []
    for name in plans:
        column = F.col(name)
        if kinds[name] == "datetime":
            column = column.cast("timestamp").cast("double")
        columns.append(column.alias(name))
    return columns


def profile_and_summary(
    frame: DataFrame, config: DriftConfig
) -> tuple[DriftProfile, DatasetSummary]:
    """The drift profile of a Spark reference and its summary.

    The numeric edges come from quantile sketches of a uniform sample of at
    most ``batches.SAMPLE_ROWS`` rows, drawn and sketched on the executors (the
    whole reference when it is smaller); the categories from Spark's own
    counts per label; then one pass summarises.

    Raises:
        DriftInputError: no rows, a configured column missing, a column type
            drift cannot compare, or a Parquet file without a column.
    """
    source = "reference data"
    described = _described(frame)
    plans, skipped = plan_columns(
        [
            (name, None if kind == "unsupported" else kind, dtype)
            for name, kind, dtype in described
        ],
        config,
    )
    refuse_unsupported(described, set(plans), source)
    _check_parquet_files(frame, list(plans), source)
    prepared = frame.select(*_compared(frame, plans))
    rows = prepared.count()
    check_reference_rows(rows)
    numeric = [name for name, plan in plans.items() if plan.kind == "numeric"]
    sketches: dict[str, QuantileSketch] = {}
    if numeric:
        drawn = prepared.select(*numeric)
        fraction = batches.SAMPLE_ROWS / rows
        if fraction < 1:
            drawn = drawn.sample(fraction=fraction, seed=batches.SAMPLE_SEED)
        merged = _aggregate(drawn, _partition_sketcher(numeric, SKETCH_SIZE), _merge)
        empty = QuantileSketch.of_sorted(np.zeros(0), SKETCH_SIZE)
        sketches = merged.columns if merged else dict.fromkeys(numeric, empty)
    columns: dict[str, ColumnProfile] = {}
    for name, plan in plans.items():
        if plan.kind == "numeric":
            columns[name] = numeric_column(
                _as_seconds(plan), *sketches[name].quantiles()
            )
        else:
            columns[name] = categorical_column(
                plan, _category_counts(prepared, name), config
            )
    profile = DriftProfile(columns=columns, skipped=skipped, config=config)
    return profile, _summarize(prepared, profile, frame, source)


def _as_seconds(plan: ColumnPlan) -> ColumnPlan:
    """Dates and timestamps reach the summaries as seconds already."""
    if not plan.is_datetime:
        return plan
    return ColumnPlan(plan.name, plan.kind, plan.source, plan.dtype, False)


def _category_counts(frame: DataFrame, name: str) -> pd.Series:
    """Positive counts per label, the most frequent first, ties by label
    (counted by Spark; only the labels and their counts reach the driver)."""
    from pyspark.sql import functions as F

    rows = (
        frame.where(F.col(name).isNotNull())
        .groupBy(name)
        .count()
        .orderBy(F.col("count").desc(), F.col(name).cast("string"))
        .collect()
    )
    return pd.Series(
        [row["count"] for row in rows],
        index=pd.Index([row[name] for row in rows], dtype=object),
        dtype="int64",
    )


@dataclass(frozen=True)
class _Sketches:
    """A quantile sketch per numeric column, and their size (set on the driver:
    the executors' module globals are their own)."""

    columns: dict[str, QuantileSketch]
    size: int

    def merge(self, other: _Sketches) -> _Sketches:
        return _Sketches(
            {
                name: sketch.merge(other.columns[name], self.size)
                for name, sketch in self.columns.items()
            },
            self.size,
        )


def _partition_sketcher(
    numeric: list[str], size: int
) -> Callable[[pd.DataFrame], _Sketches]:
    """What each executor makes of a chunk of its partition: a quantile sketch
    per numeric column."""

    def sketch_chunk(chunk: pd.DataFrame) -> _Sketches:
        return _Sketches(
            {
                name: QuantileSketch.of_sorted(
                    sorted_numbers(chunk[name], False).finite, size
                )
                for name in numeric
            },
            size,
        )

    return sketch_chunk


def summary_of(frame: DataFrame, profile: DriftProfile, source: str) -> DatasetSummary:
    """The merged summary of a Spark DataFrame, one summary per partition.

    Raises:
        DriftInputError: a profiled column is missing, has a type drift cannot
            compare, or is missing from one of the Parquet files read.
    """
    described = _described(frame)
    names = [name for name, _, _ in described]
    missing = [name for name in profile.columns if name not in names]
    if missing:
        raise DriftInputError(
            f"Column(s) {missing} of the reference are missing from the {source}. "
            "Add them to the data, or list them under drift.ignore_columns to "
            "compare without them."
        )
    refuse_unsupported(described, set(profile.columns), source)
    _check_parquet_files(frame, list(profile.columns), source)
    prepared = frame.select(*_compared(frame, profile.columns))
    return _summarize(prepared, profile, frame, source)


def _summarize(
    prepared: DataFrame, profile: DriftProfile, frame: DataFrame, source: str
) -> DatasetSummary:
    def summarize_chunk(chunk: pd.DataFrame) -> DatasetSummary:
        return summarize(chunk, profile, source)

    merged = _aggregate(prepared, summarize_chunk, _merge)
    known = set(profile.columns) | set(profile.skipped)
    extra = tuple(name for name in frame.columns if name not in known)
    if merged is None:  # no rows in any partition
        return DatasetSummary(profile.id, 0, {}, extra)
    return DatasetSummary(merged.profile_id, merged.n_rows, merged.columns, extra)


def _merge(a: Any, b: Any) -> Any:
    """Merge two parts (sketches or summaries), either of which may be absent
    (an empty partition makes none)."""
    if a is None or b is None:
        return a if b is None else b
    return a.merge(b)


def _aggregate(
    prepared: DataFrame,
    per_chunk: Callable[[pd.DataFrame], Any],
    merge: Callable[[Any, Any], Any],
) -> Any:
    """``per_chunk`` of every chunk of every partition, merged: within each
    partition on its executor, then across partitions in a tree on the
    executors (``treeAggregate``), so the driver receives one result."""
    serialised = prepared.mapInPandas(_chunk_worker(per_chunk, merge), "part binary")

    def combine(a: Any, b: Any) -> Any:
        return merge(a, b)

    def add(accumulated: Any, row: Any) -> Any:
        return merge(accumulated, pickle.loads(row[0]))

    return serialised.rdd.treeAggregate(None, add, combine, depth=2)


def _chunk_worker(
    per_chunk: Callable[[pd.DataFrame], Any], merge: Callable[[Any, Any], Any]
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """What each executor runs on its partition: Spark's Arrow batches gathered
    into chunks of :data:`PARTITION_CHUNK_ROWS` rows, each made into a part,
    the parts merged; one serialised part out, or nothing for an empty
    partition."""

    def run_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        merged = None
        pending: list[pd.DataFrame] = []
        size = 0
        for batch in batches:
            if len(batch):
                pending.append(batch)
                size += len(batch)
            if size >= PARTITION_CHUNK_ROWS:
                chunk = pd.concat(pending, ignore_index=True)
                merged = merge(merged, per_chunk(chunk))
                pending, size = [], 0
        if pending:
            merged = merge(merged, per_chunk(pd.concat(pending, ignore_index=True)))
        if merged is not None:
            yield pd.DataFrame({"part": [pickle.dumps(merged, protocol=5)]})

    return run_partition
