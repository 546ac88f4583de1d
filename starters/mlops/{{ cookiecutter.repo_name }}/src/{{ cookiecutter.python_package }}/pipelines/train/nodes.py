"""Train nodes: fit the classifier on the model input."""

from __future__ import annotations

from typing import Any, TypedDict

import pandas as pd
from kedro_mlops.quality.calibration import CalibrationParams, calibrated
from sklearn.ensemble import HistGradientBoostingClassifier


class TrainParams(TypedDict):
    """`train` in conf/base/parameters_train.yml (kedro-mlops checks it before a run)."""

    random_state: int
    model: dict[str, Any]  # HistGradientBoostingClassifier's arguments: it checks them
    calibration: CalibrationParams


def train_model(
    model_input: pd.DataFrame, target: dict[str, Any], params: TrainParams
) -> Any:
    """Fit a gradient-boosted tree classifier on the preprocessed features.

    ``target`` is the schema's ``target`` entry (the label column is 0/1 here).
    With a ``calibration`` method, the classifier is calibrated by
    cross-validation on the same rows (scikit-learn's CalibratedClassifierCV).
    """
    column = target["column"]
    model = HistGradientBoostingClassifier(
        random_state=params["random_state"], **params["model"]
    )
    model = calibrated(model, params["calibration"])
    return model.fit(model_input.drop(columns=[column]), model_input[column])
