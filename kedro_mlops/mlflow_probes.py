"""Two of MLflow's probes, answered without their cost when the answer is known.

**The notebook probes.** Every ``mlflow.start_run`` asks where it runs, twice by
importing IPython:

* the Jupyter run-context provider calls ``is_running_in_ipython_environment``
  (``from IPython import get_ipython``);
* the Databricks job-resumption check calls ``_get_dbutils`` (``import
  IPython``), which looks for ``dbutils`` in the IPython shell's namespace.

In a process that never imported IPython no IPython shell can exist, so both
answers are "no"; the import alone costs about a second of every ``kedro run``
wherever IPython is installed (kedro-viz brings it into every development
environment).

Wrapped, both answer "no" at once when the IPython module is not loaded, and
ask MLflow's own probe otherwise (``kedro ipython``, Jupyter, Databricks
notebooks): the same answers, without the import.

**The requirements check.** Logging or loading a model checks that the
environment satisfies the model's pip requirements, to warn when it does not;
MLflow first maps every installed distribution to its modules (0.1 to 0.2 s).
The starter's requirements are read from the environment itself
(``kedro_mlops.registry.model_requirements``), so they are satisfied. Wrapped,
the check first compares each requirement with the installed version (a
metadata lookup per requirement) and calls MLflow's check only when one is not
plainly satisfied, so every warning MLflow would give is still given.

:func:`install` (run by the plugin's ``after_context_created`` hook) wraps
them. If a future MLflow moves these functions, nothing is wrapped and runs are
only slower.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable
from typing import Any

_MARK = "_kedro_mlops_guarded"


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


def install() -> list[str]:
    """Wrap MLflow's probes; returns the names of those wrapped."""
    try:
        from mlflow import pyfunc
        from mlflow.tracking.context import jupyter_notebook_context as jupyter
        from mlflow.utils import databricks_utils as databricks
        from mlflow.utils import environment
    except ImportError:  # another MLflow layout: leave it as it is
        return []

    def no_dbutils() -> Any:
        raise databricks._NoDbutilsError

    targets = [
        (jupyter, "is_running_in_ipython_environment", lambda: False),
        (databricks, "is_running_in_ipython_environment", lambda: False),
    ]
    if hasattr(databricks, "_NoDbutilsError"):
        targets.append((databricks, "_get_dbutils", no_dbutils))
    guarded_names = []
    for module, name, answer in targets:
        probe = getattr(module, name, None)
        if probe is None:
            continue
        setattr(module, name, guarded(probe, answer))
        guarded_names.append(f"{module.__name__}.{name}")
    for module in (environment, pyfunc):
        check = getattr(module, "warn_dependency_requirement_mismatches", None)
        if check is not None:
            module.warn_dependency_requirement_mismatches = requirements_check(check)
            guarded_names.append(
                f"{module.__name__}.warn_dependency_requirement_mismatches"
            )
    return guarded_names
