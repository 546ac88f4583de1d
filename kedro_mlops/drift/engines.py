"""Which engine summarises the data: pandas in memory, pyarrow batches, or Spark.

The drift engine decides on summaries (:mod:`kedro_mlops.drift.summaries`);
this module makes them from whatever holds the data:

* a pandas DataFrame: summarised in memory (exact quantile edges);
* a Parquet file or folder, as a path or a ``pyarrow.dataset.Dataset``: read in
  record batches with bounded memory (:mod:`kedro_mlops.drift.batches`);
* a Spark DataFrame: summarised partition by partition on the executors
  (:mod:`kedro_mlops.drift.spark`).

The reference and the current data need not use the same engine.

Example:
    >>> import pandas as pd
    >>> profile, summary = reference_profile(pd.DataFrame({"x": [1.0, 2.0]}), DriftConfig())
    >>> summary_of(pd.DataFrame({"x": [3.0]}), profile, "current data").n_rows
    1
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import batches, spark
from .config import DriftConfig
from .errors import DriftInputError
from .profile import DriftProfile, build_profile_and_summary
from .summaries import DatasetSummary, summarize


def _refuse(data: Any, source: str) -> DriftInputError:
    return DriftInputError(
        f"The {source} is a {type(data).__name__}: drift compares pandas "
        "DataFrames, Spark DataFrames, and Parquet files or folders (a path or "
        "a pyarrow dataset)."
    )


def reference_profile(
    reference: Any, config: DriftConfig
) -> tuple[DriftProfile, DatasetSummary]:
    """The drift profile of the reference and the reference's summary on it.

    Raises:
        DriftInputError: the reference is not data drift can read, or as
            :func:`~kedro_mlops.drift.profile.build_profile`.
    """
    if isinstance(reference, pd.DataFrame):
        return build_profile_and_summary(reference, config)
    if spark.is_spark_frame(reference):
        return spark.profile_and_summary(reference, config)
    if batches.is_parquet_source(reference):
        return batches.profile_and_summary(reference, config)
    raise _refuse(reference, "reference data")


def summary_of(data: Any, profile: DriftProfile, source: str) -> DatasetSummary:
    """The summary of ``data`` on ``profile``, by the engine that fits it.

    Raises:
        DriftInputError: the data is not data drift can read, or a profiled
            column is missing from it.
    """
    if isinstance(data, pd.DataFrame):
        return summarize(data, profile, source)
    if spark.is_spark_frame(data):
        return spark.summary_of(data, profile, source)
    if batches.is_parquet_source(data):
        return batches.summary_of(data, profile, source)
    raise _refuse(data, source)
