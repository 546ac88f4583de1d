"""Drift on Parquet larger than memory: the engine fed with pyarrow record batches.

A Parquet file or folder (a path, or a ``pyarrow.dataset.Dataset``) is read a
few columns and :data:`BATCH_ROWS` rows at a time; each batch is summarised
(:func:`~kedro_mlops.drift.summaries.summarize`) and the summaries merged, so
memory holds one batch and the summaries, whatever the number of rows.

The reference takes two passes. The first counts every category exactly and
draws a uniform sample of at most :data:`SAMPLE_ROWS` rows, whose quantiles
become the numeric edges; the second summarises the reference on those edges.
Edges only lay out the cells: the counts on them are exact, and so are the
statistics computed from them, within the bounds docs/drift.md gives. A
reference of at most :data:`SAMPLE_ROWS` rows is sampled whole, and gives the
edges of the in-memory engine exactly.

Example:
    >>> import tempfile, pandas as pd
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"x": [1.0, 2.0, 3.0]}).to_parquet(f"{folder}/part.parquet")
    >>> profile, summary = profile_and_summary(folder, DriftConfig())
    >>> summary.n_rows, summary.columns["x"].numeric.mean
    (3, 2.0)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .config import DriftConfig
from .errors import DriftInputError
from .profile import (
    ColumnProfile,
    DriftProfile,
    categorical_column,
    check_reference_rows,
    numeric_column,
    plan_columns,
    rank_quantiles,
)
from .summaries import DatasetSummary, sorted_numbers, summarize

if TYPE_CHECKING:
    import pyarrow
    import pyarrow.dataset

#: Rows read and summarised at a time.
BATCH_ROWS = 250_000
#: Largest uniform sample of the reference whose quantiles give the edges.
SAMPLE_ROWS = 200_000
#: The sample is drawn with this seed: the same reference gives the same edges.
SAMPLE_SEED = 0


def is_parquet_source(data: Any) -> bool:
    """A path (str or Path) to a Parquet file or folder, or a pyarrow dataset.

    Example:
        >>> is_parquet_source("data/batch.parquet"), is_parquet_source([1])
        (True, False)
    """
    if isinstance(data, str | Path):
        return True
    return type(data).__module__.startswith("pyarrow")


def open_parquet(data: Any, source: str) -> pyarrow.dataset.Dataset:
    """The Parquet file or folder as a pyarrow dataset (nothing read but footers).

    Raises:
        DriftInputError: the path does not exist or holds no Parquet data.
    """
    import pyarrow.dataset as ds

    if not isinstance(data, str | Path):
        return data
    path = Path(data)
    if not path.exists():
        raise DriftInputError(
            f"The {source} '{data}' does not exist: give a Parquet file or a "
            "folder of Parquet files."
        )
    try:
        return ds.dataset(path, format="parquet")
    except Exception as exc:  # pyarrow's ArrowInvalid names the file
        raise DriftInputError(
            f"The {source} '{data}' cannot be read as Parquet: {exc}"
        ) from exc


def check_files(
    dataset: pyarrow.dataset.Dataset, names: list[str], source: str
) -> None:
    """Every file of the dataset has every column in ``names`` (read from footers).

    pyarrow would otherwise read a column missing from one file as nulls, and
    the drift check would count them as missing values.

    Raises:
        DriftInputError: naming the first file and its missing columns.
    """
    for fragment in dataset.get_fragments():
        present = set(fragment.physical_schema.names)
        missing = [name for name in names if name not in present]
        if missing:
            raise DriftInputError(
                f"Column(s) {missing} are missing from {fragment.path}, one file "
                f"of the {source}; every file must have the same columns. Rewrite "
                "that file with them, or move it out of the folder."
            )


def _natural_kind(arrow_type: pyarrow.DataType) -> str | None:
    """The kind of values an Arrow type holds ("unsupported": none drift compares)."""
    import pyarrow.types as pt

    checks = (
        (pt.is_dictionary, "categorical"),
        (pt.is_boolean, "boolean"),
        (pt.is_integer, "numeric"),
        (pt.is_floating, "numeric"),
        (pt.is_decimal, "numeric"),
        (pt.is_string, "categorical"),
        (pt.is_large_string, "categorical"),
        (pt.is_timestamp, "datetime"),
        (pt.is_date, "datetime"),
        (pt.is_duration, "datetime"),
        (pt.is_null, None),
    )
    for check, kind in checks:
        if check(arrow_type):
            return kind
    return "unsupported"


def natural_kinds(
    schema: pyarrow.Schema, source: str
) -> list[tuple[str, str | None, str]]:
    """``(name, natural kind, type)`` of every column of an Arrow schema."""
    return [
        (field.name, _natural_kind(field.type), str(field.type)) for field in schema
    ]


def refuse_unsupported(
    columns: list[tuple[str, str | None, str]], compared: set[str], source: str
) -> None:
    """Raise for a compared column whose type holds no comparable values."""
    for name, natural, dtype in columns:
        if natural == "unsupported" and name in compared:
            raise DriftInputError(
                f"Column '{name}' of the {source} has type {dtype}, which drift "
                "cannot compare (it compares numbers, text, booleans and dates); "
                "list it under drift.ignore_columns, or select it out."
            )


def _batches(
    dataset: pyarrow.dataset.Dataset, columns: list[str]
) -> Iterator[pd.DataFrame]:
    """The columns, file by file, in batches of at most :data:`BATCH_ROWS` rows.

    Each file is read with ``ParquetFile.iter_batches``, which decodes a row
    group's pages as batches are asked for: memory holds about one row group
    of the wanted columns, compressed, and one batch (a dataset scanner reads
    ahead whole row groups, and held twice as much on 1,000,000-row groups).
    """
    import pyarrow.parquet as pq

    for fragment in dataset.get_fragments():
        with dataset.filesystem.open_input_file(fragment.path) as source:
            reader = pq.ParquetFile(source)
            for batch in reader.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                if batch.num_rows:
                    yield batch.to_pandas()


def profile_and_summary(
    data: Any, config: DriftConfig
) -> tuple[DriftProfile, DatasetSummary]:
    """The drift profile of a Parquet reference and its summary, in two passes.

    Raises:
        DriftInputError: no rows, a configured column missing, a column type
            drift cannot compare, or a file of the folder without a column.
    """
    source = "reference data"
    dataset = open_parquet(data, source)
    described = natural_kinds(dataset.schema, source)
    plans, skipped = plan_columns(
        [
            (name, None if kind == "unsupported" else kind, dtype)
            for name, kind, dtype in described
        ],
        config,
    )
    refuse_unsupported(described, set(plans), source)
    names = list(plans)
    check_files(dataset, names, source)
    rows = dataset.count_rows()
    check_reference_rows(rows)
    rate = min(1.0, SAMPLE_ROWS / rows)
    rng = np.random.default_rng(SAMPLE_SEED)
    samples: dict[str, list[np.ndarray]] = {
        name: [] for name, plan in plans.items() if plan.kind == "numeric"
    }
    counts: dict[str, pd.Series] = {
        name: pd.Series(dtype="int64")
        for name, plan in plans.items()
        if plan.kind != "numeric"
    }
    for frame in _batches(dataset, names):
        keep = None if rate == 1.0 else rng.random(len(frame)) < rate
        for name, drawn in samples.items():
            series = frame[name] if keep is None else frame[name][keep]
            drawn.append(sorted_numbers(series, plans[name].is_datetime).finite)
        for name, tally in counts.items():
            counts[name] = tally.add(
                frame[name].value_counts(dropna=True, sort=False), fill_value=0
            )
    columns: dict[str, ColumnProfile] = {}
    for name, plan in plans.items():
        if plan.kind == "numeric":
            finite = np.sort(np.concatenate(samples.pop(name) or [np.zeros(0)]))
            columns[name] = numeric_column(plan, *rank_quantiles(finite))
        else:
            tally = counts.pop(name).astype("int64")
            tally = tally[tally > 0]
            # the most frequent first; ties by label, as every engine can order them
            order = np.lexsort((tally.index.astype(str), -tally.to_numpy()))
            columns[name] = categorical_column(plan, tally.iloc[order], config)
    profile = DriftProfile(columns=columns, skipped=skipped, config=config)
    return profile, summary_of(dataset, profile, source)


def summary_of(data: Any, profile: DriftProfile, source: str) -> DatasetSummary:
    """The merged summary of a Parquet file or folder, read batch by batch.

    Raises:
        DriftInputError: a profiled column is missing from the data or from
            one of its files.
    """
    dataset = open_parquet(data, source)
    schema_names = set(dataset.schema.names)
    names = list(profile.columns)
    missing = [name for name in names if name not in schema_names]
    if missing:
        raise DriftInputError(
            f"Column(s) {missing} of the reference are missing from the {source}. "
            "Add them to the data, or list them under drift.ignore_columns to "
            "compare without them."
        )
    check_files(dataset, names, source)
    known = set(profile.columns) | set(profile.skipped)
    extra = tuple(name for name in dataset.schema.names if name not in known)
    merged = None
    for frame in _batches(dataset, names):  # one batch and its summary at a time
        part = summarize(frame, profile, source)
        merged = part if merged is None else merged.merge(part)
    if merged is None:  # no rows at all
        return DatasetSummary(profile.id, 0, {}, extra)
    return DatasetSummary(merged.profile_id, merged.n_rows, merged.columns, extra)
