"""Kedro hooks of kedro-mlops, registered through the ``kedro.hooks`` entry point.

They run around kedro-mlflow's own hooks:

* ``before_pipeline_run`` runs *last*, once kedro-mlflow has opened its run; for
  a ``pipeline_ml_factory`` pipeline with ``signature: "auto"`` it infers the
  model signature with integer columns typed ``any`` so that they accept
  missing values (``kedro_mlops.signature``);

* ``after_context_created`` runs *first*, so that the ``${mlops.project_path:}``
  resolver exists before kedro-mlflow reads ``mlflow.yml``, and so that a wrong
  ``mlops.yml`` stops the session before any MLflow run is opened; it also
  spares runs MLflow's import of IPython when no IPython runs and its scan of
  every installed distribution when a model's requirements are plainly met
  (``kedro_mlops.mlflow_probes``);
* ``after_pipeline_run`` runs *last*, after kedro-mlflow has logged the model
  bundled by ``pipeline_ml_factory`` and closed the run: it writes the run's
  lineage (``kedro_mlops.lineage``), then registers the model and moves the
  champion/challenger aliases.

Only Kedro is imported at module level; MLflow is imported when a run needs it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)


class MlopsHooks:
    """Project-wide hooks: tracking store location and the model registry flow."""

    def __init__(self) -> None:
        self.config = None
        self._run_id: str | None = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        from kedro_mlops import mlflow_probes
        from kedro_mlops.config import load_config
        from kedro_mlops.resolvers import register_resolvers

        # Kedro's logging config only lets its own loggers through at INFO;
        # the registry summary is worth a line in every training run.
        package_logger = logging.getLogger("kedro_mlops")
        if package_logger.level == logging.NOTSET:
            package_logger.setLevel(logging.INFO)
        register_resolvers(context.project_path)
        # Before kedro-mlflow starts a run: see kedro_mlops.mlflow_probes.
        mlflow_probes.install()
        self.config = load_config(
            context.config_loader,
            source=f"mlops.yml (conf/base merged with conf/{context.env or 'local'})",
            package_name=getattr(context, "_package_name", None) or _package_name(),
        )

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        """Make ``mlops.yml``'s drift settings available to drift-check nodes."""
        if self.config is not None:
            from kedro_mlops.drift.pipeline import CONFIG_DATASET

            catalog[CONFIG_DATASET] = self.config.drift

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:
        """Log a drift check's metrics and HTML report into the active MLflow run."""
        # A drift node has already imported its module; other nodes pay nothing.
        drift_pipeline = sys.modules.get("kedro_mlops.drift.pipeline")
        if drift_pipeline is None or node.func is not drift_pipeline.check_batch:
            return
        mlflow = sys.modules.get("mlflow")
        if mlflow is None or not mlflow.active_run():
            return
        namespace = node.namespace or "drift"
        metrics = outputs[f"{namespace}.metrics"]
        mlflow.log_metrics({name: m["value"] for name, m in metrics.items()})
        mlflow.log_text(
            outputs[f"{namespace}.report_html"], f"drift/{namespace}_report.html"
        )

    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        # kedro-mlflow has started its run by now (its hook is not `trylast`).
        mlflow = sys.modules.get("mlflow")
        active = mlflow.active_run() if mlflow is not None else None
        self._run_id = active.info.run_id if active is not None else None
        if self._run_id is not None:
            from kedro_mlops.signature import resolve_auto_signature

            resolve_auto_signature(pipeline, catalog)

    @hook_impl(trylast=True)
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        run_id, self._run_id = self._run_id, None
        if run_id is None:
            return
        from mlflow import MlflowClient

        client = MlflowClient()
        self._record_lineage(client, run_id, run_params, pipeline, catalog)
        if self.config is None or not self.config.registry.enabled:
            return
        from kedro_mlops.registry import register_and_promote

        result = register_and_promote(client, run_id, self.config.registry)
        if result is not None:
            logger.info("Model registry: %s", result.summary())

    @staticmethod
    def _record_lineage(
        client: Any,
        run_id: str,
        run_params: dict[str, Any],
        pipeline: Any,
        catalog: Any,
    ) -> None:
        from pathlib import Path

        from kedro_mlops.lineage import collect, log_lineage

        names = run_params.get("pipeline_names") or run_params.get("pipeline_name")
        if isinstance(names, str):
            names = [names]
        lineage = collect(
            pipeline,
            catalog,
            Path(run_params.get("project_path") or Path.cwd()),
            env=run_params.get("env") or "local",
            pipelines=list(names or ["__default__"]),
        )
        log_lineage(client, run_id, lineage)
        for version in lineage.data:
            logger.info(
                "Lineage: %s %s md5 %s (%s)",
                version.role,
                version.path,
                version.md5,
                version.state,
            )
            if version.state == "modified":
                logger.warning(
                    "%s was edited but not added to DVC: this run can be traced but "
                    "its data cannot be restored. Run `dvc add %s` and commit.",
                    version.path,
                    version.path,
                )

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._run_id = None


def _package_name() -> str | None:
    from kedro.framework.project import PACKAGE_NAME

    return PACKAGE_NAME


hooks = MlopsHooks()
