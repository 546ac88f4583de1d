"""The model bundled with its inference pipeline: how it is built and what it shares.

:func:`bundle_model` is kedro-mlflow's ``pipeline_ml_factory`` with what a
served model needs: the :class:`~kedro_mlops.serving.ServingRunner`, a
signature that accepts missing integers, pinned requirements (MLflow does not
infer them at every run), and the project's package bundled as code (the model
loads and serves where the project is not installed).

kedro-mlflow deep-copies every input of the bundled inference pipeline on
every ``predict``, the fitted preprocessor and model included. Just before it
logs the model, :func:`share_fitted_estimators` (run by the plugin's hooks)
saves each fitted scikit-learn estimator among those inputs again, frozen by
:func:`~kedro_mlops.serving.estimators.share`: a deep copy of it is itself, so
requests stop paying for the copy. Nodes keep returning plain estimators.

Example (a project's ``pipeline_registry.py``)::

    training = bundle_model(
        training=ingest + feature + train + evaluate,
        inference=infer,
        input_name="scoring_batch",
    )
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def bundle_model(
    training: Any,
    inference: Any,
    input_name: str,
    *,
    artifact_name: str = "model",
    package_name: str | None = None,
    log_model_kwargs: dict[str, Any] | None = None,
) -> Any:
    """A training pipeline that logs ``inference`` as its model (a ``PipelineML``).

    Args:
        training: the pipeline that fits the inference pipeline's inputs.
        inference: the pipeline the model runs on each ``predict``.
        input_name: the dataset of ``inference`` that receives the rows to score.
        artifact_name: the model's name inside the MLflow run.
        package_name: the project package to bundle as code; by default the
            running Kedro project's.
        log_model_kwargs: more arguments for ``mlflow.pyfunc.log_model``; they
            win over the defaults above.
    """
    from kedro_mlflow.pipeline import pipeline_ml_factory

    from kedro_mlops.serving.runner import ServingRunner
    from kedro_mlops.tracking.model_logging import AUTO, model_requirements

    kwargs: dict[str, Any] = {
        "name": artifact_name,
        "signature": AUTO,
        "pip_requirements": model_requirements(),
    }
    package = _package_folder(package_name)
    if package is not None:
        kwargs["code_paths"] = [str(package)]
    kwargs |= log_model_kwargs or {}
    return pipeline_ml_factory(
        training=training,
        inference=inference,
        input_name=input_name,
        kpm_kwargs={"runner": ServingRunner()},
        log_model_kwargs=kwargs,
    )


def _package_folder(package_name: str | None) -> Path | None:
    if package_name is None:
        from kedro.framework.project import PACKAGE_NAME

        package_name = PACKAGE_NAME
    if not package_name:
        return None
    spec = importlib.util.find_spec(package_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def share_fitted_estimators(pipeline: Any, catalog: Any) -> list[str]:
    """Save the bundled model's fitted estimators again, frozen for sharing.

    Only for a ``PipelineML`` run; only the inference pipeline's inputs that
    the training pipeline wrote (not its ``params:``, not the input rows) and
    that hold a fitted scikit-learn estimator. Returns the names re-saved.
    """
    inference = getattr(pipeline, "inference", None)
    input_name = getattr(pipeline, "input_name", None)
    if inference is None or "sklearn.base" not in sys.modules:
        return []  # not a bundled model, or nothing could have fitted an estimator
    from sklearn.base import BaseEstimator

    from kedro_mlops.serving.estimators import SharedEstimator, share

    written = set(pipeline.all_outputs())
    shared = []
    for name in sorted(inference.inputs()):
        if name == input_name or name.startswith("params:") or name not in written:
            continue
        value = catalog.load(name)
        if isinstance(value, BaseEstimator) and not isinstance(value, SharedEstimator):
            catalog.save(name, share(value))
            shared.append(name)
    if shared:
        logger.debug("Shared between requests of the served model: %s", shared)
    return shared
