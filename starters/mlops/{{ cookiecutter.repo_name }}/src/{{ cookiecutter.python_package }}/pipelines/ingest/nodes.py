"""Ingest nodes: schema validation, train/test split, drift reference sample.

The schema (``schema`` in conf/base/parameters.yml) names the id column, the
target and its positive class, the numeric columns with their allowed ranges
and the categorical columns with their allowed values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

MAX_ROWS_SHOWN = 5


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
    """Check ``data`` against ``schema`` and return it with schema dtypes.

    Numeric columns must hold numbers within their range, categorical columns
    the listed values (unless ``strict_categories`` is false), the id column
    must be present, unique and complete, and, when ``require_target``, the
    target column must be complete with two classes. Missing feature values are
    allowed.

    Raises:
        SchemaError: listing every problem with its column and rows.
    """
    target = schema["target"]["column"]
    required = [schema["id_column"], *feature_columns(schema)]
    if require_target:
        required.append(target)
    missing = {c for c in required if c not in data.columns}
    problems = [f"column '{c}' is missing" for c in required if c in missing]

    checked = data.copy()
    if schema["id_column"] not in missing:
        problems += _check_id(checked[schema["id_column"]])
    for column, bounds in schema["numeric"].items():
        if column not in missing:
            checked[column], found = _check_numeric(checked[column], bounds)
            problems += found
    for column, allowed in schema["categorical"].items():
        if column not in missing:
            checked[column], found = _check_categorical(
                checked[column], allowed, strict_categories
            )
            problems += found
    if require_target and target not in missing:
        problems += _check_target(checked[target], schema["target"]["positive_class"])

    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise SchemaError(
            "The data does not match the schema (conf/base/parameters.yml, key 'schema'):\n"
            f"{listing}\nFix the data, or update the schema if the change is intended."
        )
    return checked


def _check_id(ids: pd.Series) -> list[str]:
    problems = []
    if ids.isna().any():
        problems.append(f"column '{ids.name}' (id) is empty in {_rows(ids.isna())}")
    duplicated = ids.duplicated(keep=False) & ids.notna()
    if duplicated.any():
        problems.append(
            f"column '{ids.name}' (id) repeats values in {_rows(duplicated)}"
        )
    return problems


def _check_numeric(
    raw: pd.Series, bounds: dict[str, float]
) -> tuple[pd.Series, list[str]]:
    column = raw.name
    if pd.api.types.is_bool_dtype(raw):
        return raw, [f"column '{column}' must be numeric but holds booleans"]
    values = pd.to_numeric(raw, errors="coerce")
    not_numeric = raw.notna() & values.isna()
    if not_numeric.any():
        return raw, [
            f"column '{column}' must be numeric but has non-numeric values "
            f"({_examples(raw[not_numeric])}) in {_rows(not_numeric)}"
        ]
    low, high = bounds.get("min", -np.inf), bounds.get("max", np.inf)
    outside = values.notna() & ((values < low) | (values > high))
    problems = []
    if outside.any():
        problems.append(
            f"column '{column}' has values outside [{low}, {high}] "
            f"({_examples(raw[outside])}) in {_rows(outside)}"
        )
    return values.astype("float64"), problems


def _check_categorical(
    raw: pd.Series, allowed: list[Any], strict: bool
) -> tuple[pd.Series, list[str]]:
    present = raw.notna()
    as_text = raw.astype(str).where(present).astype(object)
    unknown = present & ~as_text.isin([str(a) for a in allowed])
    problems = []
    if strict and unknown.any():
        problems.append(
            f"column '{raw.name}' has values outside {list(allowed)} "
            f"({_examples(raw[unknown])}) in {_rows(unknown)}"
        )
    return as_text, problems


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
    data: pd.DataFrame, schema: dict[str, Any], params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into train and test sets, stratified on the target."""
    train, test = train_test_split(
        data,
        test_size=params["test_size"],
        random_state=params["random_state"],
        stratify=data[schema["target"]["column"]],
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def sample_reference(train: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Keep a sample of the training rows as the reference for drift checks."""
    size = min(params["reference_sample_size"], len(train))
    return train.sample(n=size, random_state=params["random_state"]).reset_index(
        drop=True
    )
