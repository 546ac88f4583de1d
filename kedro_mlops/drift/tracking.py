"""A drift check's outputs, logged into the active MLflow run.

When a check made by :func:`kedro_mlops.drift.pipeline.create_pipeline` has run
inside ``kedro run`` with kedro-mlflow, its metrics, its report (HTML and JSON)
and its retrain decision go into the run (``drift/<namespace>_report.html``,
``drift/<namespace>_report.json``, ``drift/<namespace>_retrain_decision.json``),
before the gate acts on it: a run that ``on_drift: fail`` stops holds the
evidence. Called by the plugin's
``after_node_run`` hook for every node: other nodes cost a dictionary lookup,
and neither this package's pipeline module nor MLflow is imported for them.
"""

from __future__ import annotations

import sys
from typing import Any


def log_check_outputs(node: Any, outputs: dict[str, Any]) -> bool:
    """Log ``outputs`` of ``node`` if it is a drift check and a run is active.

    Returns:
        Whether anything was logged.
    """
    pipeline = sys.modules.get("kedro_mlops.drift.pipeline")
    if pipeline is None or node.func is not pipeline.check_batch:
        return False  # a drift node has imported its module before it ran
    mlflow = sys.modules.get("mlflow")
    if mlflow is None or not mlflow.active_run():
        return False
    log_report(mlflow, outputs, node.namespace or "drift", folder="drift")
    return True


def log_report(
    mlflow: Any, outputs: dict[str, Any], namespace: str, folder: str
) -> None:
    """Log a drift report node's outputs (``<namespace>.metrics``, ``.report``,
    ``.report_html``, ``.retrain_decision``) into the active run, the files
    under ``<folder>/<namespace>_...``."""
    metrics = outputs[f"{namespace}.metrics"]
    mlflow.log_metrics({name: m["value"] for name, m in metrics.items()})
    prefix = f"{folder}/{namespace}"
    mlflow.log_text(outputs[f"{namespace}.report_html"], f"{prefix}_report.html")
    mlflow.log_dict(outputs[f"{namespace}.report"], f"{prefix}_report.json")
    mlflow.log_dict(
        outputs[f"{namespace}.retrain_decision"], f"{prefix}_retrain_decision.json"
    )
