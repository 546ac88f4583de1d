"""Drift checks as a Kedro modular pipeline, configured from ``mlops.yml``.

:func:`create_pipeline` plugs a check between two catalog datasets into any
pipeline. Its node reads the ``drift:`` section of ``conf/<env>/mlops.yml``,
which the kedro-mlops hooks put in the catalog as :data:`CONFIG_DATASET`, and
writes four datasets, all under the namespace:

* ``<namespace>.report``: the report as a JSON-ready dict;
* ``<namespace>.report_html``: the self-contained HTML report;
* ``<namespace>.metrics``: metrics in kedro-mlflow's ``MlflowMetricsHistoryDataset``
  format (``{name: {"value": v, "step": 0}}``);
* ``<namespace>.retrain_decision``: a small dict that schedulers and later
  pipelines can read (``retrain``, ``drifted_columns``, ``drift_share``, ...).

With ``on_drift: fail`` the node raises when drift is found, ``warn`` logs a
warning, ``flag`` only records it in the retrain decision. When an MLflow run
is active (``kedro run`` with kedro-mlflow), the kedro-mlops hooks log the
metrics and the HTML report (``drift/<namespace>_report.html``) into it.

Example:
    >>> pipeline = create_pipeline(reference="reference_sample", current="scoring_batch")
    >>> sorted(pipeline.inputs())
    ['mlops_drift_config', 'reference_sample', 'scoring_batch']
    >>> sorted(pipeline.outputs())  # doctest: +NORMALIZE_WHITESPACE
    ['drift.metrics', 'drift.report', 'drift.report_html', 'drift.retrain_decision']
"""

from __future__ import annotations

import json
from typing import Any

from kedro.pipeline import Node, Pipeline

from .config import DriftConfig
from .decision import detect_drift
from .gate import check_drift
from .html import render_html

CONFIG_DATASET = "mlops_drift_config"


def check_batch(
    reference: Any, current: Any, config: DriftConfig | dict[str, Any] | None
) -> tuple[dict[str, Any], str, dict[str, dict[str, float]], dict[str, Any]]:
    """Compare ``current`` with ``reference``, act as configured, return the outputs.

    Returns:
        The report (dict), its HTML, its metrics for kedro-mlflow, and the
        retrain decision.

    Raises:
        DriftDetectedError: drift was found and ``on_drift`` is ``fail``.
    """
    report = check_drift(detect_drift(reference, current, config))
    prediction = report.prediction
    decision = {
        "retrain": report.drift_detected,
        "dataset_drift": report.dataset_drift,
        "drift_share": report.drift_share,
        "drifted_columns": report.drifted_columns,
        "prediction_drift": bool(prediction is not None and prediction.drifted),
        "on_drift": report.config.on_drift,
    }
    metrics = {
        name: {"value": value, "step": 0}
        for name, value in report.to_mlflow_metrics().items()
    }
    return json.loads(report.to_json()), render_html(report), metrics, decision


def create_pipeline(
    reference: str,
    current: str,
    namespace: str = "drift",
    config: str = CONFIG_DATASET,
) -> Pipeline:
    """A drift check between the catalog datasets ``reference`` and ``current``.

    Args:
        reference: catalog name of the reference data (e.g. a training sample).
        current: catalog name of the data to check.
        namespace: prefix of the outputs and of the node's name.
        config: catalog name of the drift settings; by default ``mlops.yml``'s
            as the hooks put them in the catalog, or the output of a node that
            completes them (e.g. :func:`kedro_mlops.schema.drift_settings`).
    """
    return Pipeline(
        [
            Node(
                check_batch,
                inputs=[reference, current, config],
                outputs=[
                    f"{namespace}.report",
                    f"{namespace}.report_html",
                    f"{namespace}.metrics",
                    f"{namespace}.retrain_decision",
                ],
                name="check_drift",
                namespace=namespace,
            )
        ]
    )
