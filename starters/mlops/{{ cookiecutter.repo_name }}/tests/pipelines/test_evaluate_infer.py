import pandas as pd

from {{ cookiecutter.python_package }}.pipelines.evaluate.nodes import (
    evaluate_model,
    format_for_tracking,
    plot_roc_curve,
)
from {{ cookiecutter.python_package }}.pipelines.infer.nodes import monitoring_frame


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


def test_monitoring_frame_holds_the_features_and_the_probability(batch_slice, schema):
    predictions = pd.DataFrame({"churned_probability": [0.5] * len(batch_slice)})
    frame = monitoring_frame(batch_slice, predictions, schema)
    assert list(frame.columns) == [
        *schema["numeric"],
        *schema["categorical"],
        "churned_probability",
    ]
