"""An MLflow run shared with the worker processes of ``ParallelRunner``.

**The run.** A worker process has no active MLflow run: a forked one starts with
MLflow's run stack emptied, a spawned one (macOS, or ``KEDRO_MP_CONTEXT=spawn``)
with fresh hooks that never saw the run. :func:`share_run` sets MLflow's own
``MLFLOW_RUN_ID`` for the pipeline's duration, so whatever a worker logs (the
parameters kedro-mlflow logs before a node, an artifact dataset, a drift
check's metrics) resumes the pipeline's run instead of starting a new one.

**Artifact datasets.**
kedro-mlflow's ``MlflowArtifactDataset`` wraps a dataset in a class that it
defines anew for every instance, inside a function, so Python's pickle cannot
find that class by name; ``ParallelRunner`` pickles each dataset into its
worker processes and stops before the first node ("datasets cannot be used with
multiprocessing"). :func:`make_artifact_datasets_picklable` registers, with the
standard library's :mod:`copyreg`, how to pickle each such dataset of a
catalog: as the configuration it was built from plus its state, rebuilt in the
worker by kedro-mlflow's own class. Nothing of kedro-mlflow is replaced, and the
catalog stays as the user wrote it.


Example:
    >>> import pickle
    >>> from kedro.io import DataCatalog
    >>> catalog = DataCatalog.from_config({"plot": {
    ...     "type": "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
    ...     "dataset": {"type": "pickle.PickleDataset", "filepath": "plot.pkl"},
    ...     "artifact_path": "plots"}})
    >>> make_artifact_datasets_picklable(catalog)
    ['plot']
    >>> copy = pickle.loads(pickle.dumps(catalog["plot"]))
    >>> type(copy).__name__, copy.artifact_path
    ('MlflowPickleDataset', 'plots')
"""

from __future__ import annotations

import copy
import copyreg
import os
from typing import Any

RUN_ID_VARIABLE = "MLFLOW_RUN_ID"

_ARTIFACT_DATASET = "MlflowArtifactDataset"


def rebuild_artifact_dataset(config: dict[str, Any], state: dict[str, Any]) -> Any:
    """kedro-mlflow's dataset built from ``config``, with ``state`` restored."""
    from kedro_mlflow.io.artifacts import MlflowArtifactDataset

    dataset = MlflowArtifactDataset(**config)
    dataset.__dict__.update(state)
    return dataset


def _reducer(config: dict[str, Any]):
    def reduce(dataset: Any) -> tuple[Any, tuple[dict[str, Any], dict[str, Any]]]:
        return rebuild_artifact_dataset, (config, dict(vars(dataset)))

    return reduce


def _configuration(catalog: Any, name: str) -> dict[str, Any] | None:
    resolver = getattr(catalog, "config_resolver", None)
    if resolver is None:
        return None
    config = resolver.config.get(name)
    if config is None and resolver.match_dataset_pattern(name):
        config = resolver.resolve_pattern(name)
    return config or None


def make_artifact_datasets_picklable(catalog: Any) -> list[str]:
    """Make every kedro-mlflow artifact dataset of ``catalog`` picklable.

    Returns the names of those datasets. A dataset that was not built from the
    catalog's configuration (added in code) is left as it is.
    """
    names = []
    for name in catalog.keys():
        config = _configuration(catalog, name)
        if not config or not str(config.get("type", "")).endswith(_ARTIFACT_DATASET):
            continue
        dataset = catalog[name]
        if (
            type(dataset).__module__
            != "kedro_mlflow.io.artifacts.mlflow_artifact_dataset"
        ):
            continue
        arguments = {k: copy.deepcopy(v) for k, v in config.items() if k != "type"}
        copyreg.pickle(type(dataset), _reducer(arguments))
        names.append(name)
    return names


def share_run(run_id: str) -> bool:
    """Let worker processes started from now on log into ``run_id``.

    Returns False, changing nothing, when ``MLFLOW_RUN_ID`` is already set
    (the user's own choice stays).
    """
    if os.environ.get(RUN_ID_VARIABLE):
        return False
    os.environ[RUN_ID_VARIABLE] = run_id
    return True


def stop_sharing(run_id: str) -> None:
    """Undo :func:`share_run` (MLflow may have done it already)."""
    if os.environ.get(RUN_ID_VARIABLE) == run_id:
        del os.environ[RUN_ID_VARIABLE]
