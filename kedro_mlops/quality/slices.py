"""The model's score on slices of the test set, and the slices it fails.

A slice is the rows holding one level of a categorical column (missing values
are the level ``(missing)``) or one quantile bin of a numeric column. Each
slice of at least ``min_rows`` rows gets the ROC AUC; a slice holding one
class only has no ROC AUC and gets the accuracy of the decisions instead,
compared with the overall accuracy. A slice is flagged when it falls more
than ``margin`` below the overall figure. :func:`slice_report` is logged as
``quality/slices.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypedDict

from pydantic import AfterValidator, Field, ValidationInfo

MISSING = "(missing)"
#: Where a training run keeps its slice metrics (the starter's catalog logs it).
ARTIFACT = "quality/slices.json"


def _schema_columns(columns: list[str] | None, info: ValidationInfo) -> Any:
    """Each slice column must be a feature of the schema (``parameters.yml``).

    The run's parameters come as the validation context ``{"parameters": ...}``
    (kedro_mlops.parameters passes them); without it nothing is compared.
    """
    parameters = (info.context or {}).get("parameters")
    schema = parameters.get("schema") if isinstance(parameters, Mapping) else None
    if columns is None or not isinstance(schema, Mapping):
        return columns
    known = feature_columns(schema)
    unknown = [column for column in columns if column not in known]
    if unknown:
        raise ValueError(
            f"{', '.join(map(repr, unknown))} not a feature column of the schema "
            f"(parameters.yml); use some of: {', '.join(known)}, or null for all"
        )
    return columns


class SliceParams(TypedDict):
    """``evaluate.slices`` of parameters_evaluate.yml."""

    columns: Annotated[list[str] | None, AfterValidator(_schema_columns)]
    numeric_bins: Annotated[int, Field(ge=2)]  # quantile bins of a numeric column
    min_rows: Annotated[int, Field(ge=1)]  # smaller slices are left out
    margin: Annotated[float, Field(ge=0)]  # flagged when this far below overall


def feature_columns(schema: Mapping[str, Any]) -> list[str]:
    """The schema's categorical columns, then its numeric ones."""
    return [*(schema.get("categorical") or {}), *(schema.get("numeric") or {})]


def slice_report(
    rows: Any,
    truth: Any,
    probability: Any,
    decision: Any,
    *,
    schema: Mapping[str, Any],
    params: SliceParams,
) -> dict[str, Any]:
    """``{"metric", "overall", "overall_accuracy", "margin", "min_rows",
    "slices"}``; each slice is ``{"column", "slice", "rows", "metric",
    "value", "gap", "flagged"}`` with ``gap = overall - value`` (of its
    metric)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    known = feature_columns(schema)
    columns = params["columns"] if params["columns"] is not None else known
    unknown = [column for column in columns if column not in known]
    if unknown:
        raise ValueError(
            f"evaluate.slices.columns: {unknown} not in the schema's features {known}"
        )
    y = np.asarray(truth, dtype=int)
    p = np.asarray(probability, dtype=float)
    d = np.asarray(decision, dtype=int)
    overall = {
        "roc_auc": float(roc_auc_score(y, p)),
        "accuracy": float((y == d).mean()),
    }
    found = []
    for column in columns:
        numeric = column in (schema.get("numeric") or {})
        for label, inside in _levels(rows[column], numeric, params["numeric_bins"]):
            count = int(inside.sum())
            if count < params["min_rows"]:
                continue
            one_class = len(np.unique(y[inside])) < 2
            metric = "accuracy" if one_class else "roc_auc"
            value = (
                float((y[inside] == d[inside]).mean())
                if one_class
                else float(roc_auc_score(y[inside], p[inside]))
            )
            gap = overall[metric] - value
            found.append(
                {
                    "column": column,
                    "slice": label,
                    "rows": count,
                    "metric": metric,
                    "value": value,
                    "gap": gap,
                    "flagged": bool(gap > params["margin"]),
                }
            )
    return {
        "metric": "roc_auc",
        "overall": overall["roc_auc"],
        "overall_accuracy": overall["accuracy"],
        "margin": params["margin"],
        "min_rows": params["min_rows"],
        "slices": found,
    }


def flagged_count(report: Mapping[str, Any]) -> int:
    """How many slices of a :func:`slice_report` are flagged."""
    return sum(1 for entry in report["slices"] if entry["flagged"])


def _levels(values: Any, numeric: bool, bins: int) -> list[tuple[str, Any]]:
    """``(label, boolean mask)`` of each slice of one column."""
    import numpy as np
    import pandas as pd

    values = pd.Series(values).reset_index(drop=True)
    missing = values.isna().to_numpy()
    levels: list[tuple[str, Any]] = []
    if numeric:
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().any():
            binned = pd.qcut(numbers, q=bins, duplicates="drop")
            for interval in binned.cat.categories:
                label = f"[{interval.left:.4g}, {interval.right:.4g}]"
                levels.append((label, (binned == interval).to_numpy()))
    else:
        for level in sorted(values[~missing].astype(str).unique()):
            levels.append((level, (values.astype(str) == level).to_numpy() & ~missing))
    if missing.any():
        levels.append((MISSING, np.asarray(missing)))
    return levels
