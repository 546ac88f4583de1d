"""Infer nodes: score rows with a registered model, and build what drift checks compare."""

from __future__ import annotations

from typing import Any

import pandas as pd

from {{ cookiecutter.python_package }}.model_io import feature_columns, probability_column


def score_with_model(batch: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Score a batch with a registered model (the bundled inference pipeline)."""
    return model.predict(batch)


def monitoring_frame(
    rows: pd.DataFrame, predictions: pd.DataFrame, schema: dict[str, Any]
) -> pd.DataFrame:
    """The feature columns of ``rows`` with the predicted probability beside them:
    what the drift check compares between the reference and a scored batch.
    """
    probability = probability_column(schema["target"])
    return rows[feature_columns(schema)].assign(
        **{probability: predictions[probability].to_numpy()}
    )
