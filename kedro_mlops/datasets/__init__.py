"""Kedro datasets added by kedro-mlops, under their catalog type path.

* ``type: kedro_mlops.datasets.DVCDataset``: any dataset, versioned by DVC
  (it lives in :mod:`kedro_mlops.versioning`);
* ``type: kedro_mlops.datasets.ParquetBatchesDataset``: Parquet read in record
  batches, for drift checks (in :mod:`kedro_mlops.drift`);
* ``type: kedro_mlops.datasets.SparkModelRegistryDataset``: a registered
  model that scores pandas and Spark DataFrames (:mod:`kedro_mlops.spark`).

Importing this package is cheap: DVC and pyarrow are imported when data is
first loaded or saved, kedro-mlflow and MLflow when
``SparkModelRegistryDataset`` is first asked for, never here.
"""

from typing import Any

from kedro_mlops.drift.dataset import ParquetBatchesDataset
from kedro_mlops.versioning.dataset import DVCDataset

__all__ = ["DVCDataset", "ParquetBatchesDataset", "SparkModelRegistryDataset"]


def __getattr__(name: str) -> Any:
    if name == "SparkModelRegistryDataset":
        from kedro_mlops.spark.dataset import SparkModelRegistryDataset

        return SparkModelRegistryDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
