"""Kedro datasets added by kedro-mlops.

Importing this package is cheap: DVC is imported when data is first loaded or
saved, never here.
"""

from kedro_mlops.datasets.dvc_dataset import DVCDataset

__all__ = ["DVCDataset"]
