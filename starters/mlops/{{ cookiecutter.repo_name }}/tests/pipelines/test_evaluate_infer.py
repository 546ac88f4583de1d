import pandas as pd
import pytest

from {{ cookiecutter.python_package }}.pipelines.evaluate.nodes import (
    evaluate_model,
    format_for_tracking,
    plot_roc_curve,
)
from {{ cookiecutter.python_package }}.pipelines.infer.nodes import validate_batch
from {{ cookiecutter.python_package }}.pipelines.ingest.nodes import SchemaError


def test_perfect_predictions_score_one(schema):
    test = pd.DataFrame({"churned": ["yes", "no", "yes", "no"]})
    predictions = pd.DataFrame(
        {
            "churned_probability": [0.9, 0.1, 0.8, 0.3],
            "churned_prediction": [1, 0, 1, 0],
        }
    )
    metrics = evaluate_model(test, predictions, schema["target"])
    assert metrics["accuracy"] == metrics["roc_auc"] == metrics["f1"] == 1.0
    assert metrics["baseline_accuracy"] == 0.5
    assert format_for_tracking(metrics)["f1"] == {"value": 1.0, "step": 0}


def test_roc_plot_is_a_figure(schema, params):
    test = pd.DataFrame({"churned": ["yes", "no"]})
    predictions = pd.DataFrame(
        {"churned_probability": [0.7, 0.2], "churned_prediction": [1, 0]}
    )
    figure = plot_roc_curve(test, predictions, schema["target"], params["evaluate"])
    assert figure.axes[0].get_title().startswith("ROC curve")


def test_batch_needs_no_target_but_all_features(batch_slice, schema):
    assert len(validate_batch(batch_slice, schema)) == len(batch_slice)
    with pytest.raises(SchemaError, match="column 'monthly_charges' is missing"):
        validate_batch(batch_slice.drop(columns=["monthly_charges"]), schema)


def test_batch_with_unseen_category_is_scored_and_reported(batch_slice, schema, caplog):
    batch = batch_slice.copy()
    batch.loc[0, "region"] = "atlantis"
    validate_batch(batch, schema)
    assert "unseen categories ['atlantis']" in caplog.text
