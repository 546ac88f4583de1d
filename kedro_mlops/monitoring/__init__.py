"""Monitoring of the served model: windows of captured traffic, their drift as a history, and
the model's performance on them (:mod:`~kedro_mlops.monitoring.performance`:
realized from labels, or estimated from the scores).

The model server captures its traffic in hourly Parquet partitions
(``hour=YYYY-MM-DDTHH/``). The public names, importable from here without
loading MLflow (it is imported inside the function that logs):

* :func:`load_windows` groups a ``PartitionedDataset``'s partitions into
  windows of time and loads the last complete ones (:class:`Window`,
  :func:`last_windows`, :class:`NoCapturedTrafficError`);
* :func:`drift_by_window` compares each window with the reference, with the
  reference profile made once (:func:`served_by`: the model version that
  served a window);
* :func:`log_history` logs each window's drift into one MLflow run per served
  model version, the window's start as the step, never twice;
* :mod:`kedro_mlops.monitoring.pipeline` wraps them in a Kedro pipeline
  (``create_pipeline``), whose ``<namespace>.windows`` output is
  ``{window key: DataFrame}`` for per-window nodes such as performance.

See docs/monitoring.md.
"""

from __future__ import annotations

from .history import log_history, window_metrics
from .window_drift import drift_by_window, latest_compared, served_by
from .windows import (
    CAPTURE_COLUMNS,
    DEFAULT_CAPTURE_PATH,
    NoCapturedTrafficError,
    Window,
    last_windows,
    load_windows,
    partition_hour,
)

__all__ = [
    "CAPTURE_COLUMNS",
    "DEFAULT_CAPTURE_PATH",
    "NoCapturedTrafficError",
    "Window",
    "drift_by_window",
    "last_windows",
    "latest_compared",
    "load_windows",
    "log_history",
    "partition_hour",
    "served_by",
    "window_metrics",
]
