import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.python_package }}.pipelines.ingest.nodes import (
    SchemaError,
    sample_reference,
    split_data,
    validate_raw_data,
)


def test_valid_table_passes_unchanged(raw_slice, schema):
    checked = validate_raw_data(raw_slice, schema)
    pd.testing.assert_frame_equal(checked, raw_slice)


def test_numbers_as_text_become_floats_and_categories_text(raw_slice, schema):
    # given a numeric column read as text and a categorical one as Python objects
    raw = raw_slice.astype({"age": object, "region": object})
    raw.loc[3, "age"] = "42"
    # then both come back with the dtypes the preprocessor was fitted on
    checked = validate_raw_data(raw, schema)
    assert checked["age"].dtype == np.float64
    assert checked.loc[3, "age"] == 42.0
    assert isinstance(checked["region"].dtype, pd.StringDtype)
    assert checked["region"].equals(raw_slice["region"])


def test_missing_column_is_named(raw_slice, schema):
    with pytest.raises(SchemaError, match="column 'contract' is missing"):
        validate_raw_data(raw_slice.drop(columns=["contract"]), schema)


def test_non_numeric_value_names_column_and_rows(raw_slice, schema):
    # given a numeric column holding text in two rows
    raw = raw_slice.astype({"age": object})
    raw.loc[[3, 7], "age"] = "forty"
    # then the error names the column, the value and the rows
    with pytest.raises(
        SchemaError, match=r"column 'age' must be numeric .*'forty'.* rows 3, 7"
    ):
        validate_raw_data(raw, schema)


def test_out_of_range_and_unknown_category_are_both_reported(raw_slice, schema):
    raw = raw_slice.copy()
    raw.loc[5, "tenure_months"] = -1
    raw.loc[9, "contract"] = "weekly"
    with pytest.raises(SchemaError) as error:
        validate_raw_data(raw, schema)
    assert "column 'tenure_months' has values outside [0, 600]" in str(error.value)
    assert "column 'contract' has values outside" in str(error.value)
    assert "rows 9" in str(error.value)


def test_missing_categories_are_allowed_and_other_values_compared_as_text(
    raw_slice, schema
):
    # given a categorical column of Python objects: missing values of every kind,
    # a listed value, a number and a list
    raw = raw_slice.head(6).astype({"region": object})
    raw["region"] = [None, np.nan, pd.NA, "north", 7, ["north"]]
    # then only the number and the list are reported, as the text they read as
    with pytest.raises(SchemaError) as error:
        validate_raw_data(raw, schema)
    assert "column 'region' has values outside" in str(error.value)
    assert "('7', \"['north']\") in rows 4, 5" in str(error.value)


def test_repeated_and_empty_ids_are_errors(raw_slice, schema):
    raw = raw_slice.copy()
    raw.loc[4, "customer_id"] = raw.loc[8, "customer_id"]
    raw.loc[6, "customer_id"] = None
    with pytest.raises(SchemaError) as error:
        validate_raw_data(raw, schema)
    assert "column 'customer_id' (id) is empty in rows 6" in str(error.value)
    assert "column 'customer_id' (id) repeats values in rows 4, 8" in str(error.value)


def test_missing_target_is_an_error(raw_slice, schema):
    raw = raw_slice.copy()
    raw.loc[2, "churned"] = None
    with pytest.raises(
        SchemaError, match=r"column 'churned' \(target\) is empty in rows 2"
    ):
        validate_raw_data(raw, schema)


def test_split_is_stratified_and_disjoint(raw_slice, schema, params):
    train, test = split_data(
        validate_raw_data(raw_slice, schema), schema["target"], params["ingest"]
    )
    assert len(test) == pytest.approx(0.2 * len(raw_slice), abs=1)
    assert not set(train["customer_id"]) & set(test["customer_id"])
    share = lambda frame: (frame["churned"] == "yes").mean()  # noqa: E731
    assert share(train) == pytest.approx(share(test), abs=0.02)


def test_reference_sample_is_capped_by_the_training_size(raw_slice, params):
    reference = sample_reference(raw_slice, params["ingest"])
    assert len(reference) == min(
        params["ingest"]["reference_sample_size"], len(raw_slice)
    )
