"""Infer nodes: score raw rows with the preprocessor and the model."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..ingest.nodes import feature_columns, validate_table


def validate_batch(batch: pd.DataFrame, schema: dict[str, Any]) -> pd.DataFrame:
    """Check a batch of rows to score: the id and feature columns must be there
    with valid types and ranges. Categories unseen in training are allowed and
    logged: the preprocessor encodes them like its rarest categories (see
    ``fit_preprocessor``).
    """
    return validate_table(batch, schema, require_target=False, strict_categories=False)


def predict(
    batch: pd.DataFrame,
    preprocessor: Any,
    model: Any,
    schema: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """Predict the positive-class probability and the 0/1 decision per row.

    Returns one row per input row: the id column, ``<target>_probability`` and
    ``<target>_prediction`` (1 when the probability reaches ``threshold``).
    """
    target = schema["target"]["column"]
    features = preprocessor.transform(batch[feature_columns(schema)])
    probability = model.predict_proba(features)[:, 1]
    return pd.DataFrame(
        {
            schema["id_column"]: batch[schema["id_column"]].to_numpy(),
            f"{target}_probability": probability,
            f"{target}_prediction": (probability >= params["threshold"]).astype(int),
        }
    )


def score_with_model(batch: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Score a batch with a registered model (the bundled inference pipeline)."""
    return model.predict(batch)


def monitoring_frame(
    rows: pd.DataFrame, predictions: pd.DataFrame, schema: dict[str, Any]
) -> pd.DataFrame:
    """The feature columns of ``rows`` with the predicted probability beside them:
    what the drift check compares between the reference and a scored batch.
    """
    probability = f"{schema['target']['column']}_probability"
    return rows[feature_columns(schema)].assign(
        **{probability: predictions[probability].to_numpy()}
    )
