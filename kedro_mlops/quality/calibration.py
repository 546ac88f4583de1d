"""Calibration: are the predicted probabilities the rates they claim?

:func:`calibration_report` gives the Brier score and the reliability bins of
the test set (``quality/calibration.json``), :func:`plot_reliability` draws
them (``quality/reliability.png``). :func:`calibrated` wraps an unfitted
classifier in scikit-learn's ``CalibratedClassifierCV`` when the parameters
ask for it.

Example:
    >>> report = calibration_report([0, 1, 1, 0], [0.2, 0.8, 0.6, 0.4], bins=2)
    >>> report["brier_score"], [b["rows"] for b in report["bins"]]
    (0.1, [2, 2])
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from pydantic import Field


class CalibrationParams(TypedDict):
    """``train.calibration``: ``method`` null (off), ``sigmoid`` or ``isotonic``;
    ``cv`` folds of the training rows."""

    method: Literal["sigmoid", "isotonic"] | None
    cv: Annotated[int, Field(ge=2)]


def calibrated(estimator: Any, params: CalibrationParams) -> Any:
    """``estimator``, or ``CalibratedClassifierCV`` around it when a method is set."""
    if params["method"] is None:
        return estimator
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(estimator, method=params["method"], cv=params["cv"])


def calibration_method(model: Any) -> str | None:
    """The method of a ``CalibratedClassifierCV`` (shared or not), else None."""
    from sklearn.calibration import CalibratedClassifierCV

    return model.method if isinstance(model, CalibratedClassifierCV) else None


def calibration_report(
    truth: Any, probability: Any, bins: int = 10, model: Any = None
) -> dict[str, Any]:
    """``{"brier_score", "bins", "calibrated", "method"}`` of the test set.

    The bins split [0, 1] into ``bins`` equal widths (a probability of exactly
    1 falls in the last); empty bins are left out. Each bin has the mean
    predicted probability, the fraction of positives and its row count.
    """
    import numpy as np

    if bins < 1:
        raise ValueError(f"bins: {bins} must be 1 or more")
    y = np.asarray(truth, dtype=float)
    p = np.asarray(probability, dtype=float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = index == b
        if inside.any():
            rows.append(
                {
                    "mean_predicted": float(p[inside].mean()),
                    "fraction_positive": float(y[inside].mean()),
                    "rows": int(inside.sum()),
                }
            )
    method = calibration_method(model) if model is not None else None
    return {
        "brier_score": float(np.mean((p - y) ** 2)),
        "bins": rows,
        "calibrated": method is not None,
        "method": method,
    }


def plot_reliability(
    report: dict[str, Any], figure_size: Any = (6, 5), dpi: int = 100
) -> Any:
    """The reliability diagram of a :func:`calibration_report` (a Figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=figure_size, dpi=dpi)
    axes.plot(
        [0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated"
    )
    predicted = [b["mean_predicted"] for b in report["bins"]]
    observed = [b["fraction_positive"] for b in report["bins"]]
    label = "model" if not report["calibrated"] else f"model ({report['method']})"
    axes.plot(predicted, observed, marker="o", label=label)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("mean predicted probability")
    axes.set_ylabel("fraction of positives")
    axes.set_title(f"Reliability (test set), Brier score {report['brier_score']:.4f}")
    axes.legend(loc="upper left")
    figure.tight_layout()
    return figure
