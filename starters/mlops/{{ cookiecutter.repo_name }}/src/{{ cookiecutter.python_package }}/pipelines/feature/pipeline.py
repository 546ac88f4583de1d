from kedro.pipeline import Node, Pipeline

from .nodes import build_model_input, fit_preprocessor


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                fit_preprocessor,
                inputs=["train_set", "params:schema", "params:feature"],
                outputs="preprocessor",
                name="fit_preprocessor",
            ),
            Node(
                build_model_input,
                inputs=["train_set", "preprocessor", "params:schema"],
                outputs="model_input",
                name="build_model_input",
            ),
        ],
        namespace="feature",
        prefix_datasets_with_namespace=False,
    )
