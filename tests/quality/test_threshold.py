"""The decision threshold chosen from the costs of the two errors."""

from __future__ import annotations

import numpy as np
import pytest

from kedro_mlops.quality.threshold import (
    choose_threshold,
    expected_costs,
    threshold_value,
)


def _cost_by_counting(truth, probability, threshold, cost_fp, cost_fn):
    """The expected cost per row, counted row by row."""
    total = 0.0
    for label, p in zip(truth, probability, strict=True):
        predicted = p >= threshold
        if predicted and label == 0:
            total += cost_fp
        elif not predicted and label == 1:
            total += cost_fn
    return total / len(truth)


def test_a_hand_made_case_picks_the_threshold_worked_out_on_paper():
    # sorted scores 0.1 0.2 0.3 0.4 0.6 0.7 0.8 0.9; positives at 0.3, 0.7, 0.8, 0.9
    truth = [0, 0, 1, 0, 0, 1, 1, 1]
    probability = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]
    # a false negative costs 4 false positives: flag from 0.3 up (2 FP, cost 2/8)
    # rather than from 0.7 up (1 FN, cost 4/8) or everything (2 FP more)
    record = choose_threshold(
        truth, probability, 0.5, {"false_positive": 1, "false_negative": 4}
    )
    assert record == {
        "threshold": pytest.approx(0.25),  # between 0.2 and 0.3
        "cost_false_positive": 1.0,
        "cost_false_negative": 4.0,
        "expected_cost": pytest.approx(2 / 8),
        "source": "costs",
    }
    # equal costs: from 0.7 up misses one positive (1/8), from 0.3 up has 2 FP
    equal = choose_threshold(
        truth, probability, 0.5, {"false_positive": 1, "false_negative": 1}
    )
    assert equal["threshold"] == pytest.approx(0.65)
    assert equal["expected_cost"] == pytest.approx(1 / 8)


def test_no_threshold_on_a_fine_grid_is_cheaper_than_the_chosen_one():
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 2, 400)
    probability = np.clip(0.3 * truth + rng.uniform(0, 0.7, 400), 0, 1)
    costs = {"false_positive": 1.0, "false_negative": 3.0}
    record = choose_threshold(truth, probability, 0.5, costs)
    grid = np.linspace(0, 1, 1001)
    counted = [_cost_by_counting(truth, probability, t, 1.0, 3.0) for t in grid]
    assert record["expected_cost"] <= min(counted) + 1e-12
    assert record["expected_cost"] == pytest.approx(
        _cost_by_counting(truth, probability, record["threshold"], 1.0, 3.0)
    )
    # the vectorised counts agree with counting row by row
    assert expected_costs(truth, probability, grid, 1.0, 3.0) == pytest.approx(counted)


def test_without_costs_the_parameter_threshold_is_used():
    record = choose_threshold([0, 1], [0.2, 0.9], 0.42, None)
    assert record == {
        "threshold": 0.42,
        "cost_false_positive": None,
        "cost_false_negative": None,
        "expected_cost": None,
        "source": "parameter",
    }


def test_among_equally_cheap_thresholds_the_closest_to_the_parameter_wins():
    # both errors free: every threshold costs 0
    record = choose_threshold(
        [0, 1, 0, 1],
        [0.1, 0.4, 0.6, 0.9],
        0.55,
        {"false_positive": 0, "false_negative": 0},
    )
    assert record["threshold"] == pytest.approx(0.5)  # candidates 0, .25, .5, .75, 1


def test_a_negative_cost_is_refused():
    with pytest.raises(ValueError, match="costs must not be negative"):
        choose_threshold(
            [0, 1], [0.2, 0.9], 0.5, {"false_positive": -1, "false_negative": 1}
        )


def test_the_value_of_a_record_or_a_number():
    assert threshold_value({"threshold": 0.3, "source": "costs"}) == 0.3
    assert threshold_value(0.7) == 0.7
    with pytest.raises(ValueError, match=r"not a probability in \[0, 1\]"):
        threshold_value({"threshold": 1.5})
