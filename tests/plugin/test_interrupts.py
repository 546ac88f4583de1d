"""SIGINT and SIGTERM during a run: an ordinary exception, then KILLED."""

from __future__ import annotations

import atexit
import os
import signal
import threading

import pytest

from kedro_mlops.plugin.interrupts import Interrupts, RunInterrupted, mark_killed


@pytest.fixture(autouse=True)
def _python_defaults():
    """Python's own handlers, whatever the test process inherited (a process
    started in the background of a shell ignores SIGINT)."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_becomes_run_interrupted_once(signum):
    interrupts = Interrupts()
    before = signal.getsignal(signum)
    assert before in (signal.default_int_handler, signal.SIG_DFL)
    assert interrupts.install("run-1") is True
    try:
        with pytest.raises(RunInterrupted, match=signal.Signals(signum).name) as caught:
            os.kill(os.getpid(), signum)
    finally:
        atexit.unregister(mark_killed)  # the handler registered it for run-1
    assert caught.value.exit_code == 128 + signum
    # the handler put Python's own back: a second signal is not intercepted
    assert signal.getsignal(signum) is before


def test_restore_puts_back_the_defaults():
    interrupts = Interrupts()
    interrupts.install(None)
    interrupts.restore()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_handler_of_ones_own_is_kept():
    def mine(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        interrupts = Interrupts()
        interrupts.install("run-1")
        assert signal.getsignal(signal.SIGTERM) is mine
        interrupts.restore()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_nothing_is_installed_outside_the_main_thread():
    answers = []
    worker = threading.Thread(target=lambda: answers.append(Interrupts().install("r")))
    worker.start()
    worker.join()
    assert answers == [False]


def test_mark_killed_ends_the_open_run_and_a_closed_one(tracking_uri):
    import mlflow

    # given a run still open, and one that kedro-mlflow already closed FAILED
    closed = mlflow.start_run().info.run_id
    mlflow.end_run("FAILED")
    open_run = mlflow.start_run().info.run_id
    # when both are marked
    mark_killed(open_run)
    mark_killed(closed)
    # then both are KILLED and no run is left active
    client = mlflow.MlflowClient()
    assert mlflow.active_run() is None
    assert {client.get_run(r).info.status for r in (open_run, closed)} == {"KILLED"}


def test_an_ignored_signal_stays_ignored():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a background job
    interrupts = Interrupts()
    interrupts.install("run-1")
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    interrupts.restore()


def test_an_interruption_wrapped_by_kedro_is_found():
    from kedro.io import DatasetError

    from kedro_mlops.plugin.interrupts import interruption

    stop = RunInterrupted(signal.SIGTERM)
    try:
        try:
            raise stop
        except RunInterrupted as error:
            raise DatasetError("Failed while loading data from dataset x") from error
    except DatasetError as wrapped:
        assert interruption(wrapped) is stop
    assert interruption(ValueError("a bug")) is None


def test_a_swallowed_interruption_is_raised_again_by_check():
    interrupts = Interrupts()
    interrupts.install("run-1")
    interrupts.check()  # nothing received: nothing raised
    try:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except Exception:  # a library's safety net
            pass
        with pytest.raises(RunInterrupted, match="SIGTERM"):
            interrupts.check()
    finally:
        atexit.unregister(mark_killed)
        interrupts.restore()


def test_a_signal_inside_a_logging_handler_is_raised_just_after_it(capfd):
    # given a log handler that is busy writing when the signal arrives
    import logging
    import time

    class Busy(logging.Handler):
        def emit(self, record):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # the signal's handler runs here, inside emit
            emitted.append(record.getMessage())

    emitted: list[str] = []
    alarm = signal.getsignal(signal.SIGALRM)
    log = logging.getLogger("tests.interrupts.busy")
    log.propagate = False
    log.addHandler(Busy())
    interrupts = Interrupts()
    interrupts.install("run-1")
    try:
        # when it logs, then the record is written whole, and the interruption
        # is raised after the handler, not printed by logging as its own error
        with pytest.raises(RunInterrupted, match="SIGTERM"):
            log.warning("writing")
            time.sleep(2)
    finally:
        atexit.unregister(mark_killed)
        log.handlers.clear()
    assert emitted == ["writing"]
    assert "Logging error" not in capfd.readouterr().err
    assert signal.getsignal(signal.SIGALRM) is alarm  # put back
