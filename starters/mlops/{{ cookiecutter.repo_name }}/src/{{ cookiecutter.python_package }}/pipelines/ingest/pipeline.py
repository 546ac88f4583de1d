from kedro.pipeline import Node, Pipeline
from kedro_mlops.schema import validate_training_table

from .nodes import sample_reference, split_data


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            # kedro-mlops checks the table against `schema` (conf/base/parameters.yml)
            # and stops the run with every problem, naming columns and rows.
            Node(
                validate_training_table,
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
