"""MLflow's notebook probes, without importing IPython when no IPython runs.

Every ``mlflow.start_run`` asks where it runs, twice by importing IPython:

* the Jupyter run-context provider calls ``is_running_in_ipython_environment``
  (``from IPython import get_ipython``);
* the Databricks job-resumption check calls ``_get_dbutils`` (``import
  IPython``), which looks for ``dbutils`` in the IPython shell's namespace.

In a process that never imported IPython no IPython shell can exist, so both
answers are "no"; the import alone costs about a second of every ``kedro run``
wherever IPython is installed (kedro-viz brings it into every development
environment).

:func:`install` wraps both probes so that they answer "no" at once when the
IPython module is not loaded, and ask MLflow's own probe otherwise (``kedro
ipython``, Jupyter, Databricks notebooks): the same answers, without the import.
If a future MLflow moves these functions, nothing is wrapped and runs are only
slower.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

_MARK = "_kedro_mlops_guarded"


def ipython_loaded() -> bool:
    return "IPython" in sys.modules


def guarded(probe: Callable[[], Any], answer_when_absent: Callable[[], Any]):
    """``probe`` when IPython is loaded, else ``answer_when_absent()``."""
    if getattr(probe, _MARK, False):
        return probe

    def guarded_probe() -> Any:
        return probe() if ipython_loaded() else answer_when_absent()

    setattr(guarded_probe, _MARK, True)
    guarded_probe.__wrapped__ = probe  # type: ignore[attr-defined]
    guarded_probe.__name__ = getattr(probe, "__name__", "guarded_probe")
    return guarded_probe


def install() -> list[str]:
    """Guard MLflow's IPython probes; returns the names of those guarded."""
    try:
        from mlflow.tracking.context import jupyter_notebook_context as jupyter
        from mlflow.utils import databricks_utils as databricks
    except ImportError:  # another MLflow layout: leave it as it is
        return []

    def no_dbutils() -> Any:
        raise databricks._NoDbutilsError

    targets = [
        (jupyter, "is_running_in_ipython_environment", lambda: False),
        (databricks, "is_running_in_ipython_environment", lambda: False),
        (databricks, "_get_dbutils", no_dbutils),
    ]
    guarded_names = []
    for module, name, answer in targets:
        probe = getattr(module, name, None)
        if probe is None or (
            name == "_get_dbutils" and not hasattr(databricks, "_NoDbutilsError")
        ):
            continue
        setattr(module, name, guarded(probe, answer))
        guarded_names.append(f"{module.__name__}.{name}")
    return guarded_names
