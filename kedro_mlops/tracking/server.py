"""A tracking server that does not answer stops a run at once, with its address.

MLflow retries a failed HTTP request 7 times with a backoff factor of 2 (about
250 s) before it gives up, and then shows several hundred lines of chained
tracebacks. Before kedro-mlflow opens a run, :func:`check_reachable` asks the
server's ``/health`` once, with a short timeout: nothing listening, an unknown
host or no answer in time is an error naming the address and the fix.
:func:`bound_retries` also lowers MLflow's retries for the rest of the run (a
server lost mid-run), unless the environment sets them.

Example:
    >>> check_reachable("sqlite:///mlflow.db")  # not a server: nothing to ask
    >>> try:
    ...     check_reachable("http://127.0.0.1:9", timeout=2)
    ... except TrackingServerUnreachable as error:
    ...     print(str(error).splitlines()[0])
    The MLflow tracking server http://127.0.0.1:9 does not answer (connection refused).
"""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request

#: What kedro-mlops sets when the environment does not: a request to a lost
#: server fails after about 1 + 2 + 4 = 7 s of retries instead of 250 s.
RETRY_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}

#: Seconds to wait for the server's first answer.
TIMEOUT = 5.0


class TrackingServerUnreachable(ConnectionError):
    """The tracking server at the configured URI does not answer."""


def bound_retries() -> None:
    """Set :data:`RETRY_DEFAULTS` where the environment sets nothing."""
    for name, value in RETRY_DEFAULTS.items():
        os.environ.setdefault(name, value)


def _reason(error: BaseException) -> str:
    cause = getattr(error, "reason", error)
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, socket.gaierror):
        return "unknown host"
    if isinstance(cause, TimeoutError | socket.timeout):
        return f"no answer within {TIMEOUT:g} s"
    return str(cause) or type(cause).__name__


def check_reachable(uri: str, timeout: float = TIMEOUT) -> None:
    """Raise :class:`TrackingServerUnreachable` if ``uri`` is an HTTP(S) server
    that does not answer; any HTTP answer (even 401 or 404) will do."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # something answers: MLflow will say more if it is not MLflow
    except (urllib.error.URLError, OSError) as error:
        raise TrackingServerUnreachable(
            f"The MLflow tracking server {uri} does not answer ({_reason(error)}).\n"
            "Start it, or point MLFLOW_TRACKING_URI (or server.mlflow_tracking_uri "
            "in conf/<env>/mlflow.yml) at one that runs; unset it to use the "
            "project's embedded store."
        ) from None


class TrackingServerLost(ConnectionError):
    """The tracking server stopped answering in the middle of a run."""


#: What MLflow's HTTP client says when a request found nobody at the address.
_UNREACHABLE = (
    "Max retries exceeded",
    "Failed to establish a new connection",
    "Connection refused",
    "Connection aborted",
    "Read timed out",
)


def lost_server(
    error: BaseException, uri: str, run_id: str | None
) -> TrackingServerLost | None:
    """A :class:`TrackingServerLost` to raise when ``error`` is a request to the
    server at ``uri`` that found nobody, and the server still does not answer."""
    if not uri.startswith(("http://", "https://")):
        return None
    seen: set[int] = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        text = str(found)
        if uri.rstrip("/") in text and any(mark in text for mark in _UNREACHABLE):
            break
        found = found.__cause__ or found.__context__
    else:
        return None
    try:
        check_reachable(uri)
    except TrackingServerUnreachable as unreachable:
        reason = str(unreachable).split("(", 1)[-1].split(")", 1)[0]
    else:
        return None  # it answers again: the error is what it says
    run = f"Run {run_id} stays RUNNING there" if run_id else "The run stays RUNNING"
    return TrackingServerLost(
        f"The MLflow tracking server {uri} stopped answering during the run "
        f"({reason}). {run}; what the nodes saved is kept. Start the server and run "
        "the same command again: the next run of this project on this machine "
        "marks the interrupted one KILLED."
    )
