"""Kedro hooks of kedro-mlops, registered through the ``kedro.hooks`` entry point.

They run around kedro-mlflow's own hooks (pluggy's ``tryfirst``/``trylast``):

* ``after_context_created`` (first): an error of kedro-mlops will end the
  command as its message (:mod:`~kedro_mlops.plugin.errors`); the ``${mlops.*}``
  resolvers exist before kedro-mlflow reads ``mlflow.yml``; the tracking
  patches are installed; a wrong ``mlops.yml``, or a tracking server that does
  not answer, stops the session before any MLflow run is opened; where the
  run's configuration has ``spark`` settings (``conf/spark/spark.yml``), the
  SparkSession starts (:mod:`~kedro_mlops.spark.session`);
* ``after_catalog_created``: a catalog dataset that loads the champion of
  another model than ``registry.model_name`` stops the run; the drift and
  monitoring settings become the catalog datasets their nodes read;
* ``after_node_run``: the node is remembered (a failed run keeps the lineage of
  the nodes that finished); a drift check's metrics, reports and decision, the
  monitoring's latest report and decision, and the rows of a validated training
  table, go into the run;
* ``before_pipeline_run``: first (:class:`BundleHooks`, before kedro-mlflow
  opens its run) the parameters that nodes declare with a TypedDict, then the
  inputs, then the metrics the promotion gate reads, are checked;
* ``before_pipeline_run`` (last, once kedro-mlflow has opened its run): the run
  is tagged with its process and runs left RUNNING by a killed process are
  closed (:mod:`~kedro_mlops.tracking.stale`); the run and the artifact datasets
  are made available to ``ParallelRunner``'s workers
  (:mod:`~kedro_mlops.tracking.workers`); a bundled model's ``signature: auto``
  is resolved; SIGINT and SIGTERM are intercepted
  (:mod:`~kedro_mlops.plugin.interrupts`);
* ``after_pipeline_run``: first (:class:`BundleHooks`, before kedro-mlflow logs
  the bundled model) its fitted estimators are shared; last (after the model is
  logged and the run closed) the run's lineage is written, then the model is
  registered, the champion/challenger aliases move, and the registered
  version gets its model card (:mod:`~kedro_mlops.quality.card`);
* ``on_pipeline_error`` (last, after kedro-mlflow closed the run ``FAILED``):
  the finished nodes' lineage is written and the error becomes the run's
  ``mlops.error`` tag; an interrupted run is marked ``KILLED`` and the process
  exits with 128 + the signal number.

:class:`StoreHooks` hold the tracking store's lock around kedro-mlflow opening
it (:mod:`kedro_mlops.tracking.store`), and stop a run that loads a registered
model from a store that was not there, before anything else.

Only Kedro is imported at module level.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, NoReturn

from kedro.framework.hooks import hook_impl

from kedro_mlops.plugin.interrupts import Interrupts, RunInterrupted

logger = logging.getLogger(__name__)


class MlopsHooks:
    """Project-wide hooks: tracking store, lineage, drift logging, the registry flow."""

    def __init__(self) -> None:
        self.config: Any = None
        self._run_id: str | None = None
        self.run_id: str | None = None  # the last run opened, kept after it ends
        self._completed: list[Any] = []
        self._interrupts = Interrupts()
        self.login: Any = None  # the tracking server's answer to the credentials

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        from kedro_mlops import patches
        from kedro_mlops.config import project_config
        from kedro_mlops.plugin import errors
        from kedro_mlops.tracking.uri import register_resolvers

        errors.install()
        errors.check_environment(context.config_loader, context.env)

        # Kedro's logging config only lets its own loggers through at INFO;
        # the registry summary is worth a line in every training run.
        package_logger = logging.getLogger("kedro_mlops")
        if package_logger.level == logging.NOTSET:
            package_logger.setLevel(logging.INFO)
        register_resolvers(context.project_path)
        patches.install("tracking")
        self.config = project_config(context)
        from kedro_mlops.tracking.server import bound_retries, check_reachable
        from kedro_mlops.tracking.store import configured_tracking_uri
        from kedro_mlops.tracking.uri import tracking_uri_from_environment

        bound_retries()
        uri = configured_tracking_uri(context) or tracking_uri_from_environment()
        self.login = None
        if uri is not None:
            check_reachable(uri)
            self.login = _check_login(context, uri)
        from kedro_mlops.spark.session import start_configured_session

        start_configured_session(context)

    @hook_impl
    def after_catalog_created(self, catalog: Any, conf_catalog: dict[str, Any]) -> None:
        """Make ``mlops.yml``'s drift (and monitoring) settings available to
        drift-check (and monitoring) nodes; stop where the catalog loads the
        champion under another model name."""
        if self.config is not None:
            from kedro_mlops.drift.pipeline import CONFIG_DATASET
            from kedro_mlops.monitoring.pipeline import MONITORING_CONFIG_DATASET
            from kedro_mlops.tracking.registry import check_catalog_model_name

            check_catalog_model_name(conf_catalog, self.config.registry.model_name)
            catalog[CONFIG_DATASET] = self.config.drift
            catalog[MONITORING_CONFIG_DATASET] = self.config.monitoring

    @hook_impl(trylast=True)
    def before_node_run(self) -> None:
        """After kedro-mlflow's: the node's parameters go in one request."""
        from kedro_mlops.patches import flush_params

        flush_params()

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:
        """Log a drift check's outputs, or the rows of a validated training
        table, into the active MLflow run."""
        self._interrupts.check()  # a signal swallowed inside the node
        self._completed.append(node)
        if "kedro_mlops.drift.pipeline" in sys.modules:  # else no drift node ran
            from kedro_mlops.drift.tracking import log_check_outputs

            log_check_outputs(node, outputs)
        if "kedro_mlops.monitoring.pipeline" in sys.modules:
            from kedro_mlops.monitoring.tracking import log_monitoring_outputs

            log_monitoring_outputs(node, outputs)
        if "kedro_mlops.schema.validate" in sys.modules:  # else no table was checked
            from kedro_mlops.schema.tracking import log_training_rows

            log_training_rows(node, outputs)

    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        from kedro_mlops.tracking import workers

        workers.make_artifact_datasets_picklable(catalog)
        self._completed = []
        mlflow = sys.modules.get("mlflow")
        active = mlflow.active_run() if mlflow is not None else None
        if active is None:
            self._run_id = None
            return
        from kedro_mlops.tracking.model_logging import resolve_auto_signature
        from kedro_mlops.tracking.stale import (
            PROCESS_TAG,
            close_stale_runs,
            process_tag,
        )

        run_id = self._run_id = self.run_id = active.info.run_id
        client = mlflow.MlflowClient()  # type: ignore[union-attr]
        client.set_tag(run_id, PROCESS_TAG, process_tag())
        close_stale_runs(client, active.info.experiment_id, run_id)
        workers.share_run(run_id)
        resolve_auto_signature(pipeline, catalog)
        self._interrupts.install(run_id)

    @hook_impl(trylast=True)
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        run_id, self._run_id = self._run_id, None
        if run_id is None:
            return
        try:
            self._interrupts.check()
            self._finish(run_id, run_params, pipeline, catalog)
        except RunInterrupted as stopped:  # after the runner: no on_pipeline_error
            _stop(stopped, run_id)
        finally:
            self._interrupts.restore()

    def _finish(
        self, run_id: str, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        from mlflow import MlflowClient

        from kedro_mlops.tracking.workers import stop_sharing
        from kedro_mlops.versioning.lineage import record_run

        stop_sharing(run_id)
        client = MlflowClient()
        record_run(client, run_id, run_params, pipeline, catalog)
        if self.config is None or not self.config.registry.enabled:
            return
        from kedro_mlops.tracking.registry import register_and_promote

        result = register_and_promote(client, run_id, self.config.registry)
        if result is not None:
            level = logging.WARNING if result.refused else logging.INFO
            logger.log(level, "Model registry: %s", result.summary())
        if result is not None and result.version:
            from kedro_mlops.quality.card import write_model_card

            write_model_card(
                client,
                run_id,
                result.model_name,
                result.version,
                summary=result.summary(),
            )

    @hook_impl(trylast=True)
    def on_pipeline_error(
        self, error: Exception, run_params: dict[str, Any], catalog: Any
    ) -> None:
        """After kedro-mlflow has closed the run FAILED: the lineage of the nodes
        that finished goes into it; an interrupted run exits with one line."""
        from kedro_mlops.plugin.interrupts import interruption
        from kedro_mlops.tracking.server import lost_server

        self._interrupts.restore()
        run_id, self._run_id = self._run_id, None
        completed, self._completed = self._completed, []
        mlflow = sys.modules.get("mlflow")
        uri = mlflow.get_tracking_uri() if mlflow is not None else ""
        lost = lost_server(error, uri, run_id)
        if run_id is not None and lost is None:  # else nothing can be written
            from kedro_mlops.tracking.failure import record_failure

            _record_partial_lineage(run_id, run_params, completed, catalog)
            record_failure(run_id, error)
        stopped = interruption(error)
        if stopped is not None:
            _stop(stopped, run_id)
        if lost is not None:
            raise lost from error


class BundleHooks:
    """Hooks that run before kedro-mlflow's (its hooks are not ``tryfirst``): the
    parameters and the inputs are checked before it opens a run, the fitted
    estimators shared before it logs a bundled model."""

    def __init__(self) -> None:
        self._config_loader: Any = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._config_loader = context.config_loader  # names the parameter files

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        from kedro.framework.project import pipelines

        from kedro_mlops.parameters import check_run_parameters
        from kedro_mlops.plugin.inputs import check_inputs

        check_run_parameters(pipeline, catalog, self._config_loader)
        check_inputs(pipeline, catalog, pipelines)
        _check_permissions(pipeline)
        _check_gate(pipeline)

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        from kedro_mlops.serving.bundle import share_fitted_estimators

        share_fitted_estimators(pipeline, catalog)


class StoreHooks:
    """The tracking store: opened by one process at a time, never overwritten.

    Wraps every other ``after_context_created`` hook (kedro-mlflow's opens the
    store and creates the experiment) and ``before_pipeline_run`` hook (which
    checks the inputs and starts the run).
    """

    def __init__(self) -> None:
        self.store: Any = None

    @hook_impl(hookwrapper=True)
    def after_context_created(self, context: Any) -> Any:
        from kedro_mlops.plugin import errors
        from kedro_mlops.tracking.store import opening_store

        errors.install()  # an unreadable store ends the command as its message
        with opening_store(context) as self.store:
            yield

    @hook_impl(hookwrapper=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> Any:
        """One run of the project at a time (:class:`~kedro_mlops.locks.RunLock`),
        released by ``after_pipeline_run``/``on_pipeline_error``, or here when a
        hook refuses to start the run."""
        from pathlib import Path

        from kedro_mlops.locks import RUN_LOCK
        from kedro_mlops.tracking.store import require_existing_store

        RUN_LOCK.acquire(Path(run_params.get("project_path") or Path.cwd()))
        try:
            require_existing_store(pipeline, catalog, self.store)
        except BaseException:
            RUN_LOCK.release()
            raise
        outcome = yield
        if outcome.excinfo is not None:
            RUN_LOCK.release()

    @hook_impl(wrapper=True)
    def after_pipeline_run(self) -> Any:
        """Around every ``after_pipeline_run`` hook: the run lock is released; a
        tracking server lost while the model is logged or registered ends the
        command with one line."""
        from kedro_mlops.locks import RUN_LOCK

        try:
            return (yield)
        except Exception as failure:
            _raise_if_server_lost(failure)
            raise
        finally:
            RUN_LOCK.release()

    @hook_impl(wrapper=True)
    def on_pipeline_error(self, error: Exception) -> Any:
        """Around every ``on_pipeline_error`` hook: the run lock is released; a
        tracking server lost mid-run, which makes kedro-mlflow's own hook fail
        as it closes the run, ends the command with one line."""
        from kedro_mlops.locks import RUN_LOCK

        try:
            return (yield)
        except Exception as failure:
            _raise_if_server_lost(failure, error)
            raise
        finally:
            RUN_LOCK.release()


def _raise_if_server_lost(
    failure: BaseException, error: BaseException | None = None
) -> None:
    """Raise :class:`~kedro_mlops.tracking.server.TrackingServerLost` (from
    ``error``, the pipeline's own, if any) when ``failure`` is a request to a
    tracking server that no longer answers."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    from kedro_mlops.tracking.server import lost_server

    lost = lost_server(failure, mlflow.get_tracking_uri(), hooks.run_id)
    if lost is not None:
        raise lost from error or failure


def _check_login(context: Any, uri: str) -> Any:
    """For a tracking server: refuse placeholder credentials, ask it who the
    credentials are (:mod:`~kedro_mlops.tracking.access`)."""
    if not uri.startswith(("http://", "https://")):
        return None
    from kedro_mlops.tracking.access import (
        check_login,
        check_placeholders,
        conf_credentials,
        effective_credentials,
    )

    credentials, source = conf_credentials(context)
    check_placeholders(credentials, source)
    return check_login(uri, effective_credentials(credentials), source)


def _check_permissions(pipeline: Any) -> None:
    """Before kedro-mlflow opens the run: may the user write it, and register
    the model it logs?"""
    if hooks.login is None:
        return
    import os

    from kedro_mlops.tracking.access import check_permissions

    model_name = None
    config = hooks.config
    if config is not None and config.registry.enabled and _logs_model(pipeline):
        model_name = config.registry.model_name
    check_permissions(hooks.login, os.environ.get("MLFLOW_EXPERIMENT_ID"), model_name)


def _check_gate(pipeline: Any) -> None:
    """Before kedro-mlflow opens the run: does the promotion gate name metrics
    that the model's runs log?"""
    config = hooks.config
    if config is None or not config.registry.enabled:
        return
    if not config.registry.gate_metrics() or not _logs_model(pipeline):
        return
    from mlflow import MlflowClient

    from kedro_mlops.tracking.registry import check_gate_metrics

    check_gate_metrics(MlflowClient(), config.registry)


def _logs_model(pipeline: Any) -> bool:
    """Whether kedro-mlflow will log (and kedro-mlops register) a bundled model."""
    module = sys.modules.get("kedro_mlflow.pipeline.pipeline_ml")
    pipeline_ml = getattr(module, "PipelineML", None)
    return pipeline_ml is not None and isinstance(pipeline, pipeline_ml)


def _stop(stopped: RunInterrupted, run_id: str | None) -> NoReturn:
    logger.error(
        "%s. MLflow run %s is marked KILLED; what earlier nodes saved is "
        "kept. Run the same command again to start over.",
        stopped,
        run_id,
    )
    raise SystemExit(stopped.exit_code)


def _record_partial_lineage(
    run_id: str, run_params: dict[str, Any], completed: list[Any], catalog: Any
) -> None:
    from kedro.pipeline import Pipeline
    from mlflow import MlflowClient

    from kedro_mlops.tracking.workers import stop_sharing
    from kedro_mlops.versioning.lineage import record_run

    stop_sharing(run_id)
    try:
        record_run(MlflowClient(), run_id, run_params, Pipeline(completed), catalog)
    except Exception as error:  # the failure may be the store or the data itself
        logger.warning("The lineage of failed run %s is incomplete: %s", run_id, error)


hooks = MlopsHooks()
bundle_hooks = BundleHooks()
store_hooks = StoreHooks()
