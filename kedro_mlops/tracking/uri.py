"""OmegaConf resolvers that kedro-mlops adds to every project's configuration.

``${mlops.project_path:}`` resolves to the absolute path of the Kedro project
root. It lets ``mlflow.yml`` name a sqlite store at the project root
(``sqlite:///${mlops.project_path:}/mlflow.db``): MLflow resolves a relative
``sqlite:///mlflow.db`` from the current directory, so without it a run started
from a sub-directory would silently write to a second, empty store.

``${mlops.tracking_uri:}`` is the ``MLFLOW_TRACKING_URI`` environment variable
when it is set, and that embedded store otherwise. ``${mlops.artifact_location:
mlartifacts}`` is the given folder for the embedded store; for a store that the
environment names, it is ``null`` (the tracking server decides), except for a
sqlite file, whose artifacts go to ``mlartifacts`` beside it (MLflow would put
them in ``./mlruns`` of whatever the current directory is: inside a container,
lost with it, while the store on a mounted volume keeps pointing at them). A
container, a CI job or a colleague's shell points the project at a tracking
server with one variable and no edit to ``mlflow.yml``; MLflow reads the
credentials (``MLFLOW_TRACKING_USERNAME``, ``MLFLOW_TRACKING_PASSWORD``,
``AWS_*``) from the environment itself.

Example:
    >>> from pathlib import Path
    >>> from omegaconf import OmegaConf
    >>> register_resolvers(Path("/srv/churn-model"))
    >>> OmegaConf.create({"uri": "sqlite:///${mlops.project_path:}/mlflow.db"}).uri
    'sqlite:////srv/churn-model/mlflow.db'
    >>> import os; os.environ.pop("MLFLOW_TRACKING_URI", None)
    >>> OmegaConf.create({"uri": "${mlops.tracking_uri:}"}).uri
    'sqlite:////srv/churn-model/mlflow.db'
    >>> os.environ["MLFLOW_TRACKING_URI"] = "sqlite:////mnt/store/mlflow.db"
    >>> OmegaConf.create({"at": "${mlops.artifact_location:mlartifacts}"}).at
    '/mnt/store/mlartifacts'
    >>> del os.environ["MLFLOW_TRACKING_URI"]
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path

from omegaconf import OmegaConf

PROJECT_PATH_RESOLVER = "mlops.project_path"
TRACKING_URI_RESOLVER = "mlops.tracking_uri"
ARTIFACT_LOCATION_RESOLVER = "mlops.artifact_location"
TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"


def tracking_uri_from_environment() -> str | None:
    """``MLFLOW_TRACKING_URI`` if it is set and not empty."""
    return os.environ.get(TRACKING_URI_VARIABLE, "").strip() or None


def artifact_location(default: str | None = None) -> str | None:
    """Where a new experiment keeps its artifacts (see the module docstring)."""
    uri = tracking_uri_from_environment()
    if uri is None:
        return default
    if uri.startswith("sqlite:///"):
        database = uri.removeprefix("sqlite:///").split("?")[0]
        if database and database != ":memory:":
            # relative to the current directory, as MLflow opens it
            return (Path(database).resolve().parent / "mlartifacts").as_posix()
    return None


def register_resolvers(project_path: Path) -> None:
    """Register (or re-point) the kedro-mlops resolvers for ``project_path``."""
    resolved = Path(project_path).resolve().as_posix()
    # OmegaConf 2.4 deprecates `register_new_resolver` (noisily) in favour of
    # `register_resolver`, which in 2.3 is an older call without `replace`.
    register: Callable[..., None] = OmegaConf.register_new_resolver
    if "replace" in inspect.signature(OmegaConf.register_resolver).parameters:
        register = OmegaConf.register_resolver
    register(PROJECT_PATH_RESOLVER, lambda: resolved, replace=True)
    embedded = f"sqlite:///{resolved}/mlflow.db"
    register(
        TRACKING_URI_RESOLVER,
        lambda: tracking_uri_from_environment() or embedded,
        replace=True,
    )
    register(ARTIFACT_LOCATION_RESOLVER, artifact_location, replace=True)
