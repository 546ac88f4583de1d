"""Evidently's default data drift report on the benchmark's parquet files.

Runs inside its own environment (Evidently 0.7.23 needs pandas < 3), started by
``benchmarks/drift_engine.py`` as a subprocess. Prints one JSON line: wall time
and peak memory of ``Report([DataDriftPreset()]).run(current, reference)`` and
its per-column decisions.

Also home of :func:`measured`, the memory/time probe both sides use, so it must
import nothing beyond the standard library at module level.

Usage: python benchmarks/evidently_reference.py DATA_DIR
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def measured(work: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``work`` and return (result, wall seconds, peak MB above the baseline).

    The baseline is the resident memory just before ``work`` (data loaded). On
    Linux the kernel's peak-RSS mark is reset first (``/proc/self/clear_refs``),
    so the peak is the one ``work`` reached, not one from loading the data.
    """
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
        baseline, reset = _status_kb("VmRSS"), True
    except OSError:  # not Linux: the process's lifetime peak
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        reset = False
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    peak = (
        _status_kb("VmHWM")
        if reset
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )
    return result, seconds, max(peak - baseline, 0) / 1024


def main(data: Path) -> None:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    snapshot, seconds, peak_mb = measured(
        lambda: Report([DataDriftPreset()]).run(current, reference)
    )
    decisions = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        method, threshold, score = (
            config["method"],
            config["threshold"],
            metric["value"],
        )
        drifted = score < threshold if "p_value" in method else score >= threshold
        decisions[config["column"]] = {
            "drifted": bool(drifted),
            "test": method,
            "score": float(score),
        }
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "columns": decisions}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
