from kedro.pipeline import Node, Pipeline
from kedro_mlops.monitoring.performance import calibration_from_evaluation

from {{ cookiecutter.python_package }}.model_io import predict

from .nodes import (
    evaluate_model,
    format_for_tracking,
    plot_confusion_matrix,
    plot_roc_curve,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Score the test set with the same `predict` that inference uses."""
    return Pipeline(
        [
            Node(
                predict,
                inputs=[
                    "test_set",
                    "preprocessor",
                    "model",
                    "params:schema",
                    "params:infer",
                ],
                outputs="test_predictions",
                name="predict_test_set",
            ),
            Node(
                evaluate_model,
                inputs=["test_set", "test_predictions", "params:schema.target"],
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
            # For monitoring the served model: a calibrator of its scores and
            # its test-set figures, logged with the run (see catalog.yml).
            Node(
                calibration_from_evaluation,
                inputs=["test_predictions", "test_set", "params:schema"],
                outputs="calibration",
                name="calibrate_scores",
            ),
        ],
        namespace="evaluate",
        prefix_datasets_with_namespace=False,
    )
