"""Mergeable summaries: chunked equals whole, one profile per merge, pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.drift import (
    DriftConfig,
    build_profile,
    compare_summaries,
    detect_drift,
    merge_summaries,
    summarize,
)
from kedro_mlops.drift.profile import build_profile_and_summary


def _dataset(seed: int, n: int, drift: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    levels = [f"level{i}" for i in range(1_500)]  # above the cap below: hashed

    def frame(shift: float) -> pd.DataFrame:
        values = rng.normal(shift, 1 + shift, n)
        values[rng.random(n) < 0.02] = np.nan
        values[rng.random(n) < 0.001] = np.inf
        mix = [0.5 - shift / 4, 0.3, 0.2 + shift / 4]
        return pd.DataFrame(
            {
                "normal": values,
                "lognormal": rng.lognormal(shift, 1, n),
                "tickets": rng.poisson(1.2 + shift, n),
                "gamma_small_shift": rng.gamma(2.0, 1 + shift / 20, n),
                "plan": rng.choice(["basic", "plus", "pro"], n, p=mix),
                "flag": rng.random(n) < 0.3 + shift / 5,
                "zip": rng.choice(levels, n),
            }
        )

    return frame(0.0), frame(0.3 if drift else 0.0)


DATASETS = [
    pytest.param(1, 40_000, True, id="large-drift"),
    pytest.param(2, 40_000, False, id="large-steady"),
    pytest.param(3, 3_000, True, id="small-drift"),
    pytest.param(4, 3_000, False, id="small-steady"),
    pytest.param(5, 12_000, True, id="medium-drift"),
]
CONFIG = DriftConfig(max_categories=500, share_threshold=0.3)


def _chunks(frame: pd.DataFrame, seed: int) -> list[pd.DataFrame]:
    """Random-size consecutive chunks, including an empty one."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(len(frame), size=6, replace=False))
    bounds = [0, *cuts.tolist(), cuts[-1], len(frame)]
    return [frame.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@pytest.mark.parametrize(("seed", "n", "drift"), DATASETS)
def test_chunked_gives_the_decisions_and_statistics_of_whole(seed, n, drift):
    # given a reference and a current frame
    reference, current = _dataset(seed, n, drift)
    whole = detect_drift(reference, current, CONFIG)
    # when both are summarised chunk by chunk (in shuffled order) and merged
    profile = build_profile(reference, CONFIG)
    parts = [summarize(c, profile, "reference") for c in _chunks(reference, seed)]
    current_parts = [summarize(c, profile) for c in _chunks(current, seed + 1)]
    np.random.default_rng(seed).shuffle(current_parts)
    chunked = compare_summaries(
        profile, merge_summaries(parts), merge_summaries(current_parts)
    )
    # then every decision is the same, and every statistic within tolerance:
    # counts are exact, so only float sums (Wasserstein, std) may differ
    assert chunked.dataset_drift == whole.dataset_drift
    assert chunked.drift_share == whole.drift_share
    for a, b in zip(whole.columns, chunked.columns, strict=True):
        assert (a.column, a.test, a.drifted) == (b.column, b.test, b.drifted)
        for name, value in a.statistics.model_dump().items():
            other = getattr(b.statistics, name)
            if value is None:
                assert other is None
            elif name.startswith("wasserstein"):
                assert other == pytest.approx(value, rel=1e-9, abs=1e-12)
            else:
                assert other == pytest.approx(value, rel=1e-12, abs=1e-15), name
    if drift:
        assert {"normal", "lognormal", "tickets", "plan"} <= set(whole.drifted_columns)
    else:
        assert whole.drifted_columns in ([], ["flag"], ["plan"])  # chance at 5%


def test_reference_summarised_in_chunks_equals_the_profiles_own():
    reference, _ = _dataset(6, 20_000, False)
    profile, whole = build_profile_and_summary(reference, CONFIG)
    merged = merge_summaries(summarize(c, profile) for c in _chunks(reference, 6))
    for name, column in whole.columns.items():
        other = merged.columns[name]
        if column.numeric is not None:
            assert np.array_equal(column.numeric.cell_counts, other.numeric.cell_counts)
            assert other.numeric.mean == pytest.approx(column.numeric.mean, rel=1e-12)
        else:
            assert np.array_equal(column.categorical.counts, other.categorical.counts)


def test_summaries_from_another_profile_do_not_merge():
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    one, two = build_profile(frame), build_profile(frame)
    with pytest.raises(ValueError, match="different drift profiles"):
        summarize(frame, one).merge(summarize(frame, two))
    with pytest.raises(ValueError, match="another drift profile"):
        compare_summaries(one, summarize(frame, one), summarize(frame, two))


def test_profile_and_summaries_survive_pickling():
    # what a distributed run does: ship the profile, summarise remotely, merge
    reference, current = _dataset(7, 5_000, True)
    profile = build_profile(reference, CONFIG)
    shipped = pickle.loads(pickle.dumps(profile))
    remote = [pickle.dumps(summarize(c, shipped)) for c in _chunks(current, 7)]
    merged = merge_summaries(pickle.loads(r) for r in remote)
    report = compare_summaries(profile, summarize(reference, profile), merged)
    # the same report, but for which rare unseen categories are shown as examples
    # (each chunk keeps its most frequent ones; their total is exact)
    drop = {"columns": {"__all__": {"unseen_examples"}}}
    expected = detect_drift(reference, current, CONFIG)
    assert report.model_dump(exclude=drop) == expected.model_dump(exclude=drop)
    assert report.column("zip").unseen_count == expected.column("zip").unseen_count
