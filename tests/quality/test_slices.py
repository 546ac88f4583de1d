"""The model's score on each slice of the test set, and the flagged slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from kedro_mlops.parameters import ParametersError, check_parameters
from kedro_mlops.quality.slices import SliceParams, flagged_count, slice_report

SCHEMA = {
    "id_column": "id",
    "target": {"column": "y", "positive_class": 1},
    "numeric": {"age": {"min": 0, "max": 100}},
    "categorical": {"plan": ["basic", "pro", "team"]},
}
PARAMS: SliceParams = {"columns": None, "numeric_bins": 2, "min_rows": 3, "margin": 0.1}


@pytest.fixture
def case():
    rows = pd.DataFrame(
        {
            "plan": ["basic"] * 6 + ["pro"] * 4 + ["team"] * 2 + [None] * 3,
            "age": [20, 30, 40, 50, 60, 70, 25, 35, 45, 55, 65, 75, np.nan, 33, 66],
        }
    )
    truth = np.array([0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1])
    # well ordered for basic, reversed for pro's only class, noise elsewhere
    probability = np.array(
        [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4, 0.3, 0.2, 0.5, 0.5, 0.4, 0.6, 0.7]
    )
    decision = (probability >= 0.5).astype(int)
    return rows, truth, probability, decision


def test_each_level_and_bin_gets_its_roc_auc_or_accuracy(case):
    rows, truth, probability, decision = case
    report = slice_report(
        rows, truth, probability, decision, schema=SCHEMA, params=PARAMS
    )
    overall = roc_auc_score(truth, probability)
    accuracy = float((truth == decision).mean())
    assert report["metric"] == "roc_auc"
    assert report["overall"] == pytest.approx(overall)
    assert report["overall_accuracy"] == pytest.approx(accuracy)
    found = {(s["column"], s["slice"]): s for s in report["slices"]}
    # "team" has 2 rows, under min_rows: left out
    assert [k for k in found if k[0] == "plan"] == [
        ("plan", "basic"),
        ("plan", "pro"),
        ("plan", "(missing)"),
    ]
    basic = found[("plan", "basic")]
    assert (basic["metric"], basic["value"], basic["rows"]) == ("roc_auc", 1.0, 6)
    assert basic["gap"] == pytest.approx(overall - 1.0)
    assert basic["flagged"] is False
    # "pro" holds positives only: no ROC AUC, the accuracy of its decisions (1 of 4)
    pro = found[("plan", "pro")]
    assert (pro["metric"], pro["value"]) == ("accuracy", 0.25)
    assert pro["gap"] == pytest.approx(accuracy - 0.25)
    assert pro["flagged"] is True
    # age in two quantile bins (the missing age is its own slice, of 1 row: left out)
    ages = [s for s in report["slices"] if s["column"] == "age"]
    assert [s["rows"] for s in ages] == [7, 7]
    low = rows["age"] <= rows["age"].median()
    assert ages[0]["value"] == pytest.approx(
        roc_auc_score(truth[low], probability[low])
    )
    assert flagged_count(report) == sum(s["flagged"] for s in report["slices"])
    assert flagged_count(report) >= 1


def test_only_the_named_columns_are_sliced(case):
    rows, truth, probability, decision = case
    params = {**PARAMS, "columns": ["age"], "min_rows": 1}
    report = slice_report(
        rows, truth, probability, decision, schema=SCHEMA, params=params
    )
    assert {s["column"] for s in report["slices"]} == {"age"}


def _node(params: SliceParams) -> None: ...


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        (
            {"columns": ["plan", "tenure"]},
            "evaluate.slices.columns: 'tenure' not a feature column of the schema "
            "(parameters.yml); use some of: plan, age, or null for all "
            "(got ['plan', 'tenure'])",
        ),
        (
            {"min_rows": 0},
            "evaluate.slices.min_rows: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            {"margin": -0.1},
            "evaluate.slices.margin: Input should be greater than or equal to 0 (got -0.1)",
        ),
    ],
    ids=["unknown-column", "min-rows", "margin"],
)
def test_bad_settings_are_one_line_before_the_run(changed, message):
    from kedro.pipeline import Node, Pipeline

    pipeline = Pipeline([Node(_node, "params:evaluate.slices", None)])
    parameters = {"schema": SCHEMA, "evaluate": {"slices": {**PARAMS, **changed}}}
    with pytest.raises(ParametersError) as error:
        check_parameters(pipeline, parameters)
    assert str(error.value) == f"Invalid parameter in the parameter files: {message}"
    check_parameters(pipeline, {"schema": SCHEMA, "evaluate": {"slices": PARAMS}})
