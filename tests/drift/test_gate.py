"""The gate: fail raises, warn logs, flag only records."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from kedro_mlops.drift import DriftDetectedError, check_drift, detect_drift

from .frames import sample_frame


def test_check_drift_fail_warn_flag(caplog):
    rng = np.random.default_rng(14)
    reference = sample_frame(rng, 300)
    report = detect_drift(
        reference, sample_frame(rng, 300, mean=2, mix=[0.1, 0.1, 0.8])
    )
    with pytest.raises(DriftDetectedError, match="normal"):
        check_drift(report, on_drift="fail")
    with caplog.at_level(logging.WARNING, logger="kedro_mlops.drift.gate"):
        assert check_drift(report) is report  # default: warn
    assert "Data drift" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kedro_mlops.drift.gate"):
        check_drift(report, on_drift="flag")
    assert caplog.text == ""
    calm = detect_drift(reference, reference)
    assert check_drift(calm, on_drift="fail") is calm
