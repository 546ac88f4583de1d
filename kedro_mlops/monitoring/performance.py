"""How well the model performs on scored traffic, with and without labels.

With labels (the true outcomes, known later than the scores),
:func:`realized_performance` joins them to the scored rows on the id column
and measures the model as it was served: ROC AUC of the probability column,
accuracy, precision and recall of the decision column.

Before the labels arrive, :func:`estimate_performance` estimates the same
metrics from the scores alone (confidence-based performance estimation). A
calibrated probability ``p`` says that, among rows scored ``p``, a share ``p``
is positive; so a row predicted positive adds ``p`` to the expected true
positives and ``1 - p`` to the expected false positives, a row predicted
negative adds ``p`` to the expected false negatives and ``1 - p`` to the
expected true negatives. Walking down the rows sorted by score gives the
expected ROC curve the same way. :func:`fit_calibrator` makes the scores
calibrated first, on a reference with known labels (the training run's test
set), with isotonic regression when that measurably helps (see
:func:`fit_calibrator` for the rule).

The estimate assumes no concept drift: the inputs may shift, but a customer
with given inputs still has the outcome probability the calibrated model
gives them. When the relation between inputs and outcome changes, only the
labels show it.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=20_000)
    >>> y = (rng.uniform(size=p.size) < p).astype(int)
    >>> calibrator = fit_calibrator(p, y)
    >>> calibrator.method
    'none'
    >>> estimate = estimate_performance(p, calibrator, threshold=0.5)
    >>> round(estimate["roc_auc"], 2), round(estimate["accuracy"], 2)
    (0.83, 0.75)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import pandas as pd  # at import: Kedro reads the nodes' type hints

#: how many ids or values an error names at most
MAX_NAMED = 5
#: folds of the cross-validation that decides whether isotonic calibration helps
CALIBRATION_FOLDS = 5
#: bins (of equal counts) of the expected calibration error
ECE_BINS = 10


class PerformanceInputError(ValueError):
    """Scores or labels that cannot be measured; the message says what and how to fix it."""


class RealizedPerformance(TypedDict):
    """What :func:`realized_performance` returns (a plain dict)."""

    rows_scored: int
    rows_labelled: int  # scored rows whose id has a label: the metrics use these
    labels_unmatched: int  # label rows whose id was never scored: ignored
    labels_repeated: int  # label rows repeating an id with the same label: one kept
    labels_empty: int  # label rows without a value (outcome not known yet): ignored
    positive_rate: float | None  # share of labelled rows with the positive outcome
    predicted_positive_rate: float | None  # share of labelled rows decided positive
    accuracy: float | None
    precision: float | None
    recall: float | None
    roc_auc: float | None
    undefined: dict[str, str]  # metric -> why it is None


class EstimatedPerformance(TypedDict):
    """What :func:`estimate_performance` returns (a plain dict)."""

    rows: int
    threshold: float
    calibration: str  # "isotonic" or "none": the calibrator's method
    expected_tp: float
    expected_fp: float
    expected_tn: float
    expected_fn: float
    positive_rate: (
        float | None
    )  # expected share of positives: the mean calibrated probability
    predicted_positive_rate: (
        float | None
    )  # share of rows scored at or above the threshold
    accuracy: float | None
    precision: float | None
    recall: float | None
    roc_auc: float | None
    undefined: dict[str, str]  # metric -> why it is None


@dataclass(frozen=True, eq=False)
class Calibrator:
    """Maps a model's scores to calibrated probabilities (picklable, numpy only).

    ``method`` is ``"isotonic"`` (a non-decreasing step function, interpolated
    linearly between its knots ``x``/``y`` and flat beyond them, as
    scikit-learn's ``IsotonicRegression`` predicts) or ``"none"`` (the scores
    are kept as they are); ``reason`` says why. The reference's figures are
    kept for the record: its rows and positive rate, the Brier score of its
    raw scores and of their cross-validated isotonic calibration, and the
    expected calibration error of both.
    """

    method: str
    reason: str
    x: np.ndarray
    y: np.ndarray
    reference_rows: int
    reference_positive_rate: float
    brier_raw: float
    brier_isotonic_cv: float | None
    ece_raw: float
    ece_isotonic_cv: float | None

    def calibrate(self, scores: Any) -> np.ndarray:
        """The calibrated probabilities of ``scores`` (probabilities in [0, 1])."""
        return self._apply(_probabilities(scores, "scores"))

    def _apply(self, scores: np.ndarray) -> np.ndarray:
        if self.method == "none":
            return scores
        return np.interp(scores, self.x, self.y)


def fit_calibrator(
    reference_scores: Any,
    reference_labels: Any,
    *,
    positive_class: Any = None,
    random_state: int = 0,
) -> Calibrator:
    """Calibrate a model's scores on a reference whose labels are known.

    The reference is the training run's test set: its scores (the starter's
    ``test_predictions``, ``<target>_probability``) and its labels (the
    target of ``test_set``; see :func:`reference_from_evaluation`).
    ``reference_labels`` are 0/1 (or booleans), or any values with
    ``positive_class`` naming the positive one.

    The rule: isotonic regression is used when it makes the scores better
    probabilities on rows it was not fitted on, that is when its Brier score
    in a 5-fold cross-validation on the reference is lower than the raw
    scores' Brier score. Otherwise the scores are taken as calibrated already
    (fitted in-sample, isotonic regression always looks better: it would only
    add the noise of its steps). A reference with fewer than 5 rows of either
    class is too small to cross-validate, and is not calibrated.

    Raises:
        PerformanceInputError: scores that are not probabilities, labels of
            another length or of one class only.
    """
    scores = _probabilities(reference_scores, "reference_scores")
    labels = _binary(
        np.asarray(reference_labels, dtype=object), positive_class, "reference_labels"
    ).astype(float)
    if len(labels) != len(scores):
        raise PerformanceInputError(
            f"reference_labels: {len(labels)} labels for {len(scores)} scores: "
            "pass one label per score, in the same order"
        )
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise PerformanceInputError(
            f"reference_labels: all {len(labels)} labels are of one class: a "
            "calibration needs both; use the test set of a training run"
        )
    brier_raw = float(np.mean((scores - labels) ** 2))
    ece_raw = expected_calibration_error(scores, labels)

    def calibrator(
        method: str,
        reason: str,
        knots: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0)),
        held_out: np.ndarray | None = None,
    ) -> Calibrator:
        return Calibrator(
            method=method,
            reason=reason,
            x=knots[0],
            y=knots[1],
            reference_rows=len(labels),
            reference_positive_rate=positives / len(labels),
            brier_raw=brier_raw,
            brier_isotonic_cv=(
                None if held_out is None else float(np.mean((held_out - labels) ** 2))
            ),
            ece_raw=ece_raw,
            ece_isotonic_cv=(
                None
                if held_out is None
                else expected_calibration_error(held_out, labels)
            ),
        )

    if min(positives, negatives) < CALIBRATION_FOLDS:
        return calibrator(
            "none",
            f"the reference has {positives} positive and {negatives} negative "
            f"rows: too few to cross-validate a calibration "
            f"({CALIBRATION_FOLDS} of each at least)",
        )
    held_out = _cross_validated_isotonic(scores, labels, random_state)
    brier_cv = float(np.mean((held_out - labels) ** 2))
    figures = f"Brier {brier_cv:.4f} cross-validated vs {brier_raw:.4f} raw"
    if brier_cv >= brier_raw:
        return calibrator(
            "none",
            "the scores are calibrated already: isotonic regression does not "
            f"help ({figures})",
            held_out=held_out,
        )
    return calibrator(
        "isotonic",
        f"isotonic regression makes the scores better probabilities ({figures})",
        _isotonic_knots(scores, labels),
        held_out,
    )


def estimate_performance(
    scores: Any, calibrator: Calibrator, threshold: float
) -> EstimatedPerformance:
    """Estimate the model's performance on unlabelled ``scores``.

    ``scores`` are the served probabilities of the positive class (a window's
    ``<target>_probability``); the decision is ``score >= threshold``, as the
    starter's ``predict`` makes it (``infer.threshold``). Each row adds its
    calibrated probability ``p`` to the expected true positives (decided
    positive) or false negatives (decided negative), and ``1 - p`` to the
    false positives or true negatives. Accuracy, precision and recall follow
    from that expected confusion matrix. The expected ROC curve walks down the
    rows sorted by score (rows of equal score together), with ``p`` counting
    as positive and ``1 - p`` as negative; its area is the trapezoid rule's.

    A metric whose denominator is zero (no row, no row decided positive, an
    expected count of positives of zero) is None, with the reason in
    ``undefined``. 1M rows take about 0.1 s.

    Raises:
        PerformanceInputError: scores that are not probabilities in [0, 1]
            (missing, infinite or out of range), or a threshold outside [0, 1].
    """
    values = _probabilities(scores, "scores")
    threshold = _threshold(threshold)
    probability = calibrator._apply(values)
    decided = values >= threshold
    rows = len(values)
    tp = float(probability[decided].sum())
    fn = float(probability[~decided].sum())
    predicted = int(decided.sum())
    fp = predicted - tp
    tn = (rows - predicted) - fn
    undefined: dict[str, str] = {}
    result: EstimatedPerformance = {
        "rows": rows,
        "threshold": threshold,
        "calibration": calibrator.method,
        "expected_tp": tp,
        "expected_fp": fp,
        "expected_tn": tn,
        "expected_fn": fn,
        "positive_rate": None,
        "predicted_positive_rate": None,
        "accuracy": None,
        "precision": None,
        "recall": None,
        "roc_auc": None,
        "undefined": undefined,
    }
    if rows == 0:
        for name in _RATES:
            undefined[name] = "the window has no rows"
        return result
    result["positive_rate"] = (tp + fn) / rows
    result["predicted_positive_rate"] = predicted / rows
    result["accuracy"] = (tp + tn) / rows
    result["precision"] = _ratio(
        tp,
        predicted,
        undefined,
        "precision",
        "no row is scored at or above the threshold",
    )
    result["recall"] = _ratio(
        tp,
        tp + fn,
        undefined,
        "recall",
        "the calibrated probabilities are all 0: no positive is expected",
    )
    result["roc_auc"] = _roc_auc(values, probability)
    if result["roc_auc"] is None:
        undefined["roc_auc"] = (
            "the calibrated probabilities are all 0 or all 1: one class only is "
            "expected, and ROC AUC needs both"
        )
    return result


@dataclass(frozen=True)
class PreparedLabels:
    """Labels checked once (:func:`prepare_labels`), for many windows."""

    known: pd.Series  # the one label of each id, indexed by id
    repeated: int  # rows repeating an id's label
    empty: int  # rows without an id or a label


def prepare_labels(labels: pd.DataFrame, id_column: str, column: str) -> PreparedLabels:
    """The labels table checked and deduplicated, for :func:`realized_performance`.

    Raises:
        PerformanceInputError: a missing column, or conflicting labels of one id.
    """
    _require_columns(
        labels,
        "labels",
        [id_column, column],
        "the labels are a table of the id column and the target column",
    )
    return PreparedLabels(*_unique_labels(labels, id_column, column))


def realized_performance(
    scored: pd.DataFrame,
    labels: pd.DataFrame | PreparedLabels,
    id_column: str,
    target: Mapping[str, Any] | str,
    *,
    positive_class: Any = None,
    probability_column: str | None = None,
    prediction_column: str | None = None,
) -> RealizedPerformance:
    """Measure the served model on the scored rows whose labels are known.

    ``target`` is the schema's ``target`` entry (``{"column": "churned",
    "positive_class": "yes"}``), or the target column's name with
    ``positive_class`` (labels already 0/1 or booleans need none). The
    scored rows carry ``<target>_probability`` and ``<target>_prediction``
    (the served 0/1 decision) unless other columns are named; ``labels``
    holds the id column and the target column (or is :func:`prepare_labels`'
    result, when many windows share one labels table).

    The labels are joined to the scored rows on the id:

    * a scored row without a label is left out of the metrics (labels come
      later); ``rows_labelled`` says how many rows the metrics use;
    * a label whose id was never scored is ignored and counted
      (``labels_unmatched``); so is a label without a value (``labels_empty``);
    * an id labelled twice with the same value counts once
      (``labels_repeated``); with different values it is an error;
    * an id scored twice (requested twice) counts as two rows, each with the
      one label.

    ROC AUC uses the probability column; accuracy, precision and recall the
    decision column, as it was served. A metric that cannot be computed
    (ROC AUC when every labelled row is of one class, precision when no
    labelled row was decided positive, all of them when no row is labelled)
    is None, with the reason in ``undefined``.

    Raises:
        PerformanceInputError: a missing column, conflicting labels of one
            id (naming up to 5), or scores that are not probabilities in [0, 1].
    """
    column, positive = _target(target, positive_class)
    probability_column = probability_column or f"{column}_probability"
    prediction_column = prediction_column or f"{column}_prediction"
    _require_columns(
        scored,
        "scored",
        [id_column, probability_column, prediction_column],
        "pass the scored rows with the model's predictions beside their id",
    )
    if not isinstance(labels, PreparedLabels):
        labels = prepare_labels(labels, id_column, column)
    known, repeated, empty = labels.known.copy(), labels.repeated, labels.empty
    ids, label_ids = _comparable(scored[id_column], known.index.to_series())
    known.index = label_ids
    matched = ids.map(known)
    has_label = matched.notna().to_numpy()
    unmatched = int((~label_ids.isin(ids)).sum())

    scores = _probabilities(scored[probability_column], probability_column, ids)
    decision = _decisions(scored[prediction_column], prediction_column, ids)
    truth = _binary(matched[has_label].to_numpy(), positive, f"labels[{column!r}]")
    scores, decision = scores[has_label], decision[has_label]

    undefined: dict[str, str] = {}
    result: RealizedPerformance = {
        "rows_scored": len(scored),
        "rows_labelled": int(has_label.sum()),
        "labels_unmatched": unmatched,
        "labels_repeated": repeated,
        "labels_empty": empty,
        "positive_rate": None,
        "predicted_positive_rate": None,
        "accuracy": None,
        "precision": None,
        "recall": None,
        "roc_auc": None,
        "undefined": undefined,
    }
    rows = len(truth)
    if rows == 0:
        reason = (
            f"no scored row has a label yet ({len(known)} labelled ids, none "
            f"among the {len(scored)} scored rows)"
        )
        for name in _RATES:
            undefined[name] = reason
        return result
    tp = int((truth & decision).sum())
    positives = int(truth.sum())
    predicted = int(decision.sum())
    result["positive_rate"] = positives / rows
    result["predicted_positive_rate"] = predicted / rows
    result["accuracy"] = float((truth == decision).mean())
    result["precision"] = _ratio(
        tp, predicted, undefined, "precision", "no labelled row was decided positive"
    )
    result["recall"] = _ratio(
        tp, positives, undefined, "recall", "no labelled row is positive"
    )
    result["roc_auc"] = _roc_auc(scores, truth.astype(float))
    if result["roc_auc"] is None:
        seen = sorted({str(v) for v in matched[has_label]})[:MAX_NAMED]
        undefined["roc_auc"] = (
            f"all {rows} labelled rows are of one class "
            f"({'all' if positives else 'none'} positive, {_positive_text(positive)}; "
            f"values seen: {', '.join(seen)}): ROC AUC needs both classes"
        )
    return result


def reference_from_evaluation(
    test_predictions: pd.DataFrame,
    test_set: pd.DataFrame,
    id_column: str,
    target: Mapping[str, Any] | str,
    *,
    positive_class: Any = None,
    probability_column: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The reference of :func:`fit_calibrator` from a training run's evaluation.

    The starter's evaluate pipeline writes ``test_predictions`` (the id, the
    probability and the decision of each test row) and its labels are the
    target column of ``test_set``. Returns the scores and their 0/1 labels,
    joined on the id (the same join and checks as
    :func:`realized_performance`).
    """
    column, positive = _target(target, positive_class)
    probability_column = probability_column or f"{column}_probability"
    _require_columns(
        test_predictions,
        "test_predictions",
        [id_column, probability_column],
        "pass the evaluate pipeline's test_predictions",
    )
    _require_columns(
        test_set, "test_set", [id_column, column], "pass the ingest pipeline's test_set"
    )
    known, _, _ = _unique_labels(test_set, id_column, column)
    ids, label_ids = _comparable(test_predictions[id_column], known.index.to_series())
    known.index = label_ids
    matched = ids.map(known)
    has_label = matched.notna().to_numpy()
    if not has_label.any():
        raise PerformanceInputError(
            f"test_predictions: none of its {len(ids)} ids is in test_set: pass "
            "the test set and the predictions of the same training run"
        )
    scores = _probabilities(
        test_predictions[probability_column], probability_column, ids
    )
    truth = _binary(matched[has_label].to_numpy(), positive, f"test_set[{column!r}]")
    return scores[has_label], truth.astype(int)


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS
) -> float:
    """Mean gap between predicted and observed positive rates, over ``bins``
    bins of equal counts of rows sorted by probability, weighted by size."""
    order = np.argsort(probabilities, kind="stable")
    gaps = [
        len(chunk) * abs(probabilities[chunk].mean() - labels[chunk].mean())
        for chunk in np.array_split(order, min(bins, len(order)))
        if len(chunk)
    ]
    return float(sum(gaps) / len(order))


_RATES = (
    "positive_rate",
    "predicted_positive_rate",
    "accuracy",
    "precision",
    "recall",
    "roc_auc",
)


def _roc_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve of ``scores`` where row i is positive with
    weight ``positive[i]`` (0/1 labels, or calibrated probabilities) and
    negative with ``1 - positive[i]``; None when either total is zero."""
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    weight = positive[order]
    last_of_tie = np.append(ranked[1:] != ranked[:-1], True)
    tp = np.concatenate(([0.0], np.cumsum(weight)[last_of_tie]))
    fp = np.concatenate(([0.0], np.cumsum(1.0 - weight)[last_of_tie]))
    if tp[-1] <= 0 or fp[-1] <= 0:
        return None
    tpr = tp / tp[-1]
    fpr = fp / fp[-1]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2.0)


def _cross_validated_isotonic(
    scores: np.ndarray, labels: np.ndarray, random_state: int
) -> np.ndarray:
    """Each reference row's calibrated score from an isotonic fit on the other folds."""
    from sklearn.model_selection import StratifiedKFold

    held_out = np.empty_like(scores)
    folds = StratifiedKFold(
        n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=random_state
    )
    for fit_rows, test_rows in folds.split(scores, labels):
        x, y = _isotonic_knots(scores[fit_rows], labels[fit_rows])
        held_out[test_rows] = np.interp(scores[test_rows], x, y)
    return held_out


def _isotonic_knots(
    scores: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.isotonic import IsotonicRegression

    fitted = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    fitted.fit(scores, labels)
    return (
        np.asarray(fitted.X_thresholds_, dtype=float),
        np.asarray(fitted.y_thresholds_, dtype=float),
    )


def _target(target: Mapping[str, Any] | str, positive_class: Any) -> tuple[str, Any]:
    if isinstance(target, Mapping):
        if "column" not in target:
            raise PerformanceInputError(
                f"target: {dict(target)} has no 'column': pass the schema's target "
                "entry ({'column': ..., 'positive_class': ...})"
            )
        return str(target["column"]), target.get("positive_class", positive_class)
    return str(target), positive_class


def _positive_text(positive: Any) -> str:
    return "1" if positive is None else repr(positive)


def _require_columns(
    frame: pd.DataFrame, name: str, columns: list[str], fix: str
) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(repr(c) for c in list(frame.columns)[:12])
        raise PerformanceInputError(
            f"{name}: column {', '.join(repr(c) for c in missing)} is missing "
            f"(it has {shown or 'no columns'}): {fix}"
        )


def _unique_labels(
    labels: pd.DataFrame, id_column: str, column: str
) -> tuple[pd.Series, int, int]:
    """The one label of each id (a Series indexed by id), the count of rows
    repeating a label, and of rows without a value; conflicts are an error."""
    table = labels[[id_column, column]].reset_index(drop=True)
    empty = table[column].isna() | table[id_column].isna()
    table = table[~empty]
    # compare the labels as text, as the starter's binary labels do
    texts = table.assign(**{column: table[column].astype(str)})
    distinct = texts.drop_duplicates()
    conflicting = distinct[id_column].duplicated(keep=False)
    if conflicting.any():
        clashes = distinct[conflicting].groupby(id_column, sort=False)[column]
        count = clashes.ngroups
        named = [
            f"{ident} ({' / '.join(values)})"
            for ident, values in list(clashes.agg(list).items())[:MAX_NAMED]
        ]
        raise PerformanceInputError(
            f"labels: {count} id{'s' if count > 1 else ''} ha{'ve' if count > 1 else 's'} "
            f"conflicting labels: {', '.join(named)}{', ...' if count > MAX_NAMED else ''}. "
            "Keep one outcome per id (the one that holds, such as the latest) and pass "
            "the labels again"
        )
    kept = table.loc[distinct.index]
    series = kept.set_index(id_column)[column]
    return series, len(table) - len(kept), int(empty.sum())


def _comparable(ids: pd.Series, label_ids: pd.Series) -> tuple[pd.Series, Any]:
    """The two id columns as one type: as text when their types differ (ids
    read as numbers on one side and as text on the other)."""
    import pandas as pd

    ids = ids.reset_index(drop=True)
    same = pd.api.types.is_numeric_dtype(ids) == pd.api.types.is_numeric_dtype(
        label_ids
    ) and pd.api.types.is_bool_dtype(ids) == pd.api.types.is_bool_dtype(label_ids)
    if same:
        return ids, pd.Index(label_ids.to_numpy())
    return ids.astype(str), pd.Index(label_ids.astype(str).to_numpy())


def _probabilities(values: Any, what: str, ids: Any = None) -> np.ndarray:
    """``values`` as a float array of probabilities; an error names the bad ones."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise PerformanceInputError(
            f"{what}: the scores are not numbers: pass the predicted "
            "probabilities of the positive class"
        ) from None
    if array.ndim != 1:
        raise PerformanceInputError(
            f"{what}: expected one score per row, got an array of shape {array.shape}"
        )
    bad = ~((array >= 0.0) & (array <= 1.0))  # NaN compares False: bad too
    if bad.any():
        where = np.flatnonzero(bad)
        names = (
            np.asarray(ids)[where[:MAX_NAMED]] if ids is not None else where[:MAX_NAMED]
        )
        shown = ", ".join(
            f"{n}: {array[i]:g}" for n, i in zip(names, where[:MAX_NAMED], strict=True)
        )
        label = "ids" if ids is not None else "positions"
        raise PerformanceInputError(
            f"{what}: {len(where)} of {len(array)} values are not probabilities in "
            f"[0, 1] ({label} {shown}{', ...' if len(where) > MAX_NAMED else ''}): "
            "drop those rows or score them again"
        )
    return array


def _decisions(values: pd.Series, what: str, ids: Any) -> np.ndarray:
    """The served 0/1 decisions as booleans; an error names the bad ones."""
    bad = ~values.isin([0, 1]).to_numpy()
    if bad.any():
        where = np.flatnonzero(bad)
        shown = ", ".join(
            f"{n}: {values.iloc[i]!r}"
            for n, i in zip(
                np.asarray(ids)[where[:MAX_NAMED]], where[:MAX_NAMED], strict=True
            )
        )
        raise PerformanceInputError(
            f"{what}: {len(where)} of {len(values)} decisions are not 0 or 1 "
            f"(ids {shown}{', ...' if len(where) > MAX_NAMED else ''}): pass the "
            "served 0/1 decision column"
        )
    return values.to_numpy().astype(bool)


def _binary(values: np.ndarray, positive: Any, what: str) -> np.ndarray:
    """Labels as booleans: equal to ``positive`` as text, or already 0/1."""
    if positive is not None:
        return np.asarray(values).astype(str) == str(positive)
    seen = set(values.tolist())
    if not seen <= {0, 1}:  # True == 1 and False == 0
        shown = ", ".join(sorted(repr(v) for v in seen)[:MAX_NAMED])
        raise PerformanceInputError(
            f"{what}: the labels are not 0/1 (values seen: {shown}): name the "
            "positive class (the schema's target entry, or positive_class=...)"
        )
    return values.astype(float) > 0.5


def _threshold(threshold: Any) -> float:
    """A number, or a record holding one under ``threshold`` (the
    ``quality/threshold.json`` a training run logs)."""
    if isinstance(threshold, Mapping) and "threshold" in threshold:
        threshold = threshold["threshold"]
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise PerformanceInputError(
            f"threshold: {threshold!r} is not a probability in [0, 1]: pass the "
            "decision threshold the model serves with (its quality/threshold.json)"
        )
    return value


def _ratio(
    numerator: float, denominator: float, undefined: dict[str, str], name: str, why: str
) -> float | None:
    if denominator <= 0:
        undefined[name] = why
        return None
    return float(numerator / denominator)


def calibration_from_evaluation(
    test_predictions: pd.DataFrame, test_set: pd.DataFrame, schema: Mapping[str, Any]
) -> dict[str, Any]:
    """What monitoring needs of a training run to judge its model's performance
    later: the calibrator of its scores and its figures on the test set.

    A Kedro node for the training pipeline (after the test set is scored):
    ``schema`` is the table schema of ``parameters.yml`` (its ``id_column`` and
    ``target``). Returns ``{"calibrator": Calibrator, "test":
    RealizedPerformance}``, logged with the run so that it travels with the
    model (the starter's ``calibration`` dataset).
    """
    id_column, target = schema["id_column"], schema["target"]
    scores, labels = reference_from_evaluation(
        test_predictions, test_set, id_column, target
    )
    test = realized_performance(
        test_predictions, test_set[[id_column, target["column"]]], id_column, target
    )
    return {"calibrator": fit_calibrator(scores, labels), "test": test}


def performance_by_window(
    windows: Mapping[str, pd.DataFrame],
    calibration: Mapping[str, Any],
    schema: Mapping[str, Any],
    threshold: float,
    labels: pd.DataFrame | None = None,
) -> dict[str, dict[str, Any]]:
    """Each window's performance: estimated from its scores, and realized
    where ``labels`` have arrived for its rows, beside the test set's figures.

    ``calibration`` is :func:`calibration_from_evaluation`'s output for the
    model that served the windows; ``threshold`` is the served decision's.
    Returns ``{window key: {"rows", "estimated", "realized" (None without
    labels), "test"}}``.
    """
    id_column, target = schema["id_column"], schema["target"]
    probability = f"{target['column']}_probability"
    prepared = (
        None if labels is None else prepare_labels(labels, id_column, target["column"])
    )
    out: dict[str, dict[str, Any]] = {}
    for key, frame in windows.items():
        _require_columns(
            frame, f"window {key}", [probability], "capture the model's predictions"
        )
        realized = None
        if prepared is not None:
            realized = realized_performance(frame, prepared, id_column, target)
        out[key] = {
            "rows": len(frame),
            "estimated": estimate_performance(
                frame[probability], calibration["calibrator"], threshold
            ),
            "realized": realized,
            "test": calibration.get("test"),
        }
    return out


#: The per-window metrics logged into the monitoring history (when defined).
LOGGED_METRICS = ("roc_auc", "accuracy", "precision", "recall")


def performance_metrics(entry: Mapping[str, Any]) -> dict[str, float]:
    """One window's performance as MLflow metrics: ``performance.estimated.*``
    and, with labels, ``performance.realized.*`` (with ``rows_labelled``).

    Example:
        >>> performance_metrics({"estimated": {"roc_auc": 0.8, "accuracy": None},
        ...                      "realized": None})
        {'performance.estimated.roc_auc': 0.8}
    """
    metrics: dict[str, float] = {}
    for kind in ("estimated", "realized"):
        figures = entry.get(kind)
        if not figures:
            continue
        for name in LOGGED_METRICS:
            if figures.get(name) is not None:
                metrics[f"performance.{kind}.{name}"] = float(figures[name])
        if kind == "realized":
            metrics["performance.realized.rows_labelled"] = float(
                figures["rows_labelled"]
            )
    return metrics
