"""A mergeable quantile sketch: the numeric edges of data summarised where it lives.

A :class:`QuantileSketch` is sorted values with integer weights (how many data
values each stands for), at most ``size`` of them. A sketch of data with at
most ``size`` values is the data itself (weights 1), and its quantiles are then
exactly :func:`~kedro_mlops.drift.profile.rank_quantiles`' order statistics.
Beyond that, a compression keeps one value per run of about ``total / size``
data values, its middle one, so a quantile's rank is off by at most half a
run, ``total / (2 * size)``, per compression on the value's way; merges add the
weights, so the total stays exact.

Example:
    >>> import numpy as np
    >>> a = QuantileSketch.of_sorted(np.array([1.0, 2.0]), size=10)
    >>> b = QuantileSketch.of_sorted(np.array([3.0]), size=10)
    >>> merged = a.merge(b, size=10)
    >>> merged.total, merged.values.tolist()
    (3, [1.0, 2.0, 3.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .profile import FINE_BINS, PSI_BINS


@dataclass(frozen=True)
class QuantileSketch:
    """Sorted values, each standing for ``weights`` data values, and the exact
    minimum and maximum.

    Example:
        >>> sketch = QuantileSketch.of_sorted(np.arange(100.0), size=10)
        >>> sketch.total, sketch.values.size, sketch.minimum, sketch.maximum
        (100, 10, 0.0, 99.0)
    """

    values: np.ndarray
    weights: np.ndarray

    @property
    def total(self) -> int:
        """How many data values the sketch stands for."""
        return int(self.weights.sum())

    @property
    def minimum(self) -> float:
        return float(self.values[0]) if self.values.size else float("nan")

    @property
    def maximum(self) -> float:
        return float(self.values[-1]) if self.values.size else float("nan")

    @classmethod
    def of_sorted(cls, finite: np.ndarray, size: int) -> QuantileSketch:
        """The sketch of sorted finite values (kept whole up to ``size``)."""
        return _compressed(finite, np.ones(finite.size, dtype="int64"), size)

    def merge(self, other: QuantileSketch, size: int) -> QuantileSketch:
        """Both sketches' data in one sketch of at most ``size`` values."""
        values = np.concatenate([self.values, other.values])
        weights = np.concatenate([self.weights, other.weights])
        order = np.argsort(values, kind="stable")
        return _compressed(values[order], weights[order], size)

    def quantiles(self) -> tuple[np.ndarray, np.ndarray]:
        """The values at the levels ``j / FINE_BINS`` and ``j / PSI_BINS``, as
        :func:`~kedro_mlops.drift.profile.rank_quantiles` takes them from
        sorted data (exactly those, while the sketch is the data)."""
        total = self.total
        if not total:
            return np.zeros(0), np.zeros(0)
        cumulative = np.cumsum(self.weights)
        ranks = (np.arange(FINE_BINS + 1, dtype="int64") * (total - 1)) // FINE_BINS
        fine = self.values[np.searchsorted(cumulative, ranks, side="right")]
        fine[0], fine[-1] = self.minimum, self.maximum
        return fine, fine[FINE_BINS // PSI_BINS : FINE_BINS : FINE_BINS // PSI_BINS]


def _compressed(values: np.ndarray, weights: np.ndarray, size: int) -> QuantileSketch:
    """At most ``size`` values: runs of about ``total / size`` data values, each
    kept as its middle value; the first and last values are always kept."""
    if values.size <= size:
        return QuantileSketch(values, weights)
    cumulative = np.cumsum(weights)
    total = int(cumulative[-1])
    runs = size - 2  # the two ends are kept apart
    bounds = np.unique((np.arange(runs + 1, dtype="int64") * (total - 2)) // runs + 1)
    starts, ends = bounds[:-1], bounds[1:]  # data ranks [start, end) per run
    middles = np.searchsorted(cumulative, (starts + ends) // 2, side="right")
    kept = np.concatenate([[values[0]], values[middles], [values[-1]]])
    counts = np.concatenate([[1], ends - starts, [1]])  # adds up to total
    return QuantileSketch(kept, counts.astype("int64"))
