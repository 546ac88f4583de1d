"""``GET /metrics`` of the model server: Prometheus' text format.

=============================================  =========  ==================================
name                                           type       what
=============================================  =========  ==================================
``kedro_mlops_requests_total{status}``         counter    ``/invocations`` requests, by HTTP status
``kedro_mlops_request_duration_seconds``       histogram  their time, from the first byte read
                                                          to the answer
``kedro_mlops_scored_rows_total``              counter    rows scored (answers with status 200)
``kedro_mlops_prediction_score``               histogram  the predicted probabilities (the
                                                          output's column ending ``_probability``),
                                                          buckets 0.1 wide
``kedro_mlops_captured_rows_total``            counter    rows written by request capture
``kedro_mlops_capture_dropped_rows_total``     counter    rows capture could not keep (queue full,
                                                          path not writable)
``kedro_mlops_model_info{name,version}``       gauge      1, with the served model's registered
                                                          name and version
=============================================  =========  ==================================

With several server processes (``kedro mlops serve --workers N``), the
command sets ``PROMETHEUS_MULTIPROC_DIR`` to a new temporary folder and
prometheus-client's multiprocess mode adds up the processes' values: any
process answers a scrape with the whole server's figures.

prometheus-client is imported when a :class:`Metrics` is made (about 0.1 s).
"""

from __future__ import annotations

import math
import os
from typing import Any

#: Set by ``kedro mlops serve --workers N`` (N > 1): prometheus-client's
#: multiprocess mode, whose files live in that folder.
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "kedro_mlops"
#: The upper bounds of the prediction score histogram's buckets.
SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))
#: The suffix of the output column observed by the score histogram.
PROBABILITY_SUFFIX = "_probability"


class Metrics:
    """The server's metrics, in this process (and in multiprocess mode, on disk)."""

    def __init__(self, model_name: str = "", model_version: str = "") -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            disable_created_metrics,
        )

        # a `_created` timestamp beside each series doubles the scrape for nothing
        disable_created_metrics()
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_VARIABLE))
        # In multiprocess mode the values are files, collected at each scrape;
        # otherwise this server's own registry (not the global one).
        registry = None if self.multiprocess else CollectorRegistry()
        self.registry = registry
        self.requests = Counter(
            f"{PREFIX}_requests",
            "Requests to /invocations, by HTTP status.",
            ["status"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "Time to answer a request to /invocations, in seconds.",
            registry=registry,
        )
        self.rows = Counter(
            f"{PREFIX}_scored_rows", "Rows scored (status 200).", registry=registry
        )
        self.scores = Histogram(
            f"{PREFIX}_prediction_score",
            f"Predicted probabilities (the output column ending {PROBABILITY_SUFFIX}).",
            buckets=SCORE_BUCKETS,
            registry=registry,
        )
        self.captured = Counter(
            f"{PREFIX}_captured_rows",
            "Rows written by request capture.",
            registry=registry,
        )
        self.dropped = Counter(
            f"{PREFIX}_capture_dropped_rows",
            "Rows request capture could not keep (queue full, path not writable).",
            registry=registry,
        )
        info = Gauge(
            f"{PREFIX}_model_info",
            "The served model: 1, with its registered name and version.",
            ["name", "version"],
            registry=registry,
            multiprocess_mode="max",
        )
        info.labels(model_name, model_version).set(1)
        self._ok = self.requests.labels("200")

    def answered(self, status: int, seconds: float) -> None:
        """One request to /invocations."""
        (self._ok if status == 200 else self.requests.labels(str(status))).inc()
        self.latency.observe(seconds)

    def scored(self, predictions: Any, rows: int) -> None:
        """The rows of one request with status 200, and their probabilities."""
        self.rows.inc(rows)
        probabilities = probability_column(predictions)
        if probabilities is not None:
            observe = self.scores.observe
            for value in probabilities:
                if not math.isnan(value):
                    observe(value)

    def render(self) -> tuple[bytes, str]:
        """The scrape: the body and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if self.multiprocess:
            from prometheus_client import CollectorRegistry
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        assert self.registry is not None
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def stopped(self) -> None:
        """This process stops: in multiprocess mode, its live gauges go."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())


def probability_column(predictions: Any) -> list[float] | None:
    """The values of the first numeric output column ending ``_probability``."""
    import pandas as pd

    if not isinstance(predictions, pd.DataFrame):
        return None
    for column in predictions.columns:
        if str(column).endswith(PROBABILITY_SUFFIX):
            values = predictions[column].to_numpy()
            if values.dtype.kind in "fiu":  # numbers (a Series method costs 0.1 ms)
                return values.astype("float64", copy=False).tolist()
    return None
