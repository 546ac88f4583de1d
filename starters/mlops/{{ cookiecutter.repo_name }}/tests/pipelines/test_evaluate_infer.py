import pandas as pd

from {{ cookiecutter.python_package }}.model_io import (
    decide,
    feature_columns,
    prediction_column,
    probability_column,
)
from {{ cookiecutter.python_package }}.pipelines.evaluate.nodes import (
    evaluate_model,
    format_for_tracking,
    plot_roc_curve,
)
from {{ cookiecutter.python_package }}.pipelines.infer.nodes import monitoring_frame


def _outcomes(target: dict, positive: list[bool]) -> pd.DataFrame:
    """A test set whose target is the positive class where ``positive`` is true."""
    other = f"not {target['positive_class']}"
    values = [target["positive_class"] if p else other for p in positive]
    return pd.DataFrame({target["column"]: values})


def test_perfect_predictions_score_one(schema):
    target = schema["target"]
    test = _outcomes(target, [True, False, True, False])
    predictions = pd.DataFrame(
        {
            probability_column(target): [0.9, 0.1, 0.8, 0.3],
            prediction_column(target): [1, 0, 1, 0],
        }
    )
    metrics = evaluate_model(test, predictions, target, {"threshold": 0.5})
    assert metrics["accuracy"] == metrics["roc_auc"] == metrics["f1"] == 1.0
    assert metrics["threshold"] == 0.5
    assert metrics["baseline_accuracy"] == 0.5
    assert format_for_tracking(metrics)["f1"] == {"value": 1.0, "step": 0}


def test_the_decision_uses_the_threshold_it_is_given(schema):
    target = schema["target"]
    scores = pd.DataFrame({probability_column(target): [0.1, 0.3, 0.6]})
    decided = decide(scores, schema, {"threshold": 0.25})
    assert decided[prediction_column(target)].tolist() == [0, 1, 1]


def test_roc_plot_is_a_figure(schema, params):
    target = schema["target"]
    predictions = pd.DataFrame(
        {probability_column(target): [0.7, 0.2], prediction_column(target): [1, 0]}
    )
    test = _outcomes(target, [True, False])
    figure = plot_roc_curve(test, predictions, target, params["evaluate"])
    assert figure.axes[0].get_title().startswith("ROC curve")


def test_monitoring_frame_holds_the_features_and_the_probability(batch_slice, schema):
    id_column = schema["id_column"]
    probability = probability_column(schema["target"])
    # the predictions in another order: they are matched by id
    predictions = pd.DataFrame(
        {
            id_column: batch_slice[id_column][::-1].to_numpy(),
            probability: [0.1 * i for i in range(len(batch_slice))][::-1],
        }
    )
    frame = monitoring_frame(batch_slice, predictions, schema)
    assert list(frame.columns) == [id_column, *feature_columns(schema), probability]
    assert frame[id_column].tolist() == batch_slice[id_column].tolist()
    assert frame[probability].tolist() == [0.1 * i for i in range(len(batch_slice))]
