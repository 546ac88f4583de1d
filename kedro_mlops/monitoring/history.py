"""The drift history in MLflow: one long-lived run per served model version.

Each window's metrics (per column score, decision and change in missing
values, the drift share, the rows) are logged with the window's start as the
step (Unix seconds) and as the timestamp, into the monitoring run of the model
version that served most of the window's rows. That run is found by its tags
(``mlops.monitoring`` = the model name, ``mlops.model_version`` = the version)
in the experiment, created when missing, and left ``FINISHED`` after each
write, so that in the MLflow UI a column's score is one continuous chart across
every monitoring run. A window already in the run (its ``monitoring.rows`` has
that step) is not logged again: running the monitoring over overlapping time
ranges adds no duplicate point.

All the points of one run go in ``log_batch`` calls of at most
:data:`MAX_METRICS_PER_BATCH` metrics; a window is split across two of them only
when it alone has more, and its ``monitoring.rows`` comes last.

Example:
    >>> points = window_metrics({"rows": 250, "status": "too_few_rows", "report": None})
    >>> points
    {'monitoring.rows': 250.0}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .performance import performance_metrics
from .window_drift import report_of

logger = logging.getLogger(__name__)

#: MLflow's limit of metrics in one ``log_batch`` request.
MAX_METRICS_PER_BATCH = 1000
#: The tag naming the model a monitoring run follows, and the version tag.
MONITORING_TAG = "mlops.monitoring"
VERSION_TAG = "mlops.model_version"
#: Logged for every window with traffic, last: a window is in the run when it is.
ROWS_METRIC = "monitoring.rows"
#: Logged with a window's realized performance: its labels have been counted.
LABELLED_METRIC = "performance.realized.rows_labelled"
#: The model name and version of windows whose rows do not say which served them.
UNKNOWN = "unknown"


def window_metrics(entry: Mapping[str, Any]) -> dict[str, float]:
    """The metrics logged for one window: its drift metrics, then its rows."""
    report = report_of(entry)
    metrics = {} if report is None else report.to_mlflow_metrics()
    metrics[ROWS_METRIC] = float(entry["rows"])
    return metrics


def monitoring_run(client: Any, experiment_id: str, model: str, version: str) -> str:
    """The id of the monitoring run of ``model`` version ``version``; created
    (and finished) when there is none in the experiment."""
    found = client.search_runs(
        [experiment_id],
        filter_string=(
            f"tags.`{MONITORING_TAG}` = '{_quoted(model)}' "
            f"and tags.`{VERSION_TAG}` = '{_quoted(version)}'"
        ),
        order_by=["attributes.start_time ASC"],
        max_results=1,
    )
    if found:
        return str(found[0].info.run_id)
    run = client.create_run(
        experiment_id,
        run_name=f"monitoring {model} v{version}",
        tags={MONITORING_TAG: model, VERSION_TAG: version},
    )
    client.set_terminated(run.info.run_id, "FINISHED")
    return str(run.info.run_id)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def batches(
    windows: list[list[Any]], limit: int = MAX_METRICS_PER_BATCH
) -> list[list[Any]]:
    """The windows' metrics in batches of at most ``limit``, a window split only
    when it alone has more (its rows metric, last, then goes in its last batch).

    Example:
        >>> [len(b) for b in batches([[1] * 400, [2] * 400, [3] * 400], limit=1000)]
        [800, 400]
        >>> [len(b) for b in batches([[1] * 2500], limit=1000)]
        [1000, 1000, 500]
    """
    packed: list[list[Any]] = []
    for metrics in windows:
        if packed and len(packed[-1]) + len(metrics) <= limit:
            packed[-1] += metrics
            continue
        packed += [metrics[i : i + limit] for i in range(0, len(metrics), limit)]
    return packed


def log_history(
    results: Mapping[str, Mapping[str, Any]],
    experiment_id: str | None = None,
    client: Any = None,
    performance: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Log the windows of ``results`` that have traffic and are not logged yet.

    With ``performance`` (:func:`~kedro_mlops.monitoring.performance.performance_by_window`),
    each new window also gets its estimated (and realized) performance; a
    window logged before its labels arrived gets its realized performance
    when they do (once: ``performance.realized.rows_labelled`` marks it).

    Args:
        results: ``{window key: entry}`` of
            :func:`~kedro_mlops.monitoring.drift_by_window`.
        experiment_id: where the monitoring runs live; default: the experiment
            of the active MLflow run, else MLflow's default experiment.
        client: an ``MlflowClient``; default: one on the current tracking URI.

    Returns:
        ``{"runs": {"<model> v<version>": run id}, "logged": [keys],
        "already_logged": [keys]}``.
    """
    import mlflow
    from mlflow.entities import Metric

    client = client or mlflow.MlflowClient()
    if experiment_id is None:
        active = mlflow.active_run()
        experiment_id = active.info.experiment_id if active else "0"
    by_run: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for entry in results.values():
        if entry["rows"] == 0:
            continue
        model = entry.get("model_name") or UNKNOWN
        version = entry.get("model_version") or UNKNOWN
        by_run.setdefault((model, version), []).append(entry)
    summary: dict[str, Any] = {"runs": {}, "logged": [], "already_logged": []}
    for (model, version), entries in by_run.items():
        if UNKNOWN in (model, version):
            logger.warning(
                "Monitoring: captured rows without _model_name/_model_version: their "
                "windows are logged under the %s run.",
                f"{model} v{version}",
            )
        run_id = monitoring_run(client, experiment_id, model, version)
        summary["runs"][f"{model} v{version}"] = run_id
        logged = {m.step for m in client.get_metric_history(run_id, ROWS_METRIC)}
        new = [e for e in entries if e["step"] not in logged]
        summary["already_logged"] += [
            e["window"] for e in entries if e["step"] in logged
        ]
        labelled: set[int] = set()
        if performance:
            labelled = {
                m.step for m in client.get_metric_history(run_id, LABELLED_METRIC)
            }
        points = []
        for entry in entries:
            step = int(entry["step"])
            figures = performance_metrics((performance or {}).get(entry["window"], {}))
            if step in logged:  # only realized figures that arrived since
                if step in labelled or not figures.get(LABELLED_METRIC):
                    continue
                metrics = {k: v for k, v in figures.items() if ".realized." in k}
                summary.setdefault("labels_logged", []).append(entry["window"])
            else:
                metrics = window_metrics(entry)
                rows = metrics.pop(ROWS_METRIC)  # last: the window is then in
                metrics.update(figures)
                metrics[ROWS_METRIC] = rows
            points.append(
                [
                    Metric(key, value, step * 1000, step)
                    for key, value in metrics.items()
                ]
            )
        try:
            for batch in batches(points):
                client.log_batch(run_id, metrics=batch)
        finally:
            client.set_terminated(run_id, "FINISHED")
        summary["logged"] += [e["window"] for e in new]
    summary["logged"].sort()
    summary["already_logged"].sort()
    return summary
