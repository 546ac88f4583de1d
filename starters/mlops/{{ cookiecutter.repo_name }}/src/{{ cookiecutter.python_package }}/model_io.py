"""The model's inputs and outputs, shared by the pipelines.

The columns the model reads, how the target becomes its 0/1 label, and the
predictions it writes, named after the target. ``evaluate`` scores the test set
with the same ``predict`` as ``infer`` scores new rows.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import pandas as pd
from pydantic import Field


class InferParams(TypedDict):
    """`infer` in conf/base/parameters_infer.yml (kedro-mlops checks it before a run)."""

    threshold: Annotated[float, Field(ge=0, le=1)]


def feature_columns(schema: dict[str, Any]) -> list[str]:
    """The model's input columns: the numeric ones, then the categorical ones."""
    return [*schema["numeric"], *schema["categorical"]]


def binary_labels(data: pd.DataFrame, target: dict[str, Any]) -> pd.Series:
    """1 where the target column holds the positive class, else 0 (compared as text)."""
    column = data[target["column"]]
    return (column.astype(str) == str(target["positive_class"])).astype(int)


def probability_column(target: dict[str, Any]) -> str:
    """``<target>_probability``: the predicted probability of the positive class."""
    return f"{target['column']}_probability"


def prediction_column(target: dict[str, Any]) -> str:
    """``<target>_prediction``: 1 when the probability reaches the threshold."""
    return f"{target['column']}_prediction"


def predict(
    rows: pd.DataFrame,
    preprocessor: Any,
    model: Any,
    schema: dict[str, Any],
    params: InferParams,
) -> pd.DataFrame:
    """One row per input row: the id, the probability and the 0/1 decision."""
    features = preprocessor.transform(rows[feature_columns(schema)])
    probability = model.predict_proba(features)[:, 1]
    return pd.DataFrame(
        {
            schema["id_column"]: rows[schema["id_column"]].to_numpy(),
            probability_column(schema["target"]): probability,
            prediction_column(schema["target"]): (
                probability >= params["threshold"]
            ).astype(int),
        }
    )
