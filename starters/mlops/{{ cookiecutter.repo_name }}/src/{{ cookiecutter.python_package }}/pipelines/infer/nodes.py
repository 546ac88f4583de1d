"""Infer nodes: score rows with a registered model, and build what drift checks compare."""

from __future__ import annotations

from typing import Any

import pandas as pd

from {{ cookiecutter.python_package }}.model_io import feature_columns, probability_column


def score_with_model(batch: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Score a batch with a registered model (the bundled inference pipeline)."""
    return model.predict(batch)


def monitoring_frame(rows: Any, predictions: Any, schema: dict[str, Any]) -> Any:
    """The id and feature columns of ``rows`` with the predicted probability
    beside them, joined on the id: what the drift check compares between the
    reference and a scored batch (pandas or Spark DataFrames; the drift
    settings leave the id out).
    """
    id_column = schema["id_column"]
    features = rows[[id_column, *feature_columns(schema)]]
    scores = predictions[[id_column, probability_column(schema["target"])]]
    if isinstance(rows, pd.DataFrame):
        return features.merge(scores, on=id_column)
    return features.join(scores, on=id_column)
