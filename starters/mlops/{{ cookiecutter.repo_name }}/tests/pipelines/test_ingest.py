import pandas as pd
import pytest
from kedro_mlops.schema import validate_scoring_batch, validate_training_table

from {{ cookiecutter.python_package }}.model_io import binary_labels
from {{ cookiecutter.python_package }}.pipelines.ingest.nodes import (
    sample_reference,
    split_data,
)


def test_data_matches_the_schema(raw_slice, batch_slice, schema):
    # the ingest and infer pipelines check their input with kedro-mlops
    pd.testing.assert_frame_equal(validate_training_table(raw_slice, schema), raw_slice)
    assert len(validate_scoring_batch(batch_slice, schema)) == len(batch_slice)


def test_split_is_stratified_and_disjoint(raw_slice, schema, params):
    train, test = split_data(raw_slice, schema["target"], params["ingest"])
    assert len(test) == pytest.approx(0.2 * len(raw_slice), abs=1)
    ids = schema["id_column"]
    assert not set(train[ids]) & set(test[ids])
    positives = binary_labels(train, schema["target"]).mean()
    assert positives == pytest.approx(
        binary_labels(test, schema["target"]).mean(), abs=0.02
    )


def test_reference_sample_is_capped_by_the_training_size(raw_slice, params):
    reference = sample_reference(raw_slice, params["ingest"])
    assert len(reference) == min(
        params["ingest"]["reference_sample_size"], len(raw_slice)
    )
