"""The quantile sketch that gives Spark's numeric edges."""

from __future__ import annotations

import numpy as np

from kedro_mlops.drift.profile import FINE_BINS, rank_quantiles
from kedro_mlops.drift.sketch import QuantileSketch


def _sketch(parts: list[np.ndarray], size: int) -> QuantileSketch:
    merged = None
    for part in parts:
        sketch = QuantileSketch.of_sorted(np.sort(part), size)
        merged = sketch if merged is None else merged.merge(sketch, size)
    assert merged is not None
    return merged


def test_a_sketch_of_few_values_gives_the_exact_quantiles():
    # given 15,000 values in five parts, sketches of up to 20,000 values
    values = np.random.default_rng(1).normal(size=15_000)
    sketch = _sketch(np.array_split(values, 5), size=20_000)
    # then the quantiles are the in-memory engine's order statistics, exactly
    fine, coarse = sketch.quantiles()
    expected_fine, expected_coarse = rank_quantiles(np.sort(values))
    assert np.array_equal(fine, expected_fine)
    assert np.array_equal(coarse, expected_coarse)


def test_a_compressed_sketch_keeps_its_total_ends_and_rank_bound():
    # given a million skewed values in 37 parts, sketches of 20,000 values
    values = np.random.default_rng(2).lognormal(size=1_000_000)
    parts = np.array_split(values, 37)
    sketch = _sketch(parts, size=20_000)
    # then the total and the ends are exact, the sketch no larger than asked
    assert sketch.total == values.size
    assert sketch.values.size <= 20_000
    assert (sketch.minimum, sketch.maximum) == (values.min(), values.max())
    # and every quantile's rank is off by less than half a compression run
    # per merge it went through (36 here, sequentially)
    ordered = np.sort(values)
    fine, _ = sketch.quantiles()
    exact, _ = rank_quantiles(ordered)
    error = np.abs(np.searchsorted(ordered, fine) - np.searchsorted(ordered, exact))
    assert error.max() <= 37 * values.size / (2 * 20_000)
    assert error.max() < values.size / FINE_BINS  # under one fine bin


def test_an_empty_sketch_has_no_quantiles():
    sketch = QuantileSketch.of_sorted(np.zeros(0), size=10)
    assert sketch.total == 0
    assert [q.size for q in sketch.quantiles()] == [0, 0]
