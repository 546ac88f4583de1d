"""The size of the validated training table, logged into the active MLflow run.

When :func:`~kedro_mlops.schema.validate_training_table` has run as a node of
``kedro run`` with kedro-mlflow, the number of rows it accepted becomes the
run's ``training_rows`` metric; the registry refuses a model trained on fewer
rows than ``registry.min_training_rows``. Called by the plugin's
``after_node_run`` hook for every node: other nodes cost a dictionary lookup,
and MLflow is not imported for them.
"""

from __future__ import annotations

import sys
from typing import Any

from kedro_mlops.config import TRAINING_ROWS_METRIC


def log_training_rows(node: Any, outputs: dict[str, Any]) -> bool:
    """Log the rows of ``node``'s output if it validated a training table and
    a run is active.

    Returns:
        Whether anything was logged.
    """
    validate = sys.modules.get("kedro_mlops.schema.validate")
    if validate is None or node.func is not validate.validate_training_table:
        return False
    mlflow = sys.modules.get("mlflow")
    if mlflow is None or not mlflow.active_run():
        return False
    (table,) = outputs.values()
    mlflow.log_metric(TRAINING_ROWS_METRIC, len(table))
    return True
