"""OmegaConf resolvers that kedro-mlops adds to every project's configuration.

``${mlops.project_path:}`` resolves to the absolute path of the Kedro project
root. It lets ``mlflow.yml`` name a sqlite store at the project root
(``sqlite:///${mlops.project_path:}/mlflow.db``): MLflow resolves a relative
``sqlite:///mlflow.db`` from the current directory, so without it a run started
from a sub-directory would silently write to a second, empty store.

Example:
    >>> from pathlib import Path
    >>> from omegaconf import OmegaConf
    >>> register_resolvers(Path("/srv/churn-model"))
    >>> OmegaConf.create({"uri": "sqlite:///${mlops.project_path:}/mlflow.db"}).uri
    'sqlite:////srv/churn-model/mlflow.db'
"""

from __future__ import annotations

import inspect
from pathlib import Path

from omegaconf import OmegaConf

PROJECT_PATH_RESOLVER = "mlops.project_path"


def register_resolvers(project_path: Path) -> None:
    """Register (or re-point) the kedro-mlops resolvers for ``project_path``."""
    resolved = Path(project_path).resolve().as_posix()
    # OmegaConf 2.4 deprecates `register_new_resolver` (noisily) in favour of
    # `register_resolver`, which in 2.3 is an older call without `replace`.
    register = OmegaConf.register_new_resolver
    if "replace" in inspect.signature(OmegaConf.register_resolver).parameters:
        register = OmegaConf.register_resolver
    register(PROJECT_PATH_RESOLVER, lambda: resolved, replace=True)
