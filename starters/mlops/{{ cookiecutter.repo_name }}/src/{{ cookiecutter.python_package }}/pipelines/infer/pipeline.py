from kedro.pipeline import Node, Pipeline

from .nodes import predict, score_with_model, validate_batch


def create_pipeline(**kwargs) -> Pipeline:
    """Raw rows -> predictions with this project's preprocessor and model.

    Training logs this pipeline with the model (kedro-mlflow's
    ``pipeline_ml_factory``), so the registered model runs exactly these nodes.
    """
    return Pipeline(
        [
            Node(
                validate_batch,
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
                    "params:infer",
                ],
                outputs="predictions",
                name="predict",
            ),
        ]
    )


def create_batch_scoring_pipeline(**kwargs) -> Pipeline:
    """Batch inference with the registry's champion model."""
    return Pipeline(
        [
            Node(
                score_with_model,
                inputs=["scoring_batch", "champion_model"],
                outputs="predictions",
                name="score_with_champion",
            )
        ]
    )
