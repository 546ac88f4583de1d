"""Two-sample drift statistics on plain arrays, equal to scipy's where scipy has them.

These functions take raw values (numeric statistics) or per-category counts
(categorical statistics). The drift engine computes the same statistics from
mergeable summaries (:mod:`kedro_mlops.drift.evidence`); the functions here are
the reference definitions, and the tests hold them to scipy:

* :func:`ks_2samp`: two-sample Kolmogorov-Smirnov, two-sided. The p-value is
  scipy's: exact when both samples have at most 10,000 values (scipy's
  ``method="auto"`` rule), otherwise Smirnov's asymptotic distribution
  ``kstwo.sf(D, round(n*m/(n+m)))``, exactly as ``scipy.stats.ks_2samp`` does.
* :func:`wasserstein_distance`: the first Wasserstein (earth mover's) distance,
  optionally divided by the reference standard deviation (``ddof=0``).
* :func:`jensenshannon`: Jensen-Shannon *distance* (square root of the
  divergence), natural logarithm, as ``scipy.spatial.distance.jensenshannon``.
* :func:`psi`: population stability index with empty bins floored at
  :data:`PSI_EPSILON`.
* :func:`chi2_contingency`: Pearson's chi-square test of homogeneity of a
  2 x k table (reference counts vs current counts), with scipy's default Yates
  correction when the table has one degree of freedom.

scipy is imported inside the functions that need it, never at module import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: scipy's ``ks_2samp(method="auto")`` computes the exact p-value when both
#: samples have at most this many values, the asymptotic one otherwise.
KS_EXACT_MAX_N = 10_000

#: Share given to an empty bin in :func:`psi` (the logarithm of 0 is undefined).
PSI_EPSILON = 1e-4


@dataclass(frozen=True)
class TestResult:
    """A test statistic with its p-value.

    Example:
        >>> TestResult(statistic=0.5, p_value=0.01).p_value
        0.01
    """

    statistic: float
    p_value: float


def _as_float_array(values: object) -> np.ndarray:
    array = np.asarray(values, dtype="float64").ravel()
    return array[np.isfinite(array)]


def ks_2samp(reference: object, current: object) -> TestResult:
    """Two-sided two-sample Kolmogorov-Smirnov test, equal to scipy's default.

    Non-finite values (NaN, +-inf) are dropped first. Up to
    :data:`KS_EXACT_MAX_N` values per sample the result is scipy's own exact
    computation; beyond, the statistic comes from one sort per sample and the
    p-value from scipy's asymptotic formula, which is what ``scipy.stats.ks_2samp``
    does for samples that large.

    Args:
        reference: the reference values.
        current: the current values.

    Returns:
        The KS statistic ``D`` (largest distance between the two empirical CDFs)
        and its p-value.

    Raises:
        ValueError: a sample has no finite value.

    Example:
        >>> result = ks_2samp([1.0, 2.0, 3.0, 4.0], [3.5, 4.5, 5.5, 6.5])
        >>> round(result.statistic, 3), round(result.p_value, 3)
        (0.75, 0.229)
    """
    x, y = _as_float_array(reference), _as_float_array(current)
    if x.size == 0 or y.size == 0:
        raise ValueError("ks_2samp needs at least one finite value in each sample")
    if max(x.size, y.size) <= KS_EXACT_MAX_N:
        from scipy import stats

        result = stats.ks_2samp(x, y)
        return TestResult(float(result.statistic), float(result.pvalue))
    values_x, counts_x = _unique_counts(np.sort(x))
    values_y, counts_y = _unique_counts(np.sort(y))
    statistic = ks_statistic_weighted(values_x, counts_x, values_y, counts_y)
    return TestResult(statistic, ks_p_value(statistic, x.size, y.size))


def _unique_counts(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and their counts of an already sorted array."""
    if sorted_values.size == 0:
        return sorted_values, np.zeros(0, dtype="int64")
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    counts = np.diff(np.r_[starts, sorted_values.size])
    return sorted_values[starts], counts.astype("int64")


def ks_statistic_weighted(
    values_x: np.ndarray,
    counts_x: np.ndarray,
    values_y: np.ndarray,
    counts_y: np.ndarray,
) -> float:
    """KS statistic of two samples given as sorted distinct values with counts.

    Example:
        >>> ks_statistic_weighted(
        ...     np.array([1.0, 2.0]), np.array([1, 1]), np.array([2.0]), np.array([2])
        ... )
        0.5
    """
    _, cdf_x, cdf_y = _cdfs_on_union(values_x, counts_x, values_y, counts_y)
    return float(np.max(np.abs(cdf_x - cdf_y), initial=0.0))


def _cdfs_on_union(
    values_x: np.ndarray,
    counts_x: np.ndarray,
    values_y: np.ndarray,
    counts_y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both empirical CDFs evaluated on the union of the two samples' values."""
    support = np.union1d(values_x, values_y)
    return (
        support,
        _weighted_cdf(support, values_x, counts_x),
        _weighted_cdf(support, values_y, counts_y),
    )


def _weighted_cdf(
    support: np.ndarray, values: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Right-continuous empirical CDF of (values, counts) at each support point."""
    cumulative = np.r_[0, np.cumsum(counts)]
    return cumulative[np.searchsorted(values, support, side="right")] / cumulative[-1]


def ks_p_value(statistic: float, n_reference: int, n_current: int) -> float:
    """Asymptotic two-sided KS p-value, as scipy's ``ks_2samp`` computes it.

    This is scipy's formula for samples above :data:`KS_EXACT_MAX_N` values:
    ``kstwo.sf(D, round(n*m/(n+m)))``.

    Example:
        >>> round(ks_p_value(0.004, 100_000, 100_000), 4)
        0.3994
    """
    from scipy import stats

    big, small = sorted([float(n_reference), float(n_current)], reverse=True)
    effective_n = np.round(big * small / (big + small))
    return float(np.clip(stats.kstwo.sf(statistic, effective_n), 0.0, 1.0))


def wasserstein_distance(
    reference: object, current: object, *, normalize: bool = True
) -> float:
    """First Wasserstein distance, by default in reference standard deviations.

    Non-finite values are dropped first. With ``normalize=False`` this equals
    ``scipy.stats.wasserstein_distance(reference, current)``. With
    ``normalize=True`` (the drift score) it is divided by the reference
    standard deviation (``ddof=0``), so 0.1 means "the mass moved by a tenth of
    a standard deviation on average"; a constant reference gives 0 when the
    current values equal the constant and ``inf`` otherwise.

    Example:
        >>> wasserstein_distance([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], normalize=False)
        1.0
    """
    x, y = np.sort(_as_float_array(reference)), np.sort(_as_float_array(current))
    if x.size == 0 or y.size == 0:
        raise ValueError(
            "wasserstein_distance needs at least one finite value in each sample"
        )
    values_x, counts_x = _unique_counts(x)
    values_y, counts_y = _unique_counts(y)
    distance = wasserstein_weighted(values_x, counts_x, values_y, counts_y)
    if not normalize:
        return distance
    scale = float(np.std(x))
    if scale == 0.0:
        return 0.0 if distance == 0.0 else math.inf
    return distance / scale


def wasserstein_weighted(
    values_x: np.ndarray,
    counts_x: np.ndarray,
    values_y: np.ndarray,
    counts_y: np.ndarray,
) -> float:
    """Wasserstein-1 distance of two samples given as sorted values with counts.

    Example:
        >>> wasserstein_weighted(
        ...     np.array([0.0]), np.array([3]), np.array([2.0]), np.array([1])
        ... )
        2.0
    """
    support, cdf_x, cdf_y = _cdfs_on_union(values_x, counts_x, values_y, counts_y)
    if support.size < 2:
        return 0.0
    return float(np.sum(np.abs(cdf_x[:-1] - cdf_y[:-1]) * np.diff(support)))


def _shares(counts: object) -> np.ndarray:
    array = np.asarray(counts, dtype="float64").ravel()
    if array.size == 0 or np.any(array < 0) or not np.isfinite(array).all():
        raise ValueError("expected non-negative, finite counts")
    total = array.sum()
    if total <= 0:
        raise ValueError("expected counts that are not all zero")
    return array / total


def jensenshannon(reference_counts: object, current_counts: object) -> float:
    """Jensen-Shannon distance (natural log) between two count vectors.

    Equal to ``scipy.spatial.distance.jensenshannon(p, q)``: both vectors are
    normalised to sum to one; the result is the square root of the divergence
    and lies in ``[0, sqrt(ln 2)]`` (about 0.833).

    Example:
        >>> round(jensenshannon([50, 30, 20], [70, 20, 10]), 4)
        0.148
    """
    p, q = _shares(reference_counts), _shares(current_counts)
    if p.shape != q.shape:
        raise ValueError("the two count vectors must have the same length")
    m = (p + q) / 2.0
    divergence = (_relative_entropy(p, m).sum() + _relative_entropy(q, m).sum()) / 2.0
    return float(np.sqrt(max(divergence, 0.0)))


def _relative_entropy(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    out = np.zeros_like(p)
    positive = p > 0
    out[positive] = p[positive] * np.log(p[positive] / m[positive])
    return out


def psi(
    reference_counts: object, current_counts: object, epsilon: float = PSI_EPSILON
) -> float:
    """Population stability index between two count vectors over the same bins.

    ``PSI = sum((q - p) * ln(q / p))`` over the bins, with ``p`` and ``q`` the
    reference and current shares; a share of zero is replaced by ``epsilon``
    (1e-4 by default) so that an empty bin counts as very rare, not as
    impossible. Conventional reading: below 0.1 stable, 0.1 to 0.25 moderate
    shift, above 0.25 major shift.

    Example:
        >>> round(psi([50, 50], [40, 60]), 4)
        0.0405
    """
    p, q = _shares(reference_counts), _shares(current_counts)
    if p.shape != q.shape:
        raise ValueError("the two count vectors must have the same length")
    p, q = np.maximum(p, epsilon), np.maximum(q, epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def chi2_contingency(reference_counts: object, current_counts: object) -> TestResult:
    """Chi-square test that two count vectors come from the same distribution.

    The 2 x k table (reference row, current row) is tested for homogeneity as
    ``scipy.stats.chi2_contingency(table)`` does by default, including Yates'
    continuity correction when there is one degree of freedom. Categories empty
    in both rows carry no information and are dropped first (scipy would reject
    the table); with a single category left the statistic is 0 and the p-value 1.

    Unlike a goodness-of-fit test against the reference shares, this accounts
    for the sampling noise of the reference too, so it does not flag unchanged
    high-cardinality columns at large sample sizes.

    Example:
        >>> result = chi2_contingency([50, 30, 20], [70, 20, 10])
        >>> round(result.statistic, 3), round(result.p_value, 4)
        (8.667, 0.0131)
    """
    from scipy import stats

    ref = np.asarray(reference_counts, dtype="float64").ravel()
    cur = np.asarray(current_counts, dtype="float64").ravel()
    if ref.shape != cur.shape:
        raise ValueError("the two count vectors must have the same length")
    if ref.sum() <= 0 or cur.sum() <= 0:
        raise ValueError("each count vector needs at least one count")
    keep = (ref + cur) > 0
    observed = np.vstack([ref[keep], cur[keep]])
    dof = observed.shape[1] - 1
    if dof == 0:
        return TestResult(0.0, 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    if dof == 1:  # Yates' correction, as scipy's default correction=True
        difference = expected - observed
        observed = observed + np.minimum(0.5, np.abs(difference)) * np.sign(difference)
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return TestResult(statistic, float(stats.chi2.sf(statistic, dof)))
