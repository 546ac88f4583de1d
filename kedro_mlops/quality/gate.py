"""The stricter promotion gate: rules a new model must pass, beyond the
registry's metric, to take the ``champion`` alias.

Each rule compares the new model's training run with the champion's:

* a metric rule (``registry.rules`` in ``mlops.yml``): the new value may be
  worse than the champion's by at most ``max_loss`` (worse: lower when
  ``greater_is_better``, higher otherwise);
* the slice rule (``registry.slices``): every slice that the new run flags in
  ``quality/slices.json`` may be worse than the champion's same slice (same
  column, same value) by at most ``max_loss``.

A rule the champion's run cannot answer (it has no such metric, or no slices)
does not hold the new model back: the outcome says it was not compared. The
first rule that fails decides. Only plain data is read here; the registry flow
(:mod:`kedro_mlops.tracking.registry`) fetches the runs.

Example:
    >>> from kedro_mlops.config import GateRule
    >>> rule = GateRule(metric="test.brier_score", greater_is_better=False)
    >>> outcome = metric_rule(rule, {"test.brier_score": 0.21}, {"test.brier_score": 0.19})
    >>> outcome.passed, outcome.reason
    (False, "test.brier_score 0.2100 is worse than the champion's 0.1900 by 0.0200, more than the 0.0000 allowed")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kedro_mlops.config import GateRule, SliceGate

#: Metrics are floats: a loss within this of the allowance is within it.
TOLERANCE = 1e-9
SLICES_RULE = "slices"


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule said about the new model."""

    rule: str  # the rule's metric, or "slices"
    passed: bool
    reason: str


def _loss(new: float, champion: float, greater_is_better: bool) -> float:
    """How much worse ``new`` is than ``champion`` (negative: better)."""
    return champion - new if greater_is_better else new - champion


def metric_rule(
    rule: GateRule, new: Mapping[str, float], champion: Mapping[str, float]
) -> RuleOutcome:
    """One metric rule, on the new run's and the champion's run's metrics.

    The new run must have the metric (the registry checks that first).
    """
    value = new[rule.metric]
    previous = champion.get(rule.metric)
    if previous is None:
        return RuleOutcome(
            rule.metric,
            True,
            f"not compared: the champion's run has no '{rule.metric}' metric",
        )
    loss = _loss(value, previous, rule.greater_is_better)
    passed = loss - rule.max_loss <= TOLERANCE
    if passed:
        reason = f"{rule.metric} {value:.4f} against the champion's {previous:.4f}"
    else:
        reason = (
            f"{rule.metric} {value:.4f} is worse than the champion's "
            f"{previous:.4f} by {loss:.4f}, more than the {rule.max_loss:.4f} allowed"
        )
    return RuleOutcome(rule.metric, passed, reason)


def _not_compared(
    new: Mapping[str, Any] | None, champion: Mapping[str, Any] | None
) -> str | None:
    """Why the two runs' slices cannot be compared, if they cannot."""
    if new is None:
        return "not compared: the run logged no quality/slices.json"
    if champion is None:
        return "not compared: the champion's run logged no quality/slices.json"
    if champion.get("metric") != new.get("metric"):
        return (
            f"not compared: the champion's slices measure "
            f"'{champion.get('metric')}', these '{new.get('metric')}'"
        )
    return None


def slice_rule(
    gate: SliceGate,
    new: Mapping[str, Any] | None,
    champion: Mapping[str, Any] | None,
) -> RuleOutcome:
    """The slice rule, on the two runs' ``quality/slices.json`` (``None``: the
    run logged none)."""
    flagged = [s for s in (new or {}).get("slices", []) if s.get("flagged")]
    if new is not None and not flagged:
        return RuleOutcome(SLICES_RULE, True, "no slice is flagged")
    why = _not_compared(new, champion)
    if why is not None or new is None or champion is None:
        return RuleOutcome(SLICES_RULE, True, str(why))
    metric = new.get("metric", "")
    previous = {
        (str(s["column"]), str(s["slice"])): float(s["value"])
        for s in champion.get("slices", [])
    }
    worst: tuple[float, str] | None = None
    compared = 0
    for entry in flagged:
        key = (str(entry["column"]), str(entry["slice"]))
        if key not in previous:
            continue
        compared += 1
        value = float(entry["value"])
        loss = _loss(value, previous[key], gate.greater_is_better)
        if worst is None or loss > worst[0]:
            worst = (
                loss,
                f"{key[0]}={key[1]}: {metric} {value:.4f} against the champion's "
                f"{previous[key]:.4f}",
            )
    if worst is None:
        return RuleOutcome(
            SLICES_RULE,
            True,
            f"not compared: none of the {len(flagged)} flagged slices is among "
            "the champion's",
        )
    loss, where = worst
    if loss - gate.max_loss > TOLERANCE:
        return RuleOutcome(
            SLICES_RULE,
            False,
            f"flagged slice {where}, worse by {loss:.4f}, more than the "
            f"{gate.max_loss:.4f} allowed",
        )
    return RuleOutcome(
        SLICES_RULE,
        True,
        f"{compared} flagged slices within {gate.max_loss:.4f} of the champion's",
    )
