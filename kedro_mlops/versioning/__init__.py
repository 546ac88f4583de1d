"""Data versioning: DVC-backed datasets, ``.dvc`` records, the lineage of runs, restore.

* :mod:`~kedro_mlops.versioning.dataset`: :class:`DVCDataset` (the catalog
  type is ``kedro_mlops.datasets.DVCDataset``);
* :mod:`~kedro_mlops.versioning.records`: ``.dvc`` records and md5s, without
  DVC's API;
* :mod:`~kedro_mlops.versioning.lineage`: what data and code made a run;
* :mod:`~kedro_mlops.versioning.restore`: a run's data back in the workspace.

Importing it is cheap: DVC is imported when data is loaded or saved.
"""

from kedro_mlops.versioning.dataset import DVCDataset
from kedro_mlops.versioning.lineage import DataVersion, Lineage

__all__ = ["DVCDataset", "DataVersion", "Lineage"]
