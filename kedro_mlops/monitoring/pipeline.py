"""The monitoring of captured traffic as a Kedro modular pipeline.

:func:`create_pipeline` reads the model server's captured requests (a
``PartitionedDataset`` of hourly partitions), cuts them into windows, compares
each window with the reference using the drift settings batch inference uses,
logs each window's drift into the MLflow history of the served model version,
and writes the latest compared window's report (with the trend of the earlier
windows) and a retrain decision. Its outputs, all under the namespace:

* ``<namespace>.windows``: ``{window key: DataFrame}``, the captured rows of each
  window with traffic (keys ``YYYY-MM-DDTHH``, the window's start in UTC);
  later nodes (performance per window) read it;
* ``<namespace>.window_summary``: the windows (rows, files, start, end) and the
  columns older files lacked or had in excess;
* ``<namespace>.window_drift``: ``{window key: entry}``, each window's status,
  serving model version and drift report;
* ``<namespace>.history``: what was logged into the MLflow monitoring runs;
* ``<namespace>.report`` / ``<namespace>.report_html``: the latest compared
  window's report (JSON-ready dict, and the HTML page with the trend);
* ``<namespace>.metrics``: that report's metrics, in kedro-mlflow's
  ``MlflowMetricsHistoryDataset`` format;
* ``<namespace>.retrain_decision``: the inference pipeline's retrain decision
  (``retrain``, ``drifted_columns``, ``drift_share``, ...), plus the window
  (and, with performance, its estimated, realized and test ROC AUC and
  accuracy);
* ``<namespace>.performance`` (with ``calibration``): each window's estimated
  and realized performance, beside the test set's.

The settings come from two catalog datasets the kedro-mlops hooks add:
``mlops_monitoring_config`` (the ``monitoring:`` section of ``mlops.yml``) and
the drift settings (``config``: by default ``mlops_drift_config``, or the
output of :func:`kedro_mlops.schema.drift_settings`). When an MLflow run is
active, the hooks log the report, the decision and the latest window's
metrics into it.

Example:
    >>> pipeline = create_pipeline(captured="captured_requests", reference="monitored_reference")
    >>> sorted(pipeline.inputs())  # doctest: +NORMALIZE_WHITESPACE
    ['captured_requests', 'mlops_drift_config', 'mlops_monitoring_config',
     'monitored_reference']
    >>> [node.name for node in pipeline.nodes]  # doctest: +NORMALIZE_WHITESPACE
    ['monitoring.select_windows', 'monitoring.drift_by_window',
     'monitoring.latest_report', 'monitoring.log_drift_history']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from kedro.pipeline import Node, Pipeline

from kedro_mlops.config import MonitoringConfig
from kedro_mlops.drift import DriftConfig
from kedro_mlops.drift.html import TrendWindow, render_html

from .history import log_history
from .performance import performance_by_window, performance_metrics
from .window_drift import drift_by_window, latest_compared, report_of
from .windows import load_windows

#: The catalog dataset of the ``monitoring:`` settings (put there by the hooks).
MONITORING_CONFIG_DATASET = "mlops_monitoring_config"
#: The drift settings' dataset, as in :mod:`kedro_mlops.drift.pipeline`.
DRIFT_CONFIG_DATASET = "mlops_drift_config"


class NotEnoughTrafficError(ValueError):
    """No window has enough rows to be compared with the reference."""


def _settings(
    settings: MonitoringConfig | Mapping[str, Any] | None,
) -> MonitoringConfig:
    if isinstance(settings, MonitoringConfig):
        return settings
    return MonitoringConfig.model_validate(dict(settings or {}))


def select_windows(
    captured: Mapping[str, Callable[[], pd.DataFrame]],
    settings: MonitoringConfig | Mapping[str, Any] | None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The last complete windows of captured traffic (see
    :func:`~kedro_mlops.monitoring.load_windows`)."""
    chosen = _settings(settings)
    return load_windows(
        captured, window_hours=chosen.window_hours, windows=chosen.windows
    )


def compare_windows(
    windows: Mapping[str, pd.DataFrame],
    summary: Mapping[str, Any],
    reference: pd.DataFrame,
    config: DriftConfig | Mapping[str, Any] | None,
    settings: MonitoringConfig | Mapping[str, Any] | None,
) -> dict[str, dict[str, Any]]:
    """Each window compared with the reference (see
    :func:`~kedro_mlops.monitoring.drift_by_window`)."""
    return drift_by_window(
        windows, reference, config, _settings(settings).min_rows, summary
    )


def log_drift_history(
    results: Mapping[str, Mapping[str, Any]],
    performance: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Each new window's drift (and performance) into the MLflow monitoring run
    of its model version."""
    return log_history(results, performance=performance)


def latest_report(
    results: Mapping[str, Mapping[str, Any]],
    settings: MonitoringConfig | Mapping[str, Any] | None,
    performance: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], str, dict[str, dict[str, float]], dict[str, Any]]:
    """The newest compared window's report, its HTML page with the trend of the
    windows before it, its metrics and the retrain decision.

    Raises:
        NotEnoughTrafficError: no window had ``monitoring.min_rows`` rows.
    """
    chosen = _settings(settings)
    latest = latest_compared(results)
    if latest is None:
        busiest = max(results.values(), key=lambda entry: entry["rows"])
        raise NotEnoughTrafficError(
            f"No window of captured traffic has monitoring.min_rows ({chosen.min_rows}) "
            f"rows: the busiest, {busiest['window']}, has {busiest['rows']}. Lower "
            "monitoring.min_rows, or raise monitoring.window_hours, in mlops.yml."
        )
    report = report_of(latest)
    assert report is not None
    keys = list(results)
    shown = keys[: keys.index(latest["window"]) + 1][-chosen.trend_windows :]
    trend = [
        TrendWindow(key, results[key]["rows"], report_of(results[key])) for key in shown
    ]
    title = (
        f"Monitoring: drift of window {latest['window']} UTC "
        f"({latest['rows']:,} requests, {chosen.window_hours} h)"
    )
    page = render_html(report, title, trend=trend, trend_columns=chosen.trend_columns)
    logged = report.to_mlflow_metrics()
    figures = (performance or {}).get(latest["window"])
    if figures:
        logged.update(performance_metrics(figures))
    metrics = {name: {"value": value, "step": 0} for name, value in logged.items()}
    prediction = report.prediction
    decision = {
        "retrain": report.drift_detected,
        "dataset_drift": report.dataset_drift,
        "drift_share": report.drift_share,
        "drifted_columns": report.drifted_columns,
        "prediction_drift": bool(prediction is not None and prediction.drifted),
        "on_drift": report.config.on_drift,
        "window": latest["window"],
        "window_start": latest["start"],
        "window_end": latest["end"],
        "rows": latest["rows"],
        "model_name": latest["model_name"],
        "model_version": latest["model_version"],
    }
    if figures:
        for kind in ("estimated", "realized", "test"):
            found = figures.get(kind) or {}
            decision[f"{kind}_roc_auc"] = found.get("roc_auc")
            decision[f"{kind}_accuracy"] = found.get("accuracy")
    return latest["report"], page, metrics, decision


def create_pipeline(  # noqa: PLR0913 - the catalog names it wires
    captured: str,
    reference: str,
    config: str = DRIFT_CONFIG_DATASET,
    namespace: str = "monitoring",
    settings: str = MONITORING_CONFIG_DATASET,
    *,
    calibration: str | None = None,
    schema: str = "params:schema",
    threshold: str | None = None,
    labels: str | None = None,
) -> Pipeline:
    """Monitoring of the captured traffic in ``captured`` against ``reference``.

    With ``calibration`` (the catalog name of the serving model's
    :func:`~kedro_mlops.monitoring.performance.calibration_from_evaluation`)
    and ``threshold`` (its decision threshold, a number or a record holding
    one under ``threshold``, e.g. the champion's ``quality/threshold.json``),
    each window's performance is estimated from its scores, and measured where
    ``labels`` (a table of the id and target columns) have arrived: the
    ``<namespace>.performance`` output, the history, the latest window's
    metrics and the decision get it.

    Args:
        captured: catalog name of the captured requests (a ``PartitionedDataset``
            of ``hour=YYYY-MM-DDTHH`` folders).
        reference: catalog name of the reference rows with the served model's
            predictions (e.g. the training reference sample scored by the champion).
        config: catalog name of the drift settings.
        namespace: prefix of the outputs and of the nodes' names.
        settings: catalog name of the ``monitoring:`` settings.
    """
    windows, summary = f"{namespace}.windows", f"{namespace}.window_summary"
    results = f"{namespace}.window_drift"
    judged: list[str] = []
    nodes = []
    if calibration is not None:
        if threshold is None:
            raise ValueError(
                "create_pipeline(calibration=...) needs threshold=, the catalog "
                "name of the served decision threshold (e.g. champion_threshold)."
            )
        judged = [f"{namespace}.performance"]
        nodes.append(
            Node(
                performance_by_window,
                inputs=[windows, calibration, schema, threshold]
                + ([labels] if labels else []),
                outputs=judged[0],
                name="performance_by_window",
                namespace=namespace,
            )
        )
    return Pipeline(
        [
            *nodes,
            Node(
                select_windows,
                inputs=[captured, settings],
                outputs=[windows, summary],
                name="select_windows",
                namespace=namespace,
            ),
            Node(
                compare_windows,
                inputs=[windows, summary, reference, config, settings],
                outputs=results,
                name="drift_by_window",
                namespace=namespace,
            ),
            Node(
                log_drift_history,
                inputs=[results, *judged],
                outputs=f"{namespace}.history",
                name="log_drift_history",
                namespace=namespace,
            ),
            Node(
                latest_report,
                inputs=[results, settings, *judged],
                outputs=[
                    f"{namespace}.report",
                    f"{namespace}.report_html",
                    f"{namespace}.metrics",
                    f"{namespace}.retrain_decision",
                ],
                name="latest_report",
                namespace=namespace,
            ),
        ]
    )
