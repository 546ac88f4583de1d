from kedro.pipeline import Node, Pipeline

from .nodes import train_model


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                train_model,
                inputs=["model_input", "params:schema.target", "params:train"],
                outputs="model",
                name="train_model",
            )
        ],
        namespace="train",
        prefix_datasets_with_namespace=False,
    )
