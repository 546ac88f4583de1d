"""Run the whole project (training, then inference) on a small slice, in memory."""

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from {{ cookiecutter.python_package }}.model_io import (
    prediction_column,
    probability_column,
)
from {{ cookiecutter.python_package }}.pipelines import evaluate, feature, infer, ingest, train


def parameter_datasets(params, prefix="params:"):
    """``params:<key>`` for every key, nested ones too, as a Kedro session adds them."""
    for key, value in params.items():
        yield f"{prefix}{key}", MemoryDataset(value)
        if isinstance(value, dict):
            yield from parameter_datasets(value, f"{prefix}{key}.")


def test_training_then_inference_on_a_slice(raw_slice, batch_slice, params):
    # given an in-memory catalog with a slice of the raw data and the real parameters
    catalog = DataCatalog(
        datasets={
            "raw_customers": MemoryDataset(raw_slice),
            "scoring_batch": MemoryDataset(batch_slice),
            **dict(parameter_datasets(params)),
        }
    )
    training = (
        ingest.create_pipeline()
        + feature.create_pipeline()
        + train.create_pipeline()
        + evaluate.create_pipeline()
    )
    # when training and then the inference pipeline that is bundled with the model run
    outputs = SequentialRunner().run(training + infer.create_pipeline(), catalog)
    # then the model ranks better than chance and every row of the batch is scored
    metrics = outputs["tracked_metrics"].load()
    assert metrics["roc_auc"]["value"] > 0.6
    assert metrics["accuracy"]["value"] > 0.5
    predictions = outputs["predictions"].load()
    assert isinstance(predictions, pd.DataFrame)
    ids = params["schema"]["id_column"]
    assert list(predictions[ids]) == list(batch_slice[ids])
    probability = probability_column(params["schema"]["target"])
    assert predictions[probability].between(0, 1).all()
    # decided with the threshold evaluate chose (the parameter's, without costs)
    threshold = outputs["threshold_report"].load()["threshold"]
    assert threshold == params["infer"]["threshold"]
    decided = (predictions[probability] >= threshold).astype(int)
    assert (predictions[prediction_column(params["schema"]["target"])] == decided).all()
