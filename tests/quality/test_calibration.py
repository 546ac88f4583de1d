"""The Brier score, the reliability bins and the optional calibration."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from kedro_mlops.quality.calibration import (
    calibrated,
    calibration_report,
    plot_reliability,
)


def test_the_brier_score_and_bins_match_scikit_learn():
    rng = np.random.default_rng(3)
    probability = rng.uniform(0, 1, 500)
    truth = (rng.uniform(0, 1, 500) < probability**1.5).astype(int)
    report = calibration_report(truth, probability, bins=10)
    assert report["brier_score"] == pytest.approx(brier_score_loss(truth, probability))
    observed, predicted = calibration_curve(truth, probability, n_bins=10)
    assert [b["fraction_positive"] for b in report["bins"]] == pytest.approx(observed)
    assert [b["mean_predicted"] for b in report["bins"]] == pytest.approx(predicted)
    assert sum(b["rows"] for b in report["bins"]) == 500
    assert report["calibrated"] is False
    assert report["method"] is None


def test_a_hand_made_case():
    report = calibration_report([0, 1, 1, 0, 1], [0.0, 1.0, 0.7, 0.3, 0.9], bins=2)
    # (0 + 0 + 0.09 + 0.09 + 0.01) / 5
    assert report["brier_score"] == pytest.approx(0.038)
    assert report["bins"] == [
        {"mean_predicted": pytest.approx(0.15), "fraction_positive": 0.0, "rows": 2},
        {"mean_predicted": pytest.approx(2.6 / 3), "fraction_positive": 1.0, "rows": 3},
    ]


def test_calibration_is_off_without_a_method_and_recorded_with_one():
    plain = LogisticRegression()
    assert calibrated(plain, {"method": None, "cv": 3}) is plain
    wrapped = calibrated(plain, {"method": "isotonic", "cv": 3})
    assert isinstance(wrapped, CalibratedClassifierCV)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 2))
    labels = (features[:, 0] + rng.normal(size=300) > 0).astype(int)
    wrapped.fit(features, labels)
    report = calibration_report(
        labels, wrapped.predict_proba(features)[:, 1], model=wrapped
    )
    assert (report["calibrated"], report["method"]) == (True, "isotonic")


def test_the_reliability_diagram_is_drawn(tmp_path):
    report = calibration_report([0, 1, 1, 0], [0.2, 0.8, 0.6, 0.4], bins=4)
    figure = plot_reliability(report, (4, 3), 50)
    figure.savefig(tmp_path / "reliability.png")
    assert (tmp_path / "reliability.png").stat().st_size > 1000
    axes = figure.axes[0]
    drawn = axes.lines[1].get_xydata()
    assert drawn.tolist() == [
        [b["mean_predicted"], b["fraction_positive"]] for b in report["bins"]
    ]
