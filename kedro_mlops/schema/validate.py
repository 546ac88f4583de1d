"""Check a table against its schema: a training table, a batch to score, one request.

:func:`validate_table` is the one check; :func:`validate_training_table` and
:func:`validate_scoring_batch` are its two uses, ready to be Kedro nodes. A
served model runs the scoring check on every request, so the check works on
each numeric column's NumPy values and on each categorical column's distinct
values, and returns the input frame itself when nothing needs converting.

Example:
    >>> import pandas as pd
    >>> schema = {
    ...     "id_column": "id",
    ...     "target": {"column": "churned", "positive_class": "yes"},
    ...     "numeric": {"age": {"min": 18}},
    ...     "categorical": {"plan": ["a", "b"]},
    ... }
    >>> validate_scoring_batch(pd.DataFrame({"id": [1], "age": [12], "plan": ["a"]}), schema)
    Traceback (most recent call last):
    ...
    kedro_mlops.schema.validate.SchemaError: The data does not match the schema (conf/base/parameters.yml, key 'schema'):
      - column 'age' has values outside [18, inf] ('12') in row 1
    Rows are counted from 1 at the first row of data (in a CSV file with a header line, row N is on line N + 1).
    Fix the data, or update the schema if the change is intended.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .model import SOURCE, NumericRange, TableSchema, parse_schema

#: Rows listed per problem; the message gives the count of the others.
MAX_ROWS_SHOWN = 5
#: Distinct values shown per problem.
MAX_VALUES_SHOWN = 3

logger = logging.getLogger(__name__)

Schema = TableSchema | Mapping[str, Any]
#: What the node functions declare for their `params:schema` argument: one type,
#: since Kedro warns on every run about a union there, which it cannot validate.
#: A parsed TableSchema is accepted too.
SchemaParameter = Mapping[str, Any]


#: What the row numbers of the messages mean. They are positions, not index
#: labels: the same for a batch read from a file and for a served request.
ROW_NUMBERS = (
    "Rows are counted from 1 at the first row of data "
    "(in a CSV file with a header line, row N is on line N + 1)."
)

# The order of the checks (the first part of a Problem's key).
_MISSING, _ID, _FEATURES, _NO_VALUES, _TARGET = range(5)
_ID_EMPTY = (_ID, 0)
_ID_REPEATED = (_ID, 1)
_UNSET = (-1, -1)  # a feature's problem, keyed by its column by the caller


@dataclass(frozen=True)
class Problem:
    """One problem of the data as an error lists it: ``text``, then, for a
    problem found in some rows, up to three of their values and the rows.

    ``key`` orders the problems of an error (the check that found it) and
    names the same problem in two parts of one table
    (:func:`merge_schema_errors`).

    Example:
        >>> str(Problem((2, 0), "column 'age' has values outside [18, 110]", ("7",), (2,), 1))
        "column 'age' has values outside [18, 110] ('7') in row 2"
    """

    key: tuple[int, int]
    text: str
    values: tuple[str, ...] = ()  # as text, distinct, in row order
    rows: tuple[int, ...] = ()  # positions from 1: the first MAX_ROWS_SHOWN
    count: int = 0  # how many rows

    def __str__(self) -> str:
        if not self.count:
            return self.text
        shown = f" ({', '.join(repr(v) for v in self.values)})" if self.values else ""
        return f"{self.text}{shown} in {_rows_text(self.rows, self.count)}"


class SchemaError(ValueError):
    """The data does not match the schema (``schema`` in ``parameters.yml``).

    ``problems`` lists each problem on its own (empty when the data is empty);
    ``found`` holds the same as :class:`Problem` objects.
    """

    def __init__(self, message: str, problems: Iterable[str | Problem] = ()) -> None:
        super().__init__(message)
        found = list(problems)
        self.found = [p for p in found if isinstance(p, Problem)]
        self.problems = [str(p) for p in found]


def validate_training_table(
    data: pd.DataFrame, schema: SchemaParameter
) -> pd.DataFrame:
    """Check the labelled training table: the target is required, and every
    categorical value must be listed in the schema.

    Example:
        >>> import pandas as pd
        >>> schema = {
        ...     "id_column": "id",
        ...     "target": {"column": "y", "positive_class": 1},
        ...     "numeric": {"x": {}},
        ... }
        >>> len(validate_training_table(pd.DataFrame({"id": [1, 2], "x": [0.5, 1], "y": [0, 1]}), schema))
        2
    """
    return validate_table(data, schema, require_target=True)


def validate_scoring_batch(data: pd.DataFrame, schema: SchemaParameter) -> pd.DataFrame:
    """Check rows to score (a batch, or one request of a served model): no
    target is needed, and categories the schema does not list are allowed and
    logged as a warning (the model's encoder decides what they become).

    Example:
        >>> import pandas as pd
        >>> schema = {
        ...     "id_column": "id",
        ...     "target": {"column": "y", "positive_class": 1},
        ...     "categorical": {"plan": ["a", "b"]},
        ... }
        >>> batch = pd.DataFrame({"id": [7, 8], "plan": ["b", None]})
        >>> validate_scoring_batch(batch, schema) is batch  # valid, nothing converted
        True
    """
    return validate_table(data, schema, require_target=False, strict_categories=False)


def validate_table(
    data: pd.DataFrame,
    schema: Schema,
    *,
    require_target: bool,
    strict_categories: bool = True,
) -> pd.DataFrame:
    """Check ``data`` against ``schema``; return it with numbers written as text
    converted to floats and categories that are not text converted to text.

    Numeric columns must hold numbers within their range, categorical columns
    the listed values, the id column must be present, unique and complete, and,
    when ``require_target``, the target column must be complete with two
    classes, one of them the positive class, and no feature column may be
    missing in every row (a model cannot learn from it). Other missing feature
    values are allowed. With ``strict_categories`` false, values outside a
    categorical column's list are allowed and logged as a warning.

    Args:
        data: the table to check.
        schema: the ``schema`` block of ``parameters.yml`` or a parsed one.
        require_target: whether the target column must be there (training).
        strict_categories: whether unlisted categories are errors.

    Raises:
        SchemaConfigError: the schema itself is wrong.
        SchemaError: the data has no rows, or listing every problem of the data
            with its column and rows.
    """
    schema = parse_schema(schema)
    if len(data) == 0:
        purpose = "train on" if require_target else "score"
        raise SchemaError(
            f"The data is empty (0 rows, {len(data.columns)} columns): there is "
            f"nothing to {purpose}. Check the file, or the step that produced it."
        )
    target = schema.target.column
    required = [schema.id_column, *schema.feature_columns]
    if require_target:
        required.append(target)
    missing = {c for c in required if c not in data.columns}
    problems = [
        Problem((_MISSING, i), f"column '{c}' is missing")
        for i, c in enumerate(required)
        if c in missing
    ]

    if schema.id_column not in missing:
        problems += _check_id(data[schema.id_column])
    converted, unseen, found = _check_features(data, schema, missing, strict_categories)
    problems += found
    if require_target:
        problems += [
            Problem(
                (_NO_VALUES, i),
                f"column '{column}' has no values (missing in all {len(data)} rows): "
                "a model cannot learn from it; fill it, or remove it from the schema",
            )
            for i, column in enumerate(schema.feature_columns)
            if column not in missing and data[column].isna().all()
        ]
    if require_target and target not in missing:
        problems += _check_target(data[target], schema.target.positive_class)

    if problems:
        raise schema_error(problems)
    for column, values in unseen.items():
        if values:
            logger.warning("Column '%s' has unseen categories %s", column, values)
    return data.assign(**converted) if converted else data


def _check_features(
    data: pd.DataFrame, schema: TableSchema, missing: set[str], strict: bool
) -> tuple[dict[str, Any], dict[str, list[str]], list[Problem]]:
    """The feature columns' converted values (only of those that need it), their
    values outside the listed categories, and the problems found."""
    converted: dict[str, Any] = {}
    unseen: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for i, (column, bounds) in enumerate(schema.numeric.items()):
        if column not in missing:
            converted[column], found = _check_numeric(data[column], bounds)
            problems += [replace(p, key=(_FEATURES, i)) for p in found]
    for i, (column, allowed) in enumerate(
        schema.categorical.items(), start=len(schema.numeric)
    ):
        if column not in missing:
            converted[column], unseen[column], problem = _check_categorical(
                data[column], allowed, schema.allowed_text[column]
            )
            if strict and problem:
                problems.append(replace(problem, key=(_FEATURES, i)))
    return {c: v for c, v in converted.items() if v is not None}, unseen, problems


def _check_id(ids: pd.Series) -> list[Problem]:
    problems = []
    empty = pd.isna(ids.to_numpy())
    if empty.any():
        mask = pd.Series(empty, index=ids.index)
        problems.append(_in_rows(_ID_EMPTY, f"column '{ids.name}' (id) is empty", mask))
    if len(ids) > 1 and not ids.is_unique:
        duplicated = ids.duplicated(keep=False) & ~empty
        if duplicated.any():
            text = f"column '{ids.name}' (id) repeats values"
            problems.append(_in_rows(_ID_REPEATED, text, duplicated))
    return problems


def repeated_ids(column: str, rows: Iterable[int], count: int) -> Problem:
    """The problem of an id column whose values repeat in ``count`` rows, the
    first of them ``rows`` (positions from 1), e.g. found in a table too large
    for one frame.

    Example:
        >>> str(repeated_ids("id", [2, 9], 2))
        "column 'id' (id) repeats values in rows 2, 9"
    """
    shown = tuple(sorted(rows))[:MAX_ROWS_SHOWN]
    return Problem(
        _ID_REPEATED, f"column '{column}' (id) repeats values", (), shown, count
    )


def numeric_problem(raw: pd.Series) -> tuple[np.ndarray | None, str | None]:
    """Check that a column holds numbers (or missing values).

    Returns its values as float64 when they are not float64 already (``None``
    when they are), or the problem: booleans, or text with its rows.

    Example:
        >>> numeric_problem(pd.Series([1, 2], name="age"))[0]
        array([1., 2.])
        >>> numeric_problem(pd.Series([1.5, "old", None], name="age"))[1]
        "column 'age' must be numeric but has non-numeric values ('old') in row 2"
    """
    values, converted, problem = _numbers(raw)
    if problem is not None or values is None:
        return None, None if problem is None else str(problem)
    if converted is None and values.dtype != np.float64:
        converted = values.astype("float64")
    return converted, None


def _numbers(
    raw: pd.Series,
) -> tuple[np.ndarray | None, np.ndarray | None, Problem | None]:
    """A numeric column's values (NumPy, no copy when they are NumPy numbers),
    the same as floats if they had to be converted, or the problem."""
    column = raw.name
    if pd.api.types.is_bool_dtype(raw):
        return (
            None,
            None,
            Problem(_UNSET, f"column '{column}' must be numeric but holds booleans"),
        )
    if pd.api.types.is_numeric_dtype(raw):
        # NumPy integers and floats are compared as they are (no copy); nullable
        # ones become floats with NaN for missing values.
        plain = isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iuf"
        values = raw.to_numpy() if plain else raw.to_numpy("float64", na_value=np.nan)
        return values, None, None
    converted = pd.to_numeric(raw, errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    # pandas reads True as 1: a boolean among numbers is not one
    booleans = raw.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
    not_numeric = (raw.notna().to_numpy() & np.isnan(converted)) | booleans
    if not_numeric.any():
        mask = pd.Series(not_numeric, index=raw.index)
        text = f"column '{column}' must be numeric but has non-numeric values"
        return None, None, _in_rows(_UNSET, text, mask, raw)
    return converted, converted, None


def _check_numeric(
    raw: pd.Series, bounds: NumericRange
) -> tuple[np.ndarray | None, list[Problem]]:
    """Problems of a numeric column, and its values as floats if they were text
    (``None`` when the column is numeric already)."""
    values, converted, problem = _numbers(raw)
    if problem is not None or values is None:
        return None, [problem] if problem else []
    low = -np.inf if bounds.min is None else bounds.min
    high = np.inf if bounds.max is None else bounds.max
    outside = (values < low) | (values > high)  # NaN compares False: allowed
    problems = []
    if outside.any():
        mask = pd.Series(outside, index=raw.index)
        text = f"column '{raw.name}' has values outside [{low}, {high}]"
        problems.append(_in_rows(_UNSET, text, mask, raw))
    return converted, problems


def _check_categorical(
    raw: pd.Series, allowed: list[Any], allowed_text: frozenset[str]
) -> tuple[pd.Series | None, list[str], Problem | None]:
    """A categorical column as text (``None`` when it is text already), its
    distinct values outside ``allowed`` (compared as text), and the problem they
    are when categories are strict."""
    try:
        distinct = raw.unique().tolist()  # a few values, however many rows
    except TypeError:  # unhashable values (lists...): each one is compared
        distinct = raw.tolist()
    outside_text = {str(v) for v in distinct if not _missing(v)} - allowed_text
    # Numbers or mixed values are compared, and encoded, as the text they read as.
    as_text = None if isinstance(raw.dtype, pd.StringDtype) else raw.astype("str")
    if not outside_text:
        return as_text, [], None
    mask = raw.map(lambda v: not _missing(v) and str(v) in outside_text).astype(bool)
    text = f"column '{raw.name}' has values outside {list(allowed)}"
    return as_text, sorted(outside_text), _in_rows(_UNSET, text, mask, raw)


def _check_target(labels: pd.Series, positive_class: Any) -> list[Problem]:
    problems = []
    if labels.isna().any():
        text = f"column '{labels.name}' (target) is empty"
        problems.append(_in_rows((_TARGET, 0), text, labels.isna()))
    classes = set(labels.dropna().astype(str))
    if str(positive_class) not in classes or len(classes) != 2:
        problems.append(
            Problem(
                (_TARGET, 1),
                f"column '{labels.name}' (target) must hold exactly two classes "
                f"including the positive class {str(positive_class)!r}; found "
                f"{sorted(classes)}",
            )
        )
    return problems


def _missing(value: Any) -> bool:
    """True for None, NaN, ``pd.NA`` and ``NaT``; False for any other value, a
    list included."""
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def row_numbers(mask: pd.Series) -> str:
    """The rows where ``mask`` holds, by position from 1 (see :data:`ROW_NUMBERS`).

    Example:
        >>> row_numbers(pd.Series([False, True, True], index=[7, 8, 9]))
        'rows 2, 3'
    """
    positions = np.flatnonzero(mask.to_numpy(dtype=bool)) + 1
    return _rows_text(tuple(int(p) for p in positions[:MAX_ROWS_SHOWN]), len(positions))


def _rows_text(rows: tuple[int, ...], count: int) -> str:
    shown = ", ".join(str(p) for p in rows)
    more = f" (first {MAX_ROWS_SHOWN} of {count})" if count > MAX_ROWS_SHOWN else ""
    return f"{'row' if count == 1 else 'rows'} {shown}{more}"


def _in_rows(
    key: tuple[int, int], text: str, mask: pd.Series, values: pd.Series | None = None
) -> Problem:
    """The problem ``text`` in the rows where ``mask`` holds, with up to
    :data:`MAX_VALUES_SHOWN` of their distinct ``values``."""
    flags = mask.to_numpy(dtype=bool)
    positions = np.flatnonzero(flags) + 1
    shown: tuple[str, ...] = ()
    if values is not None:
        shown = tuple(dict.fromkeys(values[flags].astype(str)))[:MAX_VALUES_SHOWN]
    rows = tuple(int(p) for p in positions[:MAX_ROWS_SHOWN])
    return Problem(key, text, shown, rows, len(positions))


def schema_error(problems: Iterable[Problem]) -> SchemaError:
    """The error listing ``problems`` in the order of their checks."""
    ordered = sorted(problems, key=lambda p: p.key)
    listing = "\n".join(f"  - {p}" for p in ordered)
    numbered = any(p.count for p in ordered)
    return SchemaError(
        f"The data does not match the schema ({SOURCE}):\n{listing}\n"
        + (f"{ROW_NUMBERS}\n" if numbered else "")
        + "Fix the data, or update the schema if the change is intended.",
        ordered,
    )


def merge_schema_errors(parts: Iterable[tuple[int, SchemaError]]) -> SchemaError:
    """One error for a table checked in parts, as if it was checked whole.

    Args:
        parts: ``(rows before the part, the part's error)``, for the parts that
            failed, in any order. A problem found in several parts is listed
            once, with the rows of all of them counted from the table's first.
            Parts whose error lists no problem (an empty part) are left out.

    Example:
        >>> import pandas as pd
        >>> schema = {"id_column": "id", "target": {"column": "y", "positive_class": 1},
        ...           "numeric": {"age": {"min": 18}}}
        >>> def error(ages):
        ...     try:
        ...         validate_scoring_batch(pd.DataFrame({"id": range(len(ages)), "age": ages}), schema)
        ...     except SchemaError as failed:
        ...         return failed
        >>> print(merge_schema_errors([(0, error([20, 7])), (2, error([5, 30, 7]))]).problems)
        ["column 'age' has values outside [18, inf] ('7', '5') in rows 2, 3, 5"]
    """
    merged: dict[tuple[int, int], Problem] = {}
    for offset, error in sorted(parts, key=lambda part: part[0]):
        for problem in error.found:
            rows = tuple(offset + r for r in problem.rows)
            seen = merged.get(problem.key)
            if seen is None:
                merged[problem.key] = replace(problem, rows=rows)
                continue
            merged[problem.key] = replace(
                seen,
                values=tuple(dict.fromkeys(seen.values + problem.values))[
                    :MAX_VALUES_SHOWN
                ],
                rows=(seen.rows + rows)[:MAX_ROWS_SHOWN],
                count=seen.count + problem.count,
            )
    return schema_error(merged.values())
