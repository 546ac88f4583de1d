"""What the model server answers on /invocations: CSV like JSON, one-line
refusals with row numbers, the request size limit, the bodies held at once,
the health marker removed when the server stops.

The model is a real MLflow pyfunc saved to disk: it runs the schema check and
a scoring node with ``ServingRunner``, as the starter's bundled model does,
with the signature kedro-mlops logs (integer columns typed ``any``). The
server tests start ``uvicorn kedro_mlops.serving.app:app`` on 127.0.0.1, as
``kedro mlops serve`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from harness.envs import free_port
from kedro_mlops.serving import MODEL_VARIABLE, PORT_VARIABLE
from kedro_mlops.serving.endpoint import (
    LIMIT_VARIABLE,
    Model,
    ScoringApp,
    max_request_bytes,
    one_line,
    score,
)
from tests.conftest import REPO

SCHEMA = {
    "id_column": "id",
    "target": {"column": "churned", "positive_class": "yes"},
    "numeric": {"age": {"min": 18, "max": 110}, "charges": {"min": 0}},
    "categorical": {"plan": ["basic", "premium"]},
}
ROWS = pd.DataFrame(
    {
        "id": ["A1", "A2", "A3", "A4"],
        "age": [30, 45, 61, 22],  # integers: typed `any` in the signature
        "charges": [10.5, 80.0, 35.25, 0.0],
        "plan": ["basic", "premium", "basic", None],
    }
)


def _scores(rows: pd.DataFrame) -> pd.DataFrame:
    premium = (rows["plan"] == "premium").to_numpy()
    return pd.DataFrame(
        {
            "id": rows["id"].to_numpy(),
            "score": rows["age"].to_numpy(dtype=float) / 100
            + rows["charges"]
            + premium,
        }
    )


def _saved_model(path: Path) -> Path:
    import mlflow
    from mlflow.models import infer_signature

    from kedro_mlops.tracking.model_logging import nullable_integers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's hint about integer columns

        class Checked(mlflow.pyfunc.PythonModel):
            """The schema check, then the scores: with ServingRunner, as bundled."""

            def predict(self, context, model_input, params=None):
                from kedro.io import DataCatalog, MemoryDataset
                from kedro.pipeline import Node, Pipeline

                from kedro_mlops.schema import validate_scoring_batch
                from kedro_mlops.serving import ServingRunner

                pipeline = Pipeline(
                    [
                        Node(validate_scoring_batch, ["rows", "schema"], "checked"),
                        Node(_scores, "checked", "scores"),
                    ]
                )
                catalog = DataCatalog(
                    {
                        "rows": MemoryDataset(model_input),
                        "schema": MemoryDataset(SCHEMA),
                    }
                )
                return ServingRunner().run(pipeline, catalog)["scores"].load()

        signature = nullable_integers(
            infer_signature(ROWS, params={"runner": "ServingRunner"})
        )
        mlflow.pyfunc.save_model(
            str(path), python_model=Checked(), signature=signature, pip_requirements=[]
        )
    return path


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return _saved_model(tmp_path_factory.mktemp("model") / "model")


@pytest.fixture(scope="module")
def served(model_path) -> Model:
    import mlflow

    return Model(mlflow.pyfunc.load_model(str(model_path)))


def _split(frame: pd.DataFrame, **extra) -> bytes:
    split = json.loads(frame.to_json(orient="split", index=False))
    return json.dumps({"dataframe_split": split, **extra}).encode()


def _answer(status: int, body: bytes) -> dict:
    answer = json.loads(body)
    if status != 200:
        # every refusal: a JSON error code and a one-line message, nothing more
        assert set(answer) == {"error_code", "message"}, answer
        assert "\n" not in answer["message"] and "Traceback" not in answer["message"]
    return answer


# ---- the request path, without HTTP -------------------------------------------------


def test_csv_and_parquet_score_the_rows_as_json_does(served):
    # given the same rows, one of them missing an integer value
    rows = ROWS.astype({"age": "object"})
    rows.loc[1, "age"] = None
    # when they are sent as JSON and as CSV (MLflow's parser alone refuses CSV
    # when a column is typed `any`)
    status_json, by_json = score(_split(rows), "application/json", served)
    status_csv, by_csv = score(
        rows.to_csv(index=False).encode(), "text/csv; charset=utf-8", served
    )
    # then both are scored, alike, as the model scores the frame in-process
    assert (status_json, status_csv) == (200, 200), (by_json, by_csv)
    assert json.loads(by_csv) == json.loads(by_json)
    expected = served.model.predict(ROWS.assign(age=[30, None, 61, 22]))
    assert pd.DataFrame(json.loads(by_csv)["predictions"]).equals(expected)
    # and Parquet too
    status, by_parquet = score(
        ROWS.to_parquet(), "application/vnd.apache.parquet", served
    )
    assert status == 200, by_parquet
    assert json.loads(by_parquet) == json.loads(
        score(_split(ROWS), "application/json", served)[1]
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b'{"dataframe_split": ', "application/json", 400, "is not valid JSON"),
        (b"[1, 2]", "application/json", 400, "it is a list"),
        (b'{"data": [[1]]}', "application/json", 400, "it has ['data']"),
        (b"", "application/json", 400, "The request body is empty"),
        (
            _split(ROWS.drop(columns=["age"])),
            "application/json",
            400,
            "missing inputs ['age']",
        ),
        (_split(ROWS.iloc[:0]), "application/json", 400, "The request has no rows"),
        (b'{"dataframe_records": []}', "application/json", 400, "has no rows"),
        (
            _split(ROWS.assign(age=[30, "old", 61, 22])),
            "application/json",
            400,
            "column 'age' must be numeric but has non-numeric values ('old') in row 2.",
        ),
        (
            _split(ROWS.assign(charges=[1.0, 2.0, "cheap", "free"])),
            "application/json",
            400,
            "column 'charges' must be numeric but has non-numeric values "
            "('cheap', 'free') in rows 3, 4.",
        ),
        (
            _split(ROWS.assign(charges=True)),
            "application/json",
            400,
            "column 'charges' must be numeric but holds booleans",
        ),
        (
            _split(ROWS.assign(age=[30, 45, 5, 22])),
            "application/json",
            400,
            "column 'age' has values outside [18, 110] ('5') in row 3.",
        ),
        (
            _split(ROWS.assign(id=["A1", None, "A3", "A3"])),
            "application/json",
            400,
            "column 'id' (id) is empty in row 2; column 'id' (id) repeats values in rows 3, 4.",
        ),
        (
            ROWS.assign(age=[30, 45, 61, "x"]).to_csv(index=False).encode(),
            "text/csv",
            400,
            "('x') in row 4. Rows are counted from 1 at the first row of data (in a "
            "CSV file with a header line, row N is on line N + 1).",
        ),
        (b"\xff\xfe,x\n", "text/csv", 400, "The CSV is not UTF-8 text"),
        (b"garbage", "application/vnd.apache.parquet", 400, "not a table in Parquet"),
        (
            ROWS.assign(id=[True, False, True, False]).to_parquet(),
            "application/vnd.apache.parquet",
            400,
            "Incompatible input types for column id",
        ),
        (_split(ROWS), None, 415, "The request has no Content-Type"),
        (_split(ROWS), "text/plain", 415, "Content-Type 'text/plain' is not scored"),
        (_split(ROWS), "application/json; charset=latin-1", 415, "only charset=utf-8"),
        (
            _split(ROWS, params={"runner": "os.getpid"}),
            "application/json",
            400,
            "params.runner 'os.getpid' is refused: only 'ServingRunner'",
        ),
        (
            _split(ROWS, params=5),
            "application/json",
            400,
            "params must be a JSON object",
        ),
        (
            json.dumps(
                {
                    "dataframe_split": {
                        "columns": ["id", "age", "age"],
                        "data": [[1, 2, 3]],
                    }
                }
            ).encode(),
            "application/json",
            400,
            "The request repeats the columns ['age']",
        ),
    ],
    ids=[
        "malformed JSON",
        "not an object",
        "no known key",
        "empty body",
        "missing column",
        "no rows",
        "no records",
        "text in an integer column",
        "text in a float column",
        "booleans for numbers",
        "out of range",
        "empty and repeated ids",
        "CSV with text in an integer column",
        "CSV not UTF-8",
        "not Parquet",
        "MLflow's own type check",
        "no content type",
        "unknown content type",
        "other charset",
        "another runner",
        "params not an object",
        "repeated column",
    ],
)
def test_bad_requests_get_a_4xx_with_a_one_line_reason(
    served, body, content_type, status, reason
):
    answered, payload = score(body, content_type, served)
    assert answered == status, payload
    assert reason in _answer(answered, payload)["message"]


def test_a_request_can_only_run_the_bundled_runner(served, monkeypatch):
    # kedro-mlflow imports and calls whatever `runner` names: it never gets there
    called = []
    monkeypatch.setattr(os, "getpid", lambda: called.append(1) or 1)
    status, _ = score(
        _split(ROWS, params={"runner": "os.getpid"}), "application/json", served
    )
    assert status == 400 and called == []
    # the bundled runner by name is fine
    status, _ = score(
        _split(ROWS, params={"runner": "ServingRunner"}), "application/json", served
    )
    assert status == 200


def test_one_line_keeps_listings_readable_and_short():
    assert one_line("Bad:\n  - a\n  - b\nFix it.") == "Bad: a; b. Fix it."
    assert one_line("x" * 2000, limit=50) == "x" * 49 + "…"


def test_the_limit_comes_from_the_environment_or_is_16_mb():
    assert max_request_bytes({}) == 16_000_000
    assert max_request_bytes({LIMIT_VARIABLE: "0.5"}) == 500_000
    for wrong in ("0", "-1", "many"):
        with pytest.raises(ValueError, match="greater than 0"):
            max_request_bytes({LIMIT_VARIABLE: wrong})


def test_bodies_in_flight_are_bounded(model_path):
    """Two limits' worth of bodies at once; the third waits for its turn."""
    import mlflow

    seen: list[int] = []

    async def scenario() -> list[int]:
        app = ScoringApp(None, mlflow.pyfunc.load_model(str(model_path)), 1000)
        budget = app._budget
        held = [budget.hold(1000), budget.hold(1000)]
        for h in held:
            await h.__aenter__()
        third = budget.hold(1000)
        waiting = asyncio.ensure_future(third.__aenter__())
        await asyncio.sleep(0.05)
        seen.append(budget.used)
        assert not waiting.done()
        await held[0].__aexit__(None, None, None)
        await asyncio.wait_for(waiting, 1)
        seen.append(budget.used)
        return seen

    assert asyncio.run(scenario()) == [2000, 2000]


# ---- a real server --------------------------------------------------------------------


@contextlib.contextmanager
def _server(model_path: Path, tmp: Path, limit_mb: str = "0.2", workers: int = 1):
    """uvicorn on kedro_mlops.serving.app, as `kedro mlops serve` execs it,
    with the health marker written as the command writes it."""
    port = free_port()
    (tmp / "kedro-mlops-serving.port").write_text(str(port))
    environ = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "TMPDIR": str(tmp),
        MODEL_VARIABLE: str(model_path),
        PORT_VARIABLE: str(port),
        LIMIT_VARIABLE: limit_mb,
    }
    log = tmp / "server.log"
    with log.open("w") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--port", str(port), "--workers",
             str(workers), "kedro_mlops.serving.app:app"],
            cwd=REPO, env=environ, stdout=stream, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            with contextlib.suppress(OSError):
                if _request(port, "GET", "/ping")[0] == 200:
                    break
            time.sleep(0.2)
        yield port, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def _request(port: int, method: str, path: str, body=None, headers=None, **kw):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {}, **kw)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


@pytest.fixture(scope="module")
def server(model_path, tmp_path_factory):
    """One server for the tests below; the last one stops it."""
    tmp = tmp_path_factory.mktemp("server")
    with _server(model_path, tmp, limit_mb="0.2") as (port, process):
        yield {"port": port, "process": process, "tmp": tmp}


@pytest.mark.integration
def test_a_request_over_the_limit_is_refused_unread(server):
    port, process = server["port"], server["process"]
    assert process.poll() is None, "the server was stopped by an earlier test"
    json_headers = {"Content-Type": "application/json"}
    # a request within the limit is scored
    many = pd.concat([ROWS] * 1000, ignore_index=True)
    within = _split(many.assign(id=[f"C{i}" for i in range(len(many))]))
    assert len(within) < 200_000
    status, body = _request(port, "POST", "/invocations", within, json_headers)
    assert status == 200, body
    peak = _peak_rss_mb(process.pid)
    # a 30 MB body, declared: 413 naming the limit, before it is read
    big = b"x" * 30_000_000
    status, body = _request(port, "POST", "/invocations", big, json_headers)
    assert status == 413
    message = _answer(status, body)["message"]
    assert "The request is 30.0 MB, over the limit of 0.2 MB" in message
    assert "--max-request-mb" in message
    # sent in chunks, with no length: 413 as soon as the limit is passed
    chunks = (b"x" * 1_000_000 for _ in range(30))
    status, body = _request(
        port, "POST", "/invocations", chunks, json_headers, encode_chunked=True
    )
    assert status == 413
    assert "over 0.2 MB (stopped reading)" in _answer(status, body)["message"]
    # and the server's memory did not take in either of them
    assert _peak_rss_mb(process.pid) - peak < 10
    # the other routes are MLflow's own
    assert _request(port, "GET", "/version")[0] == 200


@pytest.mark.integration
def test_the_health_marker_goes_when_the_server_stops(server):
    marker = server["tmp"] / "kedro-mlops-serving.port"
    # while it serves, the marker names its port and the check is healthy
    assert marker.read_text() == str(server["port"])
    check = subprocess.run(
        [sys.executable, "-m", "kedro_mlops.docker.health"],
        env={**os.environ, "TMPDIR": str(server["tmp"])},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout
    # when it is stopped (docker stop sends SIGTERM)
    server["process"].send_signal(signal.SIGTERM)
    # (uvicorn shuts down gracefully, then ends by the signal it was sent)
    assert server["process"].wait(timeout=30) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in (server["tmp"] / "server.log").read_text()
    # then no marker is left for the health check to find
    assert not marker.exists(), (server["tmp"] / "server.log").read_text()[-2000:]


@pytest.mark.integration
def test_a_server_whose_model_does_not_load_leaves_no_marker(tmp_path):
    marker = tmp_path / "kedro-mlops-serving.port"
    with pytest.raises(AssertionError):  # the server stops before answering
        with _server(tmp_path / "no-model", tmp_path):
            pass
    assert not marker.exists()
    assert "no-model" in (tmp_path / "server.log").read_text()
