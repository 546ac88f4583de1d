"""Kedro datasets added by kedro-mlops, under their catalog type path.

``type: kedro_mlops.datasets.DVCDataset`` in ``catalog.yml`` (it lives in
:mod:`kedro_mlops.versioning`), ``kedro_mlops.datasets.ParquetBatchesDataset``
(in :mod:`kedro_mlops.drift`). Importing this package is cheap: DVC and pyarrow
are imported when data is first loaded or saved, never here.
"""

from kedro_mlops.drift.dataset import ParquetBatchesDataset
from kedro_mlops.versioning.dataset import DVCDataset

__all__ = ["DVCDataset", "ParquetBatchesDataset"]
