"""Drift on Spark DataFrames: summaries computed on the executors, decided on the driver.

No row reaches the driver. The reference's profile comes from Spark
aggregations (``percentile_approx`` at the profile's quantile levels for the
numeric columns, a count per category for the others); then each partition of
the reference and of the current data is summarised where it lives
(``mapInPandas`` running :func:`~kedro_mlops.drift.summaries.summarize` on
its Arrow batches), and only the serialised summaries, a few kilobytes per
column and partition, are collected and merged.

Against the in-memory engine on the same data, only the numeric edges can
differ (approximate quantiles, rank error at most ``rows / QUANTILE_ACCURACY``);
the counts on them are exact. docs/drift.md gives the tolerance this leaves on
the statistics; the tests check that the decisions are the same.

Dates and timestamps are compared as seconds since the epoch (UTC), Spark's
own cast, so that the session's time zone plays no part.

pyspark is imported by the functions that need it only.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .batches import check_files, refuse_unsupported
from .config import DriftConfig
from .errors import DriftInputError
from .profile import (
    FINE_BINS,
    PSI_BINS,
    ColumnPlan,
    ColumnProfile,
    DriftProfile,
    categorical_column,
    check_reference_rows,
    numeric_column,
    plan_columns,
)
from .summaries import DatasetSummary, summarize

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

#: ``percentile_approx``'s accuracy for the numeric edges: the rank error of an
#: edge is at most ``rows / QUANTILE_ACCURACY`` (a tenth of a fine bin).
QUANTILE_ACCURACY = 10 * FINE_BINS
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
    local = [f.removeprefix("file://") for f in files if f.startswith(("file:", "/"))]
    local = [f.removeprefix("file:") for f in local]
    if (
        local
        and len(local) == len(files)
        and all(f.endswith(".parquet") for f in local)
    ):
        check_files(ds.dataset(local, format="parquet"), names, source)


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
    """The drift profile of a Spark reference and its summary, from aggregations
    and per-partition summaries.

    Raises:
        DriftInputError: no rows, a configured column missing, a column type
            drift cannot compare, or a Parquet file without a column.
    """
    from pyspark.sql import functions as F

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
    numeric = [name for name, plan in plans.items() if plan.kind == "numeric"]
    levels = [j / FINE_BINS for j in range(FINE_BINS + 1)]
    aggregates = [F.count(F.lit(1)).alias("__rows__")]
    for position, name in enumerate(numeric):
        value = F.col(name).cast("double")
        finite = F.when(
            ~F.isnan(value) & ~value.isin(float("inf"), float("-inf")), value
        )
        aggregates.append(
            F.percentile_approx(finite, levels, QUANTILE_ACCURACY).alias(f"q{position}")
        )
    totals = prepared.agg(*aggregates).first()
    assert totals is not None
    check_reference_rows(int(totals["__rows__"]))
    columns: dict[str, ColumnProfile] = {}
    step = FINE_BINS // PSI_BINS
    for name, plan in plans.items():
        if plan.kind == "numeric":
            quantiles = totals[f"q{numeric.index(name)}"]
            fine = np.asarray(quantiles if quantiles is not None else [], "float64")
            psi = fine[step:FINE_BINS:step] if fine.size else fine
            columns[name] = numeric_column(_as_seconds(plan), fine, psi)
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
    """Positive counts per label, the most frequent first, ties by label."""
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
    rows = prepared.mapInPandas(
        _partition_summarizer(profile, source), "summary binary"
    ).collect()
    known = set(profile.columns) | set(profile.skipped)
    extra = tuple(name for name in frame.columns if name not in known)
    merged = None
    for row in rows:
        part = pickle.loads(row["summary"])
        merged = part if merged is None else merged.merge(part)
    if merged is None:  # no rows in any partition
        return DatasetSummary(profile.id, 0, {}, extra)
    return DatasetSummary(merged.profile_id, merged.n_rows, merged.columns, extra)


def _partition_summarizer(
    profile: DriftProfile, source: str
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """What each executor runs on its partition: one serialised summary out,
    or nothing for an empty partition."""

    def summarize_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        merged = None
        pending: list[pd.DataFrame] = []
        size = 0

        def flush() -> None:
            nonlocal merged, pending, size
            chunk = pending[0] if len(pending) == 1 else pd.concat(pending)
            part = summarize(chunk, profile, source)
            merged = part if merged is None else merged.merge(part)
            pending, size = [], 0

        for batch in batches:
            if len(batch):
                pending.append(batch)
                size += len(batch)
                if size >= PARTITION_CHUNK_ROWS:
                    flush()
        if pending:
            flush()
        if merged is not None:
            yield pd.DataFrame({"summary": [pickle.dumps(merged, protocol=5)]})

    return summarize_partition
