"""Checking frames against the schema: every message, and what comes back."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.schema import (
    SchemaConfigError,
    SchemaError,
    validate_scoring_batch,
    validate_table,
    validate_training_table,
)


def _message(data: pd.DataFrame, schema: dict, **kwargs) -> str:
    with pytest.raises(SchemaError) as error:
        validate_table(data, schema, **{"require_target": True, **kwargs})
    return str(error.value)


# ---- what passes, and what comes back ------------------------------------------


def test_valid_table_is_returned_as_it_is(raw_slice, schema):
    # the shipped data needs no conversion: the frame itself comes back
    assert validate_training_table(raw_slice, schema) is raw_slice


def test_shipped_batch_passes_without_a_target(batch_slice, schema):
    assert validate_scoring_batch(batch_slice, schema) is batch_slice


def test_numbers_as_text_become_floats_and_categories_text(raw_slice, schema):
    # given a numeric column read as text and a categorical one as Python objects
    raw = raw_slice.astype({"age": object, "region": object})
    raw.loc[3, "age"] = "42"
    # then both come back with the dtypes the preprocessor was fitted on
    checked = validate_training_table(raw, schema)
    assert checked["age"].dtype == np.float64
    assert checked.loc[3, "age"] == 42.0
    assert isinstance(checked["region"].dtype, pd.StringDtype)
    assert checked["region"].equals(raw_slice["region"])


def test_nullable_numbers_are_checked_with_their_gaps(batch_slice, schema):
    # given a nullable integer column with a gap
    batch = batch_slice.astype({"support_tickets": "Int64"})
    batch.loc[2, "support_tickets"] = pd.NA
    assert validate_scoring_batch(batch, schema) is batch
    # and a value out of range is still found
    batch.loc[4, "support_tickets"] = -1
    with pytest.raises(SchemaError, match=r"'support_tickets' has values outside"):
        validate_scoring_batch(batch, schema)


# ---- missing columns -------------------------------------------------------------


def test_missing_column_is_named(raw_slice, schema):
    message = _message(raw_slice.drop(columns=["contract"]), schema)
    assert "column 'contract' is missing" in message


def test_batch_needs_no_target_but_all_features(batch_slice, schema):
    with pytest.raises(SchemaError, match="column 'monthly_charges' is missing"):
        validate_scoring_batch(batch_slice.drop(columns=["monthly_charges"]), schema)


def test_training_table_needs_the_target(batch_slice, schema):
    assert "column 'churned' is missing" in _message(batch_slice, schema)


# ---- the id ---------------------------------------------------------------------


def test_repeated_and_empty_ids_are_errors(raw_slice, schema):
    raw = raw_slice.copy()
    raw.loc[4, "customer_id"] = raw.loc[8, "customer_id"]
    raw.loc[6, "customer_id"] = None
    message = _message(raw, schema)
    assert "column 'customer_id' (id) is empty in row 7" in message
    assert "column 'customer_id' (id) repeats values in rows 5, 9" in message


# ---- numeric columns --------------------------------------------------------------


def test_non_numeric_value_names_column_and_rows(raw_slice, schema):
    # given a numeric column holding text in two rows
    raw = raw_slice.astype({"age": object})
    raw.loc[[3, 7], "age"] = "forty"
    # then the error names the column, the value and the rows
    with pytest.raises(
        SchemaError, match=r"column 'age' must be numeric .*'forty'.* rows 4, 8"
    ):
        validate_training_table(raw, schema)


def test_booleans_are_not_numbers(raw_slice, schema):
    raw = raw_slice.assign(support_tickets=raw_slice["support_tickets"] > 2)
    message = _message(raw, schema)
    assert "column 'support_tickets' must be numeric but holds booleans" in message


def test_out_of_range_and_unknown_category_are_both_reported(raw_slice, schema):
    raw = raw_slice.copy()
    raw.loc[5, "tenure_months"] = -1
    raw.loc[9, "contract"] = "weekly"
    message = _message(raw, schema)
    assert "column 'tenure_months' has values outside [0, 600] ('-1') in row 6" in (
        message
    )
    assert (
        "column 'contract' has values outside "
        "['month-to-month', 'one-year', 'two-year'] ('weekly') in row 10" in message
    )


def test_many_bad_rows_show_the_first_five_and_the_count(raw_slice, schema):
    raw = raw_slice.copy()
    raw.loc[10:16, "age"] = 150
    message = _message(raw, schema)
    assert (
        "column 'age' has values outside [18, 110] ('150') "
        "in rows 11, 12, 13, 14, 15 (first 5 of 7)" in message
    )


def test_an_open_range_shows_infinity(batch_slice):
    schema = {
        "id_column": "customer_id",
        "target": {"column": "churned", "positive_class": "yes"},
        "numeric": {"monthly_charges": {"min": 1000}},
    }
    with pytest.raises(SchemaError, match=r"outside \[1000, inf\]"):
        validate_scoring_batch(batch_slice, schema)


# ---- categorical columns -----------------------------------------------------------


def test_missing_categories_are_allowed_and_other_values_compared_as_text(
    raw_slice, schema
):
    # given a categorical column of Python objects: missing values of every kind,
    # a listed value, a number and a list
    raw = raw_slice.head(6).astype({"region": object})
    raw["region"] = [None, np.nan, pd.NA, "north", 7, ["north"]]
    # then only the number and the list are reported, as the text they read as
    message = _message(raw, schema)
    assert "column 'region' has values outside" in message
    assert "('7', \"['north']\") in rows 5, 6" in message


def test_batch_with_unseen_category_is_scored_and_reported(batch_slice, schema, caplog):
    batch = batch_slice.copy()
    batch.loc[0, "region"] = "atlantis"
    with caplog.at_level(logging.WARNING, logger="kedro_mlops.schema"):
        assert len(validate_scoring_batch(batch, schema)) == len(batch)
    assert "Column 'region' has unseen categories ['atlantis']" in caplog.text


def test_categories_are_compared_as_text(batch_slice):
    # given categories listed as numbers and booleans, and data read as text
    schema = {
        "id_column": "customer_id",
        "target": {"column": "churned", "positive_class": True},
        "categorical": {"code": [1, 2], "flag": [True, False]},
    }
    batch = batch_slice.head(2).assign(code=["1", "2"], flag=[True, False])
    checked = validate_scoring_batch(batch, schema)
    assert checked["flag"].tolist() == ["True", "False"]


# ---- the target ---------------------------------------------------------------------


def test_missing_target_is_an_error(raw_slice, schema):
    raw = raw_slice.copy()
    raw.loc[2, "churned"] = None
    assert "column 'churned' (target) is empty in row 3" in _message(raw, schema)


def test_target_needs_two_classes_with_the_positive_one(raw_slice, schema):
    raw = raw_slice.copy()
    raw.loc[3, "churned"] = "maybe"
    assert (
        "column 'churned' (target) must hold exactly two classes including the "
        "positive class 'yes'; found ['maybe', 'no', 'yes']"
    ) in _message(raw, schema)
    only_no = raw_slice.assign(churned="no")
    assert "found ['no']" in _message(only_no, schema)


def test_positive_class_true_matches_booleans(raw_slice, schema):
    schema = {**schema, "target": {"column": "churned", "positive_class": True}}
    raw = raw_slice.assign(churned=raw_slice["churned"] == "yes")
    assert validate_training_table(raw, schema) is raw


def test_a_feature_with_no_values_is_refused_for_training_only(raw_slice, schema):
    # given a feature column missing in every row (a broken export or join)
    raw = raw_slice.assign(monthly_charges=np.nan, region=None)
    # when it is validated for training, then both columns are named, with why
    message = _message(raw, schema)
    assert (
        "column 'monthly_charges' has no values (missing in all 600 rows): a model "
        "cannot learn from it; fill it, or remove it from the schema"
    ) in message
    assert "column 'region' has no values" in message
    # and a batch to score may have it: the drift check reports such a column
    batch = raw.drop(columns=["churned"])
    assert validate_scoring_batch(batch, schema)["monthly_charges"].isna().all()


# ---- the message as a whole ------------------------------------------------------------


def test_rows_are_counted_from_one_as_in_the_file_whatever_the_index(
    batch_slice, schema, tmp_path
):
    # given a batch file whose third row of data (line 4, after the header) is bad
    rows = batch_slice.head(5).reset_index(drop=True)
    rows.loc[2, "age"] = 5
    path = tmp_path / "batch.csv"
    rows.to_csv(path, index=False)
    line_4 = path.read_text().splitlines()[3]
    # read with index labels that are not positions
    batch = pd.read_csv(path).set_axis([50, 40, 30, 20, 10])
    # then the message says row 3, and how rows and lines relate
    with pytest.raises(SchemaError) as error:
        validate_scoring_batch(batch, schema)
    assert "column 'age' has values outside [18, 110] ('5') in row 3\n" in str(
        error.value
    )
    assert "row N is on line N + 1" in str(error.value)
    assert line_4.startswith(f"{rows.loc[2, 'customer_id']},5,")
    # and the problems are also there one by one
    assert error.value.problems == [
        "column 'age' has values outside [18, 110] ('5') in row 3"
    ]


def test_every_problem_is_listed_between_where_and_how_to_fix(raw_slice, schema):
    raw = raw_slice.drop(columns=["region"])
    raw.loc[1, "age"] = 5
    message = _message(raw, schema)
    assert message == (
        "The data does not match the schema (conf/base/parameters.yml, key 'schema'):\n"
        "  - column 'region' is missing\n"
        "  - column 'age' has values outside [18, 110] ('5') in row 2\n"
        "Rows are counted from 1 at the first row of data (in a CSV file with a "
        "header line, row N is on line N + 1).\n"
        "Fix the data, or update the schema if the change is intended."
    )


def test_a_wrong_schema_is_reported_before_the_data(raw_slice, schema):
    with pytest.raises(SchemaConfigError, match="id_colum: unknown key"):
        validate_training_table(raw_slice, {**schema, "id_colum": "x"})


@pytest.mark.parametrize("require_target", [True, False])
def test_an_empty_table_says_it_is_empty(raw_slice, schema, require_target):
    # given the columns of the table but no row (an empty export, a filtered batch)
    empty = raw_slice.iloc[:0]
    # when it is validated for training or for scoring
    message = _message(empty, schema, require_target=require_target)
    # then the message says so, and what there is nothing to do
    purpose = "train on" if require_target else "score"
    assert message.startswith(f"The data is empty (0 rows, {len(empty.columns)} ")
    assert f"nothing to {purpose}" in message
