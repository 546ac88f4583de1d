"""The automatic rule: crossover sizes and the test it selects."""

from __future__ import annotations

import pytest
from scipy import stats

from kedro_mlops.drift import DriftConfig, crossover_size, select_test


def test_crossover_sizes_follow_the_documented_formulas():
    # numeric: (c(alpha) / (phi(0) * t))^2 with c(0.05) = 1.3581
    assert crossover_size("numeric") == pytest.approx(
        (1.3581015 / (stats.norm.pdf(0) * 0.1)) ** 2, rel=1e-6
    )
    # categorical: chi2 quantile / (8 t^2)
    for k in (2, 3, 50, 1001):
        assert crossover_size("categorical", n_categories=k) == pytest.approx(
            stats.chi2.ppf(0.95, k - 1) / (8 * 0.05**2)
        )
    # stricter thresholds move the switch
    strict = DriftConfig(thresholds={"ks": 0.01})
    assert crossover_size("numeric", strict) > crossover_size("numeric")


def test_select_test_by_kind_and_sample_size():
    assert select_test("numeric", 1_000, 1_000) == "ks"  # effective size 500
    assert select_test("numeric", 3_000, 3_000) == "wasserstein"  # 1,500
    assert select_test("categorical", 400, 400, n_categories=3) == "chi2"  # 200
    assert select_test("categorical", 1_000, 1_000, n_categories=3) == "jensenshannon"
    # many categories need more rows before the distance can be trusted
    assert select_test("categorical", 10_000, 10_000, n_categories=1000) == "chi2"
    assert select_test("boolean", 10_000, 10_000) == "jensenshannon"
