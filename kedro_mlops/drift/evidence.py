"""The evidence on one column: its statistics and display distributions.

Every statistic of a column is computed from the reference's and the current
data's summaries (:mod:`kedro_mlops.drift.summaries`), so chunked data gives
the evidence of whole data. Numeric columns get KS and Wasserstein (exact from
the exact value counts when both summaries kept them, otherwise from the cells,
with error bounds), PSI and Jensen-Shannon on the coarse reference-quantile
bins, and a histogram; categorical and boolean columns get chi-square,
Jensen-Shannon and PSI on the category counts, and their largest categories.
:mod:`kedro_mlops.drift.statistics` holds the definitions on plain arrays.

Example:
    >>> import pandas as pd
    >>> from kedro_mlops.drift.profile import build_profile
    >>> from kedro_mlops.drift.summaries import summarize
    >>> reference = pd.DataFrame({"c": list("aabb") * 50})
    >>> profile = build_profile(reference)
    >>> ref = summarize(reference, profile).columns["c"].categorical
    >>> cur = summarize(reference.replace("b", "a"), profile).columns["c"].categorical
    >>> statistics, shares, n_categories, note = categorical_evidence(
    ...     profile.columns["c"], ref, cur
    ... )
    >>> shares.labels, shares.current, n_categories
    (['a', 'b'], [1.0, 0.0], 2)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import statistics as st
from .profile import DISPLAY_CATEGORIES, ColumnProfile
from .report import ColumnStatistics, Distribution
from .summaries import CategoricalSummary, NumericSummary

#: Bars of a numeric column's histogram in the report.
DISPLAY_BINS = 30


def numeric_evidence(
    column: ColumnProfile,
    ref: NumericSummary,
    cur: NumericSummary,
    with_ks_p_value: bool,
) -> tuple[ColumnStatistics, Distribution, str | None]:
    """Statistics and histogram of a numeric column, from both sides' summaries.

    Args:
        column: the column's profile (its edges).
        ref: the reference's summary of the column (at least one value).
        cur: the current data's summary of the column (at least one value).
        with_ks_p_value: compute the KS p-value even when the exact value counts
            are gone (it then matters only when KS decides the column).

    Returns:
        The statistics, the histogram for the report, and a note for the report
        (or None).

    Example:
        >>> import pandas as pd
        >>> from kedro_mlops.drift.profile import build_profile
        >>> from kedro_mlops.drift.summaries import summarize
        >>> reference = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
        >>> profile = build_profile(reference)
        >>> ref = summarize(reference, profile).columns["x"].numeric
        >>> cur = summarize(reference + 1, profile).columns["x"].numeric
        >>> statistics, histogram, note = numeric_evidence(
        ...     profile.columns["x"], ref, cur, with_ks_p_value=True
        ... )
        >>> statistics.ks_statistic, statistics.ks_error_bound, histogram.kind, note
        (0.25, 0.0, 'histogram', None)
    """
    edges = column.edges
    assert edges is not None
    p_value: float | None
    if ref.exact_values is not None and cur.exact_values is not None:
        assert ref.exact_counts is not None and cur.exact_counts is not None
        args = (ref.exact_values, ref.exact_counts, cur.exact_values, cur.exact_counts)
        if max(ref.n, cur.n) <= st.KS_EXACT_MAX_N:
            exact = st.ks_2samp(
                np.repeat(ref.exact_values, ref.exact_counts),
                np.repeat(cur.exact_values, cur.exact_counts),
            )
            ks, p_value = exact.statistic, exact.p_value
        else:
            ks = st.ks_statistic_weighted(*args)
            p_value = st.ks_p_value(ks, ref.n, cur.n)
        ks_bound = 0.0
        distance, distance_bound = st.wasserstein_weighted(*args), 0.0
    else:
        ks, ks_bound = _ks_from_cells(ref, cur)
        # Above 10,000 values the p-value only matters when KS decides, and
        # scipy's kstwo.sf is slow at such sizes (docs/drift.md, Performance).
        p_value = st.ks_p_value(ks, ref.n, cur.n) if with_ks_p_value else None
        distance, distance_bound = _wasserstein_from_cells(edges, ref, cur)
    scale = ref.std
    note = None
    if scale > 0:
        wasserstein, wasserstein_bound = distance / scale, distance_bound / scale
    else:
        wasserstein = 0.0 if distance == 0 else math.inf
        wasserstein_bound = 0.0
        note = (
            "the reference is constant: any change gives an infinite Wasserstein score"
        )
    coarse_ref, coarse_cur = _coarse_counts(column, ref), _coarse_counts(column, cur)
    statistics = ColumnStatistics(
        ks_statistic=ks,
        ks_p_value=p_value,
        ks_error_bound=ks_bound,
        wasserstein=wasserstein,
        wasserstein_error_bound=wasserstein_bound,
        psi=st.psi(coarse_ref, coarse_cur),
        jensenshannon=st.jensenshannon(coarse_ref, coarse_cur),
    )
    return statistics, _histogram(column, ref, cur), note


def _ks_from_cells(ref: NumericSummary, cur: NumericSummary) -> tuple[float, float]:
    """KS statistic from the cells and how much the true one may exceed it."""
    share_ref = ref.cell_counts / ref.n
    share_cur = cur.cell_counts / cur.n
    ks = float(np.max(np.abs(np.cumsum(share_ref) - np.cumsum(share_cur))))
    inner = slice(2, -2, 2)  # cells strictly between two edges
    bound = np.minimum(share_ref[inner], share_cur[inner])
    return ks, float(bound.max(initial=0.0))


def _wasserstein_from_cells(
    edges: np.ndarray, ref: NumericSummary, cur: NumericSummary
) -> tuple[float, float]:
    """Wasserstein-1 distance from cell counts and sums, with an error bound.

    Between two edges, the integral of F_ref - F_cur is exact from the counts
    and sums; its absolute value is the integral of |F_ref - F_cur| unless the
    difference changes sign inside the cell, which the bound accounts for.
    """
    n1, n2 = ref.n, cur.n
    c1, c2 = ref.cell_counts, cur.cell_counts
    s1, s2 = ref.cell_sums, cur.cell_sums
    gap = np.cumsum(c1) / n1 - np.cumsum(c2) / n2  # F_ref - F_cur after each cell
    lower = (c1[0] * edges[0] - s1[0]) / n1 - (c2[0] * edges[0] - s2[0]) / n2
    upper = (s2[-1] - c2[-1] * edges[-1]) / n2 - (s1[-1] - c1[-1] * edges[-1]) / n1
    inner = slice(2, -2, 2)
    width = np.diff(edges)
    start = gap[1:-2:2]  # just after the edge that opens each inner cell
    integral = (
        start * width
        + (c1[inner] * edges[1:] - s1[inner]) / n1
        - (c2[inner] * edges[1:] - s2[inner]) / n2
    )
    low_end = start - c2[inner] / n2
    high_end = start + c1[inner] / n1
    straddles = (low_end < 0) & (high_end > 0)
    widest = width * np.maximum(np.abs(low_end), np.abs(high_end))
    bound = float(np.sum(np.clip(widest - np.abs(integral), 0, None)[straddles]))
    if c1[0] and c2[0]:  # both samples below the first edge
        bound += (c1[0] * edges[0] - s1[0]) / n1 + (c2[0] * edges[0] - s2[0]) / n2
        bound -= abs(lower)
    if c1[-1] and c2[-1]:
        bound += (s1[-1] - c1[-1] * edges[-1]) / n1 + (s2[-1] - c2[-1] * edges[-1]) / n2
        bound -= abs(upper)
    distance = float(np.sum(np.abs(integral)) + abs(lower) + abs(upper))
    return distance, max(bound, 0.0)


def _coarse_counts(column: ColumnProfile, summary: NumericSummary) -> np.ndarray:
    """Counts in the PSI bins: (-inf, q1), [q1, q2), ..., [q9, inf)."""
    assert column.edges is not None and column.psi_edges is not None
    positions = np.searchsorted(column.edges, column.psi_edges)
    starts = np.r_[0, 2 * positions + 1]
    return np.add.reduceat(summary.cell_counts, starts)


def _histogram(
    column: ColumnProfile, ref: NumericSummary, cur: NumericSummary
) -> Distribution:
    """Equal-width bars over the central 99% of both samples (ends absorb the tails)."""
    assert column.edges is not None
    points = []
    for summary in (ref, cur):
        counts = summary.cell_counts
        filled = counts > 0
        values = np.empty(counts.size)
        values[filled] = summary.cell_sums[filled] / counts[filled]
        points.append((values[filled], counts[filled]))
    low = min(_weighted_quantile(v, c, 0.005) for v, c in points)
    high = max(_weighted_quantile(v, c, 0.995) for v, c in points)
    if not high > low:
        high = low + 1.0
    bins = np.linspace(low, high, DISPLAY_BINS + 1)
    shares = []
    for values, counts in points:
        index = np.clip(
            np.searchsorted(bins, values, side="right") - 1, 0, DISPLAY_BINS - 1
        )
        tally = np.bincount(index, weights=counts, minlength=DISPLAY_BINS)
        shares.append((tally / tally.sum()).round(6).tolist())
    labels = [_format_value(v, column.is_datetime) for v in bins]
    return Distribution(
        kind="histogram", labels=labels, reference=shares[0], current=shares[1]
    )


def _weighted_quantile(values: np.ndarray, counts: np.ndarray, level: float) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(counts[order])
    index = int(np.searchsorted(cumulative, level * cumulative[-1], side="left"))
    return float(values[order][min(index, values.size - 1)])


def _format_value(value: float, is_datetime: bool) -> str:
    if is_datetime:
        return str(pd.Timestamp(value, unit="s").floor("s"))
    return f"{value:.4g}"


def categorical_evidence(
    column: ColumnProfile, ref: CategoricalSummary, cur: CategoricalSummary
) -> tuple[ColumnStatistics, Distribution, int, str | None]:
    """Statistics and category shares of a categorical or boolean column.

    Args:
        column: the column's profile (its categories or hash groups).
        ref: the reference's summary of the column (at least one value).
        cur: the current data's summary of the column (at least one value).

    Returns:
        The statistics, the shares of the largest categories for the report, the
        number of categories (or groups) present on either side, which the
        automatic rule needs, and a note for the report (or None).

    Example:
        >>> import pandas as pd
        >>> from kedro_mlops.drift.profile import build_profile
        >>> from kedro_mlops.drift.summaries import summarize
        >>> profile = build_profile(pd.DataFrame({"c": ["a", "b"]}))
        >>> ref = summarize(pd.DataFrame({"c": ["a", "b"]}), profile).columns["c"]
        >>> cur = summarize(pd.DataFrame({"c": ["a", "z"]}), profile).columns["c"]
        >>> _, shares, n_categories, _ = categorical_evidence(
        ...     profile.columns["c"], ref.categorical, cur.categorical
        ... )
        >>> shares.labels, n_categories
        (['a', 'b', '(not in reference)'], 3)
    """
    c1, c2 = ref.counts, cur.counts
    present = (c1 + c2) > 0
    chi2 = st.chi2_contingency(c1, c2)
    statistics = ColumnStatistics(
        chi2_statistic=chi2.statistic,
        chi2_p_value=chi2.p_value,
        jensenshannon=st.jensenshannon(c1, c2),
        psi=st.psi(c1[present], c2[present]),
    )
    note = None
    if column.hashed:
        assert column.known is not None
        note = (
            f"{len(column.known)} reference categories, more than "
            f"drift.max_categories ({column.groups}): compared in {column.groups} "
            "groups by a stable hash of the label"
        )
    return statistics, _categories(column, ref, cur), int(present.sum()), note


def _categories(
    column: ColumnProfile, ref: CategoricalSummary, cur: CategoricalSummary
) -> Distribution:
    """Shares of the most frequent categories, the rest grouped, then unseen ones."""
    assert column.categories is not None and column.known is not None
    if column.hashed:
        assert ref.display_counts is not None and cur.display_counts is not None
        counts_ref, counts_cur = ref.display_counts, cur.display_counts
    else:
        counts_ref, counts_cur = ref.counts[:-1], cur.counts[:-1]
    share_ref = counts_ref / max(ref.n, 1)
    share_cur = counts_cur / max(cur.n, 1)
    order = np.argsort(-np.maximum(share_ref, share_cur), kind="stable")
    shown = order[:DISPLAY_CATEGORIES]
    labels = [str(column.categories[i]) for i in shown]
    reference = share_ref[shown].tolist()
    current = share_cur[shown].tolist()
    unseen_ref, unseen_cur = ref.unseen / max(ref.n, 1), cur.unseen / max(cur.n, 1)
    rest_ref = 1.0 - sum(reference) - unseen_ref
    rest_cur = 1.0 - sum(current) - unseen_cur
    if max(rest_ref, rest_cur) > 1e-9:
        labels.append(f"(other {len(column.known) - len(shown)} categories)")
        reference.append(max(rest_ref, 0.0))
        current.append(max(rest_cur, 0.0))
    if unseen_ref or unseen_cur:
        labels.append("(not in reference)")
        reference.append(unseen_ref)
        current.append(unseen_cur)
    return Distribution(
        kind="categories",
        labels=labels,
        reference=[round(v, 6) for v in reference],
        current=[round(v, 6) for v in current],
    )
