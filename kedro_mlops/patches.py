"""Every name of a dependency that kedro-mlops replaces at run time, in one place.

Replacing a dependency's function is the last resort: each entry of
:data:`PATCHES` says what it replaces, why, and where its measured gain is
documented (``docs/architecture.md``, "Patched names"). Nothing is replaced on
import or on unpickling a model: :func:`install` is called explicitly, with a
group,

* ``"tracking"`` by the plugin's ``after_context_created`` hook, before
  kedro-mlflow opens a run;
* ``"serving"`` by the model server that ``kedro mlops serve`` starts
  (:mod:`kedro_mlops.serving.app`), with the log filters of :data:`LOG_FILTERS`.

When a dependency no longer has a name (an upgrade moved it), its own behaviour
stays and :func:`install` logs one warning naming what is lost; nothing fails.
A second :func:`install` replaces nothing twice.

Example:
    >>> sorted({patch.group for patch in PATCHES})
    ['serving', 'tracking']
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

_MARK = "_kedro_mlops_patch"


@dataclass(frozen=True)
class Patch:
    """One replaced name: ``module.name`` becomes ``replace(original)``.

    ``why`` says what the dependency does there, ``gain`` what replacing it
    saves (as measured; ``docs/architecture.md`` has the same table).
    """

    group: str
    module: str
    name: str
    why: str
    gain: str
    replace: Callable[[Callable[..., Any]], Callable[..., Any]]

    @property
    def target(self) -> str:
        return f"{self.module}.{self.name}"


# ---------------------------------------------------------------- the stand-ins


def ipython_loaded() -> bool:
    return "IPython" in sys.modules


def _standing_in_for(original: Callable, wrapper: Callable) -> Callable:
    """``wrapper`` in place of ``original``, unless ``original`` is one already."""
    if getattr(original, _MARK, False):
        return original
    functools.update_wrapper(wrapper, original)
    setattr(wrapper, _MARK, True)
    return wrapper


def guarded(probe: Callable[[], Any], answer_when_absent: Callable[[], Any]):
    """``probe`` when IPython is loaded, else ``answer_when_absent()``."""

    def guarded_probe() -> Any:
        return probe() if ipython_loaded() else answer_when_absent()

    return _standing_in_for(probe, guarded_probe)


def _no_ipython(probe: Callable[[], Any]) -> Callable[[], Any]:
    return guarded(probe, lambda: False)


def _no_dbutils(probe: Callable[[], Any]) -> Callable[[], Any]:
    from mlflow.utils import databricks_utils

    error = databricks_utils._NoDbutilsError  # checked by install: see _present

    def no_dbutils() -> Any:
        raise error

    return guarded(probe, no_dbutils)


def satisfied(requirement: str) -> bool:
    """True when ``requirement`` is a plain ``name<specifier>`` that the installed
    distribution satisfies; False when it is not, or not plainly (extras,
    markers, URLs, files), so that MLflow's own check decides."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return False
    if parsed.extras or parsed.marker or parsed.url:
        return False
    if parsed.name.lower() == "mlflow":
        import mlflow

        return parsed.specifier.contains(mlflow.__version__)  # as MLflow compares
    try:
        return parsed.specifier.contains(version(parsed.name))
    except PackageNotFoundError:
        return False


def requirements_check(check: Callable[[Iterable[str]], Any]):
    """MLflow's mismatch warning, called only when a requirement is not plainly
    satisfied by the installed distributions."""

    def check_when_needed(model_requirements: Iterable[str]) -> Any:
        requirements = list(model_requirements)
        if all(satisfied(r) for r in requirements):
            return None
        return check(requirements)

    return _standing_in_for(check, check_when_needed)


class SharedEmptyHookManager:
    """A stand-in for Kedro's ``_create_hook_manager`` that returns one manager
    for as long as no plugin is registered on it, and a new one otherwise."""

    def __init__(self, create: Callable[[], Any]) -> None:
        self.create = create
        self._manager: Any = None
        setattr(self, _MARK, True)

    def __call__(self) -> Any:
        manager = self._manager
        if manager is None or manager.get_plugins():
            manager = self._manager = self.create()
        return manager


def _shared_hook_manager(create: Callable[[], Any]) -> Callable[[], Any]:
    return create if getattr(create, _MARK, False) else SharedEmptyHookManager(create)


def partial_training_as_plain_pipeline(turn: Callable[..., Any]) -> Callable[..., Any]:
    """kedro-mlflow's ``_turn_pipeline_to_ml``, answering a plain Kedro pipeline
    when the filtered training part cannot produce the bundled model."""

    def turn_or_demote(self: Any, pipeline: Any) -> Any:
        from kedro_mlflow.pipeline.pipeline_ml import KedroMlflowPipelineMLError

        try:
            return turn(self, pipeline)
        except KedroMlflowPipelineMLError:
            logger.info(
                "A part of the training pipeline without all the nodes of the "
                "bundled model is a plain Kedro pipeline: it logs no model."
            )
            from kedro.pipeline import Pipeline

            return Pipeline(pipeline.nodes)

    return _standing_in_for(turn, turn_or_demote)


class _PendingParams(threading.local):
    """The parameters kedro-mlflow asked to log for the node starting in this
    thread (each runner thread starts its own nodes)."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}


_PENDING = _PendingParams()
#: MLflow takes at most this many parameters in one ``log_batch`` request.
PARAMS_PER_BATCH = 100


def params_in_one_batch(log_param: Callable[..., Any]) -> Callable[..., Any]:
    """kedro-mlflow's ``MlflowHook._log_param``, keeping a parameter that MLflow
    takes as it is for :func:`flush_params` (the plugin's ``before_node_run``
    hook, after kedro-mlflow's); a longer one goes its own way (tag, truncation
    or error, as ``mlflow.yml`` says)."""

    def log_param_later(self: Any, name: str, value: Any) -> Any:
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

        if len(str(value)) > MAX_PARAM_VAL_LENGTH:
            return log_param(self, name, value)
        _PENDING.items[name] = str(value)
        return None

    return _standing_in_for(log_param, log_param_later)


def flush_params() -> int:
    """Log the parameters kept in this thread into its active run, in batches
    of :data:`PARAMS_PER_BATCH`; returns how many were logged."""
    pending, _PENDING.items = _PENDING.items, {}
    if not pending:
        return 0
    import mlflow
    from mlflow.entities import Param

    run = mlflow.active_run()
    params = [Param(key, value) for key, value in pending.items()]
    if run is None:  # as mlflow.log_param would: a new run
        for param in params:
            mlflow.log_param(param.key, param.value)
        return len(params)
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    run_id = run.info.run_id
    for start in range(0, len(params), PARAMS_PER_BATCH):
        batch = params[start : start + PARAMS_PER_BATCH]
        try:
            client.log_batch(run_id, params=batch)
        except MlflowException as error:
            if error.error_code != "BAD_REQUEST":
                raise
            # Another process of the same run (ParallelRunner's workers share
            # parameters between nodes) inserted one of them between MLflow's
            # check and its insert: the store refuses the whole batch. One at a
            # time, MLflow takes a value already logged as it is, and still
            # refuses a different one.
            for param in batch:
                client.log_param(run_id, param.key, param.value)
    return len(params)


# ------------------------------------------------------------------- the list

_IPYTHON_PROBE = (
    "asked at every mlflow.start_run, it imports IPython to answer; without "
    "IPython loaded no shell can exist, so the answer is no"
)
_IPYTHON_GAIN = "about 1 s per kedro run wherever IPython is installed"
_REQUIREMENTS = (
    "to warn about unmet requirements, MLflow maps every installed distribution "
    "to its modules; a metadata lookup per requirement answers first, and "
    "MLflow's check still runs when one is not plainly met"
)
_REQUIREMENTS_GAIN = "0.1 to 0.2 s per model logged or loaded"

PATCHES: tuple[Patch, ...] = (
    *(
        Patch(
            "tracking",
            module,
            "is_running_in_ipython_environment",
            _IPYTHON_PROBE,
            _IPYTHON_GAIN,
            _no_ipython,
        )
        for module in (
            "mlflow.tracking.context.jupyter_notebook_context",
            "mlflow.utils.databricks_utils",
        )
    ),
    Patch(
        "tracking",
        "mlflow.utils.databricks_utils",
        "_get_dbutils",
        _IPYTHON_PROBE + " (it raises MLflow's own _NoDbutilsError instead)",
        _IPYTHON_GAIN,
        _no_dbutils,
    ),
    *(
        Patch(
            "tracking",
            module,
            "warn_dependency_requirement_mismatches",
            _REQUIREMENTS,
            _REQUIREMENTS_GAIN,
            requirements_check,
        )
        for module in ("mlflow.utils.environment", "mlflow.pyfunc")
    ),
    Patch(
        "tracking",
        "kedro_mlflow.pipeline.pipeline_ml.PipelineML",
        "_turn_pipeline_to_ml",
        "filtering a bundled training pipeline (`kedro run --nodes`, "
        "`--from-nodes`, and Kedro's own resume hint after a node fails) builds a "
        "new bundled pipeline, which refuses a part that cannot produce the "
        "model, so a failing node is reported as kedro-mlflow's 'inputs are free "
        "for the inference pipeline'; such a part runs as a plain pipeline",
        "the failing node's own error is the one reported (it was kedro-mlflow's "
        '"inputs are free for the inference pipeline"); partial runs work',
        partial_training_as_plain_pipeline,
    ),
    Patch(
        "tracking",
        "kedro_mlflow.framework.hooks.mlflow_hook.MlflowHook",
        "_log_param",
        "before each node, kedro-mlflow logs each of the node's parameters with "
        "its own request (about 110 per starter training run, each checked "
        "against the password on a server with a login); the node's parameters "
        "go in one log_batch request",
        "about 100 of the 195 requests of a training run on a tracking server",
        params_in_one_batch,
    ),
    Patch(
        "serving",
        "kedro_mlflow.mlflow.kedro_pipeline_model",
        "_create_hook_manager",
        "kedro-mlflow builds a new, empty pluggy hook manager on every predict; "
        "one shared empty manager serves every request",
        "about 0.5 ms per request",
        _shared_hook_manager,
    ),
)

#: Names that a patch needs besides the one it replaces.
_ALSO_NEEDED = {"_get_dbutils": ("_NoDbutilsError",)}

_warned: set[str] = set()


# --------------------------------------------------------------- log filters


@dataclass(frozen=True)
class LogFilter:
    """Records of ``logger`` that ``drops`` says are dropped while serving."""

    logger: str
    drops: str
    keep: Callable[[logging.LogRecord], bool]


#: True while a ServingRunner runs a request, in that thread only: the first
#: log filter drops Kedro's per-node lines then, and only then.
SERVING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "kedro_mlops_serving", default=False
)


def _outside_a_request(record: logging.LogRecord) -> bool:
    return not SERVING.get()


def _not_demotion_notice(record: logging.LogRecord) -> bool:
    return not (
        record.levelno <= logging.WARNING
        and str(record.msg).startswith("BEWARE - This 'Pipeline' is no longer")
    )


def _not_params_chatter(record: logging.LogRecord) -> bool:
    return not (
        record.levelno < logging.WARNING and str(record.msg).startswith("Using params:")
    )


#: Per-request log lines of the served model that nobody acts on.
LOG_FILTERS: tuple[LogFilter, ...] = (
    LogFilter(
        "kedro.pipeline.node",
        "'Running node' per node, and Kedro's copy of an error that the runner "
        "reports once with the request's context (only inside a ServingRunner run)",
        _outside_a_request,
    ),
    LogFilter(
        "kedro_mlflow.mlflow.kedro_pipeline_model",
        "the INFO line 'Using params:...' that kedro-mlflow writes on every predict "
        "(matched on its text)",
        _not_params_chatter,
    ),
    LogFilter(
        "kedro_mlflow.pipeline.pipeline_ml",
        "the 11-line WARNING 'BEWARE - This Pipeline is no longer a PipelineML' "
        "that kedro-mlflow writes each time Kedro filters a bundled pipeline, four "
        "times when a node fails (matched on its text)",
        _not_demotion_notice,
    ),
)


class _Filter(logging.Filter):
    def __init__(self, entry: LogFilter) -> None:
        super().__init__()
        self.entry = entry

    def filter(self, record: logging.LogRecord) -> bool:
        return self.entry.keep(record)


def install_log_filters() -> None:
    """Add each of :data:`LOG_FILTERS` to its logger, once."""
    for entry in LOG_FILTERS:
        target = logging.getLogger(entry.logger)
        if not any(isinstance(f, _Filter) and f.entry is entry for f in target.filters):
            target.addFilter(_Filter(entry))


def _owner(path: str) -> Any:
    """The module, or the class of a module (``package.module.Class``), at ``path``."""
    try:
        return importlib.import_module(path)
    except ImportError:
        parent, _, name = path.rpartition(".")
        if not parent:
            return None
        return getattr(_owner(parent), name, None)


def _present(module: Any, patch: Patch) -> bool:
    names = (patch.name, *_ALSO_NEEDED.get(patch.name, ()))
    return module is not None and all(hasattr(module, n) for n in names)


def install(group: str) -> list[str]:
    """Replace the names of ``group`` (``"tracking"`` or ``"serving"``).

    Returns the replaced names (``module.name``). A missing name is left to
    the dependency, with one warning per process.

    Raises:
        ValueError: ``group`` is not a group of :data:`PATCHES`.
    """
    groups = {patch.group for patch in PATCHES}
    if group not in groups:
        raise ValueError(f"No patch group {group!r}; groups: {sorted(groups)}")
    installed = []
    for patch in PATCHES:
        if patch.group != group:
            continue
        module = _owner(patch.module)
        if not _present(module, patch):
            if patch.target not in _warned:
                _warned.add(patch.target)
                logger.warning(
                    "kedro-mlops: %s is gone (another version of its package?); "
                    "running with the package's own behaviour, without this gain: %s.",
                    patch.target,
                    patch.gain,
                )
            continue
        setattr(module, patch.name, patch.replace(getattr(module, patch.name)))
        installed.append(patch.target)
    install_log_filters()
    return installed
