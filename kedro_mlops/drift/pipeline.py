"""Drift checks as a Kedro modular pipeline, configured from ``mlops.yml``.

:func:`create_pipeline` plugs a check between two catalog datasets into any
pipeline. Its first node, ``<namespace>.check_drift``, reads the ``drift:``
section of ``conf/<env>/mlops.yml``, which the kedro-mlops hooks put in the
catalog as :data:`CONFIG_DATASET`, and writes four datasets, all under the
namespace:

* ``<namespace>.report``: the report as a JSON-ready dict;
* ``<namespace>.report_html``: the self-contained HTML report;
* ``<namespace>.metrics``: metrics in kedro-mlflow's ``MlflowMetricsHistoryDataset``
  format (``{name: {"value": v, "step": 0}}``);
* ``<namespace>.retrain_decision``: a small dict that schedulers and later
  pipelines can read (``retrain``, ``drifted_columns``, ``drift_share``, ...).

Its second node, ``<namespace>.gate``, acts on the report once those are
written: with ``on_drift: fail`` it raises when drift is found, ``warn`` logs a
warning, ``flag`` only leaves it in the retrain decision. The datasets named in
``release`` pass through the gate under new names, so that what depends on the
check (the predictions of a drifted batch) is written only when the check lets
it through. When an MLflow run is active (``kedro run`` with kedro-mlflow), the
kedro-mlops hooks log the metrics, the reports and the decision into it.

Example:
    >>> pipeline = create_pipeline(
    ...     reference="reference_sample", current="scored_batch",
    ...     release={"scores": "predictions"},
    ... )
    >>> sorted(pipeline.inputs())
    ['mlops_drift_config', 'reference_sample', 'scored_batch', 'scores']
    >>> sorted(pipeline.all_outputs())  # doctest: +NORMALIZE_WHITESPACE
    ['drift.metrics', 'drift.report', 'drift.report_html', 'drift.retrain_decision',
     'predictions']
    >>> [node.name for node in pipeline.nodes]
    ['drift.check_drift', 'drift.gate']
"""

from __future__ import annotations

import json
from typing import Any

from kedro.pipeline import Node, Pipeline

from .config import DriftConfig
from .decision import detect_drift
from .gate import check_drift
from .html import render_html
from .report import DriftReport

CONFIG_DATASET = "mlops_drift_config"


def check_batch(
    reference: Any, current: Any, config: DriftConfig | dict[str, Any] | None
) -> tuple[dict[str, Any], str, dict[str, dict[str, float]], dict[str, Any]]:
    """Compare ``current`` with ``reference`` and return the outputs; whatever
    the report says, :func:`act_on_report` acts on it afterwards.

    Returns:
        The report (dict), its HTML, its metrics for kedro-mlflow, and the
        retrain decision.
    """
    report = detect_drift(reference, current, config)
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


def act_on_report(report: dict[str, Any], *released: Any) -> list[Any] | None:
    """The gate: act on a report as its ``on_drift`` says, then pass ``released``
    on unchanged.

    Raises:
        DriftDetectedError: drift was found and ``on_drift`` is ``fail``.
    """
    check_drift(DriftReport.from_json(json.dumps(report)))
    return list(released) if released else None


def create_pipeline(
    reference: str,
    current: str,
    namespace: str = "drift",
    config: str = CONFIG_DATASET,
    release: dict[str, str] | None = None,
) -> Pipeline:
    """A drift check between the catalog datasets ``reference`` and ``current``,
    then the gate that acts on it.

    Args:
        reference: catalog name of the reference data (e.g. a training sample).
        current: catalog name of the data to check.
        namespace: prefix of the outputs and of the nodes' names.
        config: catalog name of the drift settings; by default ``mlops.yml``'s
            as the hooks put them in the catalog, or the output of a node that
            completes them (e.g. :func:`kedro_mlops.schema.drift_settings`).
        release: ``{dataset: output}``: datasets that pass the gate, unchanged,
            as ``output`` (e.g. ``{"scores": "predictions"}``). With
            ``on_drift: fail`` and drift, no output is written.
    """
    release = release or {}
    report = f"{namespace}.report"
    return Pipeline(
        [
            Node(
                check_batch,
                inputs=[reference, current, config],
                outputs=[
                    report,
                    f"{namespace}.report_html",
                    f"{namespace}.metrics",
                    f"{namespace}.retrain_decision",
                ],
                name="check_drift",
                namespace=namespace,
            ),
            Node(
                act_on_report,
                inputs=[report, *release],
                outputs=list(release.values()) or None,
                name="gate",
                namespace=namespace,
            ),
        ]
    )
