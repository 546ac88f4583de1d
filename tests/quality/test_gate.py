"""The promotion gate's rules, each deciding a case (plain data, no store)."""

from __future__ import annotations

from kedro_mlops.config import GateRule, SliceGate
from kedro_mlops.quality.gate import metric_rule, slice_rule
from tests.quality.runs import slices_report

BRIER = GateRule(metric="test.brier_score", greater_is_better=False, max_loss=0.01)
RECALL = GateRule(metric="test.recall", max_loss=0.02)


def test_a_loss_beyond_the_allowance_fails_in_either_direction():
    worse_brier = metric_rule(
        BRIER, {"test.brier_score": 0.165}, {"test.brier_score": 0.150}
    )
    assert not worse_brier.passed
    assert worse_brier.reason == (
        "test.brier_score 0.1650 is worse than the champion's 0.1500 by 0.0150, "
        "more than the 0.0100 allowed"
    )
    worse_recall = metric_rule(RECALL, {"test.recall": 0.60}, {"test.recall": 0.65})
    assert not worse_recall.passed


def test_a_loss_within_the_allowance_or_a_gain_passes():
    # 0.16 - 0.15 is 0.010000000000000009: equal to the allowance, within it
    assert metric_rule(
        BRIER, {"test.brier_score": 0.16}, {"test.brier_score": 0.15}
    ).passed
    assert metric_rule(
        BRIER, {"test.brier_score": 0.10}, {"test.brier_score": 0.15}
    ).passed
    assert metric_rule(RECALL, {"test.recall": 0.64}, {"test.recall": 0.65}).passed


def test_a_champion_without_the_metric_does_not_hold_the_model_back():
    outcome = metric_rule(BRIER, {"test.brier_score": 0.3}, {"test.roc_auc": 0.8})
    assert outcome.passed
    assert (
        outcome.reason
        == "not compared: the champion's run has no 'test.brier_score' metric"
    )


def test_a_flagged_slice_much_worse_than_the_champions_fails():
    gate = SliceGate(max_loss=0.05)
    new = slices_report({("contract", "monthly"): 0.55, ("region", "north"): 0.70})
    champion = slices_report({("contract", "monthly"): 0.68, ("region", "north"): 0.72})
    outcome = slice_rule(gate, new, champion)
    assert not outcome.passed
    assert outcome.reason == (
        "flagged slice contract=monthly: recall 0.5500 against the champion's "
        "0.6800, worse by 0.1300, more than the 0.0500 allowed"
    )


def test_flagged_slices_close_to_the_champions_pass():
    gate = SliceGate(max_loss=0.05)
    new = slices_report({("contract", "monthly"): 0.66})
    champion = slices_report({("contract", "monthly"): 0.68})
    outcome = slice_rule(gate, new, champion)
    assert outcome.passed
    assert outcome.reason == "1 flagged slices within 0.0500 of the champion's"


def test_slices_that_cannot_be_compared_say_why_and_pass():
    gate = SliceGate()
    flagged = slices_report({("contract", "monthly"): 0.10})
    calm = slices_report({("contract", "monthly"): 0.79})
    cases = {
        "no slice is flagged": (calm, flagged),
        "not compared: the run logged no quality/slices.json": (None, flagged),
        "not compared: the champion's run logged no quality/slices.json": (
            flagged,
            None,
        ),
        "not compared: none of the 1 flagged slices is among the champion's": (
            flagged,
            slices_report({("region", "south"): 0.5}),
        ),
        "not compared: the champion's slices measure 'f1', these 'recall'": (
            flagged,
            {**calm, "metric": "f1"},
        ),
    }
    for reason, (new, champion) in cases.items():
        outcome = slice_rule(gate, new, champion)
        assert (outcome.passed, outcome.reason) == (True, reason)
