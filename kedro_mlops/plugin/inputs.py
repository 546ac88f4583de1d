"""A run whose inputs do not exist yet (or are empty files) stops before it
starts, saying which pipeline writes them.

Kedro loads each input when its node runs, so ``kedro run --pipelines
inference`` in a project that was never trained fails deep in a node with a
``DatasetError`` about a missing Parquet file. Before kedro-mlflow opens a run,
:func:`missing_inputs` checks every input of the pipeline that Kedro can check
(a dataset that implements ``exists``; parameters and memory datasets are left
out), and a bundled model read from the registry by alias or version; the error
names each missing input and the registered pipeline that writes it.

Example:
    >>> error = MissingInputsError(
    ...     ["reference_sample: nothing saved yet (data/02_intermediate/x.parquet)"],
    ...     ["training"])
    >>> print(error)
    This run needs data that is missing or empty:
      - reference_sample: nothing saved yet (data/02_intermediate/x.parquet)
    Run `kedro run --pipelines training` first: it writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro_mlops.tracking.store import reads_registry, registry_model_dataset


class MissingInputsError(RuntimeError):
    """Inputs of the run have no data yet."""

    def __init__(self, missing: list[str], writers: list[str]) -> None:
        lines = ["This run needs data that is missing or empty:"]
        lines += [f"  - {entry}" for entry in missing]
        if writers:
            runs = " and ".join(f"`kedro run --pipelines {w}`" for w in writers)
            lines.append(f"Run {runs} first: it writes them.")
        super().__init__("\n".join(lines))


def _registry_model_missing(dataset: Any) -> str | None:
    """Why kedro-mlflow's registry dataset has no model to load, or None."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    name = dataset.model_name
    try:
        if dataset.alias:
            client.get_model_version_by_alias(name, dataset.alias)
        elif str(dataset.stage_or_version).isdigit():
            client.get_model_version(name, str(dataset.stage_or_version))
    except MlflowException:
        wanted = (
            f"the alias '{dataset.alias}'"
            if dataset.alias
            else f"version {dataset.stage_or_version}"
        )
        return f"no version of registered model '{name}' has {wanted}"
    return None


def _checkable(dataset: Any) -> bool:
    from kedro.io import AbstractDataset, MemoryDataset

    if isinstance(dataset, MemoryDataset):
        return False
    return type(dataset)._exists is not AbstractDataset._exists


def _filepath(dataset: Any) -> str | None:
    described = dataset._describe() if hasattr(dataset, "_describe") else {}
    path = described.get("filepath") or described.get("path")
    return str(path) if path else None


def _empty_file(path: str | None) -> bool:
    return path is not None and Path(path).is_file() and Path(path).stat().st_size == 0


def _where(path: str | None) -> str:
    return "" if path is None else f" ({_relative(path)})"


def _relative(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _captured_inputs(pipeline: Any) -> set[str]:
    """The inputs that monitoring nodes read as captured traffic."""
    import sys

    monitoring = sys.modules.get("kedro_mlops.monitoring.pipeline")
    if monitoring is None:  # no monitoring node was made
        return set()
    return {
        node.inputs[0]
        for node in pipeline.nodes
        if node.func is monitoring.select_windows
    }


def missing_inputs(pipeline: Any, catalog: Any) -> list[tuple[str, str]]:
    """``(dataset name, why)`` for each input of ``pipeline`` without data."""
    missing = []
    captured = _captured_inputs(pipeline)
    for name in sorted(pipeline.inputs()):
        if name == "parameters" or name.startswith("params:") or name not in catalog:
            continue
        dataset = catalog.get(name)
        if reads_registry(dataset):
            reason = (
                _registry_model_missing(dataset)
                if registry_model_dataset(dataset)
                else dataset.missing_reason()
            )
            if reason is not None:
                missing.append((name, reason))
        elif _checkable(dataset):
            path = _filepath(dataset)
            if not catalog.exists(name) and name in captured:
                from kedro_mlops.monitoring.windows import no_capture_message

                missing.append((name, no_capture_message(path and _relative(path))))
            elif not catalog.exists(name):
                missing.append((name, f"nothing saved yet{_where(path)}"))
            elif _empty_file(path):
                missing.append((name, f"the file is empty, 0 bytes{_where(path)}"))
    return missing


def check_inputs(pipeline: Any, catalog: Any, pipelines: Mapping[str, Any]) -> None:
    """Raise :class:`MissingInputsError` when an input of ``pipeline`` has no
    data; ``pipelines`` (Kedro's registry) tells which pipeline writes it."""
    missing = missing_inputs(pipeline, catalog)
    if not missing:
        return
    names = {name for name, _ in missing}
    writers = []
    for key, candidate in sorted(pipelines.items(), key=lambda kv: -len(kv[1].nodes)):
        if key == "__default__" or not names & set(candidate.all_outputs()):
            continue
        writers.append(key)
        names -= set(candidate.all_outputs())
    from_registry = {n for n in names if reads_registry(catalog.get(n))}
    if from_registry:  # registered, with its run's files, by the bundled pipeline
        trainers = [
            key
            for key, candidate in sorted(pipelines.items())
            if key != "__default__" and type(candidate).__name__ == "PipelineML"
        ]
        writers += [key for key in trainers[:1] if key not in writers]
    raise MissingInputsError([f"{name}: {why}" for name, why in missing], writers)
