"""Test selection, per-column decisions, the dataset decision and the drift gate.

Every column has a p-value test (KS for numbers, chi-square for categories)
and a distance (Wasserstein in reference standard deviations for numbers,
Jensen-Shannon for categories). The automatic rule lets the test decide on
small samples, where a difference at the distance threshold can be sampling
noise, and the distance on large samples, where the test flags differences far
below anything material. It switches at the sample size where a difference
exactly at the distance threshold becomes significant at the test's level
(:func:`crossover_size`; the derivation is in docs/drift.md).

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"x": rng.normal(size=500)})
    >>> current = pd.DataFrame({"x": rng.normal(0.5, 1, size=500)})
    >>> report = detect_drift(reference, current)
    >>> report.columns[0].test, report.columns[0].drifted
    ('ks', True)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import statistics as st
from .config import P_VALUE_TESTS, DriftConfig, TestName
from .errors import DriftDetectedError, DriftInputError
from .profile import ColumnProfile, DriftProfile, build_profile_and_summary
from .report import ColumnDrift, ColumnStatistics, Distribution, DriftReport, severity
from .summaries import (
    CategoricalSummary,
    ColumnSummary,
    DatasetSummary,
    NumericSummary,
    summarize,
)

logger = logging.getLogger(__name__)

#: Bars of a numeric column's histogram in the report.
DISPLAY_BINS = 30
#: Categories shown per column in the report (the rest are grouped).
DISPLAY_CATEGORIES = 20
_SEVERE = 1e6  # severity of a column that cannot be compared at all


def _as_config(config: DriftConfig | Mapping[str, Any] | None) -> DriftConfig:
    if config is None:
        return DriftConfig()
    if isinstance(config, DriftConfig):
        return config
    return DriftConfig.model_validate(dict(config))


def crossover_size(
    kind: str, config: DriftConfig | None = None, n_categories: int = 2
) -> float:
    """Effective sample size above which the distance decides instead of the test.

    The effective size of two samples of ``n`` and ``m`` values is
    ``n * m / (n + m)`` (half of ``n`` when both have ``n``).

    * numeric: ``(c(a) / (phi(0) * t))**2`` with ``c(a) = sqrt(-ln(a / 2) / 2)``
      the KS critical value, ``phi(0) = 0.3989`` the largest CDF change per
      standard deviation of a normal location shift, ``a`` the KS threshold and
      ``t`` the Wasserstein threshold: about 1,159 with the defaults.
    * categorical: ``chi2_ppf(1 - a, k - 1) / (8 * t**2)`` with ``k`` the number
      of categories, ``a`` the chi-square threshold and ``t`` the Jensen-Shannon
      threshold (the divergence is about chi-square / (8 n)): 300 for 3
      categories, 53,700 for 1,001.

    Example:
        >>> round(crossover_size("numeric")), round(crossover_size("categorical", n_categories=3))
        (1159, 300)
    """
    config = config or DriftConfig()
    thresholds = config.thresholds
    if kind == "numeric":
        critical = math.sqrt(-math.log(thresholds.ks / 2) / 2)
        return (critical / (0.3989422804014327 * thresholds.wasserstein)) ** 2
    if n_categories < 2:
        return math.inf
    from scipy import stats

    quantile = float(stats.chi2.ppf(1 - thresholds.chi2, n_categories - 1))
    return quantile / (8 * thresholds.jensenshannon**2)


def select_test(
    kind: str,
    n_reference: int,
    n_current: int,
    config: DriftConfig | None = None,
    n_categories: int = 2,
) -> TestName:
    """The automatic choice: the p-value test up to :func:`crossover_size`, else the distance.

    Args:
        kind: ``numeric``, ``categorical`` or ``boolean``.
        n_reference: values compared in the reference (missing ones excluded).
        n_current: values compared in the current data.
        config: drift settings (the thresholds move the switch).
        n_categories: categories present in either sample (categorical only).

    Example:
        >>> select_test("numeric", 2_000, 2_000), select_test("numeric", 10**6, 10**6)
        ('ks', 'wasserstein')
        >>> select_test("categorical", 200, 200, n_categories=3)
        'chi2'
    """
    effective = n_reference * n_current / max(n_reference + n_current, 1)
    large = effective > crossover_size(kind, config, n_categories)
    if kind == "numeric":
        return "wasserstein" if large else "ks"
    return "jensenshannon" if large else "chi2"


def detect_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    config: DriftConfig | Mapping[str, Any] | None = None,
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column and decide.

    Equivalent to summarising the current data as one chunk
    (:func:`kedro_mlops.drift.summarize`) and calling :func:`compare_summaries`.

    Args:
        reference: the reference data (for instance a sample of the training data).
        current: the data to check.
        config: a :class:`DriftConfig` or a mapping validated into one.

    Raises:
        DriftInputError: empty data, a reference column missing from the
            current data, or settings that do not fit a column.

    Example:
        >>> import pandas as pd
        >>> reference = pd.DataFrame({"plan": ["a", "b"] * 100})
        >>> detect_drift(reference, pd.DataFrame({"plan": ["a"] * 200})).drifted_columns
        ['plan']
    """
    config = _as_config(config)
    profile, reference_summary = build_profile_and_summary(reference, config)
    _check_not_empty(len(current))
    return compare_summaries(profile, reference_summary, summarize(current, profile))


def _check_not_empty(rows: int) -> None:
    if rows == 0:
        raise DriftInputError(
            "The current data has no rows: there is nothing to compare with the "
            "reference. Check the upstream step that produced it."
        )


def compare_summaries(
    profile: DriftProfile, reference: DatasetSummary, current: DatasetSummary
) -> DriftReport:
    """Decide drift from the (merged) summaries of the reference and the current data.

    Example:
        >>> import pandas as pd
        >>> from kedro_mlops.drift import build_profile, summarize, merge_summaries
        >>> reference = pd.DataFrame({"x": range(100)})
        >>> profile = build_profile(reference)
        >>> chunks = [pd.DataFrame({"x": range(i, i + 50)}) for i in (0, 50)]
        >>> current = merge_summaries(summarize(c, profile) for c in chunks)
        >>> compare_summaries(profile, summarize(reference, profile), current).dataset_drift
        False
    """
    config = profile.config
    for summary, role in ((reference, "reference"), (current, "current")):
        if summary.profile_id != profile.id:
            raise ValueError(
                f"The {role} summary was made with another drift profile; "
                "summarise both with the profile passed here."
            )
    _check_not_empty(current.n_rows)
    features: list[ColumnDrift] = []
    prediction: ColumnDrift | None = None
    for name, column in profile.columns.items():
        verdict = _judge_column(
            column,
            reference.columns[name],
            current.columns[name],
            config,
            is_prediction=name == config.prediction_column,
        )
        if verdict.role == "prediction":
            prediction = verdict
        else:
            features.append(verdict)
    if not features and prediction is None:
        raise DriftInputError(
            "No column left to compare: every column is ignored or skipped "
            f"({profile.skipped}). Remove some from drift.ignore_columns."
        )
    features.sort(key=lambda c: (not c.drifted, -c.severity, c.column))
    drifted = sum(c.drifted for c in features)
    share = drifted / len(features) if features else 0.0
    return DriftReport(
        dataset_drift=bool(features) and share >= config.share_threshold,
        drift_share=share,
        share_threshold=config.share_threshold,
        columns=features,
        prediction=prediction,
        skipped=dict(profile.skipped),
        new_columns=list(current.extra_columns),
        rows_reference=reference.n_rows,
        rows_current=current.n_rows,
        config=config,
    )


def _judge_column(
    column: ColumnProfile,
    reference: ColumnSummary,
    current: ColumnSummary,
    config: DriftConfig,
    is_prediction: bool,
) -> ColumnDrift:
    base: dict[str, Any] = {
        "column": column.name,
        "kind": column.kind,
        "role": "prediction" if is_prediction else "feature",
    }
    changed = current.changed_dtype or reference.changed_dtype
    if changed:
        return ColumnDrift(
            **base,
            status="dtype_changed",
            drifted=True,
            severity=_SEVERE,
            message=(
                f"dtype changed from {column.dtype} to {changed}: the values cannot "
                f"be compared. Cast '{column.name}' back to {column.dtype} in the "
                "current data, or list it under drift.ignore_columns."
            ),
        )
    ref: Any = reference.numeric if column.kind == "numeric" else reference.categorical
    cur: Any = current.numeric if column.kind == "numeric" else current.categorical
    base |= {
        "n_reference": ref.n,
        "n_current": cur.n,
        "missing_share_reference": ref.n_missing / max(reference.n_rows, 1),
        "missing_share_current": cur.n_missing / max(current.n_rows, 1),
    }
    if column.kind == "numeric":
        base |= {
            "infinite_reference": ref.n_infinite,
            "infinite_current": cur.n_infinite,
        }
    else:
        base |= {
            "unseen_count": cur.unseen,
            "unseen_examples": cur.unseen_examples,
        }
    if ref.n == 0 or cur.n == 0:
        empty = {
            (True, True): ("all_missing", False, "no values in either data set"),
            (True, False): (
                "all_missing_reference",
                True,
                "no values in the reference, values in the current data",
            ),
            (False, True): (
                "all_missing_current",
                True,
                "every value is missing in the current data",
            ),
        }[(ref.n == 0, cur.n == 0)]
        return ColumnDrift(
            **base,
            status=empty[0],
            drifted=empty[1],
            severity=_SEVERE if empty[1] else 0.0,
            message=empty[2],
        )
    settings = config.columns.get(column.name)
    chosen = settings.test if settings else None
    test: TestName
    if column.kind == "numeric":
        test = chosen or select_test("numeric", ref.n, cur.n, config)
        statistics, distribution, note = _numeric_evidence(
            column, ref, cur, with_ks_p_value=test == "ks"
        )
    else:
        statistics, distribution, n_cells, note = _categorical_evidence(
            column, ref, cur
        )
        test = chosen or select_test("categorical", ref.n, cur.n, config, n_cells)
    threshold = (settings.threshold if settings else None) or getattr(
        config.thresholds, test
    )
    score = {
        "ks": statistics.ks_p_value,
        "chi2": statistics.chi2_p_value,
        "wasserstein": statistics.wasserstein,
        "jensenshannon": statistics.jensenshannon,
        "psi": statistics.psi,
    }[test]
    assert score is not None
    drifted = score < threshold if test in P_VALUE_TESTS else score >= threshold
    return ColumnDrift(
        **base,
        test=test,
        automatic=not (settings and settings.test),
        score=score,
        threshold=threshold,
        drifted=bool(drifted),
        severity=severity(test, score, threshold),
        statistics=statistics,
        distribution=distribution,
        message=note,
    )


# --------------------------------------------------------------------- numeric


def _numeric_evidence(
    column: ColumnProfile,
    ref: NumericSummary,
    cur: NumericSummary,
    with_ks_p_value: bool,
) -> tuple[ColumnStatistics, Distribution, str | None]:
    edges = column.edges
    assert edges is not None
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
        # Above 10,000 values the p-value only matters when KS decides: there
        # scipy's kstwo.sf costs about 20 ms per column at 500,000 values.
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


# ----------------------------------------------------------------- categorical


def _categorical_evidence(
    column: ColumnProfile, ref: CategoricalSummary, cur: CategoricalSummary
) -> tuple[ColumnStatistics, Distribution, int, str | None]:
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


# ------------------------------------------------------------------------ gate


def check_drift(report: DriftReport, on_drift: str | None = None) -> DriftReport:
    """Act on a report as configured: ``fail`` raises, ``warn`` logs, ``flag`` only records.

    Args:
        report: the report to act on.
        on_drift: overrides ``report.config.on_drift``.

    Returns:
        The report, unchanged (so the gate can sit between two pipeline nodes).

    Raises:
        DriftDetectedError: drift was found and the mode is ``fail``.

    Example:
        >>> import pandas as pd
        >>> reference = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 40})
        >>> report = detect_drift(reference, reference * 3)
        >>> check_drift(report, on_drift="fail")
        Traceback (most recent call last):
        ...
        kedro_mlops.drift.errors.DriftDetectedError: Data drift: 1 of 1 feature columns drifted (share 1.00 >= 0.50): x (ks). Investigate the upstream data, retrain on recent data, or adjust the drift settings (drift.thresholds, drift.columns, drift.on_drift).
    """
    mode = on_drift or report.config.on_drift
    if mode not in ("fail", "warn", "flag"):
        raise ValueError(f"on_drift must be fail, warn or flag, not {mode!r}")
    if not report.drift_detected or mode == "flag":
        return report
    drifted = ", ".join(
        f"{c.column} ({c.test or c.status})" for c in report.columns if c.drifted
    )
    parts = [
        f"{len(report.drifted_columns)} of {len(report.columns)} feature columns "
        f"drifted (share {report.drift_share:.2f} "
        f"{'>=' if report.dataset_drift else '<'} {report.share_threshold:.2f})"
        + (f": {drifted}" if drifted else "")
    ]
    if report.prediction is not None and report.prediction.drifted:
        parts.append(f"prediction column '{report.prediction.column}' drifted")
    message = (
        "Data drift: "
        + "; ".join(parts)
        + ". Investigate the upstream data, retrain on recent data, or adjust the "
        "drift settings (drift.thresholds, drift.columns, drift.on_drift)."
    )
    if mode == "fail":
        raise DriftDetectedError(message)
    logger.warning(message)
    return report
