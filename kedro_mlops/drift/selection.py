"""Which statistic decides a column: the test on small samples, the distance on large.

Every column has a p-value test (KS for numbers, chi-square for categories)
and a distance (Wasserstein in reference standard deviations for numbers,
Jensen-Shannon for categories). The automatic rule lets the test decide on
small samples, where a difference at the distance threshold can be sampling
noise, and the distance on large samples, where the test flags differences far
below anything material. It switches at the sample size where a difference
exactly at the distance threshold becomes significant at the test's level
(:func:`crossover_size`; the derivation is in docs/drift.md).

Example:
    >>> select_test("numeric", 400, 400), select_test("numeric", 50_000, 50_000)
    ('ks', 'wasserstein')
"""

from __future__ import annotations

import math

from .config import DriftConfig, TestName


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
