"""A ``kedro run`` stopped by SIGINT (Ctrl-C) or SIGTERM (``docker stop``, a
scheduler) ends its MLflow run ``KILLED`` and exits with one clear line.

Without this, Python turns Ctrl-C into ``KeyboardInterrupt``, which Kedro does
not treat as a pipeline error, so no hook closes the run and MLflow's own exit
handler ends it ``FINISHED``, with no model; SIGTERM kills the process at once
and leaves the run ``RUNNING``.

While a pipeline runs, :class:`Interrupts` turns either signal into
:class:`RunInterrupted`, an ordinary exception: Kedro stops the runner, calls
``on_pipeline_error`` (kedro-mlflow closes the run), and the plugin's hook then
exits with status 128 + the signal number. An exit handler marks the run
``KILLED`` whatever path the exception took. Code that catches every
exception may swallow the first raise: the plugin's hooks raise it again after
the node that was running (:meth:`Interrupts.check`). A second signal is not
intercepted: it stops the process as Python would.

Only Python's default handlers are replaced, and only in the main thread.

Example:
    >>> import signal
    >>> str(RunInterrupted(signal.SIGTERM))
    'SIGTERM received: the run was stopped'
    >>> RunInterrupted(signal.SIGINT).exit_code
    130
"""

from __future__ import annotations

import atexit
import logging
import signal
import sys
import threading
from typing import Any

logger = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_DEFAULTS = (signal.SIG_DFL, signal.default_int_handler)
#: How soon a signal that arrived inside a logging handler is raised again.
RETRY_SECONDS = 0.05


def _in_logging(frame: Any) -> bool:
    """Whether ``frame`` runs inside the ``logging`` module's handlers."""
    while frame is not None:
        if frame.f_globals.get("__name__") == "logging":
            return True
        frame = frame.f_back
    return False


class RunInterrupted(Exception):
    """The pipeline was stopped by a signal."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"{signal.Signals(signum).name} received: the run was stopped")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def interruption(error: BaseException | None) -> RunInterrupted | None:
    """The :class:`RunInterrupted` that is ``error`` or caused it: Kedro wraps
    one raised while a dataset loads or saves in its ``DatasetError``."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, RunInterrupted):
            return error
        error = error.__cause__ or error.__context__
    return None


def mark_killed(run_id: str) -> None:
    """End ``run_id`` as KILLED (and the runs still open in this thread)."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    try:
        while mlflow.active_run() is not None:
            mlflow.end_run("KILLED")
        mlflow.MlflowClient().set_terminated(run_id, "KILLED")
    except Exception as error:  # the store itself may be what failed
        logger.warning("Could not mark MLflow run %s KILLED: %s", run_id, error)


class Interrupts:
    """SIGINT and SIGTERM as :class:`RunInterrupted` while a run is open."""

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}
        self.run_id: str | None = None
        #: The signal received during this run, if any.
        self.received: int | None = None

    def install(self, run_id: str | None) -> bool:
        """Intercept the signals still at Python's defaults; False if none."""
        if threading.current_thread() is not threading.main_thread():
            return False
        self.restore()
        self.run_id = run_id
        self.received = None
        for signum in SIGNALS:
            current = signal.getsignal(signum)
            if any(current is default for default in _DEFAULTS):
                self._previous[signum] = current
                signal.signal(signum, self._handle)
        return bool(self._previous)

    def restore(self) -> None:
        """Put back the handlers :meth:`install` replaced."""
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def check(self) -> None:
        """Raise :class:`RunInterrupted` again if a signal was received: code
        that catches every ``Exception`` (a library's safety net) may have
        swallowed it, and the run went on."""
        if self.received is not None:
            raise RunInterrupted(self.received)

    def _handle(self, signum: int, frame: Any) -> None:
        self.restore()  # a second signal stops the process as usual
        self.received = signum
        if self.run_id is not None:
            atexit.register(mark_killed, self.run_id)
        self._raise_outside_logging(signum, frame)

    def _raise_outside_logging(self, signum: int, frame: Any) -> None:
        """Raise :class:`RunInterrupted`, unless ``frame`` is inside a logging
        handler, which would print the exception as a "Logging error" and carry
        on: then try again 50 ms later (SIGALRM), until it is outside."""
        if not _in_logging(frame):
            raise RunInterrupted(signum)
        previous = signal.getsignal(signal.SIGALRM)

        def again(_: int, later: Any) -> None:
            signal.signal(signal.SIGALRM, previous)
            self._raise_outside_logging(signum, later)

        signal.signal(signal.SIGALRM, again)
        signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS)
