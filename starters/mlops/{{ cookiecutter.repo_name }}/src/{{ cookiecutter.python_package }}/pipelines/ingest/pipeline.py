from kedro.pipeline import Node, Pipeline

from .nodes import sample_reference, split_data, validate_raw_data


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                validate_raw_data,
                inputs=["raw_customers", "params:schema"],
                outputs="validated_customers",
                name="validate_raw_data",
            ),
            Node(
                split_data,
                inputs=["validated_customers", "params:schema.target", "params:ingest"],
                outputs=["train_set", "test_set"],
                name="split_train_test",
            ),
            Node(
                sample_reference,
                inputs=["train_set", "params:ingest"],
                outputs="reference_sample",
                name="sample_drift_reference",
            ),
        ],
        namespace="ingest",
        prefix_datasets_with_namespace=False,
    )
