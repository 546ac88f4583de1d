"""Data drift: per-column statistics, automatic test choice, dataset decision, reports.

The public names, all importable from here without loading scipy (it is
imported inside the functions that need it):

* :func:`detect_drift` compares two tables and returns a :class:`DriftReport`
  (JSON, MLflow metrics); :func:`check_drift` acts on it (``on_drift``: fail,
  warn or flag). A table is a pandas DataFrame, a Spark DataFrame (summarised
  per partition on the executors) or a Parquet file or folder (read in record
  batches): see ``engines``.
* :func:`render_html` and :func:`save_html` render a report as one
  self-contained HTML page.
* :func:`build_profile`, :func:`summarize`, :func:`merge_summaries` and
  :func:`compare_summaries` do the same on data processed in chunks.
* :class:`DriftConfig` holds the settings (the ``drift:`` section of mlops.yml).
* :mod:`kedro_mlops.drift.statistics` has the statistics on plain arrays.

One module per step, in the order the data goes through them: ``profile``
(how each column is compared, fixed from the reference), ``summaries``
(mergeable counts of a chunk), ``selection`` (which statistic decides),
``evidence`` (a column's statistics from two summaries), ``decision`` (column
and dataset verdicts), ``report`` (the verdicts as data), ``html`` (the report
as a page) and ``gate`` (acting on the report); ``pipeline`` wraps it all in a
Kedro pipeline. ``engines`` picks who makes the summaries: ``summaries`` in
memory, ``batches`` from Parquet record batches, ``spark`` on the executors
(with ``sketch``, the quantile sketch of its edges).

See docs/drift.md for the rule that picks the test and the design of the summaries.

Example:
    >>> import pandas as pd
    >>> from kedro_mlops.drift import DriftConfig, detect_drift
    >>> reference = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 100, "c": list("abc") * 100})
    >>> current = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 100, "c": list("aac") * 100})
    >>> report = detect_drift(reference, current, DriftConfig(share_threshold=0.5))
    >>> report.drifted_columns, report.dataset_drift
    (['c'], True)
"""

from __future__ import annotations

from .config import ColumnSettings, DriftConfig, Thresholds
from .decision import compare_summaries, detect_drift
from .errors import DriftDetectedError, DriftInputError
from .gate import check_drift
from .html import TrendWindow, render_html, save_html
from .profile import DriftProfile, build_profile
from .report import ColumnDrift, ColumnStatistics, Distribution, DriftReport
from .selection import crossover_size, select_test
from .summaries import DatasetSummary, merge_summaries, summarize

__all__ = [
    "ColumnDrift",
    "ColumnSettings",
    "ColumnStatistics",
    "DatasetSummary",
    "Distribution",
    "DriftConfig",
    "DriftDetectedError",
    "DriftInputError",
    "DriftProfile",
    "DriftReport",
    "Thresholds",
    "TrendWindow",
    "build_profile",
    "check_drift",
    "compare_summaries",
    "crossover_size",
    "detect_drift",
    "merge_summaries",
    "render_html",
    "save_html",
    "select_test",
    "summarize",
]
