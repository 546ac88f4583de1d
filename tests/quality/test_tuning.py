"""The search: settings checked before it runs, trials as child runs of the
training run in a real sqlite MLflow store, the best parameters on the parent."""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any, TypedDict

import pytest
from kedro.pipeline import Node, Pipeline
from sklearn.datasets import make_classification
from sklearn.tree import DecisionTreeClassifier

from kedro_mlops.parameters import ParametersError, check_parameters
from kedro_mlops.quality.tuning import (
    ARTIFACT,
    TRIAL_TAG,
    TuningError,
    TuningParams,
    check_tuning,
    for_estimator,
    search,
    tune,
)


def _settings(**changes: Any) -> dict[str, Any]:
    settings = {
        "trials": 6,
        "seconds": 0,
        "cv_folds": 3,
        "metric": "roc_auc",
        "n_jobs": 1,
        "search_space": {
            "max_depth": {"low": 1, "high": 8},
            "min_samples_leaf": {"low": 1, "high": 30},
            "criterion": {"choices": ["gini", "entropy"]},
        },
    }
    settings.update(changes)
    return settings


@pytest.fixture(scope="module")
def data():
    return make_classification(300, n_features=8, random_state=0)


class Train(TypedDict):
    tuning: Annotated[TuningParams, for_estimator(DecisionTreeClassifier)]


def _train(data: Any, params: Train) -> None: ...


PIPELINE = Pipeline([Node(_train, ["rows", "params:train"], "model")])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"search_space": {"max_dpeth": {"low": 1, "high": 8}}},
            "train.tuning: tuning.search_space.max_dpeth is not a parameter of "
            "DecisionTreeClassifier (its parameters: ccp_alpha, class_weight,",
        ),
        (
            {"search_space": {"max_depth": {"low": 8, "high": 1}}},
            "train.tuning: tuning.search_space.max_depth: the range is empty: "
            "low (8) is greater than high (1)",
        ),
        (
            {"search_space": {"criterion": {"choices": []}}},
            "train.tuning: tuning.search_space.criterion.choices is empty: "
            "list at least one value",
        ),
        (
            {"trials": 0, "seconds": 0},
            "train.tuning: tuning has no budget: set trials (how many) or seconds "
            "(a time limit) above 0, or enabled: false to train the model as it is",
        ),
        (
            {"metric": "auc_roc"},
            "train.tuning: tuning.metric 'auc_roc' is not a scikit-learn scorer",
        ),
        (
            {"cv_folds": 1},
            "train.tuning.cv_folds: Input should be greater than or equal to 2 (got 1)",
        ),
    ],
    ids=[
        "unknown-parameter",
        "empty-range",
        "empty-choices",
        "no-budget",
        "unknown-metric",
        "one-fold",
    ],
)
def test_a_bad_search_is_refused_before_the_run_in_one_line(change, message):
    # given the parameters as a pipeline declares them, with one mistake
    parameters = {"train": {"tuning": _settings(**change)}}
    # when kedro-mlops checks them before the run
    with pytest.raises(ParametersError) as error:
        check_parameters(PIPELINE, parameters)
    # then one line names the key and what to do
    text = str(error.value)
    assert "\n" not in text
    assert text.startswith(f"Invalid parameter in the parameter files: {message}")


def test_the_search_checks_its_settings_itself_when_no_hint_did(data):
    with pytest.raises(TuningError, match="max_dpeth is not a parameter"):
        tune(
            DecisionTreeClassifier(),
            *data,
            _settings(search_space={"max_dpeth": {"low": 1, "high": 3}}),
        )
    assert check_parameters(PIPELINE, {"train": {"tuning": _settings()}}) is None


def test_without_a_run_the_search_logs_nothing_and_returns_the_best(data, tracking_uri):
    import mlflow

    # given no active run
    best = tune(DecisionTreeClassifier(random_state=0), *data, _settings())
    # then the best parameters come back, and the store has no run
    assert set(best) == {"max_depth", "min_samples_leaf", "criterion"}
    assert 1 <= best["max_depth"] <= 8
    assert mlflow.MlflowClient().search_runs(["0"]) == []


def test_disabled_tuning_searches_nothing(data):
    assert tune(DecisionTreeClassifier(), *data, _settings(enabled=False)) == {}
    # a disabled search is not held to a budget either
    assert check_tuning(_settings(enabled=False, trials=0))["enabled"] is False


def test_trials_are_child_runs_logged_in_one_batch_and_the_parent_has_the_best(
    data, tracking_uri, monkeypatch
):
    import mlflow
    from mlflow import MlflowClient

    # given an active training run, and a count of log_batch calls per run
    batches: dict[str, int] = {}
    original = MlflowClient.log_batch

    def counted(self, run_id, *args, **kwargs):
        batches[run_id] = batches.get(run_id, 0) + 1
        return original(self, run_id, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_batch", counted)
    with mlflow.start_run() as parent:
        # when two trials run at a time
        best = tune(DecisionTreeClassifier(random_state=0), *data, _settings(n_jobs=2))
        # then the training run is still the active one
        assert mlflow.active_run().info.run_id == parent.info.run_id
    client = MlflowClient()
    runs = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'",
    )
    # one child per trial, numbered, finished, logged with one batch each
    assert sorted(int(r.data.tags[TRIAL_TAG]) for r in runs) == list(range(6))
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert all(batches[r.info.run_id] == 1 for r in runs)
    for run in runs:
        assert set(run.data.params) == {"max_depth", "min_samples_leaf", "criterion"}
        if run.data.tags["kedro_mlops.trial_state"] == "COMPLETE":
            assert 0 < run.data.metrics["cv.roc_auc"] <= 1
            assert run.data.metrics["cv.roc_auc_std"] >= 0
            assert run.data.metrics["cv.folds"] == 3
        else:  # pruned: its partial score never passes for a whole one
            assert set(run.data.metrics) == {"cv.folds", "cv.roc_auc_partial"}
    # the parent: the best parameters and score, the trial count, the summary
    training = client.get_run(parent.info.run_id)
    assert {
        k.removeprefix("tuning.best."): v
        for k, v in training.data.params.items()
        if k.startswith("tuning.best.")
    } == {k: str(v) for k, v in best.items()}
    scores = [r.data.metrics.get("cv.roc_auc") for r in runs]
    assert training.data.metrics["tuning.best_score"] == max(
        s for s in scores if s is not None
    )
    assert training.data.metrics["tuning.trials"] == 6
    assert training.data.metrics["tuning.seconds"] > 0
    summary = json.loads(
        mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/{ARTIFACT}")
    )
    assert summary["metric"] == "roc_auc" and summary["direction"] == "maximize"
    assert summary["best_params"] == best
    assert [t["number"] for t in summary["trials"]] == list(range(6))
    assert set(summary["trials"][0]) == {
        "number",
        "params",
        "score",
        "score_std",
        "state",
    }


def test_a_worker_process_nests_its_trials_under_the_shared_run(
    data, tracking_uri, monkeypatch
):
    import mlflow

    # given the run shared as ParallelRunner's workers see it: no active run,
    # MLFLOW_RUN_ID set
    parent = mlflow.MlflowClient().create_run("0")
    monkeypatch.setenv("MLFLOW_RUN_ID", parent.info.run_id)
    tune(DecisionTreeClassifier(random_state=0), *data, _settings(trials=2))
    children = mlflow.MlflowClient().search_runs(
        ["0"], filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    assert len(children) == 2


def test_trials_run_side_by_side_in_threads(data):
    # given a search of two trials at a time
    threads: set[str] = set()

    class Recorded(DecisionTreeClassifier):
        def fit(self, *args: Any, **kwargs: Any) -> Any:
            threads.add(threading.current_thread().name)
            return super().fit(*args, **kwargs)

    result = search(Recorded(random_state=0), *data, _settings(trials=6, n_jobs=2))
    # then trials ran in two worker threads, and every trial is reported
    assert len(threads) == 2
    assert len(result.trials) == 6
    assert result.best_score == max(
        t.score for t in result.trials if t.state == "COMPLETE" and t.score
    )


def test_a_time_budget_stops_the_search(data):
    result = search(
        DecisionTreeClassifier(random_state=0),
        *data,
        _settings(trials=0, seconds=0.5),
    )
    assert result.seconds < 5
    assert len(result.trials) >= 1


def test_a_parallel_search_gives_the_same_trials_every_time(data):
    # given the same seeded search, two trials at a time, twice
    first, second = (
        search(DecisionTreeClassifier(random_state=0), *data, _settings(n_jobs=2))
        for _ in range(2)
    )
    # then the thread timing changed nothing: same trials, same best
    assert [t.summary() for t in first.trials] == [t.summary() for t in second.trials]
    assert first.best_params == second.best_params


def test_a_table_too_small_to_cross_validate_is_not_searched(caplog):
    # given six rows, of which two are of the rarer class: fewer than 3 folds
    rows = [[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]]
    labels = [0, 0, 0, 0, 1, 1]
    # when the search is asked for
    best = tune(DecisionTreeClassifier(), rows, labels, _settings())
    # then the model keeps its parameters, and a warning says why
    assert best == {}
    assert "the rarest class has 2 training rows, fewer than tuning.cv_folds (3)" in (
        caplog.text
    )
