"""The drift profile: how each column is compared, fixed once from the reference.

For every compared column the profile holds its kind (numeric, categorical or
boolean: from the dtype unless configured) and the layout its summaries count
on: for a numeric column the *edges*, reference quantiles at levels
``j / FINE_BINS`` (duplicates dropped), and ``PSI_BINS`` coarser quantile bins;
for a categorical column its reference categories, or ``max_categories`` hash
groups when it has more. Because the layout is fixed by the reference, the
summaries of any chunks count on the same cells and merge by adding
(:mod:`kedro_mlops.drift.summaries`).

Deriving the edges sorts each numeric reference column;
:func:`build_profile_and_summary` summarises the reference from that same sort.

Example:
    >>> import pandas as pd
    >>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": list("aab")}))
    >>> {name: column.kind for name, column in profile.columns.items()}
    {'x': 'numeric', 'c': 'categorical'}
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .config import DriftConfig, check_test_fits
from .errors import DriftInputError
from .summaries import (
    ColumnSummary,
    DatasetSummary,
    categorical_summary,
    numeric_summary,
    sorted_numbers,
)

#: Reference quantile levels for the numeric cells (edges at ``j / FINE_BINS``).
FINE_BINS = 2000
#: Reference quantile bins for PSI and the numeric Jensen-Shannon distance.
PSI_BINS = 10
#: Categories shown per column in the report (the rest are grouped). A column
#: with more categories than ``max_categories`` is counted per hash group; its
#: profile keeps this many most frequent reference categories, which its
#: summaries also count exactly, for that display.
DISPLAY_CATEGORIES = 20

Kind = Literal["numeric", "categorical", "boolean"]


@dataclass(frozen=True)
class ColumnProfile:
    """How one column is summarised: its kind and its reference edges/categories.

    Example:
        >>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0, 2.0]}))
        >>> column = profile.columns["x"]
        >>> column.kind, column.edges.tolist(), column.psi_edges.tolist()
        ('numeric', [1.0, 2.0], [2.0])
    """

    name: str
    kind: Kind
    source_kind: str
    dtype: str
    is_datetime: bool = False
    edges: np.ndarray | None = None
    psi_edges: np.ndarray | None = None
    categories: pd.Index | None = None
    known: pd.Index | None = None
    groups: int = 0

    @property
    def hashed(self) -> bool:
        """Categories are counted per hash group (more than ``max_categories``)."""
        return self.groups > 0

    def accepts(self, series: pd.Series) -> bool:
        """Whether this column's summaries can count the values of ``series``.

        Values of the reference's own kind fit, and so does a series with no
        value at all. Otherwise numbers fit a numeric column (datetimes too when
        the reference held datetimes), and text, categories or booleans fit a
        categorical or boolean one. A series that does not fit is reported as a
        changed dtype.

        Example:
            >>> column = build_profile(pd.DataFrame({"x": [1.0, 2.0]})).columns["x"]
            >>> column.accepts(pd.Series([3, 4])), column.accepts(pd.Series(["a"]))
            (True, False)
        """
        kind = _natural_kind(series) if series.notna().any() else None
        if kind is None or kind == self.source_kind:
            return True
        if self.kind == "numeric":
            return kind == "numeric" or (kind == "datetime" and self.is_datetime)
        return kind in ("categorical", "boolean")


@dataclass(frozen=True)
class DriftProfile:
    """Edges and categories of every compared column, derived from the reference.

    Example:
        >>> profile = build_profile(
        ...     pd.DataFrame({"id": [1, 2], "x": [0.5, 1.5]}),
        ...     DriftConfig(ignore_columns=["id"]),
        ... )
        >>> list(profile.columns), profile.skipped
        (['x'], {'id': 'ignored by configuration'})
    """

    columns: dict[str, ColumnProfile]
    skipped: dict[str, str]
    config: DriftConfig
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


_INFERRED_KINDS = {
    "empty": None,
    "boolean": "boolean",
    "integer": "numeric",
    "floating": "numeric",
    "mixed-integer-float": "numeric",
    "decimal": "numeric",
    "datetime": "datetime",
    "datetime64": "datetime",
    "date": "datetime",
    "timedelta": "datetime",
}


def _natural_kind(series: pd.Series) -> str | None:
    """numeric, boolean, categorical or datetime, from the dtype.

    Plain object columns are judged by their values; None when they hold none.
    """
    dtype = series.dtype
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return _INFERRED_KINDS.get(inferred, "categorical")
    if pd.api.types.is_bool_dtype(dtype):
        kind = "boolean"
    elif pd.api.types.is_datetime64_any_dtype(
        dtype
    ) or pd.api.types.is_timedelta64_dtype(dtype):
        kind = "datetime"
    elif isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype):
        kind = "categorical"
    elif pd.api.types.is_numeric_dtype(dtype):
        kind = "numeric"
    else:
        kind = "categorical"
    return kind


def build_profile(
    reference: pd.DataFrame, config: DriftConfig | None = None
) -> DriftProfile:
    """Derive the summary layout (edges, categories) of every column from the reference.

    Columns listed in ``config.ignore_columns`` are skipped, and so are
    datetime columns unless they have an entry under ``config.columns``.

    Args:
        reference: the reference data (typically a sample of the training data).
        config: drift settings; defaults when omitted.

    Raises:
        DriftInputError: the reference has no rows, a configured column does not
            exist, or a column cannot be compared the way it is configured.

    Example:
        >>> profile = build_profile(pd.DataFrame({"c": ["a", "b", "a"]}))
        >>> profile.columns["c"].categories.tolist()
        ['a', 'b']
    """
    return build_profile_and_summary(reference, config)[0]


def build_profile_and_summary(
    reference: pd.DataFrame, config: DriftConfig | None = None
) -> tuple[DriftProfile, DatasetSummary]:
    """The profile of the reference, and the summary of the reference on it.

    What :func:`build_profile` and then
    :func:`~kedro_mlops.drift.summaries.summarize` of the reference give, with
    each numeric column sorted once for both.

    Args:
        reference: the reference data (typically a sample of the training data).
        config: drift settings; defaults when omitted.

    Raises:
        DriftInputError: as :func:`build_profile`.

    Example:
        >>> reference = pd.DataFrame({"c": ["a", "b", "a"]})
        >>> profile, summary = build_profile_and_summary(reference)
        >>> summary.profile_id == profile.id
        True
        >>> summary.columns["c"].categorical.counts.tolist()
        [2, 1, 0]
    """
    config = config or DriftConfig()
    check_reference_rows(len(reference))
    plans, skipped = plan_columns(
        [
            (str(name), _natural_kind(reference[name]), str(reference[name].dtype))
            for name in reference.columns
        ],
        config,
    )
    columns: dict[str, ColumnProfile] = {}
    summaries: dict[str, ColumnSummary] = {}
    for name, plan in plans.items():
        series = reference[name]
        if plan.kind == "numeric":
            ordered = sorted_numbers(series, plan.is_datetime)
            column = numeric_column(plan, *rank_quantiles(ordered.finite))
            summaries[name] = ColumnSummary(
                name, len(series), numeric=numeric_summary(column, ordered)
            )
        else:
            counts = series.value_counts(dropna=True, sort=True)
            counts = counts[counts > 0]
            column = categorical_column(plan, counts, config)
            summaries[name] = ColumnSummary(
                name,
                len(series),
                categorical=categorical_summary(column, series, counts),
            )
        columns[name] = column
    profile = DriftProfile(columns=columns, skipped=skipped, config=config)
    summary = DatasetSummary(
        profile_id=profile.id, n_rows=len(reference), columns=summaries
    )
    return profile, summary


def check_reference_rows(rows: int) -> None:
    """Refuse a reference without rows.

    Example:
        >>> check_reference_rows(0)
        Traceback (most recent call last):
        ...
        kedro_mlops.drift.errors.DriftInputError: The reference data has no rows: drift needs a reference sample (for instance a sample of the training data).
    """
    if rows == 0:
        raise DriftInputError(
            "The reference data has no rows: drift needs a reference sample "
            "(for instance a sample of the training data)."
        )


@dataclass(frozen=True)
class ColumnPlan:
    """How one reference column will be compared, decided before any counting.

    ``source`` is the kind the column's values have (its natural kind, or the
    compared kind when the reference holds no value); ``dtype`` names the type
    in the engine that holds the data, for messages.

    Example:
        >>> plans, _ = plan_columns([("x", "numeric", "int64")], DriftConfig())
        >>> plans["x"].kind, plans["x"].source
        ('numeric', 'numeric')
    """

    name: str
    kind: Kind
    source: str
    dtype: str
    is_datetime: bool = False


def plan_columns(
    columns: list[tuple[str, str | None, str]], config: DriftConfig
) -> tuple[dict[str, ColumnPlan], dict[str, str]]:
    """Decide the kind of each reference column, and which are skipped (and why).

    Args:
        columns: ``(name, natural kind, dtype)`` of every reference column, in
            order; the natural kind is numeric, boolean, categorical, datetime,
            or None for a column without values.
        config: the drift settings (ignored columns, per-column kinds).

    Raises:
        DriftInputError: a configured column does not exist, or a column
            cannot be compared the way it is configured.

    Example:
        >>> plans, skipped = plan_columns(
        ...     [("id", "numeric", "int64"), ("when", "datetime", "datetime64[ns]")],
        ...     DriftConfig(ignore_columns=["id"]),
        ... )
        >>> plans, sorted(skipped)
        ({}, ['id', 'when'])
    """
    names = [name for name, _, _ in columns]
    unknown = [
        name
        for name in [*config.columns, config.prediction_column]
        if name is not None and name not in names
    ]
    if unknown:
        raise DriftInputError(
            f"Columns {unknown} are configured for drift (drift.columns or "
            "drift.prediction_column) but are not in the reference data; "
            f"available columns: {names}."
        )
    plans: dict[str, ColumnPlan] = {}
    skipped: dict[str, str] = {}
    for name, natural, dtype in columns:
        if name in config.ignore_columns:
            skipped[name] = "ignored by configuration"
            continue
        settings = config.columns.get(name)
        wanted = settings.kind if settings else None
        if natural == "datetime" and settings is None:
            skipped[name] = (
                "datetime column: compared only when listed under drift.columns"
            )
            continue
        plan = _plan(name, natural, dtype, wanted)
        check_test_fits(name, plan.kind, settings)
        plans[name] = plan
    return plans, skipped


def _plan(name: str, natural: str | None, dtype: str, wanted: str | None) -> ColumnPlan:
    if wanted == "numeric" and natural == "categorical":
        raise DriftInputError(
            f"Column '{name}' is configured with kind: numeric but holds text "
            f"(dtype {dtype}); convert it to numbers or use kind: categorical."
        )
    kind: Kind
    if wanted is not None:
        kind = wanted  # type: ignore[assignment]
    elif natural in ("numeric", "datetime"):
        kind = "numeric"
    elif natural == "boolean":
        kind = "boolean"
    else:  # categorical, or entirely missing in the reference
        kind = "categorical"
    return ColumnPlan(name, kind, natural or kind, dtype, natural == "datetime")


def rank_quantiles(finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values of sorted ``finite`` at the levels ``j / FINE_BINS`` and
    ``j / PSI_BINS`` (lower order statistics): what a numeric column's edges
    are made of.

    Example:
        >>> fine, coarse = rank_quantiles(np.arange(11.0))
        >>> fine.size, coarse.tolist()
        (2001, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    """
    n = finite.size
    if not n:
        return np.zeros(0), np.zeros(0)
    index = (np.arange(FINE_BINS + 1, dtype="int64") * (n - 1)) // FINE_BINS
    psi_index = (np.arange(1, PSI_BINS, dtype="int64") * (n - 1)) // PSI_BINS
    return finite[index], finite[psi_index]


def numeric_column(
    plan: ColumnPlan, quantiles: np.ndarray, psi_quantiles: np.ndarray
) -> ColumnProfile:
    """A numeric column's profile from its reference quantiles (see
    :func:`rank_quantiles`; any engine's quantiles at those levels will do).

    Example:
        >>> plan = ColumnPlan("x", "numeric", "numeric", "float64")
        >>> numeric_column(plan, *rank_quantiles(np.array([1.0, 2.0, 2.0]))).edges
        array([1., 2.])
    """
    if quantiles.size:
        edges = np.unique(quantiles)
        psi_edges = np.unique(psi_quantiles)
        psi_edges = psi_edges[psi_edges > edges[0]]
    else:
        edges = psi_edges = np.zeros(0)
    return ColumnProfile(
        plan.name,
        "numeric",
        plan.source,
        plan.dtype,
        plan.is_datetime,
        edges=edges,
        psi_edges=psi_edges,
    )


def categorical_column(
    plan: ColumnPlan, counts: pd.Series, config: DriftConfig
) -> ColumnProfile:
    """A categorical or boolean column's profile from its reference value counts
    (positive counts, the most frequent first).

    Example:
        >>> plan = ColumnPlan("c", "categorical", "categorical", "object")
        >>> counts = pd.Series([3, 1], index=["b", "a"])
        >>> categorical_column(plan, counts, DriftConfig()).categories.tolist()
        ['b', 'a']
    """
    hashed = len(counts) > config.max_categories
    return ColumnProfile(
        plan.name,
        plan.kind,
        plan.source,
        plan.dtype,
        plan.is_datetime,
        categories=pd.Index(
            counts.index[:DISPLAY_CATEGORIES] if hashed else counts.index
        ),
        known=pd.Index(counts.index),
        groups=config.max_categories if hashed else 0,
    )
