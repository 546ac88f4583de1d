"""The schema block: parsing, its errors, the derived names, and re-parsing."""

from __future__ import annotations

import copy
import subprocess
import sys
import typing
from types import MappingProxyType

import pytest

from kedro_mlops.schema import (
    SchemaConfigError,
    TableSchema,
    drift_settings,
    parse_schema,
    validate_scoring_batch,
    validate_training_table,
)

BASE = {
    "id_column": "account_id",
    "target": {"column": "cancelled", "positive_class": True},
    "numeric": {"seats": {"min": 1, "max": 100000}, "monthly_spend": {"min": 0}},
    "categorical": {"plan": ["free", "team", "enterprise"]},
}


def _error(schema: object) -> str:
    with pytest.raises(SchemaConfigError) as error:
        parse_schema(schema)  # type: ignore[arg-type]
    return str(error.value)


def test_shipped_schema_parses(schema):
    parsed = parse_schema(schema)
    assert parsed.id_column == "customer_id"
    assert parsed.target.positive_class == "yes"
    assert parsed.numeric["age"].min == 18


def test_derived_names():
    parsed = parse_schema(BASE)
    assert parsed.feature_columns == ["seats", "monthly_spend", "plan"]
    assert parsed.probability_column == "cancelled_probability"
    assert parsed.prediction_column == "cancelled_prediction"
    assert parsed.allowed_text["plan"] == {"free", "team", "enterprise"}


def test_bounds_keep_their_numbers_and_may_be_left_out():
    parsed = parse_schema({**BASE, "numeric": {"seats": None, "spend": {"max": 2.5}}})
    assert parsed.numeric["seats"].min is None
    assert parsed.numeric["spend"].max == 2.5
    assert isinstance(parse_schema(BASE).numeric["seats"].max, int)


def test_unknown_keys_are_named_with_the_allowed_ones():
    wrong = {
        **BASE,
        "numerc": {},
        "target": {"colum": "x", "positive_class": 1},
        "numeric": {"seats": {"mn": 1}},
    }
    message = _error(wrong)
    assert message.startswith(
        "Invalid schema (conf/base/parameters.yml, key 'schema'):\n"
    )
    assert "  - target.colum: unknown key (allowed: column, positive_class)" in message
    assert "  - numeric.seats.mn: unknown key (allowed: max, min)" in message
    assert (
        "  - numerc: unknown key (allowed: categorical, id_column, numeric, target)"
        in message
    )
    assert "  - target.column: Field required" in message
    assert message.endswith(
        "Fix the schema block: it describes the columns of your table."
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"numeric": {"seats": {"min": "one"}}}, "numeric.seats.min: must be a number (got 'one')"),
        ({"numeric": {"seats": {"min": True}}}, "numeric.seats.min: must be a number (got True)"),
        ({"numeric": {"seats": {"min": 5, "max": 1}}}, "numeric.seats: min (5) is greater than max (1)"),
        ({"categorical": {"plan": []}}, "categorical.plan: must be a non-empty list"),
        ({"categorical": {"plan": "free"}}, "categorical.plan: must be a non-empty list"),
        ({"categorical": {"plan": [["free"]]}}, "categorical.plan: must be a single value"),
        ({"target": {"column": "cancelled", "positive_class": None}}, "target.positive_class: must be a single value"),
        ({"target": {"column": "cancelled"}}, "target.positive_class: Field required"),
        ({"id_column": ""}, "id_column: String should have at least 1 character"),
        ({"categorical": {"seats": ["a"]}}, "columns ['seats'] are listed under both numeric and categorical"),
        ({"id_column": "plan"}, "id_column 'plan' is also listed as a feature"),
        ({"target": {"column": "seats", "positive_class": 1}}, "target.column 'seats' is also listed as a feature"),
        ({"id_column": "cancelled"}, "id_column and target.column are both 'cancelled'"),
        ({"numeric": {}, "categorical": {}}, "no feature column"),
    ],
)  # fmt: skip
def test_wrong_values_name_the_key(change, expected):
    assert expected in _error({**BASE, **change})


def test_a_schema_that_is_not_a_mapping():
    assert "expected a mapping with id_column" in _error(["customer_id"])


def test_an_unchanged_schema_is_parsed_once():
    # given the same block again, as a served model gets it on every request (a copy)
    first = parse_schema(copy.deepcopy(BASE))
    # then the parsed schema is reused, and a parsed one is passed through
    assert parse_schema(copy.deepcopy(BASE)) is first
    assert parse_schema(first) is first
    # but a changed block, even one equal in Python (1 == True), is parsed anew
    changed = {**BASE, "target": {"column": "cancelled", "positive_class": 1}}
    assert changed == BASE
    assert parse_schema(changed).target.positive_class == 1
    assert parse_schema(BASE).target.positive_class is True


def test_a_read_only_mapping_is_parsed_too():
    assert isinstance(parse_schema(MappingProxyType(BASE)), TableSchema)


def test_parsed_schema_is_frozen():
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        parse_schema(BASE).id_column = "x"  # type: ignore[misc]


def test_import_loads_no_heavy_library():
    code = "import sys, kedro_mlops.schema; print('\\n'.join(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [
        m for m in loaded if m.split(".")[0] in ("sklearn", "scipy", "mlflow")
    ] == []


@pytest.mark.parametrize(
    "function", [validate_training_table, validate_scoring_batch, drift_settings]
)
def test_node_functions_type_hints_resolve(function):
    # Kedro reads a node function's type hints and warns when they do not resolve
    assert "return" in typing.get_type_hints(function)
