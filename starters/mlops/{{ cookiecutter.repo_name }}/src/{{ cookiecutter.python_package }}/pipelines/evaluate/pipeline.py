from kedro.pipeline import Node, Pipeline
from kedro_mlops.monitoring.performance import calibration_from_evaluation
from kedro_mlops.quality.importance import shap_available

from {{ cookiecutter.python_package }}.model_io import decide, score

from .nodes import (
    check_calibration,
    choose_threshold,
    evaluate_model,
    evaluate_slices,
    explain_model,
    explain_with_shap,
    format_for_tracking,
    plot_confusion_matrix,
    plot_roc_curve,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Score the test set as inference does, choose the decision threshold
    (inference then uses it), and measure the model."""
    nodes = [
        Node(
            score,
            inputs=["test_set", "preprocessor", "model", "params:schema"],
            outputs="test_scores",
            name="score_test_set",
        ),
        Node(
            choose_threshold,
            inputs=[
                "test_set",
                "test_scores",
                "params:schema.target",
                "params:infer",
                "params:evaluate.threshold",
            ],
            outputs=["decision_threshold", "threshold_report"],
            name="choose_threshold",
        ),
        Node(
            decide,
            inputs=["test_scores", "params:schema", "decision_threshold"],
            outputs="test_predictions",
            name="predict_test_set",
        ),
        Node(
            evaluate_model,
            inputs=[
                "test_set",
                "test_predictions",
                "params:schema.target",
                "decision_threshold",
            ],
            outputs="metrics",
            name="evaluate_model",
        ),
        Node(
            format_for_tracking,
            inputs="metrics",
            outputs="tracked_metrics",
            name="log_metrics_to_mlflow",
        ),
        Node(
            plot_confusion_matrix,
            inputs=[
                "test_set",
                "test_predictions",
                "params:schema.target",
                "params:evaluate",
            ],
            outputs="confusion_matrix_plot",
            name="plot_confusion_matrix",
        ),
        Node(
            plot_roc_curve,
            inputs=[
                "test_set",
                "test_predictions",
                "params:schema.target",
                "params:evaluate",
            ],
            outputs="roc_curve_plot",
            name="plot_roc_curve",
        ),
        Node(
            check_calibration,
            inputs=[
                "test_set",
                "test_predictions",
                "model",
                "params:schema.target",
                "params:evaluate",
            ],
            outputs=["calibration_report", "reliability_plot"],
            name="check_calibration",
        ),
        Node(
            explain_model,
            inputs=[
                "test_set",
                "preprocessor",
                "model",
                "params:schema",
                "params:evaluate",
            ],
            outputs=["permutation_importance", "permutation_importance_plot"],
            name="explain_model",
        ),
        Node(
            evaluate_slices,
            inputs=[
                "test_set",
                "test_predictions",
                "params:schema",
                "params:evaluate.slices",
            ],
            outputs=["slice_report", "flagged_slices"],
            name="evaluate_slices",
        ),
        Node(
            format_for_tracking,
            inputs="flagged_slices",
            outputs="tracked_slice_metrics",
            name="log_slice_metrics_to_mlflow",
        ),
        # For monitoring the served model: a calibrator of its scores and
        # its test-set figures, logged with the run (see catalog.yml).
        Node(
            calibration_from_evaluation,
            inputs=["test_predictions", "test_set", "params:schema"],
            outputs="calibration",
            name="calibrate_scores",
        ),
    ]
    if shap_available():  # pip install 'kedro-mlops[shap]'
        nodes.append(
            Node(
                explain_with_shap,
                inputs=[
                    "test_set",
                    "preprocessor",
                    "model",
                    "params:schema",
                    "params:evaluate",
                ],
                outputs=["shap_importance", "shap_importance_plot"],
                name="explain_with_shap",
            )
        )
    return Pipeline(nodes, namespace="evaluate", prefix_datasets_with_namespace=False)
