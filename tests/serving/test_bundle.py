"""bundle_model: kedro-mlflow's pipeline_ml_factory with the serving defaults;
share_fitted_estimators: the bundled model's fitted inputs, frozen for sharing."""

from __future__ import annotations

import copy

import pandas as pd
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from kedro_datasets.pickle import PickleDataset
from sklearn.linear_model import LogisticRegression

from kedro_mlops.serving import ServingRunner, bundle_model
from kedro_mlops.serving.bundle import share_fitted_estimators
from kedro_mlops.serving.estimators import SharedEstimator


def _fit(frame: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(frame[["x"]], frame["y"])


def _score(batch: pd.DataFrame, model: LogisticRegression, threshold: float):
    return batch.assign(p=model.predict_proba(batch[["x"]])[:, 1] >= threshold)


def _bundled(**kwargs):
    training = Pipeline([Node(_fit, "train_rows", "model", name="fit")])
    inference = Pipeline(
        [Node(_score, ["rows", "model", "params:threshold"], "scores", name="score")]
    )
    return bundle_model(training, inference, input_name="rows", **kwargs)


def test_the_bundle_has_the_serving_runner_requirements_and_code():
    # when a project bundles its inference pipeline (package given explicitly)
    pipeline = _bundled(package_name="kedro_mlops")
    # then the model runs with ServingRunner, pinned requirements, the package's code
    assert isinstance(pipeline.kpm_kwargs["runner"], ServingRunner)
    kwargs = pipeline.log_model_kwargs
    assert kwargs["name"] == "model" and kwargs["signature"] == "auto"
    assert any(r.startswith("kedro-mlflow==") for r in kwargs["pip_requirements"])
    assert kwargs["code_paths"][0].endswith("kedro_mlops")
    # and a caller's log_model_kwargs win
    assert _bundled(log_model_kwargs={"name": "m"}).log_model_kwargs["name"] == "m"


def test_fitted_inputs_of_the_model_are_saved_again_shared(tmp_path):
    # given a training run that wrote a fitted model to a pickle file
    pipeline = _bundled(package_name="kedro_mlops")
    catalog = DataCatalog({"model": PickleDataset(filepath=str(tmp_path / "m.pkl"))})
    catalog["params:threshold"] = 0.5
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]})
    catalog.save("model", _fit(frame))
    # when the plugin's hook shares the bundled model's fitted estimators
    assert share_fitted_estimators(pipeline, catalog) == ["model"]
    # then the file holds a frozen estimator whose deep copy is itself, scoring alike
    model = catalog.load("model")
    assert isinstance(model, SharedEstimator) and copy.deepcopy(model) is model
    assert model.predict(frame[["x"]]).tolist() == [0, 0, 1, 1]
    # and a second pass, or a pipeline that bundles nothing, changes nothing
    assert share_fitted_estimators(pipeline, catalog) == []
    assert share_fitted_estimators(pipeline.training, catalog) == []
