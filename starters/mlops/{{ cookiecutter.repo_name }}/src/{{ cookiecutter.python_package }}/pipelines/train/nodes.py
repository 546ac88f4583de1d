"""Train nodes: fit the classifier on the model input."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import pandas as pd
from kedro_mlops.quality.calibration import CalibrationParams, calibrated
from kedro_mlops.quality.tuning import TuningParams, for_estimator, tune
from sklearn.ensemble import HistGradientBoostingClassifier


class TrainParams(TypedDict):
    """`train` in conf/base/parameters_train.yml (kedro-mlops checks it before a run)."""

    random_state: int
    model: dict[str, Any]  # HistGradientBoostingClassifier's arguments: it checks them
    tuning: Annotated[TuningParams, for_estimator(HistGradientBoostingClassifier)]
    calibration: CalibrationParams


def train_model(
    model_input: pd.DataFrame, target: dict[str, Any], params: TrainParams
) -> Any:
    """Fit a gradient-boosted tree classifier on the preprocessed features, with
    the best parameters a search finds (each trial is logged to MLflow).

    ``target`` is the schema's ``target`` entry (the label column is 0/1 here).
    With a ``calibration`` method, the classifier is calibrated by
    cross-validation on the same rows (scikit-learn's CalibratedClassifierCV).
    """
    column = target["column"]
    features, labels = model_input.drop(columns=[column]), model_input[column]
    model = HistGradientBoostingClassifier(
        random_state=params["random_state"], **params["model"]
    )
    best = tune(model, features, labels, params["tuning"])
    model = calibrated(model.set_params(**best), params["calibration"])
    return model.fit(features, labels)
