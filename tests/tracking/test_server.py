"""A tracking server that does not answer is an error within seconds."""

from __future__ import annotations

import http.server
import socket
import threading
import time

import pytest

from kedro_mlops.tracking.server import (
    RETRY_DEFAULTS,
    TrackingServerUnreachable,
    bound_retries,
    check_reachable,
)


def test_nothing_listening_is_refused_at_once():
    start = time.perf_counter()
    with pytest.raises(TrackingServerUnreachable, match="connection refused") as caught:
        check_reachable("http://127.0.0.1:9")
    assert time.perf_counter() - start < 2
    assert "MLFLOW_TRACKING_URI" in str(caught.value)


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(TrackingServerUnreachable, match="no answer within"):
            check_reachable(f"http://127.0.0.1:{port}", timeout=0.5)


def test_any_http_answer_will_do():
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        check_reachable(f"http://127.0.0.1:{server.server_port}/")
    finally:
        server.shutdown()


def test_an_unknown_host_is_named():
    with pytest.raises(TrackingServerUnreachable, match="unknown host|does not answer"):
        check_reachable("http://no-such-host.invalid", timeout=2)


def test_retries_are_bounded_unless_the_environment_says(monkeypatch):
    for name in RETRY_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "9")
    bound_retries()
    import os

    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "9"
    assert os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] == "1"


def _lost_request(uri: str) -> Exception:
    """What MLflow raises for a request to a server that is gone, as a chain."""
    cause = ConnectionRefusedError("[Errno 111] Connection refused")
    error = RuntimeError(
        f"API request to {uri}/api/2.0/mlflow/runs/get failed with exception "
        "HTTPConnectionPool: Max retries exceeded with url: /api/2.0/mlflow/runs/get"
    )
    error.__cause__ = cause
    wrapped = ValueError("Node failed")
    wrapped.__context__ = error
    return wrapped


def test_a_request_to_a_server_that_is_gone_names_the_run_and_the_way_back():
    from kedro_mlops.tracking.server import lost_server

    uri = "http://127.0.0.1:9"
    lost = lost_server(_lost_request(uri), uri, "abc123")
    assert lost is not None
    assert str(lost) == (
        "The MLflow tracking server http://127.0.0.1:9 stopped answering during the "
        "run (connection refused). Run abc123 stays RUNNING there; what the nodes "
        "saved is kept. Start the server and run the same command again: the next "
        "run of this project on this machine marks the interrupted one KILLED."
    )


def test_other_errors_and_a_server_that_answers_are_left_as_they_are():
    from kedro_mlops.tracking.server import lost_server

    # not a request to the tracking server
    assert lost_server(ValueError("bad column"), "http://127.0.0.1:9", "r") is None
    # a local store has no server to lose
    assert lost_server(_lost_request("sqlite:///x"), "sqlite:///x", "r") is None

    class Healthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        uri = f"http://127.0.0.1:{server.server_address[1]}"
        # the server answers again: the error is reported as it is
        assert lost_server(_lost_request(uri), uri, "r") is None
    finally:
        server.shutdown()
        server.server_close()
