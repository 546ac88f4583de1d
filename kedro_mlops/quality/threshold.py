"""The decision threshold: from the costs of the two errors, or a parameter.

With a cost for a false positive and one for a false negative, the threshold
is the one that makes the expected cost per row on the test set smallest
(:func:`choose_threshold`). Without costs, the parameter threshold stays.
The record it returns is what the model is bundled with, what the run logs as
``quality/threshold.json`` and what monitoring reads (:func:`threshold_value`).

Example:
    >>> record = choose_threshold([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.9], 0.5,
    ...                           {"false_positive": 1.0, "false_negative": 1.0})
    >>> round(record["threshold"], 6), record["expected_cost"]
    (0.45, 0.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypedDict

from pydantic import Field

NonNegative = Annotated[float, Field(ge=0)]


class Costs(TypedDict):
    """What one error costs, in any unit (the same for both)."""

    false_positive: NonNegative
    false_negative: NonNegative


class ThresholdParams(TypedDict):
    """``evaluate.threshold`` of parameters_evaluate.yml: ``costs`` or null."""

    costs: Costs | None


def choose_threshold(
    truth: Sequence[int] | Any,
    probability: Sequence[float] | Any,
    default: float,
    costs: Mapping[str, float] | None,
) -> dict[str, Any]:
    """The threshold record: ``threshold``, both costs, ``expected_cost`` and
    ``source`` (``"costs"`` or ``"parameter"``).

    A row is predicted positive when its probability reaches the threshold.
    The candidates are 0, 1 and the midpoints between consecutive distinct
    probabilities; among equally cheap ones, the closest to ``default`` wins.
    Without ``costs``, ``default`` is the threshold and the expected cost is
    null.
    """
    import numpy as np

    y = np.asarray(truth, dtype=int)
    p = np.asarray(probability, dtype=float)
    if costs is None:
        return {
            "threshold": float(default),
            "cost_false_positive": None,
            "cost_false_negative": None,
            "expected_cost": None,
            "source": "parameter",
        }
    cost_fp, cost_fn = float(costs["false_positive"]), float(costs["false_negative"])
    if cost_fp < 0 or cost_fn < 0:
        raise ValueError(
            f"costs must not be negative (false_positive={cost_fp}, "
            f"false_negative={cost_fn}): set evaluate.threshold.costs to 0 or more"
        )
    if len(y) == 0:
        raise ValueError("no test row to choose the threshold on")
    distinct = np.unique(p)
    candidates = np.concatenate([[0.0], (distinct[:-1] + distinct[1:]) / 2, [1.0]])
    cost = expected_costs(y, p, candidates, cost_fp, cost_fn)
    cheapest = np.flatnonzero(np.isclose(cost, cost.min(), rtol=0, atol=1e-12))
    best = cheapest[np.argmin(np.abs(candidates[cheapest] - default))]
    return {
        "threshold": float(candidates[best]),
        "cost_false_positive": cost_fp,
        "cost_false_negative": cost_fn,
        "expected_cost": float(cost[best]),
        "source": "costs",
    }


def expected_costs(
    truth: Any, probability: Any, thresholds: Any, cost_fp: float, cost_fn: float
) -> Any:
    """The cost per row of each threshold: ``(cost_fp * FP + cost_fn * FN) / rows``."""
    import numpy as np

    y = np.asarray(truth, dtype=int)
    p = np.asarray(probability, dtype=float)
    t = np.asarray(thresholds, dtype=float)
    order = np.argsort(p)
    p_sorted, y_sorted = p[order], y[order]
    # rows below each threshold are predicted negative
    below = np.searchsorted(p_sorted, t, side="left")
    positives_below = np.concatenate([[0], np.cumsum(y_sorted)])[below]
    negatives_at_or_above = (len(y) - below) - (y.sum() - positives_below)
    return (cost_fp * negatives_at_or_above + cost_fn * positives_below) / len(y)


def threshold_value(record: Mapping[str, Any] | float) -> float:
    """The threshold of a record (or a plain number), checked to be in [0, 1]."""
    value = record["threshold"] if isinstance(record, Mapping) else record
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError(f"threshold: {value!r} is not a probability in [0, 1]")
    return number
