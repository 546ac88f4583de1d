"""A small model with the interface the server needs, and an ASGI client.

The model's signature is MLflow's (inferred from :data:`ROWS`); its output is
the starter's: the id, ``churned_probability`` and ``churned_prediction``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import warnings
from types import SimpleNamespace
from typing import Any

import pandas as pd

ROWS = pd.DataFrame(
    {
        "id": ["A1", "A2", "A3", "A4"],
        "age": [30, 45, 61, 22],
        "charges": [10.5, 80.0, 35.25, 0.0],
        "plan": ["basic", "premium", "basic", "basic"],
    }
)


def probabilities(rows: pd.DataFrame) -> pd.Series:
    return (rows["age"].astype(float) / 100).round(2)


class StubModel:
    """Scores ``age / 100``; ``gate`` (an Event), when set, holds each predict."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        from mlflow.models import infer_signature

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLflow's hint about integer columns
            inputs = infer_signature(ROWS).inputs
        self.metadata = SimpleNamespace(
            get_input_schema=lambda: inputs, get_params_schema=lambda: None
        )
        self.gate = gate

    def predict(self, frame: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        if self.gate is not None:
            self.gate.wait(10)
        p = probabilities(frame)
        return pd.DataFrame(
            {
                "id": frame["id"].to_numpy(),
                "churned_probability": p.to_numpy(),
                "churned_prediction": (p >= 0.5).astype(int).to_numpy(),
            }
        )


def split(frame: pd.DataFrame) -> bytes:
    return json.dumps(
        {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}
    ).encode()


async def call(
    app: Any,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str = "application/json",
) -> tuple[int, bytes]:
    """One request to an ASGI app: (status, body)."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"content-type", content_type.encode())],
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def request(app: Any, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    return asyncio.run(call(app, method, path, body))


def scraped(app: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics, parsed: {(sample name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    status, body = request(app, "GET", "/metrics")
    assert status == 200, body
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }
