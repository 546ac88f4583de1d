"""The evidence from summaries against scipy on the raw values, within the bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kedro_mlops.drift import detect_drift
from kedro_mlops.drift.profile import FINE_BINS


@pytest.mark.parametrize("n", [500, 8_000, 30_000, 200_000])
def test_summary_statistics_against_scipy_on_raw_values(n):
    # given continuous data (more distinct values than the cells resolve above
    # 10,000 rows) and integer data (few distinct values)
    rng = np.random.default_rng(n)
    reference = pd.DataFrame(
        {"x": rng.lognormal(0, 1, n), "k": rng.poisson(3, n).astype(float)}
    )
    current = pd.DataFrame(
        {"x": rng.lognormal(0.05, 1.1, n), "k": rng.poisson(3.1, n).astype(float)}
    )
    report = detect_drift(reference, current)
    for name in ("x", "k"):
        s = report.column(name).statistics
        exact = stats.ks_2samp(reference[name], current[name])
        wasserstein = stats.wasserstein_distance(reference[name], current[name]) / (
            reference[name].std(ddof=0)
        )
        # the summary never overstates D, and understates it by at most the bound
        assert s.ks_statistic <= exact.statistic + 1e-12
        assert exact.statistic - s.ks_statistic <= s.ks_error_bound + 1e-12
        assert s.ks_error_bound <= 1 / FINE_BINS + 1 / n
        assert abs(s.wasserstein - wasserstein) <= s.wasserstein_error_bound + 1e-9
        if s.ks_error_bound == 0:  # exact: the p-value is scipy's
            assert s.ks_p_value == pytest.approx(exact.pvalue, abs=1e-9)
    # integer data and small samples are summarised exactly
    assert report.column("k").statistics.ks_error_bound == 0
    if n <= 10_000:
        assert report.column("x").statistics.ks_error_bound == 0
