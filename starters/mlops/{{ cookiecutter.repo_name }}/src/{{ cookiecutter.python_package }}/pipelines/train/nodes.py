"""Train nodes: fit the classifier on the model input."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier


def train_model(
    model_input: pd.DataFrame, target: dict[str, Any], params: dict[str, Any]
) -> HistGradientBoostingClassifier:
    """Fit a gradient-boosted tree classifier on the preprocessed features.

    ``target`` is the schema's ``target`` entry (the label column is 0/1 here).
    """
    column = target["column"]
    model = HistGradientBoostingClassifier(
        random_state=params["random_state"], **params["model"]
    )
    return model.fit(model_input.drop(columns=[column]), model_input[column])
