"""The monitoring's latest report, logged into the active MLflow run.

When :func:`kedro_mlops.monitoring.pipeline.create_pipeline`'s report node has
run inside ``kedro run`` with kedro-mlflow, the latest window's metrics, its
report (HTML and JSON) and the retrain decision go into the pipeline's own run
(``monitoring/<namespace>_report.html``, ``..._report.json``,
``..._retrain_decision.json``), and the history node's monitoring runs become
its ``mlops.monitoring.runs`` tag. Called by the plugin's ``after_node_run``
hook for every node; other nodes cost a dictionary lookup.
"""

from __future__ import annotations

import sys
from typing import Any

from kedro_mlops.drift.tracking import log_report


def log_monitoring_outputs(node: Any, outputs: dict[str, Any]) -> bool:
    """Log ``outputs`` of ``node`` if it is a monitoring node and a run is active.

    Returns:
        Whether anything was logged.
    """
    pipeline = sys.modules.get("kedro_mlops.monitoring.pipeline")
    if pipeline is None or node.func not in (
        pipeline.latest_report,
        pipeline.log_drift_history,
    ):
        return False
    mlflow = sys.modules.get("mlflow")
    if mlflow is None or not mlflow.active_run():
        return False
    namespace = node.namespace or "monitoring"
    if node.func is pipeline.log_drift_history:
        runs = outputs[f"{namespace}.history"]["runs"]
        mlflow.set_tag(
            "mlops.monitoring.runs", ", ".join(f"{k}: {v}" for k, v in runs.items())
        )
        return True
    log_report(mlflow, outputs, namespace, folder="monitoring")
    return True
