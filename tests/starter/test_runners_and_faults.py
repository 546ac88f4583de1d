"""The starter under Kedro's three runners, and the faults a run must survive.

One generated project: training under SequentialRunner, ThreadRunner and
ParallelRunner gives the same metrics and complete MLflow runs; inference under
each gives the same predictions and logs its drift check. Then a node that
raises, SIGINT, SIGTERM and SIGKILL during training, and a tracking server where
nothing listens: each ends with a clear line, no run left RUNNING (except the
SIGKILLed one, which the next run marks KILLED), and the next run succeeds.

The training runs under each runner search the model's parameters (their trials
are checked), and SIGINT, SIGTERM and SIGKILL arrive during that search; the
other runs that train do it without the search, which they do not check.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.envs import Env, new_project
from tests.starter.runs import NO_SEARCH, NOT_NESTED, PLOTS, plots_and_models

pytestmark = pytest.mark.integration

RUNNERS = ("SequentialRunner", "ThreadRunner", "ParallelRunner")
PREDICTIONS = "data/07_model_output/predictions.csv"


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory):
    return new_project(installed, tmp_path_factory.mktemp("runners"))


def _client(project: Path):
    from mlflow import MlflowClient

    return MlflowClient(f"sqlite:///{project / 'mlflow.db'}")


def _last_run(project: Path):
    client = _client(project)
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(
        experiments,
        NOT_NESTED,
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )[0]


def _run_count(project: Path) -> int:
    client = _client(project)
    return len(
        client.search_runs(
            [e.experiment_id for e in client.search_experiments()], NOT_NESTED
        )
    )


def _without_duration(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if k != "tuning.seconds"}


def _kedro_run(env: Env, project: Path, *args: str, check: bool = True):
    return env.run("kedro", "run", *args, cwd=project, check=check)


def test_inference_before_any_training_says_to_train_first(installed, project):
    result = _kedro_run(installed, project, "--pipelines", "inference", check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    # every input of inference but the batch comes from the tracking store
    # (the champion, its drift reference), and there is none yet
    store = project / "mlflow.db"
    assert f"Error: There was no MLflow tracking store at {store}" in output
    assert (
        "so the dataset 'champion_model' has no model to load "
        "(models:/churn_model@champion). Run `kedro run --pipelines training` "
        "(the project's training pipeline) first" in output
    )
    assert "Traceback" not in output and "Running node" not in output
    assert _run_count(project) == 0  # no MLflow run was opened


@pytest.fixture(scope="module")
def training_runs(installed, project):
    """One training run per runner, and ParallelRunner with spawned workers (as
    on macOS): (runner, run)."""
    runs = {}
    for runner in RUNNERS:
        _kedro_run(installed, project, "--pipelines", "training", "--runner", runner)
        runs[runner] = _last_run(project)
    installed.run(
        "kedro",
        "run",
        "--pipelines",
        "training",
        "--runner",
        "ParallelRunner",
        cwd=project,
        extra_env={"KEDRO_MP_CONTEXT": "spawn"},
    )
    runs["ParallelRunner-spawn"] = _last_run(project)
    return runs


@pytest.fixture(scope="module")
def inference_runs(installed, project, training_runs):
    """One inference run per runner: (runner, (run, predictions text))."""
    runs = {}
    for runner in RUNNERS:
        _kedro_run(installed, project, "--pipelines", "inference", "--runner", runner)
        runs[runner] = (_last_run(project), (project / PREDICTIONS).read_text())
    return runs


@pytest.mark.parametrize("runner", [*RUNNERS[1:], "ParallelRunner-spawn"])
def test_training_under_each_runner_logs_the_same_complete_run(
    training_runs, project, runner
):
    base, run = training_runs["SequentialRunner"], training_runs[runner]
    client = _client(project)
    assert run.info.status == "FINISHED"
    # the same search found the same model (only its duration differs), and
    # its trials are nested under the run, whichever thread or process ran them
    assert _without_duration(run.data.metrics) == _without_duration(base.data.metrics)
    assert run.data.metrics["tuning.trials"] == 10
    trials = client.search_runs(
        [run.info.experiment_id],
        f"tags.`mlflow.parentRunId` = '{run.info.run_id}'",
    )
    assert sorted(int(t.data.tags["kedro_mlops.trial"]) for t in trials) == list(
        range(10)
    )
    if runner.endswith("spawn"):  # spawned workers log the parameters unflattened
        assert run.data.params and all(
            any(k == p or k.startswith(f"{p}.") for k in base.data.params)
            for p in run.data.params
        )
    else:
        assert run.data.params == base.data.params
    assert plots_and_models(client, run) == (PLOTS, 1)
    lineage = sorted(k for k in run.data.tags if k.startswith("mlops.lineage."))
    assert lineage == sorted(
        k for k in base.data.tags if k.startswith("mlops.lineage.")
    )
    assert run.data.tags["mlops.registry.version"]
    # nothing a worker logged went to a run of its own
    experiments = [e.experiment_id for e in client.search_experiments()]
    assert len(client.search_runs(experiments, NOT_NESTED)) == len(training_runs)


def test_one_champion_after_the_training_runs(training_runs, project):
    client = _client(project)
    (model,) = client.search_registered_models()
    assert "champion" in model.aliases
    versions = client.search_model_versions(f"name = '{model.name}'")
    assert len(versions) == len(training_runs)


@pytest.mark.parametrize("runner", RUNNERS[1:])
def test_inference_under_each_runner_scores_and_checks_drift_the_same(
    inference_runs, project, runner
):
    (base, base_predictions), (run, predictions) = (
        inference_runs["SequentialRunner"],
        inference_runs[runner],
    )
    assert run.info.status == "FINISHED"
    assert predictions == base_predictions
    drift = {k: v for k, v in run.data.metrics.items() if k.startswith("drift.")}
    assert drift and drift == {
        k: v for k, v in base.data.metrics.items() if k.startswith("drift.")
    }
    reports = _client(project).list_artifacts(run.info.run_id, "drift")
    assert reports


# ------------------------------------------------------------------- faults


#: Runs argv[1:] with SIGINT and SIGTERM at their defaults, as from a terminal:
#: a process started in a shell's background (a CI job) would ignore SIGINT.
EXEC_WITH_DEFAULT_SIGNALS = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGTERM, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def _interrupted(env: Env, project: Path, signum: int) -> tuple[int, str, float]:
    """Train; send ``signum`` once train_model runs (0.3 s into its search,
    which is stopped there: it costs nothing to keep). Returns the exit code,
    the output and the seconds from the signal to the exit."""
    process = subprocess.Popen(
        [
            str(env.bin / "python"),
            "-c",
            EXEC_WITH_DEFAULT_SIGNALS,
            str(env.bin / "kedro"),
            "run",
            "--pipelines",
            "training",
        ],
        cwd=project,
        env=env.environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    sent = None
    for line in process.stdout:
        lines.append(line)
        if "Running node: train_model" in line:
            time.sleep(0.3)
            process.send_signal(signum)
            sent = time.perf_counter()
            break
    lines.append(process.stdout.read())
    code = process.wait(timeout=120)
    assert sent is not None, "".join(lines)[-3000:]
    return code, "".join(lines), time.perf_counter() - sent


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_training_ends_the_run_killed(
    installed, project, inference_runs, signum
):
    code, output, seconds = _interrupted(installed, project, signum)
    run = _last_run(project)
    name = signal.Signals(signum).name
    assert code == 128 + signum, output[-3000:]
    assert seconds < 30
    assert f"{name} received: the run was stopped. MLflow run" in output
    assert "Traceback" not in output
    assert run.info.status == "KILLED" and run.info.run_id in output
    # the lineage of the nodes that finished is on the run
    assert run.data.tags["mlops.lineage.data.model_input.role"] == "output"


def test_a_sigkilled_run_is_marked_killed_by_the_next_run(
    installed, project, inference_runs
):
    code, output, _ = _interrupted(installed, project, signal.SIGKILL)
    assert code == -signal.SIGKILL
    killed = _last_run(project)
    assert killed.info.status == "RUNNING"
    result = _kedro_run(
        installed, project, "--pipelines", "training", "--params", NO_SEARCH
    )
    assert f"MLflow run {killed.info.run_id} was left RUNNING by process" in (
        result.stdout + result.stderr
    )
    client = _client(project)
    assert client.get_run(killed.info.run_id).info.status == "KILLED"
    assert _last_run(project).info.status == "FINISHED"


def test_a_failing_node_is_reported_as_itself(installed, project, inference_runs):
    nodes = project / "src/churn_model/pipelines/evaluate/nodes.py"
    original = nodes.read_text()
    broken = original.replace(
        "    truth = binary_labels(test, target)\n",
        "    raise ValueError('the evaluation broke')\n"
        "    truth = binary_labels(test, target)\n",
        1,
    )
    assert broken != original
    nodes.write_text(broken)
    try:
        result = _kedro_run(
            installed, project, "--pipelines", "training", "--params", NO_SEARCH,
            check=False,
        )  # fmt: skip
    finally:
        nodes.write_text(original)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert output.rstrip().endswith("ValueError: the evaluation broke"), output[-2000:]
    assert "KedroMlflowPipelineMLError" not in output and "BEWARE" not in output
    assert '--from-nodes "evaluate.' in output
    run = _last_run(project)
    assert run.info.status == "FAILED"
    assert run.data.tags["mlops.lineage.data.model_input.role"] == "output"


def test_a_tracking_server_where_nothing_listens_stops_at_once(
    installed, project, inference_runs
):
    before = _run_count(project)
    start = time.perf_counter()
    result = installed.run(
        "kedro",
        "run",
        "--pipelines",
        "training",
        cwd=project,
        check=False,
        extra_env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"},
    )
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    assert result.returncode == 1 and seconds < 60
    assert (
        "Error: The MLflow tracking server http://127.0.0.1:9 does not answer "
        "(connection refused)." in output
    )
    assert "Traceback" not in output and "Running node" not in output
    assert _run_count(project) == before
