"""Ingest nodes: schema validation, train/test split, drift reference sample.

The schema (``schema`` in conf/base/parameters.yml) names the id column, the
target and its positive class, the numeric columns with their allowed ranges
and the categorical columns with their allowed values.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

MAX_ROWS_SHOWN = 5

logger = logging.getLogger(__name__)


class SchemaError(ValueError):
    """The data does not match the schema in conf/base/parameters.yml."""


def _rows(mask: pd.Series) -> str:
    rows = list(mask[mask].index[:MAX_ROWS_SHOWN])
    count = int(mask.sum())
    more = f" (first {MAX_ROWS_SHOWN} of {count})" if count > MAX_ROWS_SHOWN else ""
    return f"rows {', '.join(str(r) for r in rows)}{more}"


def _examples(values: pd.Series) -> str:
    shown = list(dict.fromkeys(values.astype(str)))[:3]
    return ", ".join(repr(v) for v in shown)


def feature_columns(schema: dict[str, Any]) -> list[str]:
    """The model's input columns, numeric first, in schema order."""
    return [*schema["numeric"], *schema["categorical"]]


def validate_table(
    data: pd.DataFrame,
    schema: dict[str, Any],
    *,
    require_target: bool,
    strict_categories: bool = True,
) -> pd.DataFrame:
    """Check ``data`` against ``schema``; return it with numbers written as text
    converted to floats and categories that are not text converted to text.

    Numeric columns must hold numbers within their range, categorical columns
    the listed values, the id column must be present, unique and complete, and,
    when ``require_target``, the target column must be complete with two
    classes. Missing feature values are allowed. With ``strict_categories``
    false, values outside a categorical column's list are allowed and logged as
    a warning (scoring: the preprocessor encodes them like its rarest
    categories, see ``fit_preprocessor``).

    Raises:
        SchemaError: listing every problem with its column and rows.
    """
    target = schema["target"]["column"]
    required = [schema["id_column"], *feature_columns(schema)]
    if require_target:
        required.append(target)
    missing = {c for c in required if c not in data.columns}
    problems = [f"column '{c}' is missing" for c in required if c in missing]

    if schema["id_column"] not in missing:
        problems += _check_id(data[schema["id_column"]])
    converted, unseen, found = _check_features(data, schema, missing, strict_categories)
    problems += found
    if require_target and target not in missing:
        problems += _check_target(data[target], schema["target"]["positive_class"])

    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise SchemaError(
            "The data does not match the schema (conf/base/parameters.yml, key 'schema'):\n"
            f"{listing}\nFix the data, or update the schema if the change is intended."
        )
    for column, values in unseen.items():
        if values:
            logger.warning("Column '%s' has unseen categories %s", column, values)
    return data.assign(**converted) if converted else data


def _check_features(
    data: pd.DataFrame, schema: dict[str, Any], missing: set[str], strict: bool
) -> tuple[dict[str, Any], dict[str, list[str]], list[str]]:
    """The feature columns' converted values (only of those that need it), their
    values outside the listed categories, and the problems found."""
    # Numbers are checked as NumPy arrays, categories by their distinct values,
    # and a column is converted only when its values need it: the same node
    # validates every request when the model is served.
    converted: dict[str, Any] = {}
    unseen: dict[str, list[str]] = {}
    problems: list[str] = []
    for column, bounds in schema["numeric"].items():
        if column not in missing:
            converted[column], found = _check_numeric(data[column], bounds)
            problems += found
    for column, allowed in schema["categorical"].items():
        if column not in missing:
            converted[column], unseen[column], problem = _check_categorical(
                data[column], allowed
            )
            if strict and problem:
                problems.append(problem)
    return {c: v for c, v in converted.items() if v is not None}, unseen, problems


def _check_id(ids: pd.Series) -> list[str]:
    problems = []
    empty = pd.isna(ids.to_numpy())
    if empty.any():
        mask = pd.Series(empty, index=ids.index)
        problems.append(f"column '{ids.name}' (id) is empty in {_rows(mask)}")
    if len(ids) > 1 and not ids.is_unique:
        duplicated = ids.duplicated(keep=False) & ~empty
        if duplicated.any():
            problems.append(
                f"column '{ids.name}' (id) repeats values in {_rows(duplicated)}"
            )
    return problems


def _check_numeric(
    raw: pd.Series, bounds: dict[str, float]
) -> tuple[np.ndarray | None, list[str]]:
    """Problems of a numeric column, and its values as floats if they were text
    (``None`` when the column is numeric already)."""
    column = raw.name
    if pd.api.types.is_bool_dtype(raw):
        return None, [f"column '{column}' must be numeric but holds booleans"]
    if pd.api.types.is_numeric_dtype(raw):
        converted = None
        # NumPy integers and floats are compared as they are (no copy); nullable
        # ones become floats with NaN for missing values.
        plain = isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iuf"
        values = raw.to_numpy() if plain else raw.to_numpy("float64", na_value=np.nan)
    else:
        values = converted = pd.to_numeric(raw, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        not_numeric = raw.notna().to_numpy() & np.isnan(values)
        if not_numeric.any():
            mask = pd.Series(not_numeric, index=raw.index)
            return None, [
                f"column '{column}' must be numeric but has non-numeric values "
                f"({_examples(raw[mask])}) in {_rows(mask)}"
            ]
    low, high = bounds.get("min", -np.inf), bounds.get("max", np.inf)
    outside = (values < low) | (values > high)  # NaN compares False: allowed
    problems = []
    if outside.any():
        mask = pd.Series(outside, index=raw.index)
        problems.append(
            f"column '{column}' has values outside [{low}, {high}] "
            f"({_examples(raw[mask])}) in {_rows(mask)}"
        )
    return converted, problems


def _check_categorical(
    raw: pd.Series, allowed: list[Any]
) -> tuple[pd.Series | None, list[str], str | None]:
    """A categorical column as text (``None`` when it is text already), its
    distinct values outside ``allowed`` (compared as text), and the problem they
    are when categories are strict."""
    try:
        distinct = raw.unique().tolist()  # a few values, however many rows
    except TypeError:  # unhashable values (lists...): each one is compared
        distinct = raw.tolist()
    outside_text = {str(v) for v in distinct if not _missing(v)} - {
        str(a) for a in allowed
    }
    # Numbers or mixed values are compared, and encoded, as the text they read as.
    as_text = None if isinstance(raw.dtype, pd.StringDtype) else raw.astype("str")
    if not outside_text:
        return as_text, [], None
    mask = raw.map(lambda v: not _missing(v) and str(v) in outside_text).astype(bool)
    problem = (
        f"column '{raw.name}' has values outside {list(allowed)} "
        f"({_examples(raw[mask])}) in {_rows(mask)}"
    )
    return as_text, sorted(outside_text), problem


def _missing(value: Any) -> bool:
    """True for None, NaN, ``pd.NA`` and ``NaT``; False for any other value, a
    list included."""
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _check_target(labels: pd.Series, positive_class: Any) -> list[str]:
    problems = []
    if labels.isna().any():
        problems.append(
            f"column '{labels.name}' (target) is empty in {_rows(labels.isna())}"
        )
    classes = set(labels.dropna().astype(str))
    if str(positive_class) not in classes or len(classes) != 2:
        problems.append(
            f"column '{labels.name}' (target) must hold exactly two classes including "
            f"the positive class {str(positive_class)!r}; found {sorted(classes)}"
        )
    return problems


def validate_raw_data(raw: pd.DataFrame, schema: dict[str, Any]) -> pd.DataFrame:
    """Validate the labelled training table (the target is required)."""
    return validate_table(raw, schema, require_target=True)


def split_data(
    data: pd.DataFrame, target: dict[str, Any], params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into train and test sets, stratified on the target column."""
    train, test = train_test_split(
        data,
        test_size=params["test_size"],
        random_state=params["random_state"],
        stratify=data[target["column"]],
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def sample_reference(train: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Keep a sample of the training rows as the reference for drift checks."""
    size = min(params["reference_sample_size"], len(train))
    return train.sample(n=size, random_state=params["random_state"]).reset_index(
        drop=True
    )
