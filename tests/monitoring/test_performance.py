"""Realized and estimated performance: on drawn data, on the starter's data, on bad input."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from harness.starter_model import RAW, train_starter_model
from kedro_mlops.monitoring.performance import (
    PerformanceInputError,
    estimate_performance,
    fit_calibrator,
    prepare_labels,
    realized_performance,
    reference_from_evaluation,
)

TARGET = {"column": "churned", "positive_class": "yes"}


def scored_frame(scores, threshold=0.5, first_id=1):
    scores = np.asarray(scores, dtype=float)
    return pd.DataFrame(
        {
            "customer_id": [f"C{first_id + i:06d}" for i in range(len(scores))],
            "churned_probability": scores,
            "churned_prediction": (scores >= threshold).astype(int),
        }
    )


def labels_frame(ids, outcomes):
    return pd.DataFrame(
        {"customer_id": list(ids), "churned": np.where(outcomes, "yes", "no")}
    )


def draw(rng, n, a=1.2, b=2.5):
    """True probabilities (about 0.3 positive on average) and outcomes drawn from them."""
    probability = rng.beta(a, b, n)
    return probability, rng.random(n) < probability


# ---- estimation on drawn data -------------------------------------------------


def test_the_estimate_matches_the_realized_metrics_when_labels_follow_the_probabilities():
    # given calibrated scores whose outcomes are drawn from them
    rng = np.random.default_rng(11)
    reference, reference_outcomes = draw(rng, 20_000)
    window, outcomes = draw(rng, 20_000)
    calibrator = fit_calibrator(reference, reference_outcomes)
    scored = scored_frame(window)
    # when the window is estimated without labels and measured with them
    estimate = estimate_performance(scored["churned_probability"], calibrator, 0.5)
    realized = realized_performance(
        scored, labels_frame(scored["customer_id"], outcomes), "customer_id", TARGET
    )
    # then they agree within the sampling error of 20,000 rows
    # (standard errors: ROC AUC about 0.004, the rates about 0.003 to 0.007)
    assert calibrator.method == "none", calibrator.reason
    assert estimate["roc_auc"] == pytest.approx(realized["roc_auc"], abs=0.015)
    for name in ("accuracy", "precision", "recall", "positive_rate"):
        assert estimate[name] == pytest.approx(realized[name], abs=0.02), name
    assert estimate["predicted_positive_rate"] == realized["predicted_positive_rate"]
    assert estimate["expected_tp"] + estimate["expected_fn"] == pytest.approx(
        realized["positive_rate"] * len(window), rel=0.03
    )


def test_miscalibrated_scores_are_calibrated_with_isotonic_regression():
    # given scores that rank as the true probabilities do but are too low
    # (the square of the probability), on a reference and a window
    rng = np.random.default_rng(12)
    reference, reference_outcomes = draw(rng, 20_000)
    window, outcomes = draw(rng, 20_000)
    calibrator = fit_calibrator(reference**2, reference_outcomes)
    # when the window's squared scores are estimated
    estimate = estimate_performance(window**2, calibrator, 0.25)
    realized = realized_performance(
        scored_frame(window**2, threshold=0.25),
        labels_frame(scored_frame(window)["customer_id"], outcomes),
        "customer_id",
        TARGET,
    )
    # then isotonic regression was chosen, and the estimate is right again
    assert calibrator.method == "isotonic", calibrator.reason
    assert calibrator.brier_isotonic_cv < calibrator.brier_raw
    assert calibrator.ece_raw > 0.05 > calibrator.ece_isotonic_cv
    assert estimate["roc_auc"] == pytest.approx(realized["roc_auc"], abs=0.015)
    for name in ("accuracy", "precision", "recall", "positive_rate"):
        assert estimate[name] == pytest.approx(realized[name], abs=0.02), name
    # while the raw scores taken as probabilities would have been far off
    uncalibrated = dataclasses.replace(calibrator, method="none")
    raw = estimate_performance(window**2, uncalibrated, 0.25)
    assert abs(raw["positive_rate"] - realized["positive_rate"]) > 0.1


def test_the_calibrator_pickles_and_predicts_as_scikit_learns_isotonic_regression():
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(13)
    reference, outcomes = draw(rng, 5_000)
    calibrator = fit_calibrator(reference**3, outcomes)
    assert calibrator.method == "isotonic"
    fitted = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
    fitted.fit(reference**3, outcomes.astype(float))
    grid = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(calibrator.calibrate(grid), fitted.predict(grid))
    again = pickle.loads(pickle.dumps(calibrator))
    np.testing.assert_array_equal(again.calibrate(grid), calibrator.calibrate(grid))


def test_realized_metrics_are_scikit_learns_with_tied_scores():
    from sklearn import metrics as skm

    rng = np.random.default_rng(14)
    probability, outcomes = draw(rng, 3_000)
    scores = np.round(probability, 2)  # many ties
    scored = scored_frame(scores, threshold=0.4)
    realized = realized_performance(
        scored, labels_frame(scored["customer_id"], outcomes), "customer_id", TARGET
    )
    decision = scored["churned_prediction"]
    assert realized["roc_auc"] == pytest.approx(skm.roc_auc_score(outcomes, scores))
    assert realized["accuracy"] == pytest.approx(skm.accuracy_score(outcomes, decision))
    assert realized["precision"] == pytest.approx(
        skm.precision_score(outcomes, decision)
    )
    assert realized["recall"] == pytest.approx(skm.recall_score(outcomes, decision))
    assert realized["undefined"] == {}


# ---- the starter's data -------------------------------------------------------


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    """The starter's model trained by its own nodes, its test-set calibrator,
    and the realized and estimated performance on the two shipped batches."""
    trained = train_starter_model(tmp_path_factory.mktemp("starter_nodes"))
    schema = trained.params["schema"]
    threshold = trained.params["infer"]["threshold"]
    scores, labels = reference_from_evaluation(
        trained.test_predictions,
        trained.test_set,
        schema["id_column"],
        schema["target"],
    )
    calibrator = fit_calibrator(scores, labels)
    found = {}
    for batch in ("control", "production"):
        scored = trained.predict(pd.read_csv(RAW / f"batch_{batch}.csv"))
        labels_of_batch = pd.read_csv(RAW / f"labels_{batch}.csv")
        found[batch] = {
            "realized": realized_performance(
                scored, labels_of_batch, schema["id_column"], schema["target"]
            ),
            "estimated": estimate_performance(
                scored["churned_probability"], calibrator, threshold
            ),
        }
    return found


def test_on_the_control_batch_the_estimated_roc_auc_is_within_003_of_the_realized(
    starter,
):
    control = starter["control"]
    assert control["realized"]["rows_labelled"] == 2000
    assert control["realized"]["labels_unmatched"] == 0
    assert control["estimated"]["roc_auc"] == pytest.approx(
        control["realized"]["roc_auc"], abs=0.03
    )
    assert control["estimated"]["accuracy"] == pytest.approx(
        control["realized"]["accuracy"], abs=0.03
    )


def test_on_the_production_batch_both_estimated_and_realized_fall_below_control(
    starter,
):
    control, production = starter["control"], starter["production"]
    for kind in ("realized", "estimated"):
        assert production[kind]["roc_auc"] < control[kind]["roc_auc"], kind
        assert production[kind]["accuracy"] < control[kind]["accuracy"], kind
    # more customers churn in the shifted batch, and the estimate sees it coming
    assert (
        production["realized"]["positive_rate"] > control["realized"]["positive_rate"]
    )
    assert (
        production["estimated"]["positive_rate"] > control["estimated"]["positive_rate"]
    )


# ---- labels: what is joined, what is ignored, what is refused -----------------


@pytest.fixture
def window():
    rng = np.random.default_rng(15)
    probability, outcomes = draw(rng, 200)
    return scored_frame(probability), outcomes


def test_labels_of_ids_never_scored_are_ignored_and_counted(window):
    scored, outcomes = window
    labels = labels_frame(scored["customer_id"], outcomes)
    strangers = labels_frame(["X1", "X2", "X3"], [True, False, True])
    with_strangers = realized_performance(
        scored, pd.concat([labels, strangers]), "customer_id", TARGET
    )
    alone = realized_performance(scored, labels, "customer_id", TARGET)
    assert with_strangers["labels_unmatched"] == 3
    assert with_strangers["rows_labelled"] == 200
    assert with_strangers["roc_auc"] == alone["roc_auc"]
    assert with_strangers["accuracy"] == alone["accuracy"]


def test_a_label_repeated_with_the_same_value_counts_once(window):
    scored, outcomes = window
    labels = labels_frame(scored["customer_id"], outcomes)
    repeated = pd.concat([labels, labels.iloc[:7]])
    result = realized_performance(scored, repeated, "customer_id", TARGET)
    assert result["labels_repeated"] == 7
    assert result["rows_labelled"] == 200
    assert result == {
        **realized_performance(scored, labels, "customer_id", TARGET),
        "labels_repeated": 7,
    }


def test_conflicting_labels_name_the_ids_and_the_fix(window):
    scored, outcomes = window
    labels = labels_frame(scored["customer_id"], outcomes)
    flipped = labels.iloc[:6].assign(
        churned=lambda f: np.where(f["churned"] == "yes", "no", "yes")
    )
    with pytest.raises(PerformanceInputError) as error:
        realized_performance(
            scored, pd.concat([labels, flipped]), "customer_id", TARGET
        )
    message = str(error.value)
    assert message.startswith("labels: 6 ids have conflicting labels: ")
    first_five = scored["customer_id"].iloc[:5]
    assert all(f"{ident} (" in message for ident in first_five)
    assert scored["customer_id"].iloc[5] not in message  # at most 5 named
    assert "Keep one outcome per id" in message


def test_labels_prepared_once_give_each_window_the_same_figures(window):
    scored, outcomes = window
    labels = pd.concat(
        [
            labels_frame(scored["customer_id"], outcomes),
            labels_frame(scored["customer_id"][:5], outcomes[:5]),  # repeated
            labels_frame(["X1"], [True]),  # never scored
        ]
    )
    prepared = prepare_labels(labels, "customer_id", "churned")
    for half in (scored.iloc[:100], scored.iloc[100:]):
        from_table = realized_performance(half, labels, "customer_id", TARGET)
        assert from_table["labels_repeated"] == 5
        assert from_table["labels_unmatched"] == 101  # the other half, and X1
        assert realized_performance(half, prepared, "customer_id", TARGET) == from_table


def test_scored_rows_without_labels_are_left_out_of_the_metrics(window):
    scored, outcomes = window
    half = labels_frame(scored["customer_id"], outcomes).iloc[::2]
    result = realized_performance(scored, half, "customer_id", TARGET)
    only_labelled = realized_performance(scored.iloc[::2], half, "customer_id", TARGET)
    assert result["rows_scored"] == 200
    assert result["rows_labelled"] == 100
    for name in ("roc_auc", "accuracy", "precision", "recall", "positive_rate"):
        assert result[name] == only_labelled[name], name


def test_labels_without_a_value_are_ignored_and_counted(window):
    scored, outcomes = window
    labels = labels_frame(scored["customer_id"], outcomes)
    labels.loc[:9, "churned"] = None
    result = realized_performance(scored, labels, "customer_id", TARGET)
    assert result["labels_empty"] == 10
    assert result["rows_labelled"] == 190


def test_no_labelled_row_gives_no_metrics_and_says_why(window):
    scored, _ = window
    result = realized_performance(
        scored, labels_frame(["X1"], [True]), "customer_id", TARGET
    )
    assert result["rows_labelled"] == 0
    assert result["roc_auc"] is None and result["accuracy"] is None
    assert result["undefined"]["accuracy"].startswith("no scored row has a label yet")


@pytest.mark.parametrize("missing", ["customer_id", "churned"])
def test_a_missing_id_or_target_column_in_the_labels_is_named(window, missing):
    scored, outcomes = window
    labels = labels_frame(scored["customer_id"], outcomes).drop(columns=[missing])
    with pytest.raises(PerformanceInputError) as error:
        realized_performance(scored, labels, "customer_id", TARGET)
    assert str(error.value).startswith(f"labels: column '{missing}' is missing")
    assert "the labels are a table of the id column and the target column" in str(
        error.value
    )


def test_a_window_with_labels_of_one_class_has_no_roc_auc_and_says_why(window):
    scored, outcomes = window
    labels = labels_frame(scored["customer_id"], np.zeros(len(outcomes), bool))
    result = realized_performance(scored, labels, "customer_id", TARGET)
    assert result["roc_auc"] is None
    assert result["undefined"]["roc_auc"] == (
        "all 200 labelled rows are of one class (none positive, 'yes'; values "
        "seen: no): ROC AUC needs both classes"
    )
    assert result["accuracy"] == pytest.approx(1 - scored["churned_prediction"].mean())
    assert result["recall"] is None and "recall" in result["undefined"]
    assert result["positive_rate"] == 0.0


def test_ids_read_as_numbers_match_the_same_ids_read_as_text():
    scored = scored_frame([0.9, 0.2, 0.7]).assign(customer_id=[101, 102, 103])
    labels = pd.DataFrame({"customer_id": ["101", "102", "103"], "churned": [1, 0, 0]})
    result = realized_performance(scored, labels, "customer_id", "churned")
    assert result["rows_labelled"] == 3
    assert result["accuracy"] == pytest.approx(2 / 3)


def test_labels_that_are_not_0_1_need_the_positive_class(window):
    scored, outcomes = window
    labels = labels_frame(scored["customer_id"], outcomes)
    with pytest.raises(
        PerformanceInputError,
        match=r"the labels are not 0/1 \(values seen: 'no', 'yes'\): name the positive class",
    ):
        realized_performance(scored, labels, "customer_id", "churned")
    named = realized_performance(
        scored, labels, "customer_id", "churned", positive_class="yes"
    )
    assert named == realized_performance(scored, labels, "customer_id", TARGET)


# ---- scores that are not probabilities ----------------------------------------


@pytest.mark.parametrize("bad", [np.nan, 1.5, -0.1])
def test_scores_that_are_not_probabilities_are_refused_with_their_ids(window, bad):
    scored, outcomes = window
    scored.loc[[3, 8], "churned_probability"] = bad
    labels = labels_frame(scored["customer_id"], outcomes)
    with pytest.raises(PerformanceInputError) as error:
        realized_performance(scored, labels, "customer_id", TARGET)
    assert str(error.value) == (
        f"churned_probability: 2 of 200 values are not probabilities in [0, 1] "
        f"(ids C000004: {bad:g}, C000009: {bad:g}): drop those rows or score them again"
    )
    calibrator = fit_calibrator(*draw(np.random.default_rng(1), 500))
    with pytest.raises(
        PerformanceInputError, match=r"scores: 2 of 200 values .*positions 3: "
    ):
        estimate_performance(scored["churned_probability"], calibrator, 0.5)
    with pytest.raises(PerformanceInputError, match=r"reference_scores: 2 of 200"):
        fit_calibrator(scored["churned_probability"], outcomes)


def test_estimation_refuses_a_bad_threshold_and_reports_an_empty_window():
    calibrator = fit_calibrator(*draw(np.random.default_rng(2), 500))
    with pytest.raises(
        PerformanceInputError, match=r"threshold: 50 is not a probability"
    ):
        estimate_performance([0.2, 0.7], calibrator, 50)
    empty = estimate_performance([], calibrator, 0.5)
    assert empty["rows"] == 0 and empty["roc_auc"] is None
    assert empty["undefined"]["accuracy"] == "the window has no rows"


def test_the_threshold_record_of_a_training_run_is_read_as_its_number():
    calibrator = fit_calibrator(*draw(np.random.default_rng(2), 500))
    scores = np.random.default_rng(3).uniform(0, 1, 200)
    record = {"threshold": 0.3, "source": "costs", "expected_cost": 0.4}
    assert estimate_performance(scores, calibrator, record) == estimate_performance(
        scores, calibrator, 0.3
    )
    with pytest.raises(PerformanceInputError, match=r"threshold: 1.5 is not"):
        estimate_performance(scores, calibrator, {"threshold": 1.5})


def test_a_reference_of_one_class_cannot_calibrate():
    with pytest.raises(PerformanceInputError, match=r"all 3 labels are of one class"):
        fit_calibrator([0.1, 0.5, 0.9], [0, 0, 0])
    with pytest.raises(PerformanceInputError, match=r"2 labels for 3 scores"):
        fit_calibrator([0.1, 0.5, 0.9], [0, 1])
