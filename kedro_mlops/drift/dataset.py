"""``ParquetBatchesDataset``: a Parquet file or folder handed to the drift check
unread, so that it reads it in record batches with bounded memory.

Example ``catalog.yml``:

.. code-block:: yaml

    scored_history:                     # too large for memory: read in batches
      type: kedro_mlops.datasets.ParquetBatchesDataset
      filepath: data/07_model_output/scored_history/

Loading returns a ``pyarrow.dataset.Dataset``: nothing but the files' footers
is read until the drift engine asks for batches. The dataset is read-only.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import AbstractDataset, DatasetError


class ParquetBatchesDataset(AbstractDataset[None, Any]):
    """A Parquet file or folder as a pyarrow dataset, for
    :func:`kedro_mlops.drift.detect_drift` and the drift pipeline's node.

    Args:
        filepath: a Parquet file, or a folder of Parquet files (read recursively).

    Example:
        >>> import tempfile, pandas as pd
        >>> folder = tempfile.mkdtemp()
        >>> pd.DataFrame({"x": [1, 2]}).to_parquet(f"{folder}/part-0.parquet")
        >>> ParquetBatchesDataset(filepath=folder).load().count_rows()
        2
    """

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None):
        self._filepath = PurePosixPath(filepath)
        self.metadata = metadata

    def load(self) -> Any:
        import pyarrow.dataset as ds

        path = Path(self._filepath)
        if not path.exists():
            raise DatasetError(
                f"{path} does not exist: ParquetBatchesDataset reads a Parquet "
                "file or a folder of Parquet files."
            )
        return ds.dataset(path, format="parquet")

    def save(self, data: None) -> None:
        raise DatasetError(
            f"ParquetBatchesDataset is read-only ({self._filepath}): write the data "
            "with pandas.ParquetDataset or spark.SparkDataset, and read it back "
            "through this one."
        )

    def _exists(self) -> bool:
        return Path(self._filepath).exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
