"""Runs left RUNNING by a killed process are found and marked KILLED."""

from __future__ import annotations

import subprocess
import sys

from kedro_mlops.tracking.stale import (
    PROCESS_TAG,
    close_stale_runs,
    is_stale,
    parse_process_tag,
    process_tag,
)


def _dead_process_tag() -> str:
    code = "from kedro_mlops.tracking.stale import process_tag; print(process_tag())"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_this_process_is_alive_and_a_finished_one_is_not():
    assert is_stale(process_tag()) is False
    assert is_stale(_dead_process_tag()) is True


def test_a_reused_process_id_is_told_apart_by_its_start_time():
    host, pid, started = parse_process_tag(process_tag())
    assert is_stale(f"{host}|{pid}|{started - 1000}") is True


def test_a_run_of_another_host_or_without_a_tag_is_left_alone():
    assert is_stale("another-host|1|1") is False
    assert is_stale("garbage") is False


def test_close_stale_runs_marks_only_the_dead_processes_runs(tracking_uri, caplog):
    import mlflow

    client = mlflow.MlflowClient()
    experiment = client.create_experiment("stale")
    killed = client.create_run(experiment, tags={PROCESS_TAG: _dead_process_tag()})
    alive = client.create_run(experiment, tags={PROCESS_TAG: process_tag()})
    foreign = client.create_run(experiment, tags={PROCESS_TAG: "other-host|7|7"})
    untagged = client.create_run(experiment)
    current = client.create_run(experiment, tags={PROCESS_TAG: _dead_process_tag()})
    closed = close_stale_runs(client, experiment, current.info.run_id)
    assert closed == [killed.info.run_id]
    statuses = {
        run.info.run_id: client.get_run(run.info.run_id).info.status
        for run in (killed, alive, foreign, untagged, current)
    }
    assert statuses.pop(killed.info.run_id) == "KILLED"
    assert set(statuses.values()) == {"RUNNING"}
    assert "left RUNNING by process" in caplog.text


def test_a_trial_left_running_under_a_killed_run_is_closed_with_it(tracking_uri):
    import mlflow

    # given a killed training run with a trial still RUNNING (no process tag
    # of its own), and a live run with a trial of its own
    client = mlflow.MlflowClient()
    experiment = client.create_experiment("stale-trials")
    killed = client.create_run(experiment, tags={PROCESS_TAG: _dead_process_tag()})
    orphan = client.create_run(
        experiment, tags={"mlflow.parentRunId": killed.info.run_id}
    )
    current = client.create_run(experiment, tags={PROCESS_TAG: process_tag()})
    live_trial = client.create_run(
        experiment, tags={"mlflow.parentRunId": current.info.run_id}
    )
    # when the next run starts
    closed = close_stale_runs(client, experiment, current.info.run_id)
    # then the killed run and its trial are closed, the live run's trial is not
    assert closed == [killed.info.run_id, orphan.info.run_id]
    status = {r: client.get_run(r).info.status for r in closed}
    assert set(status.values()) == {"KILLED"}
    assert client.get_run(live_trial.info.run_id).info.status == "RUNNING"
