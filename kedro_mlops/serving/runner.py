"""The runner bundled with the model: one request's inference pipeline, quietly.

kedro-mlflow's ``pipeline_ml_factory`` logs a model that runs the project's
inference pipeline with a Kedro runner on every ``predict``. :class:`ServingRunner`
is the runner to bundle (``kpm_kwargs={"runner": ServingRunner()}``, as
:func:`kedro_mlops.serving.bundle_model` does):

* it runs the nodes in order without Kedro's per-run log lines;
* a node that rejects its input (``ValueError``, ``TypeError``, ``KeyError``)
  becomes an MLflow ``INVALID_PARAMETER_VALUE`` error: HTTP 400 with the node's
  message and no stack trace; any other failure is an HTTP 500 whose traceback
  goes to the server's log, not to the client;
* it runs one request's pipeline at a time: a scikit-learn pipeline holds the
  GIL for most of its run, so concurrent runs in one process only take turns.
  Parallel predictions come from more server processes
  (``kedro mlops serve --workers N``); ``docs/deployment.md`` has the figures.

Example (with the server's log filters, which drop Kedro's per-node lines):
    >>> from kedro.pipeline import Node, Pipeline
    >>> from kedro.io import DataCatalog, MemoryDataset
    >>> from kedro_mlops.patches import install_log_filters
    >>> install_log_filters()
    >>> double = Node(lambda x: 2 * x, "x", "y", name="double")
    >>> catalog = DataCatalog({"x": MemoryDataset(21)})
    >>> ServingRunner().run(Pipeline([double]), catalog)["y"].load()
    42
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kedro.io import MemoryDataset
from kedro.runner import SequentialRunner

from kedro_mlops.patches import SERVING

logger = logging.getLogger(__name__)

BAD_INPUT = (ValueError, TypeError, KeyError)


class ServingRunner(SequentialRunner):
    """Run a bundled inference pipeline once per request, quietly.

    A ``SequentialRunner`` as far as Kedro and kedro-mlflow are concerned, so
    that the model also runs where a runner is chosen by name.
    """

    def __init__(self) -> None:
        super().__init__()
        self._one_at_a_time = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_one_at_a_time", None)  # a lock cannot be pickled
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled with the model: the lock belongs to the loading process.
        self.__dict__.update(state)
        self._one_at_a_time = threading.RLock()

    def run(
        self,
        pipeline: Any,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
    ) -> dict[str, Any]:
        token = SERVING.set(True)
        try:
            with self._one_at_a_time:
                values = {name: catalog[name].load() for name in pipeline.inputs()}
                for node in pipeline.nodes:  # in topological order
                    inputs = {name: values[name] for name in node.inputs}
                    values.update(_run_node(node, inputs))
        finally:
            SERVING.reset(token)
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
