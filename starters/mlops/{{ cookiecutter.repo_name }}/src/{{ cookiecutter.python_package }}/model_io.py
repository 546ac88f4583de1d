"""The model's inputs and outputs, shared by the pipelines.

The columns the model reads, how the target becomes its 0/1 label, and the
predictions it writes, named after the target. ``evaluate`` scores the test set
with the same ``score`` and ``decide`` as ``infer``'s ``predict`` uses for new
rows, and chooses the decision threshold that ``infer`` then uses.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def score(
    rows: pd.DataFrame, preprocessor: Any, model: Any, schema: dict[str, Any]
) -> pd.DataFrame:
    """One row per input row: the id and the probability of the positive class."""
    features = preprocessor.transform(rows[feature_columns(schema)])
    return pd.DataFrame(
        {
            schema["id_column"]: rows[schema["id_column"]].to_numpy(),
            probability_column(schema["target"]): model.predict_proba(features)[:, 1],
        }
    )


def decide(
    scores: pd.DataFrame, schema: dict[str, Any], threshold: Mapping[str, Any]
) -> pd.DataFrame:
    """The scores with the 0/1 decision: 1 when the probability reaches
    ``threshold["threshold"]`` (`infer` parameters, or the threshold training chose)."""
    probability = scores[probability_column(schema["target"])]
    decision = (probability >= threshold["threshold"]).astype(int)
    return scores.assign(**{prediction_column(schema["target"]): decision})


def predict(
    rows: pd.DataFrame,
    preprocessor: Any,
    model: Any,
    schema: dict[str, Any],
    threshold: Mapping[str, Any],
) -> pd.DataFrame:
    """One row per input row: the id, the probability and the 0/1 decision."""
    return decide(score(rows, preprocessor, model, schema), schema, threshold)
