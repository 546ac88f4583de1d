"""Evaluate nodes: metrics and plots on the held-out test set."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from pydantic import Field, PositiveFloat, PositiveInt  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from {{ cookiecutter.python_package }}.model_io import (  # noqa: E402
    binary_labels,
    prediction_column,
    probability_column,
)


class EvaluateParams(TypedDict):
    """`evaluate` in conf/base/parameters_evaluate.yml (kedro-mlops checks it before a run)."""

    figure_size: Annotated[list[PositiveFloat], Field(min_length=2, max_length=2)]
    figure_dpi: PositiveInt


def evaluate_model(
    test: pd.DataFrame, predictions: pd.DataFrame, target: dict[str, Any]
) -> dict[str, float]:
    """Classification metrics, with a majority-class baseline to compare with.

    ``target`` is the schema's ``target`` entry: its column and positive class.
    """
    truth = binary_labels(test, target)
    probability = predictions[probability_column(target)]
    decision = predictions[prediction_column(target)]
    majority = int(truth.mean() >= 0.5)
    return {
        "accuracy": float(skm.accuracy_score(truth, decision)),
        "precision": float(skm.precision_score(truth, decision, zero_division=0)),
        "recall": float(skm.recall_score(truth, decision)),
        "f1": float(skm.f1_score(truth, decision)),
        "roc_auc": float(skm.roc_auc_score(truth, probability)),
        "log_loss": float(skm.log_loss(truth, probability)),
        "baseline_accuracy": float((truth == majority).mean()),
        "test_rows": float(len(truth)),
    }


def format_for_tracking(metrics: dict[str, float]) -> dict[str, dict[str, float]]:
    """Shape the metrics as kedro-mlflow's metrics dataset expects them."""
    return {name: {"value": value, "step": 0} for name, value in metrics.items()}


def plot_confusion_matrix(
    test: pd.DataFrame,
    predictions: pd.DataFrame,
    target: dict[str, Any],
    params: EvaluateParams,
) -> plt.Figure:
    figure, axes = plt.subplots(figsize=params["figure_size"], dpi=params["figure_dpi"])
    skm.ConfusionMatrixDisplay.from_predictions(
        binary_labels(test, target),
        predictions[prediction_column(target)],
        ax=axes,
        colorbar=False,
    )
    axes.set_title(f"Confusion matrix: {target['column']} (test set)")
    figure.tight_layout()
    return figure


def plot_roc_curve(
    test: pd.DataFrame,
    predictions: pd.DataFrame,
    target: dict[str, Any],
    params: EvaluateParams,
) -> plt.Figure:
    figure, axes = plt.subplots(figsize=params["figure_size"], dpi=params["figure_dpi"])
    skm.RocCurveDisplay.from_predictions(
        binary_labels(test, target), predictions[probability_column(target)], ax=axes
    )
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axes.set_title(f"ROC curve: {target['column']} (test set)")
    axes.legend(loc="lower right")
    figure.tight_layout()
    return figure
