"""A search over a model's parameters, each trial a child MLflow run of the training run.

The search is declared in YAML (a ``tuning:`` mapping, :class:`TuningParams`)
and run by :func:`tune` inside the node that trains the model: Optuna's TPE
sampler proposes parameters, each trial is scored by cross-validation on the
training rows, and a trial whose running mean falls below the median of the
earlier trials after a fold is pruned. Trials run in ``n_jobs`` threads of
the node's process (scikit-learn's tree models release the GIL); when the
search is over, that same process logs every trial as a child run of the
training run in one ``log_batch`` call each, and the training run gets the
best parameters (``tuning.best.<parameter>``), the best score and
``quality/tuning.json``. The node then fits the final model with the best
parameters.

Without an active MLflow run (a node unit test, a notebook) the search runs
and logs nothing. Under ``ParallelRunner`` the node's worker process finds
the training run through ``MLFLOW_RUN_ID``.

A node declares the settings with :class:`TuningParams`, and
:func:`for_estimator` adds the checks that need the estimator (every searched
name is one of its parameters), so that kedro-mlops refuses a wrong search
before the run starts::

    class TrainParams(TypedDict):
        model: dict[str, Any]
        tuning: Annotated[TuningParams, for_estimator(HistGradientBoostingClassifier)]

Example:
    >>> check_tuning({"trials": 0, "seconds": 0, "cv_folds": 3, "metric": "roc_auc",
    ...               "n_jobs": 1, "search_space": {"max_iter": {"low": 10, "high": 50}}})
    Traceback (most recent call last):
    ...
    kedro_mlops.quality.tuning.TuningError: tuning has no budget: set trials (how many) or seconds (a time limit) above 0, or enabled: false to train the model as it is
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from pydantic import AfterValidator, Field

logger = logging.getLogger(__name__)

#: The child runs' tag that numbers the trial (0, 1, ...).
TRIAL_TAG = "kedro_mlops.trial"
#: The child runs' tag that says how the trial ended (COMPLETE or PRUNED).
TRIAL_STATE_TAG = "kedro_mlops.trial_state"
#: MLflow's own tag of a nested run: its parent's run id.
PARENT_TAG = "mlflow.parentRunId"
#: Where the whole search is written in the training run.
ARTIFACT = "quality/tuning.json"


class TuningError(ValueError):
    """The tuning settings cannot be searched: what is wrong and how to fix it."""


class Dimension(TypedDict, total=False):
    """One searched parameter: a range (``low``, ``high``, optionally ``log``)
    or a list of ``choices``. Whole numbers at both ends search integers."""

    low: int | float
    high: int | float
    log: bool
    choices: list[Any]


class _Search(TypedDict):
    trials: Annotated[int, Field(ge=0)]  # at most this many trials (0: no limit)
    seconds: Annotated[float, Field(ge=0)]  # stop starting trials after (0: no limit)
    cv_folds: Annotated[int, Field(ge=2)]
    metric: str  # a scikit-learn scorer name, greater is better (roc_auc, neg_log_loss)
    n_jobs: Annotated[int, Field(ge=1)]  # trials evaluated at once
    search_space: dict[str, Dimension]


class TuningParams(_Search, total=False):
    """``tuning:`` of a training node's parameters (kedro-mlops checks it before a run).

    ``enabled: false`` trains the model as configured, searching nothing.
    """

    enabled: bool


@dataclass
class Trial:
    """One trial of a finished search."""

    number: int
    params: dict[str, Any]
    score: float | None
    score_std: float | None
    state: str  # COMPLETE, PRUNED or FAIL
    folds: int
    started: float  # seconds since the epoch
    ended: float

    def summary(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "params": self.params,
            "score": self.score,
            "score_std": self.score_std,
            "state": self.state,
        }


@dataclass
class TuningResult:
    """What :func:`search` found."""

    metric: str
    best_params: dict[str, Any]
    best_score: float
    seconds: float
    trials: list[Trial] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The content of ``quality/tuning.json``."""
        return {
            "metric": self.metric,
            "direction": "maximize",
            "best_params": self.best_params,
            "best_score": self.best_score,
            "trials": [trial.summary() for trial in self.trials],
        }


def check_tuning(settings: Any, estimator: Any = None) -> dict[str, Any]:
    """The settings as a plain dict, or :class:`TuningError` naming the problem.

    Args:
        settings: the ``tuning:`` mapping (or its validated pydantic model).
        estimator: a scikit-learn estimator or its class; when given, every
            searched name must be one of its parameters.
    """
    if hasattr(settings, "model_dump"):
        settings = settings.model_dump(exclude_none=True)
    settings = dict(settings)
    if not settings.get("enabled", True):
        return settings
    if not settings.get("trials") and not settings.get("seconds"):
        raise TuningError(
            "tuning has no budget: set trials (how many) or seconds (a time limit) "
            "above 0, or enabled: false to train the model as it is"
        )
    space = settings.get("search_space") or {}
    if not space:
        raise TuningError(
            "tuning.search_space is empty: name at least one parameter to search, "
            "e.g. learning_rate: {low: 0.01, high: 0.3, log: true}"
        )
    for name, dimension in space.items():
        _check_dimension(name, dict(dimension))
    if estimator is not None:
        known = _parameter_names(estimator)
        unknown = sorted(set(space) - known)
        if unknown:
            owner = estimator if isinstance(estimator, type) else type(estimator)
            raise TuningError(
                f"tuning.search_space.{unknown[0]} is not a parameter of "
                f"{owner.__name__} (its parameters: {', '.join(sorted(known))})"
            )
    _check_metric(str(settings.get("metric", "")))
    return settings


def for_estimator(estimator: type) -> AfterValidator:
    """The check of :func:`check_tuning` against ``estimator``, for ``Annotated``.

    kedro-mlops runs it with the other parameter checks, before the run starts.
    """

    def check(settings: Any) -> Any:
        check_tuning(settings, estimator)
        return settings

    return AfterValidator(check)


def search(estimator: Any, features: Any, labels: Any, settings: Any) -> TuningResult:
    """Search ``settings["search_space"]`` around ``estimator``, logging nothing.

    Each trial clones ``estimator`` with the trial's parameters and scores it
    by ``cv_folds``-fold cross-validation (stratified for a classifier).

    Example:
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.tree import DecisionTreeClassifier
        >>> X, y = make_classification(200, random_state=0)
        >>> result = search(DecisionTreeClassifier(random_state=0), X, y, {
        ...     "trials": 4, "seconds": 0, "cv_folds": 3, "metric": "roc_auc",
        ...     "n_jobs": 1, "search_space": {"max_depth": {"low": 1, "high": 6}}})
        >>> sorted(result.best_params), len(result.trials)
        (['max_depth'], 4)
    """
    import optuna
    from sklearn.base import clone, is_classifier
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import check_cv

    settings = check_tuning(settings, estimator)
    scorer = get_scorer(settings["metric"])
    folds = list(
        check_cv(
            settings["cv_folds"], labels, classifier=is_classifier(estimator)
        ).split(features, labels)
    )
    n_jobs = int(settings["n_jobs"])
    space = settings["search_space"]
    data = (_rows(features), labels, scorer)

    def ask() -> tuple[Any, dict[str, Any]]:
        """A new trial and its parameters, drawn in this thread, in order."""
        trial = study.ask()
        return trial, {
            name: _suggest(trial, name, dict(d)) for name, d in space.items()
        }

    def evaluate(asked: tuple[Any, dict[str, Any]]) -> Trial:
        """Score one trial, in a worker thread (it only reads the study)."""
        trial, params = asked
        return _cross_validate(
            trial, clone(estimator).set_params(**params), params, folds, data
        )

    seed = estimator.get_params().get("random_state")
    sampler = optuna.samplers.TPESampler(seed=seed if isinstance(seed, int) else None)
    # the median of the trials completed so far: always those of earlier
    # batches, so a search gives the same trials whatever the thread timing
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    limit = settings["trials"] or math.inf
    deadline = time.perf_counter() + (settings.get("seconds") or math.inf)
    began = time.perf_counter()
    trials: list[Trial] = []
    try:
        with ThreadPoolExecutor(n_jobs) as pool:
            # batches of n_jobs trials: asked together, evaluated side by
            # side, told in order
            while len(trials) < limit and time.perf_counter() < deadline:
                batch = [ask() for _ in range(int(min(n_jobs, limit - len(trials))))]
                # every trial of the batch is done before any is told: none
                # sees another of its own batch
                results = list(pool.map(evaluate, batch))
                for (trial, _), done in zip(batch, results, strict=True):
                    if done.state == "PRUNED":
                        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                    else:
                        study.tell(trial, done.score)
                    trials.append(done)
    finally:
        optuna.logging.set_verbosity(verbosity)
    seconds = time.perf_counter() - began
    complete = [t for t in trials if t.state == "COMPLETE"]
    if not complete:  # pragma: no cover - the first batch is never pruned
        raise TuningError(
            f"tuning finished no trial in {seconds:.1f} s: raise tuning.seconds "
            "or tuning.trials"
        )
    best = max(complete, key=lambda t: (t.score, -t.number))
    return TuningResult(
        metric=settings["metric"],
        best_params=dict(best.params),
        best_score=float(best.score or 0.0),
        seconds=seconds,
        trials=trials,
    )


def _cross_validate(
    trial: Any, model: Any, params: dict[str, Any], folds: list[Any], data: Any
) -> Trial:
    """The trial's mean score over ``folds``, stopped early when Optuna's
    pruner says the trial cannot catch up."""
    import numpy as np
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    rows, labels, scorer = data
    scores: list[float] = []
    started, state = time.time(), "COMPLETE"
    # one native (OpenMP) thread per trial: n_jobs says how many run at once,
    # and more threads than free cores make tree models wait for each other
    # (seconds become minutes on a busy machine)
    with threadpool_limits(1):
        for step, (train, test) in enumerate(folds):
            fitted = clone(model).fit(rows(train), _take(labels, train))
            scores.append(float(scorer(fitted, rows(test), _take(labels, test))))
            trial.report(float(np.mean(scores)), step)
            if step < len(folds) - 1 and trial.should_prune():
                state = "PRUNED"
                break
    return Trial(
        number=trial.number,
        params=params,
        score=float(np.mean(scores)),
        score_std=float(np.std(scores)),
        state=state,
        folds=len(scores),
        started=started,
        ended=time.time(),
    )


def tune(estimator: Any, features: Any, labels: Any, settings: Any) -> dict[str, Any]:
    """Search the best parameters of ``estimator`` and log the search to MLflow.

    Returns the best parameters (``{}`` when ``settings`` has ``enabled:
    false``): ``estimator.set_params(**best)`` is the model to fit. With an
    active MLflow run (or ``MLFLOW_RUN_ID``), every trial becomes a child run
    of it and the run gets the best parameters and ``quality/tuning.json``.
    Logs one line: the trials, the time taken and the best score.
    """
    settings = check_tuning(settings, estimator)
    if not settings.get("enabled", True):
        return {}
    smallest = _smallest_fold_group(estimator, labels)
    if smallest < settings["cv_folds"]:
        logger.warning(
            "Tuning skipped: %s, fewer than tuning.cv_folds (%d); the model is "
            "trained with its parameters as they are.",
            f"the rarest class has {smallest} training rows"
            if _is_classifier(estimator)
            else f"there are {smallest} training rows",
            settings["cv_folds"],
        )
        return {}
    result = search(estimator, features, labels, settings)
    logger.info(
        "Tuning: %d trials (%d pruned) in %.1f s; best %s %.4f with %s",
        len(result.trials),
        sum(t.state == "PRUNED" for t in result.trials),
        result.seconds,
        result.metric,
        result.best_score,
        result.best_params,
    )
    parent = training_run_id()
    if parent is not None:
        log_search(parent, result)
    return result.best_params


def training_run_id() -> str | None:
    """The run to nest trials under: the active one, or ``MLFLOW_RUN_ID`` (a
    ``ParallelRunner`` worker); ``None`` when MLflow is not in use."""
    import sys

    mlflow = sys.modules.get("mlflow")
    active = mlflow.active_run() if mlflow is not None else None
    if active is not None:
        return str(active.info.run_id)
    return os.environ.get("MLFLOW_RUN_ID") or None


def log_search(
    parent_run_id: str, result: TuningResult, client: Any = None
) -> list[str]:
    """Log each trial as a child run of ``parent_run_id`` (one ``log_batch``
    each) and the search's outcome into the parent. Returns the child run ids."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = client or MlflowClient()
    parent = client.get_run(parent_run_id)
    experiment = parent.info.experiment_id
    name = f"cv.{result.metric}"
    children = []
    for trial in result.trials:
        run = client.create_run(
            experiment,
            start_time=int(trial.started * 1000),
            tags={
                PARENT_TAG: parent_run_id,
                TRIAL_TAG: str(trial.number),
                TRIAL_STATE_TAG: trial.state,
            },
            run_name=f"{parent.info.run_name or 'training'} trial {trial.number}",
        )
        stamp = int(trial.ended * 1000)
        metrics = [Metric("cv.folds", float(trial.folds), stamp, 0)]
        if trial.state == "COMPLETE" and trial.score_std is not None:
            metrics += [
                Metric(name, float(trial.score or 0.0), stamp, 0),
                Metric(f"{name}_std", trial.score_std, stamp, 0),
            ]
        elif trial.score is not None:  # pruned: the mean of the folds it ran
            metrics.append(Metric(f"{name}_partial", trial.score, stamp, 0))
        params = [Param(key, str(value)) for key, value in trial.params.items()]
        client.log_batch(run.info.run_id, metrics=metrics, params=params)
        status = "FINISHED" if trial.state != "FAIL" else "FAILED"
        client.set_terminated(run.info.run_id, status, end_time=stamp)
        children.append(run.info.run_id)
    now = int(time.time() * 1000)
    client.log_batch(
        parent_run_id,
        metrics=[
            Metric("tuning.best_score", result.best_score, now, 0),
            Metric("tuning.trials", float(len(result.trials)), now, 0),
            Metric("tuning.seconds", result.seconds, now, 0),
        ],
        params=[
            Param(f"tuning.best.{key}", str(value))
            for key, value in result.best_params.items()
        ],
    )
    client.log_text(parent_run_id, json.dumps(result.summary(), indent=2), ARTIFACT)
    return children


def _check_dimension(name: str, dimension: dict[str, Any]) -> None:
    key = f"tuning.search_space.{name}"
    if "choices" in dimension:
        if {"low", "high", "log"} & set(dimension):
            raise TuningError(f"{key}: give either choices or low/high, not both")
        if not dimension["choices"]:
            raise TuningError(f"{key}.choices is empty: list at least one value")
        return
    if "low" not in dimension or "high" not in dimension:
        raise TuningError(
            f"{key}: give low and high (a range) or choices (a list of values)"
        )
    low, high = dimension["low"], dimension["high"]
    if not (math.isfinite(low) and math.isfinite(high)):
        raise TuningError(f"{key}: low and high must be finite numbers")
    if low > high:
        raise TuningError(
            f"{key}: the range is empty: low ({low}) is greater than high ({high})"
        )
    if dimension.get("log") and low <= 0:
        raise TuningError(f"{key}: a log range needs low above 0 (got {low})")


def _check_metric(metric: str) -> None:
    from sklearn.metrics import get_scorer_names

    if metric not in get_scorer_names():
        raise TuningError(
            f"tuning.metric '{metric}' is not a scikit-learn scorer: use one of "
            "sklearn.metrics.get_scorer_names(), e.g. roc_auc, accuracy, neg_log_loss"
        )


def _parameter_names(estimator: Any) -> set[str]:
    instance = estimator() if isinstance(estimator, type) else estimator
    return set(instance.get_params(deep=False))


def _is_classifier(estimator: Any) -> bool:
    from sklearn.base import is_classifier

    return bool(is_classifier(estimator))


def _smallest_fold_group(estimator: Any, labels: Any) -> int:
    """Rows of the rarest class (a classifier), or all rows: cross-validation
    needs at least one per fold."""
    import numpy as np

    if not _is_classifier(estimator):
        return len(labels)
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    return int(counts.min()) if len(counts) else 0


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _suggest(trial: Any, name: str, dimension: dict[str, Any]) -> Any:
    if "choices" in dimension:
        return trial.suggest_categorical(name, list(dimension["choices"]))
    low, high, log = dimension["low"], dimension["high"], bool(dimension.get("log"))
    if _is_integer(low) and _is_integer(high):
        return trial.suggest_int(name, low, high, log=log)
    return trial.suggest_float(name, float(low), float(high), log=log)


def _rows(features: Any) -> Any:
    """A function taking rows by position from a frame or an array."""
    if hasattr(features, "iloc"):
        return lambda index: features.iloc[index]
    return lambda index: features[index]


def _take(labels: Any, index: Any) -> Any:
    return labels.iloc[index] if hasattr(labels, "iloc") else labels[index]
