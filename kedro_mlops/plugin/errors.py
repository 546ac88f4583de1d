"""Errors that kedro-mlops raises for a user's mistake are shown as their message.

Kedro prints every exception that ends a ``kedro`` command with a long rich
traceback through Kedro, the runner and the dependencies. For an error that
kedro-mlops raised because of the user's input or environment (a wrong
``mlops.yml``, a table that breaks the schema, a tracking server that does not
answer), the message already says what is wrong and how to fix it; the
traceback only hides it. :func:`install` wraps :data:`sys.excepthook` so that
such an error, found on the exception or along its ``raise ... from`` chain, is
printed as ``Error: <message>``; any other exception keeps the full traceback,
and ``KEDRO_MLOPS_TRACEBACK=1`` brings it back for all of them.

Example:
    >>> user_error(KeyError("bug")) is None
    True
    >>> from kedro_mlops.config import MlopsConfigError
    >>> wrapped = RuntimeError("Failed while loading")
    >>> wrapped.__cause__ = MlopsConfigError("registry.metric: unknown")
    >>> str(user_error(wrapped))
    'registry.metric: unknown'
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

TRACEBACK_VARIABLE = "KEDRO_MLOPS_TRACEBACK"
_MARK = "_kedro_mlops_excepthook"


def user_error(error: BaseException | None) -> BaseException | None:
    """The first exception of kedro-mlops on ``error``'s ``__cause__`` chain."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if type(error).__module__.split(".")[0] == "kedro_mlops":
            return error
        error = error.__cause__
    return None


def install() -> None:
    """Wrap :data:`sys.excepthook` once (see the module docstring)."""
    previous = sys.excepthook
    if getattr(previous, _MARK, False):
        return

    def excepthook(
        kind: type[BaseException],
        error: BaseException,
        traceback: TracebackType | None,
    ) -> Any:
        found = user_error(error)
        if found is None or os.environ.get(TRACEBACK_VARIABLE, "") not in ("", "0"):
            return previous(kind, error, traceback)
        sys.stderr.write(f"Error: {found}\n")
        sys.stderr.write(
            f"(The full traceback: set {TRACEBACK_VARIABLE}=1 and run again.)\n"
        )
        return None

    setattr(excepthook, _MARK, True)
    sys.excepthook = excepthook


class UnknownEnvironmentError(ValueError):
    """``--env`` names a configuration environment that does not exist."""


def check_environment(loader: Any, env: str | None) -> None:
    """Raise :class:`UnknownEnvironmentError` when ``env`` has no folder.

    Kedro reads a missing environment as an empty one, so a typo in ``--env``
    silently drops that environment's settings, and with them the project's
    ``mlflow.yml`` store: MLflow then refuses kedro-mlflow's default file store
    with an unrelated message.
    """
    source = Path(str(getattr(loader, "conf_source", "")))
    if not env or not source.is_dir() or (source / env).is_dir():
        return
    known = sorted(p.name for p in source.iterdir() if p.is_dir())
    raise UnknownEnvironmentError(
        f"No configuration environment '{env}': {source / env} does not exist. "
        f"This project's environments: {', '.join(known)}. Pass one of them to "
        f"--env, or create {source.name}/{env}/."
    )
