"""The drift statistics against scipy on random data, and PSI by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import spatial, stats

from kedro_mlops.drift import statistics as st

SIZES = [(5, 7), (40, 40), (300, 1_000), (2_000, 2_000), (9_000, 10_000)]
LARGE_SIZES = [(10_001, 20_000), (50_000, 30_000)]


def _samples(seed: int, n: int, m: int, shift: float = 0.0, discrete: bool = False):
    rng = np.random.default_rng(seed)
    if discrete:
        return rng.poisson(2.0, n).astype(float), rng.poisson(2.0 + shift, m).astype(
            float
        )
    return rng.normal(0, 1, n), rng.normal(shift, 1.3, m)


@pytest.mark.parametrize(("n", "m"), SIZES + LARGE_SIZES)
@pytest.mark.parametrize("discrete", [False, True])
def test_ks_equals_scipy(n, m, discrete):
    # given samples of many sizes, on both sides of scipy's exact/asymptotic switch
    for seed, shift in [(1, 0.0), (2, 0.05), (3, 0.3)]:
        x, y = _samples(seed, n, m, shift, discrete)
        # when both compute the two-sample KS test
        ours = st.ks_2samp(x, y)
        theirs = stats.ks_2samp(x, y)
        # then statistic and p-value agree to 1e-9
        assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
        assert ours.p_value == pytest.approx(theirs.pvalue, abs=1e-9)


def test_ks_drops_non_finite_values_and_rejects_empty_samples():
    x = np.array([1.0, 2.0, np.nan, np.inf, 3.0])
    y = np.array([2.5, -np.inf, 3.5])
    assert st.ks_2samp(x, y) == st.ks_2samp([1.0, 2.0, 3.0], [2.5, 3.5])
    with pytest.raises(ValueError, match="finite"):
        st.ks_2samp([np.nan], [1.0])


@pytest.mark.parametrize(("n", "m"), SIZES + LARGE_SIZES)
def test_wasserstein_equals_scipy(n, m):
    for seed, discrete in [(4, False), (5, True)]:
        x, y = _samples(seed, n, m, 0.2, discrete)
        raw = st.wasserstein_distance(x, y, normalize=False)
        assert raw == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-9)
        normed = st.wasserstein_distance(x, y)
        assert normed == pytest.approx(raw / np.std(x), rel=1e-12)


def test_wasserstein_of_a_constant_reference():
    assert st.wasserstein_distance([3.0, 3.0], [3.0]) == 0.0
    assert st.wasserstein_distance([3.0, 3.0], [3.0, 4.0]) == math.inf


@pytest.mark.parametrize("k", [2, 3, 10, 200])
def test_jensenshannon_equals_scipy(k):
    rng = np.random.default_rng(k)
    for _ in range(5):
        p = rng.integers(0, 50, k)
        q = rng.integers(0, 50, k)
        p[0], q[1] = 1, 1  # neither vector is all zeros
        assert st.jensenshannon(p, q) == pytest.approx(
            spatial.distance.jensenshannon(p, q), abs=1e-12
        )


@pytest.mark.parametrize("k", [2, 3, 10, 200])
def test_chi2_contingency_equals_scipy(k):
    rng = np.random.default_rng(100 + k)
    for _ in range(5):
        ref = rng.integers(1, 400, k)
        cur = rng.integers(0, 400, k)
        ours = st.chi2_contingency(ref, cur)
        theirs = stats.chi2_contingency(np.vstack([ref, cur]))
        assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
        assert ours.p_value == pytest.approx(theirs.pvalue, abs=1e-12)


def test_chi2_contingency_drops_categories_empty_on_both_sides():
    ours = st.chi2_contingency([10, 0, 5, 7], [3, 0, 9, 1])
    theirs = stats.chi2_contingency([[10, 5, 7], [3, 9, 1]])
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=1e-12)
    assert st.chi2_contingency([10, 0], [4, 0]) == st.TestResult(0.0, 1.0)


def test_psi_by_hand():
    # given two 4-bin histograms, one bin empty in the current data
    reference = [25, 25, 25, 25]
    current = [40, 30, 30, 0]
    # when PSI is computed, then it is the hand-computed value:
    #   (0.40-0.25) ln(0.40/0.25) + 2 * (0.30-0.25) ln(0.30/0.25)
    #   + (0.0001-0.25) ln(0.0001/0.25)        (empty bin floored at 1e-4)
    expected = (
        0.15 * math.log(0.40 / 0.25)
        + 2 * 0.05 * math.log(0.30 / 0.25)
        + (1e-4 - 0.25) * math.log(1e-4 / 0.25)
    )
    assert st.psi(reference, current) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(2.0440, abs=1e-4)
    assert st.psi(reference, reference) == 0.0


def test_count_statistics_reject_bad_input():
    with pytest.raises(ValueError, match="same length"):
        st.psi([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="not all zero"):
        st.jensenshannon([0, 0], [1, 2])
