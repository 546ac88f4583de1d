"""Mergeable per-chunk summaries: the drift engine computes every statistic from these.

A :class:`DatasetSummary` of a frame is a fixed set of counts on the edges and
categories of a :class:`~kedro_mlops.drift.profile.DriftProfile`. Summaries of
chunks merge by adding counts, so a frame processed in chunks gives exactly the
counts of the frame processed whole, and therefore the same statistics and
decisions (:func:`kedro_mlops.drift.detect_drift` itself is "one chunk").

Numeric columns (details and the error bounds in docs/drift.md):

* With the profile's edges ``e_0 < ... < e_E``, values fall into ``2E + 1``
  cells: below ``e_0``, exactly ``e_0``, strictly between ``e_0`` and ``e_1``,
  exactly ``e_1``, ..., above ``e_E``. Each cell keeps its count and the sum of
  its values. Because the points themselves are cells, the empirical CDFs of
  both samples are known exactly at every edge, from either side.
* The KS statistic from the cells is exact whenever the reference has at most
  ``FINE_BINS + 1`` distinct values; otherwise it underestimates by at most
  the largest ``min(reference share, current share)`` strictly inside one cell
  (below ``1 / FINE_BINS``), reported as ``ks_error_bound``.
* Up to ``EXACT_VALUES_LIMIT`` distinct values, a summary also keeps the exact
  value counts, and KS, Wasserstein and their p-values are then exact (and for
  samples up to 10,000 values, scipy's exact KS p-value).
* PSI and the numeric Jensen-Shannon distance use the profile's ``PSI_BINS``
  reference quantile bins, unions of cells, so they are exact for their bins.
* Count, mean and sum of squared deviations merge with Chan's formula.

Categorical columns keep one count per reference category plus one for values
never seen in the reference ("unseen", counted and reported with examples).
When the reference has more than ``max_categories`` distinct values, the counts
are per *group* instead: every label goes to one of ``max_categories`` groups by
a stable hash of its text. The grouping does not depend on the counts, so it
does not bias the tests (keeping the most frequent reference categories would:
near the cut they are frequent partly by chance, and the current data regresses
to the mean). The profile's ``DISPLAY_CATEGORIES`` most frequent reference
categories are also counted exactly, for the report.

Example:
    >>> import pandas as pd
    >>> from kedro_mlops.drift.profile import build_profile
    >>> reference = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": list("aabb")})
    >>> profile = build_profile(reference)
    >>> first = summarize(reference.iloc[:2], profile)
    >>> whole = first.merge(summarize(reference.iloc[2:], profile))
    >>> whole.n_rows, whole.columns["c"].categorical.counts.tolist()
    (4, [2, 2, 0])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import DriftInputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .profile import ColumnProfile, DriftProfile

#: Exact value counts are kept while a summary has at most this many distinct
#: values (so every sample of up to 10,000 values is summarised exactly).
EXACT_VALUES_LIMIT = 10_000
#: Unseen categories kept as examples in a summary (their total is always exact).
UNSEEN_EXAMPLES = 20


@dataclass(frozen=True)
class NumericSummary:
    """Counts of one numeric column on its profile's cells, plus moments.

    Example:
        >>> from kedro_mlops.drift.profile import build_profile
        >>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0]}))
        >>> summary = summarize(pd.DataFrame({"x": [1.5, 9.0, None]}), profile)
        >>> numeric = summary.columns["x"].numeric
        >>> numeric.n, numeric.n_missing, numeric.cell_counts.tolist()
        (2, 1, [0, 0, 1, 0, 1])
    """

    n: int
    n_missing: int
    n_infinite: int
    mean: float
    m2: float
    cell_counts: np.ndarray
    cell_sums: np.ndarray
    exact_values: np.ndarray | None
    exact_counts: np.ndarray | None

    @property
    def std(self) -> float:
        """Population standard deviation (``ddof=0``) of the finite values."""
        return float(np.sqrt(self.m2 / self.n)) if self.n else float("nan")

    def merge(self, other: NumericSummary) -> NumericSummary:
        """Add another chunk's summary of the same column.

        Example:
            >>> from kedro_mlops.drift.profile import build_profile
            >>> profile = build_profile(pd.DataFrame({"x": [1.0, 3.0]}))
            >>> a = summarize(pd.DataFrame({"x": [1.0]}), profile).columns["x"]
            >>> b = summarize(pd.DataFrame({"x": [3.0]}), profile).columns["x"]
            >>> a.numeric.merge(b.numeric).mean
            2.0
        """
        n = self.n + other.n
        if n == 0:
            mean, m2 = 0.0, 0.0
        else:
            delta = other.mean - self.mean
            mean = self.mean + delta * other.n / n
            m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        values, counts = _merge_exact(
            self.exact_values, self.exact_counts, other.exact_values, other.exact_counts
        )
        return NumericSummary(
            n=n,
            n_missing=self.n_missing + other.n_missing,
            n_infinite=self.n_infinite + other.n_infinite,
            mean=mean,
            m2=m2,
            cell_counts=self.cell_counts + other.cell_counts,
            cell_sums=self.cell_sums + other.cell_sums,
            exact_values=values,
            exact_counts=counts,
        )


def _merge_exact(
    values_a: np.ndarray | None,
    counts_a: np.ndarray | None,
    values_b: np.ndarray | None,
    counts_b: np.ndarray | None,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if values_a is None or values_b is None or counts_a is None or counts_b is None:
        return None, None
    values, inverse = np.unique(
        np.concatenate([values_a, values_b]), return_inverse=True
    )
    if values.size > EXACT_VALUES_LIMIT:
        return None, None
    counts = np.bincount(
        inverse, weights=np.concatenate([counts_a, counts_b]), minlength=values.size
    )
    return values, counts.astype("int64")


@dataclass(frozen=True)
class CategoricalSummary:
    """Counts per reference category then "unseen" (or per hash group), and extras.

    ``display_counts`` (hashed columns only) counts the most frequent reference
    categories exactly, for the report; ``unseen`` is always the exact number of
    values whose category is not in the reference.

    Example:
        >>> from kedro_mlops.drift.profile import build_profile
        >>> profile = build_profile(pd.DataFrame({"c": ["a", "a", "b"]}))
        >>> summary = summarize(pd.DataFrame({"c": ["a", "z", None]}), profile)
        >>> categorical = summary.columns["c"].categorical
        >>> categorical.counts.tolist(), categorical.unseen, categorical.unseen_examples
        ([1, 0, 1], 1, {'z': 1})
    """

    n: int
    n_missing: int
    counts: np.ndarray
    unseen: int
    unseen_examples: dict[str, int]
    display_counts: np.ndarray | None = None

    def merge(self, other: CategoricalSummary) -> CategoricalSummary:
        """Add another chunk's summary of the same column.

        Example:
            >>> from kedro_mlops.drift.profile import build_profile
            >>> profile = build_profile(pd.DataFrame({"c": ["a", "b"]}))
            >>> a = summarize(pd.DataFrame({"c": ["a"]}), profile).columns["c"]
            >>> b = summarize(pd.DataFrame({"c": ["b"]}), profile).columns["c"]
            >>> a.categorical.merge(b.categorical).counts.tolist()
            [1, 1, 0]
        """
        examples = dict(self.unseen_examples)
        for label, count in other.unseen_examples.items():
            examples[label] = examples.get(label, 0) + count
        display = None
        if self.display_counts is not None and other.display_counts is not None:
            display = self.display_counts + other.display_counts
        return CategoricalSummary(
            n=self.n + other.n,
            n_missing=self.n_missing + other.n_missing,
            counts=self.counts + other.counts,
            unseen=self.unseen + other.unseen,
            unseen_examples=_top_examples(examples),
            display_counts=display,
        )


def _top_examples(examples: Mapping[str, int]) -> dict[str, int]:
    ranked = sorted(examples.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:UNSEEN_EXAMPLES])


@dataclass(frozen=True)
class ColumnSummary:
    """The summary of one column of one chunk.

    ``changed_dtype`` holds the chunk's dtype when its values cannot be compared
    with the reference's (say text where the reference has numbers); such a
    column carries no counts.

    Example:
        >>> from kedro_mlops.drift.profile import build_profile
        >>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0]}))
        >>> summarize(pd.DataFrame({"x": ["a", "b"]}), profile).columns["x"].changed_dtype
        'str'
    """

    name: str
    n_rows: int
    numeric: NumericSummary | None = None
    categorical: CategoricalSummary | None = None
    changed_dtype: str | None = None

    def merge(self, other: ColumnSummary) -> ColumnSummary:
        """Add another chunk's summary of the same column.

        Example:
            >>> from kedro_mlops.drift.profile import build_profile
            >>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0]}))
            >>> a = summarize(pd.DataFrame({"x": [1.0]}), profile).columns["x"]
            >>> a.merge(a).n_rows
            2
        """
        changed = self.changed_dtype or other.changed_dtype
        if changed:
            return ColumnSummary(
                self.name, self.n_rows + other.n_rows, changed_dtype=changed
            )
        numeric = categorical = None
        if self.numeric is not None and other.numeric is not None:
            numeric = self.numeric.merge(other.numeric)
        if self.categorical is not None and other.categorical is not None:
            categorical = self.categorical.merge(other.categorical)
        return ColumnSummary(
            self.name, self.n_rows + other.n_rows, numeric, categorical
        )


@dataclass(frozen=True)
class DatasetSummary:
    """Summaries of every profiled column of one chunk (or of merged chunks).

    Example:
        >>> from kedro_mlops.drift.profile import build_profile
        >>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0]}))
        >>> chunks = [pd.DataFrame({"x": [v]}) for v in (1.0, 2.0, 5.0)]
        >>> merge_summaries(summarize(chunk, profile) for chunk in chunks).n_rows
        3
    """

    profile_id: str
    n_rows: int
    columns: dict[str, ColumnSummary]
    extra_columns: tuple[str, ...] = ()

    def merge(self, other: DatasetSummary) -> DatasetSummary:
        """Add the summary of another chunk made with the same profile.

        Raises:
            ValueError: the two summaries were made with different profiles.

        Example:
            >>> from kedro_mlops.drift.profile import build_profile
            >>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0]}))
            >>> one = summarize(pd.DataFrame({"x": [1.0]}), profile)
            >>> one.merge(one).columns["x"].numeric.n
            2
        """
        if other.profile_id != self.profile_id:
            raise ValueError(
                "These summaries were made with different drift profiles; summarise "
                "every chunk with the same profile (build_profile once, then summarize)."
            )
        return DatasetSummary(
            profile_id=self.profile_id,
            n_rows=self.n_rows + other.n_rows,
            columns={
                name: column.merge(other.columns[name])
                for name, column in self.columns.items()
            },
            extra_columns=tuple(
                dict.fromkeys(self.extra_columns + other.extra_columns)
            ),
        )


def merge_summaries(summaries: Iterable[DatasetSummary]) -> DatasetSummary:
    """Merge the summaries of several chunks (in any order) into one.

    Raises:
        ValueError: no summary was given, or they come from different profiles.

    Example:
        >>> from kedro_mlops.drift.profile import build_profile
        >>> profile = build_profile(pd.DataFrame({"c": ["a", "b"]}))
        >>> parts = [summarize(pd.DataFrame({"c": [v]}), profile) for v in "aab"]
        >>> merge_summaries(parts).columns["c"].categorical.counts.tolist()
        [2, 1, 0]
    """
    merged: DatasetSummary | None = None
    for summary in summaries:
        merged = summary if merged is None else merged.merge(summary)
    if merged is None:
        raise ValueError("merge_summaries needs at least one summary")
    return merged


def summarize(
    frame: pd.DataFrame, profile: DriftProfile, source: str = "current data"
) -> DatasetSummary:
    """Summarise one chunk of data on the profile's edges and categories.

    Args:
        frame: a chunk (or all) of the data; it must have every profiled column.
        profile: the layout from
            :func:`~kedro_mlops.drift.profile.build_profile`.
        source: how to call this data in error messages.

    Raises:
        DriftInputError: a profiled column is missing from ``frame``.

    Example:
        >>> from kedro_mlops.drift.profile import build_profile
        >>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0]}))
        >>> summarize(pd.DataFrame({"x": [1.0, 2.0, 2.0]}), profile).n_rows
        3
    """
    missing = [name for name in profile.columns if name not in frame.columns]
    if missing:
        raise DriftInputError(
            f"Column(s) {missing} of the reference are missing from the {source}. "
            "Add them to the data, or list them under drift.ignore_columns to "
            "compare without them."
        )
    columns: dict[str, ColumnSummary] = {}
    for name, column in profile.columns.items():
        columns[name] = _summarize_column(column, frame[name])
    known = set(profile.columns) | set(profile.skipped)
    extra = tuple(str(c) for c in frame.columns if str(c) not in known)
    return DatasetSummary(
        profile_id=profile.id, n_rows=len(frame), columns=columns, extra_columns=extra
    )


def _summarize_column(column: ColumnProfile, series: pd.Series) -> ColumnSummary:
    if not column.accepts(series):
        return ColumnSummary(column.name, len(series), changed_dtype=str(series.dtype))
    if column.kind == "numeric":
        ordered = sorted_numbers(series, column.is_datetime)
        return ColumnSummary(
            column.name, len(series), numeric=numeric_summary(column, ordered)
        )
    counts = series.value_counts(dropna=True, sort=False)
    return ColumnSummary(
        column.name,
        len(series),
        categorical=categorical_summary(column, series, counts[counts > 0]),
    )


@dataclass(frozen=True)
class SortedNumbers:
    """A column's finite values, sorted floats, with its missing and infinite counts.

    Example:
        >>> SortedNumbers(np.array([1.0, 2.0]), n_missing=0, n_infinite=1).n_infinite
        1
    """

    finite: np.ndarray
    n_missing: int
    n_infinite: int


def sorted_numbers(series: pd.Series, is_datetime: bool) -> SortedNumbers:
    """The finite values sorted (one sort), with the missing and infinite counts.

    Datetimes and timedeltas become seconds (datetimes since the epoch, in UTC);
    numbers in a datetime column are taken as such seconds already (Spark
    hands timestamps over that way); text in an object column that does not
    read as a number counts as missing.

    Args:
        series: one column of a chunk.
        is_datetime: the profile compares the column as datetimes.

    Example:
        >>> numbers = sorted_numbers(pd.Series([2.0, None, 1.0, float("inf")]), False)
        >>> numbers.finite.tolist(), numbers.n_missing, numbers.n_infinite
        ([1.0, 2.0], 1, 1)
    """
    numbers = pd.api.types.is_numeric_dtype(series.dtype)
    if (is_datetime and not numbers) or pd.api.types.is_datetime64_any_dtype(
        series.dtype
    ):
        values = series
        if pd.api.types.is_object_dtype(series.dtype):
            values = pd.to_datetime(series, utc=True)
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        missing = values.isna().to_numpy()
        raw = values.to_numpy(dtype="datetime64[ns]").view("int64").astype("float64")
        raw[missing] = np.nan
        raw /= 1e9  # seconds since the epoch
    elif pd.api.types.is_timedelta64_dtype(series.dtype):
        missing = series.isna().to_numpy()
        raw = series.to_numpy(dtype="timedelta64[ns]").view("int64").astype("float64")
        raw[missing] = np.nan
        raw /= 1e9
    elif pd.api.types.is_object_dtype(series.dtype):
        raw = pd.to_numeric(series, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
    else:
        raw = series.to_numpy(dtype="float64", na_value=np.nan)
    if np.shares_memory(raw, series.to_numpy()) or not raw.flags.writeable:
        raw = raw.copy()
    raw.sort()  # the one sort; NaN sort last, -inf first, +inf just before NaN
    ordered = raw
    first_nan = int(np.searchsorted(ordered, np.nan, side="left"))
    low = int(np.searchsorted(ordered[:first_nan], -np.inf, side="right"))
    high = int(np.searchsorted(ordered[:first_nan], np.inf, side="left"))
    return SortedNumbers(
        finite=ordered[low:high],
        n_missing=ordered.size - first_nan,
        n_infinite=low + (first_nan - high),
    )


def numeric_summary(column: ColumnProfile, ordered: SortedNumbers) -> NumericSummary:
    """Count the sorted values of one chunk on the cells of a numeric column.

    Args:
        column: the column's profile (its edges).
        ordered: the chunk's values, from :func:`sorted_numbers`.

    Example:
        >>> from kedro_mlops.drift.profile import build_profile
        >>> column = build_profile(pd.DataFrame({"x": [1.0, 2.0]})).columns["x"]
        >>> numbers = sorted_numbers(pd.Series([1.5, 9.0]), is_datetime=False)
        >>> summary = numeric_summary(column, numbers)
        >>> summary.n, summary.cell_counts.tolist()
        (2, [0, 0, 1, 0, 1])
    """
    finite = ordered.finite
    edges = column.edges
    assert edges is not None
    n = finite.size
    bounds = np.empty(2 * edges.size + 2, dtype="int64")
    bounds[0], bounds[-1] = 0, n
    bounds[1:-1:2] = np.searchsorted(finite, edges, side="left")
    bounds[2:-1:2] = np.searchsorted(finite, edges, side="right")
    cell_counts = np.diff(bounds)
    # Sums per cell without a full-size temporary: the values are sorted, so
    # each non-empty cell is one contiguous run.
    cell_sums = np.zeros(cell_counts.size)
    filled = cell_counts > 0
    if n:
        cell_sums[filled] = np.add.reduceat(finite, bounds[:-1][filled])
    cell_sums[1::2] = cell_counts[1::2] * edges  # values at an edge: exact
    mean, m2, values, counts = 0.0, 0.0, None, None
    if n:
        mean = float(cell_sums.sum() / n)
        # einsum, not a BLAS dot: BLAS threads keep spinning after the call and
        # take a core from the sorts that follow.
        m2 = float(np.einsum("i,i->", finite, finite)) - n * mean * mean
        if m2 < 1e-6 * n * mean * mean:  # cancellation: take the two-pass sum
            deviations = finite - mean
            m2 = float(np.einsum("i,i->", deviations, deviations))
        values, counts = _exact_counts(finite)
    else:
        values, counts = np.zeros(0), np.zeros(0, dtype="int64")
    return NumericSummary(
        n=n,
        n_missing=ordered.n_missing,
        n_infinite=ordered.n_infinite,
        mean=mean,
        m2=m2,
        cell_counts=cell_counts,
        cell_sums=cell_sums,
        exact_values=values,
        exact_counts=counts,
    )


def _exact_counts(finite: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Distinct values and counts of sorted values, or None above the limit."""
    head = finite[: 2 * EXACT_VALUES_LIMIT + 1]  # already too many there: done
    if np.count_nonzero(head[1:] != head[:-1]) >= EXACT_VALUES_LIMIT:
        return None, None
    starts = np.flatnonzero(np.r_[True, finite[1:] != finite[:-1]])
    if starts.size > EXACT_VALUES_LIMIT:
        return None, None
    return finite[starts], np.diff(np.r_[starts, finite.size]).astype("int64")


def categorical_summary(
    column: ColumnProfile, series: pd.Series, value_counts: pd.Series
) -> CategoricalSummary:
    """Count one chunk of a categorical or boolean column on its profile's categories.

    Args:
        column: the column's profile (its categories, or its hash groups).
        series: the chunk's values (for the missing count).
        value_counts: the chunk's positive counts per label.

    Example:
        >>> from kedro_mlops.drift.profile import build_profile
        >>> column = build_profile(pd.DataFrame({"c": ["a", "b"]})).columns["c"]
        >>> values = pd.Series(["b", "b", "z"])
        >>> categorical_summary(column, values, values.value_counts()).counts.tolist()
        [0, 2, 1]
    """
    categories, known = column.categories, column.known
    assert categories is not None and known is not None
    n_missing = int(series.isna().sum())
    labels = pd.Index(value_counts.index)
    tallies = value_counts.to_numpy(dtype="int64")
    is_unseen = ~labels.isin(known) if len(labels) else np.zeros(0, dtype=bool)
    display = None
    if column.hashed:
        group = _hash_groups(labels, column.groups)
        counts = np.bincount(group, weights=tallies, minlength=column.groups)
        counts = counts.astype("int64")
        display = np.zeros(categories.size, dtype="int64")
        position = categories.get_indexer(labels)
        np.add.at(display, position[position >= 0], tallies[position >= 0])
    else:
        counts = np.zeros(categories.size + 1, dtype="int64")
        position = categories.get_indexer(labels)
        np.add.at(counts, np.where(position >= 0, position, categories.size), tallies)
    unseen = dict(
        zip(
            (str(label) for label in labels[is_unseen]),
            (int(t) for t in tallies[is_unseen]),
            strict=True,
        )
    )
    return CategoricalSummary(
        n=len(series) - n_missing,
        n_missing=n_missing,
        counts=counts,
        unseen=int(tallies[is_unseen].sum()),
        unseen_examples=_top_examples(unseen),
        display_counts=display,
    )


def _hash_groups(labels: pd.Index, groups: int) -> np.ndarray:
    """Stable group of each label: pandas' fixed-key hash of its text, modulo groups."""
    text = np.asarray([str(label) for label in labels], dtype=object)
    return (pd.util.hash_array(text) % np.uint64(groups)).astype("int64")
