from kedro.pipeline import Node, Pipeline
from kedro_mlops.drift.pipeline import create_pipeline as create_drift_pipeline
from kedro_mlops.monitoring.pipeline import create_pipeline as create_monitoring
from kedro_mlops.schema import drift_settings, validate_scoring_batch

from {{ cookiecutter.python_package }}.model_io import predict

from .nodes import monitoring_frame, score_with_model


def create_pipeline(**kwargs) -> Pipeline:
    """Raw rows -> predictions with this project's preprocessor and model.

    Training logs this pipeline with the model (kedro-mlflow's
    ``pipeline_ml_factory``), so the registered model runs exactly these nodes.
    """
    return Pipeline(
        [
            # kedro-mlops checks the rows against `schema`: no target needed;
            # categories the schema does not list are let through with a warning.
            Node(
                validate_scoring_batch,
                inputs=["scoring_batch", "params:schema"],
                outputs="validated_scoring_batch",
                name="validate_scoring_batch",
            ),
            Node(
                predict,
                inputs=[
                    "validated_scoring_batch",
                    "preprocessor",
                    "model",
                    "params:schema",
                    # the threshold training chose (evaluate), bundled with the model
                    "decision_threshold",
                ],
                outputs="predictions",
                name="predict",
            ),
        ],
        namespace="infer",
        prefix_datasets_with_namespace=False,
    )


def create_reference_pipeline(**kwargs) -> Pipeline:
    """The champion's own training reference sample (the one its training run
    logged) scored by the champion, and the drift settings: what the drift
    checks compare new rows with, and how.
    """
    return Pipeline(
        [
            Node(
                score_with_model,
                inputs=["champion_reference", "champion_model"],
                outputs="reference_predictions",
                name="score_reference_with_champion",
            ),
            Node(
                monitoring_frame,
                inputs=["champion_reference", "reference_predictions", "params:schema"],
                outputs="monitored_reference",
                name="monitor_reference",
            ),
            # The drift settings: `drift` in conf/base/mlops.yml (which the
            # kedro-mlops hooks put in the catalog as `mlops_drift_config`), with
            # the columns named by `schema`: <target>_probability is the
            # prediction column, the id and target columns are never compared.
            Node(
                drift_settings,
                inputs=["mlops_drift_config", "params:schema"],
                outputs="drift_settings",
                name="drift_settings_from_schema",
            ),
        ]
    )


def create_batch_scoring_pipeline(**kwargs) -> Pipeline:
    """Batch inference with the registry's champion, then a drift check.

    The champion scores the batch and its own training reference sample; the drift
    check compares their features and predicted probabilities. The batch's
    scores become `predictions` only once the check has passed: with
    `on_drift: fail` in mlops.yml, a drifted batch leaves the previous
    predictions file as it was.
    """
    scoring = Pipeline(
        [
            Node(
                score_with_model,
                inputs=["scoring_batch", "champion_model"],
                outputs="batch_scores",
                name="score_with_champion",
            ),
            Node(
                monitoring_frame,
                inputs=["scoring_batch", "batch_scores", "params:schema"],
                outputs="monitored_batch",
                name="monitor_batch",
            ),
        ]
    )
    return (
        scoring
        + create_reference_pipeline()
        + create_drift_pipeline(
            reference="monitored_reference",
            current="monitored_batch",
            namespace="drift",
            config="drift_settings",
            release={"batch_scores": "predictions"},  # saved after the drift gate
        )
    )


def create_monitoring_pipeline(**kwargs) -> Pipeline:
    """Drift of the served model's traffic, window by window.

    The model server captures the requests it answers (with its predictions)
    in `captured_requests`, one folder per hour. Each window of captured
    traffic is compared with the reference scored by the champion; each
    window's drift goes into the MLflow history of the model version that
    served it, and the latest window's report shows the trend. Windows and
    thresholds: `monitoring` and `drift` in conf/base/mlops.yml.

    Each window's performance is estimated from its scores (calibrated on the
    champion's test set), and measured on the rows whose `labels` have arrived.
    """
    return create_reference_pipeline() + create_monitoring(
        captured="captured_requests",
        reference="monitored_reference",
        config="drift_settings",
        namespace="monitoring",
        calibration="champion_calibration",
        threshold="champion_threshold",
        labels="labels",
    )
