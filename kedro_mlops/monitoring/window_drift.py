"""Drift of each window of captured traffic against the reference.

The reference profile (each column's edges and categories) and the
reference's summary are made once; each window is then summarised on that
profile and compared (:mod:`kedro_mlops.drift`), so a window costs one pass
over its rows. Only the reference's columns are compared: the capture's own
columns (``_captured_at``, ``_model_version``, ...) and the 0/1 decision the
server returned are not in the reference.

Each window's entry says what was done with it (``status``): ``compared`` (with
its drift report), ``too_few_rows`` (fewer than ``min_rows``) or ``no_traffic``;
and which model version served most of its rows.

Example:
    >>> import pandas as pd
    >>> reference = pd.DataFrame({"x": [float(i % 10) for i in range(200)]})
    >>> frames = {"2024-05-01T10": reference.copy(), "2024-05-01T11": reference + 5}
    >>> results = drift_by_window(frames, reference, {"share_threshold": 0.5}, min_rows=100)
    >>> [(r["window"], r["status"], r["report"]["dataset_drift"]) for r in results.values()]
    [('2024-05-01T10', 'compared', False), ('2024-05-01T11', 'compared', True)]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kedro_mlops.drift import (
    DriftConfig,
    DriftReport,
    compare_summaries,
    summarize,
)
from kedro_mlops.drift.profile import build_profile_and_summary

from .windows import Window

logger = logging.getLogger(__name__)


def served_by(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    """The model name and version that served most of ``frame``'s rows
    (the latest version on a tie), from the capture's columns.

    Example:
        >>> served_by(pd.DataFrame({"_model_name": ["m"] * 3, "_model_version": ["1", "2", "2"]}))
        ('m', '2')
    """
    if "_model_name" not in frame or "_model_version" not in frame:
        return None, None
    pairs = frame[["_model_name", "_model_version"]].dropna().astype(str)
    if pairs.empty:
        return None, None
    counts = pairs.value_counts()
    top = counts[counts == counts.max()].index
    name, version = max(top, key=lambda pair: (_number(pair[1]), pair[1]))
    return name, version


def _number(version: str) -> float:
    try:
        return float(version)
    except ValueError:
        return -1.0


def drift_by_window(
    frames: Mapping[str, pd.DataFrame],
    reference: pd.DataFrame,
    config: DriftConfig | Mapping[str, Any] | None,
    min_rows: int = 100,
    windows: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each window's rows compared with ``reference``, oldest window first.

    Args:
        frames: ``{window key: frame}`` (:func:`~kedro_mlops.monitoring.load_windows`).
        reference: the reference rows, with the served model's predictions.
        config: the drift settings (the same as batch inference's).
        min_rows: fewest rows for a window to be compared.
        windows: the summary of :func:`~kedro_mlops.monitoring.load_windows`;
            its windows without traffic are listed too, as ``no_traffic``.

    Returns:
        ``{window key: entry}``; an entry has ``window``, ``start``, ``end``,
        ``step``, ``rows``, ``status``, ``model_name``, ``model_version`` and
        ``report`` (the drift report as a JSON-ready dict, or None).
    """
    settings = (
        config
        if isinstance(config, DriftConfig)
        else DriftConfig.model_validate(dict(config or {}))
    )
    profile, reference_summary = build_profile_and_summary(reference, settings)
    hours = int((windows or {}).get("window_hours", 1))
    keys = sorted({*frames, *(w["window"] for w in (windows or {}).get("windows", []))})
    compared = [c for c in reference.columns if c not in profile.skipped]
    results: dict[str, dict[str, Any]] = {}
    for key in keys:
        window = Window.from_key(key, hours)
        frame = frames.get(key)
        rows = 0 if frame is None else len(frame)
        name, version = (None, None) if frame is None else served_by(frame)
        entry: dict[str, Any] = {
            "window": key,
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "step": window.step,
            "rows": rows,
            "model_name": name,
            "model_version": version,
            "status": "compared",
            "report": None,
        }
        if frame is None or rows == 0:
            entry["status"] = "no_traffic"
        elif rows < min_rows:
            entry["status"] = "too_few_rows"
            logger.info(
                "Monitoring: window %s has %d rows, fewer than monitoring.min_rows "
                "(%d): not compared.",
                key,
                rows,
                min_rows,
            )
        else:
            current = frame[[c for c in compared if c in frame.columns]]
            summary = summarize(current, profile, f"captured traffic of window {key}")
            report = compare_summaries(profile, reference_summary, summary)
            entry["report"] = json.loads(report.to_json(indent=None))
        results[key] = entry
    return results


def latest_compared(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """The entry of the newest window that was compared, or None.

    Example:
        >>> latest_compared({"a": {"status": "compared"}, "b": {"status": "no_traffic"}})
        {'status': 'compared'}
    """
    done = [entry for entry in results.values() if entry["status"] == "compared"]
    return dict(done[-1]) if done else None


def report_of(entry: Mapping[str, Any]) -> DriftReport | None:
    """The drift report of a window's entry, or None when it was not compared."""
    report = entry.get("report")
    return None if report is None else DriftReport.from_json(json.dumps(report))
