"""Serving the model that training bundles with its inference pipeline.

kedro-mlflow's ``pipeline_ml_factory`` logs a model that runs the project's
inference pipeline with a Kedro runner on every ``predict``. With Kedro's own
``SequentialRunner`` each request prints about thirty log lines, and an error
inside a node reaches the client of ``mlflow models serve`` as a stack trace.
:class:`ServingRunner` is the runner to bundle instead (kedro-mlflow's
``kpm_kwargs={"runner": ServingRunner()}``):

* it runs the nodes in order with no per-request logging (warnings and errors
  are still logged);
* a node that rejects its input (``ValueError``, ``TypeError``, ``KeyError``:
  a schema check, a value the estimator cannot take) becomes an MLflow
  ``INVALID_PARAMETER_VALUE`` error: HTTP 400 with the node's message and no
  stack trace;
* any other failure is a server error (HTTP 500) whose traceback goes to the
  server's log, not to the client;
* kedro-mlflow builds a new pluggy hook manager on every ``predict`` and
  registers nothing on it (about 0.5 ms, as long as the starter's input
  validation); once a model bundled with this runner is loaded, ``predict``
  gets one shared empty manager instead;
* it runs one request's pipeline at a time. MLflow's server hands each
  request to a thread of a pool, and a scikit-learn pipeline holds Python's
  GIL for most of its run, so concurrent runs in one process only take turns,
  and handing the GIL back and forth between them costs more than it overlaps.
  The requests' JSON is still parsed and written concurrently. For parallel
  predictions, run more server processes (``kedro mlops serve --workers N``).
  Measured with 8 clients on 2 cores (``benchmarks/serving_load.py``): a
  plain scikit-learn model served one prediction at a time answers 1.35 to
  1.5x the requests per second of the same model predicting concurrently,
  with lower p50 and p99 latency.

Example:
    >>> from kedro.pipeline import Node, Pipeline
    >>> from kedro.io import DataCatalog, MemoryDataset
    >>> double = Node(lambda x: 2 * x, "x", "y", name="double")
    >>> catalog = DataCatalog({"x": MemoryDataset(21)})
    >>> ServingRunner().run(Pipeline([double]), catalog)["y"].load()
    42
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from typing import Any

from kedro.io import MemoryDataset
from kedro.runner import SequentialRunner

logger = logging.getLogger(__name__)

BAD_INPUT = (ValueError, TypeError, KeyError)

# Set while a ServingRunner runs, in that thread only: Kedro's per-node log
# lines are dropped then, and only then.
_serving = contextvars.ContextVar("kedro_mlops_serving", default=False)


class _QuietWhileServing(logging.Filter):
    """Kedro's node log: "Running node" per node, and its own copy of an error
    that the runner reports (once, with the request's context) anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _serving.get()


class _NoParamsChatter(logging.Filter):
    """kedro-mlflow logs every request parameter at INFO on every predict."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno < logging.WARNING
            and str(record.msg).startswith("Using params:")
        )


def _install_filters() -> None:
    quiet = logging.getLogger("kedro.pipeline.node")
    if not any(isinstance(f, _QuietWhileServing) for f in quiet.filters):
        quiet.addFilter(_QuietWhileServing())
    chatty = logging.getLogger("kedro_mlflow.mlflow.kedro_pipeline_model")
    if not any(isinstance(f, _NoParamsChatter) for f in chatty.filters):
        chatty.addFilter(_NoParamsChatter())


class SharedEmptyHookManager:
    """A stand-in for Kedro's ``_create_hook_manager`` that returns one manager
    for as long as no plugin is registered on it, and a new one otherwise."""

    def __init__(self, create: Any) -> None:
        self.create = create
        self._manager: Any = None

    def __call__(self) -> Any:
        manager = self._manager
        if manager is None or manager.get_plugins():
            manager = self._manager = self.create()
        return manager


def _share_hook_manager() -> None:
    module = sys.modules.get("kedro_mlflow.mlflow.kedro_pipeline_model")
    create = getattr(module, "_create_hook_manager", None)
    if create is not None and not isinstance(create, SharedEmptyHookManager):
        module._create_hook_manager = SharedEmptyHookManager(create)


class ServingRunner(SequentialRunner):
    """Run a bundled inference pipeline once per request, quietly.

    A ``SequentialRunner`` as far as Kedro and kedro-mlflow are concerned, so
    that the model also runs where a runner is chosen by name.
    """

    def __init__(self) -> None:
        super().__init__()
        self._one_at_a_time = threading.RLock()
        _install_filters()
        _share_hook_manager()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_one_at_a_time", None)  # a lock cannot be pickled
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled with the model: the lock, the filters and the shared hook
        # manager belong to the loading process.
        self.__dict__.update(state)
        self._one_at_a_time = threading.RLock()
        _install_filters()
        _share_hook_manager()

    def run(
        self,
        pipeline: Any,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
    ) -> dict[str, Any]:
        token = _serving.set(True)
        try:
            with self._one_at_a_time:
                values = {name: catalog[name].load() for name in pipeline.inputs()}
                for node in pipeline.nodes:  # in topological order
                    inputs = {name: values[name] for name in node.inputs}
                    values.update(_run_node(node, inputs))
        finally:
            _serving.reset(token)
        # "assign": the caller loads each output once; no copy on save or load.
        return {
            name: MemoryDataset(values[name], copy_mode="assign")
            for name in pipeline.outputs()
        }


def _run_node(node: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE

    try:
        return node.run(inputs)
    except BAD_INPUT as exc:
        message = f"The input cannot be scored: {exc}"
        logger.warning("Rejected a request (node '%s'): %s", node.name, exc)
        raise MlflowException(message, error_code=INVALID_PARAMETER_VALUE) from None
    except Exception as exc:
        logger.exception("Scoring failed in node '%s'", node.name)
        raise MlflowException(
            f"Scoring failed in node '{node.name}' ({type(exc).__name__}); "
            "the server log has the details.",
            error_code=INTERNAL_ERROR,
        ) from None
