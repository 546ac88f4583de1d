"""``kedro_mlops.datasets.SparkModelRegistryDataset``: a registered model that also scores Spark DataFrames.

kedro-mlflow's ``MlflowModelRegistryDataset`` (same arguments: ``model_name``,
``alias`` or ``stage_or_version``, ``flavor``, ``load_args``...), whose load
downloads the model into a folder of its own and returns it as a
:class:`~kedro_mlops.spark.scoring.ScoringModel`: ``predict`` scores a pandas
DataFrame as the model does, and a Spark DataFrame partition by partition.

.. code-block:: yaml

    champion_model:
      type: kedro_mlops.datasets.SparkModelRegistryDataset
      model_name: churn_model
      alias: champion

Importing this module imports kedro-mlflow (and MLflow):
:mod:`kedro_mlops.datasets` imports it only when the name is asked for.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from typing import Any

from kedro_mlflow.io.models import MlflowModelRegistryDataset

from kedro_mlops.spark.scoring import ScoringModel


class SparkModelRegistryDataset(MlflowModelRegistryDataset):
    """A registered MLflow model, loaded as a :class:`ScoringModel`."""

    def _load(self) -> ScoringModel:
        import mlflow

        folder = tempfile.mkdtemp(prefix="kedro-mlops-model-")
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=self.model_uri, dst_path=folder
        )
        model = self._mlflow_model_module.load_model(model_uri=local, **self._load_args)
        run_id = getattr(getattr(model, "metadata", None), "run_id", None)
        if run_id:
            self._logger.info(f"Loading model from run_id='{run_id}'")
        scoring = ScoringModel(model, local)
        weakref.finalize(scoring, shutil.rmtree, folder, True)
        return scoring

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "scores": "pandas and Spark DataFrames"}
