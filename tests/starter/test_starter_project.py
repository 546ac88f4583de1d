"""The starter, end to end: wheel -> fresh environment -> `kedro new` -> the real commands.

One project is trained four times, so that the champion/challenger flow is
exercised on real runs:

1. `kedro run --pipelines training` with a weak model    -> v1, champion (there was none)
2. `kedro run --pipelines training` with a weaker model  -> v2, challenger only
3. `kedro run` with the shipped parameters and the costs -> v3, champion (better)
   of the two errors (the decision threshold follows them)
4. `kedro run --pipeline training` from `src/`           -> v4, the same model: a tie,
   so challenger only; and the run lands in the project-root store
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from harness.envs import REPO, new_project, read_json
from tests.drift.browser import Browser, require_chromium
from tests.starter.runs import NO_SEARCH, NOT_NESTED, PLOTS, plots_and_models

pytestmark = pytest.mark.integration

# (without the search, which would pick the leaves: these models stay weak)
WEAK = "train.model.max_iter=3,train.model.max_leaf_nodes=3,train.tuning.enabled=false"
WEAKER = (
    "train.model.max_iter=1,train.model.max_leaf_nodes=2,train.tuning.enabled=false"
)
MODEL = "churn_model"
#: A missed churner costs three needless offers: the threshold goes below 0.5.
COSTS = "evaluate.threshold.costs.false_positive=1,evaluate.threshold.costs.false_negative=3"


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory):
    return new_project(installed, tmp_path_factory.mktemp("projects"))


@pytest.fixture(scope="module")
def trained(installed, project):
    """The four training runs above, then batch inference."""
    installed.run(
        "kedro", "run", "--pipelines", "training", "--params", WEAK, cwd=project
    )
    installed.run(
        "kedro", "run", "--pipelines", "training", "--params", WEAKER, cwd=project
    )
    installed.run("kedro", "run", "--params", COSTS, cwd=project)
    installed.run(
        "kedro", "run", "--pipeline", "training", "--params", COSTS, cwd=project / "src"
    )
    installed.run("kedro", "run", "--pipelines", "inference", cwd=project)
    return project


@pytest.fixture(scope="module")
def client(trained):
    from mlflow import MlflowClient

    return MlflowClient(f"sqlite:///{trained / 'mlflow.db'}")


def _training_runs(client):
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string="tags.`mlops.registry.version` != ''",
        order_by=["attributes.start_time ASC"],
    )
    return runs


def test_project_is_generated_offline_with_its_dotfiles(project):
    assert (project / ".gitignore").is_file()
    assert (project / "data/01_raw/customers.csv").is_file()
    assert not (project / "mlflow.db").exists()


def test_generated_project_tests_pass(installed, project):
    result = installed.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
    )
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_every_run_finished_in_the_project_root_store(trained, client):
    assert not (trained / "src" / "mlflow.db").exists()
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], NOT_NESTED
    )
    assert len(runs) == 5
    assert {r.info.status for r in runs} == {"FINISHED"}


def test_training_run_has_params_metrics_plots_and_model(client):
    run = _training_runs(client)[2]  # the shipped configuration
    metrics = run.data.metrics
    # better than a coin (the decisions follow the costs: see the next test)
    assert 0.75 < metrics["test.roc_auc"] <= 1.0
    assert 0.3 < metrics["test.f1"] <= 1.0
    assert run.data.params["train.model.max_iter"] == "200"
    assert plots_and_models(client, run) == (PLOTS, 1)


def test_training_run_has_the_quality_reports(client, tmp_path):
    run = _training_runs(client)[2]
    run_id, metrics = run.info.run_id, run.data.metrics
    assert {a.path for a in client.list_artifacts(run_id, "quality")} == {
        f"quality/{name}"
        for name in (
            "calibration.json",
            "reliability.png",
            "threshold.json",
            "permutation_importance.csv",
            "permutation_importance.png",
            "slices.json",
            "tuning.json",  # the search's trials (test below)
        )
    }
    folder = Path(client.download_artifacts(run_id, "quality", str(tmp_path)))
    # the threshold chosen from the costs, below the parameter's 0.5
    threshold = read_json(folder / "threshold.json")
    assert threshold["source"] == "costs"
    assert threshold["cost_false_positive"] == 1
    assert threshold["cost_false_negative"] == 3
    assert 0 < threshold["threshold"] < 0.5
    assert metrics["test.threshold"] == pytest.approx(threshold["threshold"])
    # cheaper than the trivial decisions: flagging nobody, or everybody
    positive_share = 1 - metrics["test.baseline_accuracy"]  # churners: the minority
    nobody, everybody = 3 * positive_share, 1 * (1 - positive_share)
    assert threshold["expected_cost"] < min(nobody, everybody) - 0.1
    calibration = read_json(folder / "calibration.json")
    assert metrics["test.brier_score"] == pytest.approx(calibration["brier_score"])
    assert calibration["calibrated"] is False and calibration["method"] is None
    assert sum(b["rows"] for b in calibration["bins"]) == metrics["test.test_rows"]
    importance = pd.read_csv(folder / "permutation_importance.csv")
    assert list(importance.columns) == ["feature", "importance_mean", "importance_std"]
    assert len(importance) == 11
    assert importance["importance_mean"].is_monotonic_decreasing
    assert importance["importance_mean"].iloc[0] > 0.02
    slices = read_json(folder / "slices.json")
    assert slices["overall"] == pytest.approx(metrics["test.roc_auc"])
    assert {s["column"] for s in slices["slices"]} >= {"contract", "tenure_months"}
    assert all(s["rows"] >= slices["min_rows"] for s in slices["slices"])
    flagged = sum(s["flagged"] for s in slices["slices"])
    assert metrics["slices.flagged"] == flagged


def test_the_first_run_tunes_the_model_in_nested_trial_runs(installed, trained, client):
    first, second = _training_runs(client)[2:]  # the shipped configuration, twice
    trials = client.search_runs(
        [first.info.experiment_id],
        f"tags.`mlflow.parentRunId` = '{first.info.run_id}'",
    )
    # one finished child run per trial, with its parameters and its CV score
    assert sorted(int(t.data.tags["kedro_mlops.trial"]) for t in trials) == list(
        range(10)
    )
    assert {t.info.status for t in trials} == {"FINISHED"}
    searched = {
        "learning_rate",
        "max_iter",
        "max_leaf_nodes",
        "min_samples_leaf",
        "l2_regularization",
    }
    assert all(set(t.data.params) == searched for t in trials)
    complete = [t for t in trials if "cv.roc_auc" in t.data.metrics]
    assert len(complete) >= 3 and all(
        "cv.roc_auc_std" in t.data.metrics for t in complete
    )
    # the training run records the best trial's parameters and score
    best = {
        key.removeprefix("tuning.best."): value
        for key, value in first.data.params.items()
        if key.startswith("tuning.best.")
    }
    winner = max(complete, key=lambda t: t.data.metrics["cv.roc_auc"])
    assert best == winner.data.params
    assert first.data.metrics["tuning.best_score"] == winner.data.metrics["cv.roc_auc"]
    assert first.data.metrics["tuning.trials"] == 10
    # the search is repeatable: the second run found the same parameters
    assert {
        k: v for k, v in second.data.params.items() if k.startswith("tuning.best.")
    } == {f"tuning.best.{k}": v for k, v in best.items()}
    # and the model the project saved (the second run's) was fitted with them
    shown = installed.run(
        "python",
        "-c",
        "import pickle, json; m = pickle.load(open('data/06_models/model.pkl', 'rb'));"
        # kedro-mlops saves the fitted model again, frozen (serving.estimators)
        " m = getattr(m, 'estimator', m);"
        f" print(json.dumps({{k: m.get_params()[k] for k in {sorted(best)!r}}}))",
        cwd=trained,
    )
    fitted = json.loads(shown.stdout.splitlines()[-1])  # after Kedro's log line
    assert {k: str(v) for k, v in fitted.items()} == best


def test_inference_flags_exactly_the_drifted_columns(trained, client):
    # the production batch: monthly_charges, contract and support_tickets drifted
    report = read_json(trained / "data/08_reporting/drift_report.json")
    drifted = {c["column"] for c in report["columns"] if c["drifted"]}
    assert drifted == {"monthly_charges", "contract", "support_tickets"}
    decision = read_json(trained / "data/08_reporting/retrain_decision.json")
    assert decision["retrain"] is True and decision["prediction_drift"] is True
    # and the inference run carries the drift metrics and the HTML report
    (run,) = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string="attributes.run_name = 'inference'",
    )
    assert run.data.metrics["drift.column.contract.drifted"] == 1.0
    assert run.data.metrics["drift.column.age.drifted"] == 0.0
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "drift")}
    assert artifacts == {
        "drift/drift_report.html",
        "drift/drift_report.json",
        "drift/drift_retrain_decision.json",
    }
    assert (trained / "data/08_reporting/drift_report.html").is_file()


def test_kedro_mlops_drift_between_two_catalog_datasets(installed, trained):
    # (mlops.yml names no column: the id and the target follow the schema)
    result = installed.run(
        "kedro",
        "mlops",
        "drift",
        "--reference",
        "reference_sample",
        "--current",
        "scoring_batch",
        "--output",
        "drift_cli.html",
        cwd=trained,
    )
    flagged = {
        line.split()[0] for line in result.stdout.splitlines() if line.endswith("  yes")
    }
    assert flagged == {"monthly_charges", "contract", "support_tickets"}
    assert (trained / "drift_cli.html").read_text().startswith("<!DOCTYPE html>")
    unknown = installed.run(
        "kedro",
        "mlops",
        "drift",
        "--reference",
        "nope",
        "--current",
        "scoring_batch",
        cwd=trained,
        check=False,
    )
    assert unknown.returncode != 0
    assert "'nope' is neither a dataset of this project's catalog" in unknown.stderr


def test_champion_challenger_flow(client):
    runs = _training_runs(client)
    tags = [r.data.tags for r in runs]
    assert [t["mlops.registry.version"] for t in tags] == ["1", "2", "3", "4"]
    assert [t["mlops.registry.promoted"] for t in tags] == [
        "true",
        "false",
        "true",
        "false",
    ]
    auc = [r.data.metrics["test.roc_auc"] for r in runs]
    assert auc[1] < auc[0] < auc[2] == auc[3]
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "3"
    assert str(client.get_model_version_by_alias(MODEL, "challenger").version) == "4"
    # never the deprecated stages
    assert {
        v.current_stage for v in client.search_model_versions(f"name='{MODEL}'")
    } <= {"None", None}


def test_champion_scores_like_the_inference_pipelines(installed, trained):
    from mlflow import MlflowClient

    # given the predictions written by `kedro run --pipelines inference` (the champion)
    by_inference = pd.read_csv(trained / "data/07_model_output/predictions.csv")
    batch = pd.read_csv(trained / "data/01_raw/batch_production.csv")
    assert list(by_inference["customer_id"]) == list(batch["customer_id"])
    # when the registry's champion is loaded by MLflow directly and scores the batch
    script = (
        "import mlflow, pandas as pd\n"
        "mlflow.set_tracking_uri('sqlite:///mlflow.db')\n"
        f"model = mlflow.pyfunc.load_model('models:/{MODEL}@champion')\n"
        "out = model.predict(pd.read_csv('data/01_raw/batch_production.csv'))\n"
        "out.to_csv('champion_predictions.csv', index=False)\n"
        "import copy\n"
        "catalog = model.unwrap_python_model().loaded_catalog\n"
        "fitted = ('model', 'preprocessor')\n"
        "print('shared:', [n for n in fitted if copy.deepcopy(catalog.load(n)) is catalog.load(n)])\n"
    )
    shared = installed.run("python", "-c", script, cwd=trained).stdout
    # (the fitted estimators are shared between requests, not deep-copied)
    assert "shared: ['model', 'preprocessor']" in shared
    by_champion = pd.read_csv(trained / "champion_predictions.csv")
    pd.testing.assert_frame_equal(by_champion, by_inference)
    # both decide with the threshold the champion's training run chose and logged
    client = MlflowClient(f"sqlite:///{trained / 'mlflow.db'}")
    version = client.get_model_version_by_alias(MODEL, "champion")
    threshold = client.get_run(version.run_id).data.metrics["test.threshold"]
    assert threshold < 0.5  # from the costs, not the parameter
    decided = (by_champion["churned_probability"] >= threshold).astype(int)
    assert (by_champion["churned_prediction"] == decided).all()
    assert (by_champion["churned_probability"].between(threshold, 0.5, "left")).any()
    # and the `infer` pipeline's own nodes (local preprocessor and model) agree too
    shutil.copy(
        trained / "data/07_model_output/predictions.csv", trained / "by_inference.csv"
    )
    installed.run("kedro", "run", "--pipelines", "infer", cwd=trained)
    by_nodes = pd.read_csv(trained / "data/07_model_output/predictions.csv")
    pd.testing.assert_frame_equal(by_nodes, by_inference)


def test_each_modular_pipeline_runs_on_its_own(installed, trained):
    # (`train` without the search: its model.pkl replaces the tuned one, which
    # test_the_first_run_tunes_the_model_in_nested_trial_runs read before)
    for name in ("ingest", "feature", "train", "evaluate", "infer"):
        search = ("--params", NO_SEARCH) if name == "train" else ()
        installed.run("kedro", "run", "--pipelines", name, *search, cwd=trained)
    metrics = read_json(trained / "data/08_reporting/metrics.json")
    assert metrics["roc_auc"] > 0.75


def test_scoring_another_file_with_runtime_params(installed, trained):
    installed.run(
        "kedro",
        "run",
        "--pipelines",
        "inference",
        "--params",
        "scoring_file=data/01_raw/batch_control.csv",
        cwd=trained,
    )
    predictions = pd.read_csv(trained / "data/07_model_output/predictions.csv")
    assert predictions["customer_id"].iloc[0] == "C200001"
    # the control batch has not drifted
    decision = read_json(trained / "data/08_reporting/retrain_decision.json")
    assert decision["retrain"] is False and decision["drifted_columns"] == []


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _served(folder: Path) -> Iterator[str]:
    """``folder`` over HTTP on 127.0.0.1 (the built site fetches its ``api/`` files)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# The groups kedro-viz draws in its graph, and lists in its sidebar's tree.
GRAPH_GROUPS = (
    "[...document.querySelectorAll('g.pipeline-node--modularPipeline')]"
    ".map(group => group.textContent).sort()"
)
TREE_GROUPS = (
    "[...document.querySelectorAll('form.node-list-row')]"
    ".filter(row => row.querySelector('.pipeline-node-icon--icon-modularPipeline'))"
    ".map(row => row.title).sort()"
)
GRAPH_TASKS = "document.querySelectorAll('g.pipeline-node--task').length"


def _drawn(browser: Browser, url: str) -> dict:
    """The groups and the loose task nodes of the graph at ``url``, once drawn
    and settled: the page may first draw the pipeline it showed last, then the
    one ``url`` names, so it is read until the graph and the sidebar agree and
    two readings 0.3 s apart are the same (or 30 s have passed: the last
    reading is returned, for the test to compare)."""
    browser.open(url)
    deadline = time.monotonic() + 30
    while not browser.evaluate("document.querySelectorAll('g.pipeline-node').length"):
        assert time.monotonic() < deadline, f"kedro-viz drew no graph at {url}"
        time.sleep(0.2)
    last: dict = {}
    while True:
        reading = {
            "graph": browser.evaluate(GRAPH_GROUPS),
            "tree": browser.evaluate(TREE_GROUPS),
            "loose tasks": browser.evaluate(GRAPH_TASKS),
        }
        settled = reading == last and reading["graph"] == reading["tree"]
        if settled or time.monotonic() > deadline:
            return reading
        last = reading
        time.sleep(0.3)


def _groups(build: Path, pipeline: str) -> set[str]:
    """The modular pipelines that `kedro viz build` wrote for ``pipeline``."""
    tree = read_json(build / "api/pipelines" / pipeline)["modular_pipelines"]
    return set(tree) - {"__root__"}


def test_viz_shows_the_five_modular_pipelines_as_groups(installed, project):
    # given chromium (CI installs it: apt-get install chromium)
    chromium = require_chromium("kedro viz")
    # when the project's pipelines are built into kedro-viz's static site
    installed.run("kedro", "viz", "build", cwd=project)
    build = project / "build"
    # then its API files list every pipeline, each modular one as a group
    listed = {p["id"] for p in read_json(build / "api/main")["pipelines"]}
    stages = ["evaluate", "feature", "infer", "ingest", "train"]
    assert {*stages, "training", "inference"} <= listed
    groups = {pipeline: _groups(build, pipeline) for pipeline in listed}
    assert groups["training"] == set(stages) - {"infer"}
    assert all(groups[stage] == {stage} for stage in stages)
    assert "drift" in groups["inference"]  # the plugin's drift check
    # and the browser draws them as collapsed groups, with no loose node around
    shots = REPO / "test-artifacts"
    shots.mkdir(exist_ok=True)
    with _served(build) as site, Browser(chromium) as browser:
        # offline: the page's only outside request is a web font
        browser.call(
            "Network.setBlockedURLs",
            session=True,
            urls=["*://fonts.googleapis.com/*", "*://fonts.gstatic.com/*"],
        )
        training = _drawn(browser, f"{site}/?pid=training")
        browser.screenshot(shots / "viz_training.png")
        infer = _drawn(browser, f"{site}/?pid=infer")
    four = ["evaluate", "feature", "ingest", "train"]
    assert training == {"graph": four, "tree": four, "loose tasks": 0}
    assert infer == {"graph": ["infer"], "tree": ["infer"], "loose tasks": 0}


def test_champion_scores_a_batch_with_missing_values(installed, trained):
    # given a batch with gaps in columns that were complete (integer) at training time
    batch = pd.read_csv(trained / "data/01_raw/batch_production.csv")
    batch.loc[[0, 1], "age"] = None
    batch.loc[2, "support_tickets"] = None
    batch.loc[3, "contract"] = None
    batch.to_csv(trained / "data/01_raw/batch_with_gaps.csv", index=False)
    # when batch inference scores it with the registered champion
    installed.run(
        "kedro",
        "run",
        "--pipelines",
        "inference",
        "--params",
        "scoring_file=data/01_raw/batch_with_gaps.csv",
        cwd=trained,
    )
    # then every row gets a probability
    predictions = pd.read_csv(trained / "data/07_model_output/predictions.csv")
    assert len(predictions) == len(batch)
    assert predictions["churned_probability"].notna().all()
