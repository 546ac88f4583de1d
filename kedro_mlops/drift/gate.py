"""The drift gate: act on a report as configured (fail, warn or flag).

Deciding and acting are apart so that a report can be stored, rendered and
logged whatever the gate then does: ``fail`` raises
:class:`~kedro_mlops.drift.errors.DriftDetectedError` (a pipeline stops),
``warn`` logs a warning, ``flag`` only leaves the decision in the report.
"""

from __future__ import annotations

import logging

from .errors import DriftDetectedError
from .report import DriftReport

logger = logging.getLogger(__name__)


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
        >>> from kedro_mlops.drift.decision import detect_drift
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
