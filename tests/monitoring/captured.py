"""Captured traffic as the model server writes it, for the monitoring tests.

``<root>/hour=YYYY-MM-DDTHH/<YYYYmmddTHHMMSS>-<pid>-<seq>.parquet``: the
request's columns, the prediction columns, then ``_captured_at`` (UTC, ms),
``_model_name``, ``_model_version`` and ``_request_id``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

STARTER_DATA = (
    Path(__file__).resolve().parents[2]
    / "starters"
    / "mlops"
    / "{{ cookiecutter.repo_name }}"
    / "data"
    / "01_raw"
)


def with_scores(rows: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    """``rows`` with the starter's prediction columns (threshold 0.5)."""
    scored = rows.copy()
    scored["churned_probability"] = probability
    scored["churned_prediction"] = (probability >= 0.5).astype("int64")
    return scored


def made_up_scores(rows: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``rows`` scored with made-up probabilities (for tests not about the model)."""
    return with_scores(rows, np.random.default_rng(seed).uniform(size=len(rows)))


def write_captured(
    root: Path,
    rows: pd.DataFrame,
    hour: datetime,
    *,
    model_name: str = "churn_model",
    model_version: str = "1",
    pid: int = 4242,
    seq: int = 1,
) -> Path:
    """Write ``rows`` (request and prediction columns) as one captured file of
    ``hour`` (UTC), with the capture's own columns, and return its path."""
    captured = rows.copy()
    seconds = np.linspace(0, 3599, num=max(len(rows), 1))[: len(rows)]
    captured["_captured_at"] = pd.to_datetime(hour) + pd.to_timedelta(seconds, "s")
    captured["_captured_at"] = captured["_captured_at"].astype("datetime64[ms, UTC]")
    captured["_model_name"] = model_name
    captured["_model_version"] = model_version
    captured["_request_id"] = [uuid.uuid4().hex for _ in range(len(rows))]
    folder = root / f"hour={hour:%Y-%m-%dT%H}"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (hour + timedelta(minutes=seq % 60)).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{pid}-{seq}.parquet"
    captured.to_parquet(path, index=False)
    return path
