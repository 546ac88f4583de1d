"""Decisions on synthetic shifts, the false-positive rate, and awkward data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kedro_mlops.drift import DriftInputError, detect_drift

from .frames import sample_frame

# ------------------------------------------------------------------- decisions


@pytest.mark.parametrize("n", [400, 50_000])
@pytest.mark.parametrize(
    ("shift", "column"),
    [
        ({"mean": 0.4}, "normal"),
        ({"scale": 1.5}, "normal"),
        ({"mix": [0.3, 0.3, 0.4]}, "plan"),
    ],
)
def test_synthetic_shifts_are_flagged(n, shift, column):
    # given a reference and a current frame where exactly one column shifted
    rng = np.random.default_rng(7)
    reference, current = sample_frame(rng, n), sample_frame(rng, n, **shift)
    # when drift is detected
    report = detect_drift(reference, current)
    # then that column drifted, most severely, judged by the rule's test for that
    # size (at 400 rows an unshifted column may drift by chance: 5% of the time)
    assert report.columns[0].column == column and report.columns[0].drifted
    if n == 50_000:
        assert report.drifted_columns == [column]
    expected = {400: {"normal": "ks", "plan": "chi2"}}.get(
        n, {"normal": "wasserstein", "plan": "jensenshannon"}
    )
    assert report.column(column).test == expected[column]


def test_large_samples_ignore_immaterial_differences():
    # given 200,000 rows per side and a 0.02-sd mean shift: KS calls it significant
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 200_000)})
    current = pd.DataFrame({"x": rng.normal(0.02, 1, 200_000)})
    by_ks = detect_drift(reference, current, {"columns": {"x": {"test": "ks"}}})
    assert by_ks.column("x").drifted and by_ks.column("x").score < 1e-6
    # then the rule judges by the distance, which stays far below its threshold
    column = detect_drift(reference, current).column("x")
    assert column.test == "wasserstein" and not column.drifted
    assert column.score == pytest.approx(0.02, abs=0.01)


def test_false_positive_rate_matches_the_level_without_drift():
    # given 200 seeds of reference/current frames from the same distribution
    flags = {"normal": 0, "lognormal": 0, "plan": 0}
    seeds = 200
    for seed in range(seeds):
        rng = np.random.default_rng(10_000 + seed)
        report = detect_drift(sample_frame(rng, 400), sample_frame(rng, 300))
        for column in report.columns:
            assert column.test in ("ks", "chi2")
            flags[column.column] += column.drifted
    # then the flag rate is the configured 5%, within 3.5 binomial standard errors
    numeric_rate = (flags["normal"] + flags["lognormal"]) / (2 * seeds)
    categorical_rate = flags["plan"] / seeds
    for rate, trials in ((numeric_rate, 2 * seeds), (categorical_rate, seeds)):
        tolerance = 3.5 * math.sqrt(0.05 * 0.95 / trials)
        assert abs(rate - 0.05) <= tolerance, flags


def test_dataset_decision_uses_the_share_threshold():
    rng = np.random.default_rng(11)
    reference = sample_frame(rng, 500)
    current = sample_frame(rng, 500, mean=1.0)  # one column of three
    assert not detect_drift(reference, current).dataset_drift
    report = detect_drift(reference, current, {"share_threshold": 0.3})
    assert report.dataset_drift and report.drift_share == pytest.approx(1 / 3)


def test_per_column_override_of_test_and_threshold():
    rng = np.random.default_rng(12)
    reference, current = sample_frame(rng, 2_000), sample_frame(rng, 2_000, mean=0.08)
    config = {
        "columns": {
            "normal": {"test": "psi", "threshold": 0.001},
            "plan": {"test": "chi2", "threshold": 0.5},
        }
    }
    report = detect_drift(reference, current, config)
    normal = report.column("normal")
    assert (normal.test, normal.threshold, normal.automatic) == ("psi", 0.001, False)
    assert normal.drifted and normal.score == normal.statistics.psi
    assert report.column("plan").test == "chi2"
    assert report.column("lognormal").automatic


def test_prediction_column_is_reported_separately():
    rng = np.random.default_rng(13)
    reference, current = sample_frame(rng, 500), sample_frame(rng, 500)
    reference["score"] = rng.uniform(0, 1, 500)
    current["score"] = rng.uniform(0.3, 1, 500)
    report = detect_drift(reference, current, {"prediction_column": "score"})
    assert report.prediction is not None and report.prediction.drifted
    assert report.prediction.role == "prediction"
    assert "score" not in [c.column for c in report.columns]
    assert report.drift_share == 0.0 and report.drift_detected


# ------------------------------------------------------------------ edge cases


def test_empty_current_frame_is_a_clear_error():
    reference = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(DriftInputError, match="current data has no rows"):
        detect_drift(reference, reference.iloc[:0])
    with pytest.raises(DriftInputError, match="reference data has no rows"):
        detect_drift(reference.iloc[:0], reference)


def test_column_missing_from_current_names_it():
    reference = pd.DataFrame({"x": [1.0, 2.0], "tenure": [3, 4]})
    with pytest.raises(DriftInputError, match=r"\['tenure'\].*ignore_columns"):
        detect_drift(reference, reference.drop(columns="tenure"))
    # the fix the message suggests works
    report = detect_drift(
        reference, reference.drop(columns="tenure"), {"ignore_columns": ["tenure"]}
    )
    assert report.skipped == {"tenure": "ignored by configuration"}


def test_new_current_columns_are_listed():
    reference = pd.DataFrame({"x": [1.0, 2.0]})
    report = detect_drift(reference, reference.assign(extra=1))
    assert report.new_columns == ["extra"]


def test_all_nan_columns():
    reference = pd.DataFrame({"x": [1.0, 2.0, 3.0], "empty": [np.nan] * 3})
    current = pd.DataFrame({"x": [np.nan] * 3, "empty": [np.nan] * 3})
    report = detect_drift(reference, current, {"share_threshold": 1.0})
    x, empty = report.column("x"), report.column("empty")
    assert (x.status, x.drifted, x.missing_share_change) == (
        "all_missing_current",
        True,
        1.0,
    )
    assert (empty.status, empty.drifted) == ("all_missing", False)
    back = detect_drift(current.assign(x=[np.nan] * 3), reference).column("x")
    assert (back.status, back.drifted) == ("all_missing_reference", True)


def test_constant_columns():
    reference = pd.DataFrame({"flat": [5.0] * 300, "label": ["a"] * 300})
    same = detect_drift(reference, reference)
    assert same.drifted_columns == []
    assert same.column("flat").statistics.wasserstein == 0.0
    changed = reference.assign(
        flat=[5.0] * 250 + [6.0] * 50, label=["a"] * 250 + ["b"] * 50
    )
    report = detect_drift(reference, changed)
    assert report.drifted_columns == ["flat", "label"] or set(
        report.drifted_columns
    ) == {
        "flat",
        "label",
    }
    assert report.column("flat").statistics.wasserstein == math.inf
    assert "constant" in report.column("flat").message
    # at large sizes the distance decides: infinite distance, still drift
    big = pd.DataFrame({"flat": [5.0] * 20_000})
    assert detect_drift(
        big, big.assign(flat=[5.0] * 19_000 + [6.0] * 1_000)
    ).dataset_drift


def test_dtype_change_is_drift_with_a_fix():
    reference = pd.DataFrame({"x": [1.0, 2.0, 3.0], "n": [1, 2, 3], "c": list("abc")})
    current = pd.DataFrame(
        {"x": ["1.0", "2.0", "oops"], "n": [1.0, 2.5, 3.0], "c": [1, 2, 3]}
    )
    report = detect_drift(reference, current, {"share_threshold": 1.0})
    x = report.column("x")
    assert (x.status, x.drifted) == ("dtype_changed", True)
    assert (
        "float64" in x.message and "'x'" in x.message and "ignore_columns" in x.message
    )
    assert report.column("n").status == "compared"  # int -> float is still numbers
    assert report.column("c").status == "dtype_changed"
    assert report.columns[0].status == "dtype_changed"  # most severe first


def test_infinities_are_counted_and_kept_out_of_the_statistics():
    rng = np.random.default_rng(15)
    values = rng.normal(size=500)
    reference = pd.DataFrame({"x": values})
    current = pd.DataFrame({"x": np.r_[values[:490], [np.inf] * 7, [-np.inf] * 3]})
    column = detect_drift(reference, current).column("x")
    assert (column.infinite_reference, column.infinite_current) == (0, 10)
    assert column.n_current == 490
    assert math.isfinite(column.statistics.wasserstein)
    assert column.statistics.ks_p_value == pytest.approx(
        stats.ks_2samp(values, values[:490]).pvalue, abs=1e-12
    )


def test_high_cardinality_categories_are_capped_and_grouped():
    rng = np.random.default_rng(16)
    levels = np.array([f"zip{i:05d}" for i in range(5_000)])
    reference = pd.DataFrame({"zip": rng.choice(levels, 60_000)})
    current = pd.DataFrame(
        {"zip": np.r_[rng.choice(levels, 54_000), ["new-zip"] * 6_000]}
    )
    column = detect_drift(reference, current, {"max_categories": 100}).column("zip")
    assert "max_categories (100): compared in 100 groups" in column.message
    assert column.drifted  # a tenth of the rows have a new category
    assert column.unseen_count == 6_000 and column.unseen_examples == {"new-zip": 6_000}
    assert column.distribution is not None and len(column.distribution.labels) <= 22
    # an unchanged high-cardinality column does not drift (grouping by hash does
    # not favour the categories that happen to be frequent in the reference)
    for seed in range(5):
        again = pd.DataFrame(
            {"zip": np.random.default_rng(seed).choice(levels, 60_000)}
        )
        for cap in (100, 1_000):
            report = detect_drift(reference, again, {"max_categories": cap})
            assert report.drifted_columns == [], (seed, cap)
