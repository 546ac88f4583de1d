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
