"""Evaluate nodes: metrics and plots on the held-out test set."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from kedro_mlops.quality import calibration, importance, slices, threshold  # noqa: E402
from pydantic import Field, PositiveFloat, PositiveInt  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from {{ cookiecutter.python_package }}.model_io import (  # noqa: E402
    InferParams,
    binary_labels,
    feature_columns,
    prediction_column,
    probability_column,
)


class EvaluateParams(TypedDict):
    """`evaluate` in conf/base/parameters_evaluate.yml (kedro-mlops checks it before a run)."""

    figure_size: Annotated[list[PositiveFloat], Field(min_length=2, max_length=2)]
    figure_dpi: PositiveInt
    calibration_bins: PositiveInt
    threshold: threshold.ThresholdParams
    importance: importance.ImportanceParams
    slices: slices.SliceParams


def choose_threshold(
    test: pd.DataFrame,
    scores: pd.DataFrame,
    target: dict[str, Any],
    infer: InferParams,
    params: threshold.ThresholdParams,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The decision threshold: the cheapest on the test set when `costs` are
    set, else `infer.threshold`. Returned twice: the model's input, and the
    record logged with the run."""
    record = threshold.choose_threshold(
        binary_labels(test, target),
        scores[probability_column(target)],
        infer["threshold"],
        params["costs"],
    )
    return record, record


def evaluate_model(
    test: pd.DataFrame,
    predictions: pd.DataFrame,
    target: dict[str, Any],
    decision_threshold: dict[str, Any],
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
        "brier_score": float(skm.brier_score_loss(truth, probability)),
        "threshold": float(decision_threshold["threshold"]),
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


def check_calibration(
    test: pd.DataFrame,
    predictions: pd.DataFrame,
    model: Any,
    target: dict[str, Any],
    params: EvaluateParams,
) -> tuple[dict[str, Any], plt.Figure]:
    """The Brier score and reliability bins of the test set, and their plot."""
    report = calibration.calibration_report(
        binary_labels(test, target),
        predictions[probability_column(target)],
        bins=params["calibration_bins"],
        model=model,
    )
    figure = calibration.plot_reliability(
        report, params["figure_size"], params["figure_dpi"]
    )
    return report, figure


def explain_model(
    test: pd.DataFrame,
    preprocessor: Any,
    model: Any,
    schema: dict[str, Any],
    params: EvaluateParams,
) -> tuple[pd.DataFrame, plt.Figure]:
    """Permutation importance of each input column on the test set, and its plot."""
    table = importance.permutation_importances(
        preprocessor,
        model,
        test[feature_columns(schema)],
        binary_labels(test, schema["target"]),
        params["importance"],
    )
    figure = importance.plot_importance(
        table, params["figure_size"], params["figure_dpi"]
    )
    return table, figure


def explain_with_shap(
    test: pd.DataFrame,
    preprocessor: Any,
    model: Any,
    schema: dict[str, Any],
    params: EvaluateParams,
) -> tuple[pd.DataFrame, plt.Figure]:
    """Mean absolute SHAP value of each input column on the test set, and its
    plot (only with the shap extra installed: see pipeline.py)."""
    table = importance.shap_importances(
        preprocessor, model, test[feature_columns(schema)], params["importance"]
    )
    figure = importance.plot_shap(table, params["figure_size"], params["figure_dpi"])
    return table, figure


def evaluate_slices(
    test: pd.DataFrame,
    predictions: pd.DataFrame,
    schema: dict[str, Any],
    params: slices.SliceParams,
) -> tuple[dict[str, Any], dict[str, float]]:
    """ROC AUC of each slice of the test set, and how many are flagged."""
    target = schema["target"]
    report = slices.slice_report(
        test,
        binary_labels(test, target),
        predictions[probability_column(target)],
        predictions[prediction_column(target)],
        schema=schema,
        params=params,
    )
    return report, {"flagged": float(slices.flagged_count(report))}
