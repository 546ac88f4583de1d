"""Kedro datasets added by kedro-mlops, under their catalog type path.

* ``type: kedro_mlops.datasets.DVCDataset``: any dataset, versioned by DVC
  (it lives in :mod:`kedro_mlops.versioning`);
* ``type: kedro_mlops.datasets.ParquetBatchesDataset``: Parquet read in record
  batches, for drift checks (in :mod:`kedro_mlops.drift`);
* ``type: kedro_mlops.datasets.SparkModelRegistryDataset``: a registered
  model that scores pandas and Spark DataFrames (:mod:`kedro_mlops.spark`);
* ``type: kedro_mlops.datasets.RegistryArtifactDataset``: a file logged by the
  run of a registered model version, such as the champion's drift reference
  (:mod:`kedro_mlops.tracking`).

Importing this package is cheap: DVC and pyarrow are imported when data is
first loaded or saved, kedro-mlflow and MLflow when
``SparkModelRegistryDataset`` is first asked for, never here.
"""

from typing import Any

from kedro_mlops.drift.dataset import ParquetBatchesDataset
from kedro_mlops.versioning.dataset import DVCDataset

__all__ = [
    "DVCDataset",
    "ParquetBatchesDataset",
    "RegistryArtifactDataset",
    "SparkModelRegistryDataset",
]


def __getattr__(name: str) -> Any:
    if name == "SparkModelRegistryDataset":
        from kedro_mlops.spark.dataset import SparkModelRegistryDataset

        return SparkModelRegistryDataset
    if name == "RegistryArtifactDataset":
        from kedro_mlops.tracking.artifact_dataset import RegistryArtifactDataset

        return RegistryArtifactDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
