"""GET /metrics: Prometheus' text format, parsed as Prometheus would, after
known requests; and the figures of several server processes in one scrape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from kedro_mlops.serving.capture import Capture, CaptureSettings
from kedro_mlops.serving.endpoint import ScoringApp
from kedro_mlops.serving.metrics import MULTIPROCESS_VARIABLE, Metrics
from tests.conftest import REPO
from tests.serving.stubs import (
    ROWS,
    StubModel,
    probabilities,
    request,
    scraped,
    split,
)


def test_metrics_count_requests_rows_scores_and_captured_rows(tmp_path):
    # given a server that captures, for the model churn_model version 7
    metrics = Metrics("churn_model", "7")
    capture = Capture(
        CaptureSettings(path=str(tmp_path), flush_seconds=60),
        "churn_model",
        "7",
        on_captured=metrics.captured.inc,
        on_dropped=metrics.dropped.inc,
    )
    app = ScoringApp(None, StubModel(), 1_000_000, metrics=metrics, capture=capture)
    # when it scores 4 rows, then 2, and refuses a request without a column
    assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
    assert request(app, "POST", "/invocations", split(ROWS.head(2)))[0] == 200
    assert (
        request(app, "POST", "/invocations", split(ROWS.drop(columns="age")))[0] == 400
    )
    assert capture.flush()
    found = scraped(app)
    # then the scrape counts the requests by status, and times each
    assert found["kedro_mlops_requests_total", (("status", "200"),)] == 2
    assert found["kedro_mlops_requests_total", (("status", "400"),)] == 1
    assert found["kedro_mlops_request_duration_seconds_count", ()] == 3
    assert found["kedro_mlops_request_duration_seconds_sum", ()] > 0
    # the rows scored, captured and dropped
    assert found["kedro_mlops_scored_rows_total", ()] == 6
    assert found["kedro_mlops_captured_rows_total", ()] == 6
    assert found["kedro_mlops_capture_dropped_rows_total", ()] == 0
    # the probabilities, in buckets 0.1 wide (le: at most)
    scores = probabilities(ROWS).tolist() + probabilities(ROWS.head(2)).tolist()
    assert found["kedro_mlops_prediction_score_count", ()] == len(scores)
    assert found["kedro_mlops_prediction_score_sum", ()] == pytest.approx(sum(scores))
    for le in ("0.3", "0.5", "0.7", "+Inf"):
        bound = float(le)
        count = found["kedro_mlops_prediction_score_bucket", (("le", le),)]
        assert count == sum(s <= bound for s in scores), le
    # and the model served
    labels = (("name", "churn_model"), ("version", "7"))
    assert found["kedro_mlops_model_info", labels] == 1
    capture.close()


def test_no_metrics_no_route():
    # without metrics, /metrics is the inner app's (MLflow's 404)
    app = ScoringApp(_NotFound(), StubModel(), 1_000_000)
    assert request(app, "GET", "/metrics")[0] == 404


class _NotFound:
    async def __call__(self, scope, receive, send):
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})


WORKER = """
import sys
import pandas as pd
from kedro_mlops.serving.metrics import Metrics

metrics = Metrics("churn_model", "7")
for _ in range(int(sys.argv[1])):
    metrics.answered(200, 0.01)
    metrics.scored(pd.DataFrame({"churned_probability": [0.25, 0.75]}), 2)
metrics.answered(400, 0.001)
if sys.argv[2:] == ["scrape"]:
    import json
    from prometheus_client.parser import text_string_to_metric_families

    body, _ = metrics.render()
    print(json.dumps({
        s.name + json.dumps(s.labels, sort_keys=True): s.value
        for f in text_string_to_metric_families(body.decode()) for s in f.samples
    }))
"""


def test_several_processes_add_up_in_one_scrape(tmp_path):
    # given the processes of --workers 2, sharing a multiprocess folder
    environ = {
        **os.environ,
        MULTIPROCESS_VARIABLE: str(tmp_path),
        "PYTHONPATH": str(REPO),
    }

    def python(script: str, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script), *args],
            env=environ, cwd=REPO, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip

    # when one scores 3 requests and the other 2 (each refuses one too)
    python(WORKER, "3")
    scrape = python(WORKER, "2", "scrape")
    # then either process's scrape has the sums
    found = json.loads(scrape.splitlines()[-1])
    assert found['kedro_mlops_requests_total{"status": "200"}'] == 5
    assert found['kedro_mlops_requests_total{"status": "400"}'] == 2
    assert found["kedro_mlops_scored_rows_total{}"] == 10
    assert found['kedro_mlops_prediction_score_bucket{"le": "0.3"}'] == 5
    assert found["kedro_mlops_request_duration_seconds_count{}"] == 7
    assert found['kedro_mlops_model_info{"name": "churn_model", "version": "7"}'] == 1
