"""Kedro datasets added by kedro-mlops, under their catalog type path.

``type: kedro_mlops.datasets.DVCDataset`` in ``catalog.yml``; the dataset
lives in :mod:`kedro_mlops.versioning`. Importing this package is cheap: DVC
is imported when data is first loaded or saved, never here.
"""

from kedro_mlops.versioning.dataset import DVCDataset

__all__ = ["DVCDataset"]
