"""The ``schema:`` block of ``parameters.yml`` as a strict, frozen model.

:func:`parse_schema` turns the block into a :class:`TableSchema`, or stops with
a :class:`SchemaConfigError` that names every wrong key. The model also holds
the names derived from the schema: the feature columns and the prediction
columns named after the target.

Example:
    >>> schema = parse_schema(
    ...     {
    ...         "id_column": "account_id",
    ...         "target": {"column": "cancelled", "positive_class": True},
    ...         "numeric": {"seats": {"min": 1}},
    ...         "categorical": {"plan": ["free", "team"]},
    ...     }
    ... )
    >>> schema.feature_columns, schema.probability_column
    (['seats', 'plan'], 'cancelled_probability')
"""

from __future__ import annotations

import marshal
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from kedro_mlops.strict import StrictModel, describe_errors

#: Where a project keeps its schema, for messages.
SOURCE = "conf/base/parameters.yml, key 'schema'"
_CACHE_SIZE = 8


class SchemaConfigError(ValueError):
    """The ``schema:`` block itself is wrong: an unknown key, a value of the
    wrong type, or columns that contradict each other."""


def _number(value: Any) -> Any:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        raise ValueError("must be a number")
    return value


def _label(value: Any) -> Any:
    if value is None or not isinstance(value, (str, int, float, bool)):
        raise ValueError("must be a single value: text, a number or true/false")
    return value


def _labels(values: Any) -> Any:
    if not isinstance(values, list) or not values:
        raise ValueError("must be a non-empty list of the column's allowed values")
    return [_label(value) for value in values]


Bound = Annotated[int | float | None, BeforeValidator(_number)]
Label = Annotated[str | int | float | bool, BeforeValidator(_label)]
Labels = Annotated[list[str | int | float | bool], BeforeValidator(_labels)]


class Target(StrictModel):
    """The column to predict and the value that counts as the positive outcome
    (compared as text, so ``true`` matches a column read as booleans).

    Example:
        >>> Target(column="churned", positive_class="yes").column
        'churned'
    """

    column: str = Field(min_length=1)
    positive_class: Label


class NumericRange(StrictModel):
    """The allowed range of a numeric column, bounds included; either may be left out.

    Example:
        >>> NumericRange(min=0).max is None
        True
    """

    min: Bound = None
    max: Bound = None

    @model_validator(mode="after")
    def _ordered(self) -> NumericRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class TableSchema(StrictModel):
    """The table: its id column, its target, and its numeric and categorical
    feature columns (numeric ones with an optional range, categorical ones with
    their allowed values).

    Example:
        >>> schema = TableSchema(
        ...     id_column="id",
        ...     target={"column": "churned", "positive_class": "yes"},
        ...     numeric={"age": {"min": 18}},
        ... )
        >>> schema.prediction_column, schema.numeric["age"].max
        ('churned_prediction', None)
    """

    id_column: str = Field(min_length=1)
    target: Target
    numeric: dict[str, NumericRange] = Field(default_factory=dict)
    categorical: dict[str, Labels] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _empty_ranges(cls, data: Any) -> Any:
        # `age:` with nothing after it: a numeric column without bounds.
        numeric = data.get("numeric") if isinstance(data, dict) else None
        if isinstance(numeric, dict) and None in numeric.values():
            ranges = {k: {} if v is None else v for k, v in numeric.items()}
            return {**data, "numeric": ranges}
        return data

    @model_validator(mode="after")
    def _distinct_roles(self) -> TableSchema:
        both = [c for c in self.numeric if c in self.categorical]
        if both:
            raise ValueError(
                f"columns {both} are listed under both numeric and categorical; "
                "keep each column in one of the two"
            )
        if not self.numeric and not self.categorical:
            raise ValueError(
                "no feature column: list the model's input columns under numeric "
                "and/or categorical"
            )
        features = set(self.feature_columns)
        for key, column in (
            ("id_column", self.id_column),
            ("target.column", self.target.column),
        ):
            if column in features:
                raise ValueError(
                    f"{key} '{column}' is also listed as a feature; remove it from "
                    "numeric/categorical"
                )
        if self.id_column == self.target.column:
            raise ValueError(
                f"id_column and target.column are both '{self.id_column}'; the id "
                "and the target must be different columns"
            )
        return self

    @cached_property
    def feature_columns(self) -> list[str]:
        """The model's input columns: numeric first, then categorical, in schema order."""
        return [*self.numeric, *self.categorical]

    @property
    def probability_column(self) -> str:
        """The predicted probability of the positive class: ``<target>_probability``."""
        return f"{self.target.column}_probability"

    @property
    def prediction_column(self) -> str:
        """The predicted 0/1 decision: ``<target>_prediction``."""
        return f"{self.target.column}_prediction"

    @cached_property
    def allowed_text(self) -> dict[str, frozenset[str]]:
        """Each categorical column's allowed values as text (values are compared as text)."""
        return {
            column: frozenset(str(value) for value in values)
            for column, values in self.categorical.items()
        }


_parsed: dict[bytes, TableSchema] = {}


def parse_schema(schema: TableSchema | Mapping[str, Any]) -> TableSchema:
    """Validate the ``schema:`` block of ``parameters.yml``.

    A served model validates every request against its schema, and gets a new
    copy of the same mapping each time: a mapping equal to one parsed before
    (same keys, values and value types) is not parsed again.

    Args:
        schema: the block as Kedro loads it (``params:schema``), or a
            :class:`TableSchema`, returned as it is.

    Raises:
        SchemaConfigError: listing every wrong key, with what is wrong with it.

    Example:
        >>> parse_schema({"id_column": "id", "target": {"column": "y"}, "numerc": {}})
        Traceback (most recent call last):
        ...
        kedro_mlops.schema.model.SchemaConfigError: Invalid schema (conf/base/parameters.yml, key 'schema'):
          - target.positive_class: Field required
          - numerc: unknown key (allowed: categorical, id_column, numeric, target)
        Fix the schema block: it describes the columns of your table.
    """
    if isinstance(schema, TableSchema):
        return schema
    try:
        # marshal tells True from 1 and 1 from 1.0, which compare equal
        key = marshal.dumps(schema)  # type: ignore[arg-type]  # raises ValueError if not
    except ValueError:  # not plain YAML values (a custom mapping type...)
        key = None
    parsed = _parsed.get(key) if key is not None else None
    if parsed is None:
        parsed = _validate(schema)
        if key is not None:
            if len(_parsed) >= _CACHE_SIZE:
                _parsed.pop(next(iter(_parsed)), None)
            _parsed[key] = parsed
    return parsed


def _validate(schema: Any) -> TableSchema:
    if not isinstance(schema, Mapping):
        raise SchemaConfigError(
            f"Invalid schema ({SOURCE}): expected a mapping with id_column, target, "
            f"numeric and categorical, got {type(schema).__name__} {schema!r}."
        )
    try:
        return TableSchema.model_validate(dict(schema))
    except ValidationError as exc:
        lines = describe_errors(exc, TableSchema)
        raise SchemaConfigError(
            f"Invalid schema ({SOURCE}):\n"
            + "\n".join(f"  - {line}" for line in lines)
            + "\nFix the schema block: it describes the columns of your table."
        ) from None
