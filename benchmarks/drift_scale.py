"""Drift at scale: Spark ``local[2]`` vs the engine in pyarrow record batches vs in memory.

Data: ``--rows`` reference and ``--rows`` current rows (default 10,000,000 each)
of ``drift_engine.py``'s 25 columns (20 numeric, 5 text with 3 to 1,000
levels) and its shifts, written as Parquet folders of 1,000,000-row files
(made once, kept in ``--data``).

Each engine runs in its own subprocess, timed around ``detect_drift`` (data
reading included, as that is the work; Spark's session start is excluded and
printed apart), with its peak resident memory:

* in memory: both folders read with ``pd.read_parquet``, then ``detect_drift``;
* batches: ``detect_drift(reference_folder, current_folder)``, pyarrow record
  batches of 250,000 rows;
* Spark: ``detect_drift`` of ``spark.read.parquet`` of each folder, per-partition
  summaries; memory is the Python driver's peak (what holds the summaries) and,
  apart, the JVM's (in ``local`` mode it also hosts the executors: the
  ``spark.driver.memory`` heap, 1g here, plus its own overhead);
* batches at 10x: the folders listed ten times over (``--copies``; hard links
  of the same files), so 10x the rows through the batch engine.

Targets: the Spark driver under 500 MB whatever the row count, and Spark's time
within 2x of the batch engine's; the batch engine under 1 GB at 100M rows;
the same drifted columns everywhere.

Usage: python benchmarks/drift_scale.py [--rows N] [--copies N] [--data DIR]
           [--skip-memory-engine]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

FILE_ROWS = 1_000_000


def make_data(folder: Path, rows: int) -> dict[str, Path]:
    """Reference and current Parquet folders of ``rows`` rows each (kept)."""
    from drift_engine import make_frames

    done = folder / f"done-{rows}"
    paths = {role: folder / f"{rows}" / role for role in ("reference", "current")}
    if done.exists():
        return paths
    for path in paths.values():
        path.mkdir(parents=True, exist_ok=True)
    files = max(1, rows // FILE_ROWS)
    for i in range(files):
        size = FILE_ROWS if rows >= FILE_ROWS else rows
        reference, current = make_frames(size, seed=20240601 + i)
        reference.to_parquet(paths["reference"] / f"part-{i:03d}.parquet", index=False)
        current.to_parquet(paths["current"] / f"part-{i:03d}.parquet", index=False)
        print(f"  wrote file {i + 1}/{files}", flush=True)
    done.touch()
    return paths


def copies_of(paths: dict[str, Path], copies: int) -> dict[str, Path]:
    """Folders listing each file ``copies`` times (hard links: no more disk)."""
    out = {}
    for role, path in paths.items():
        target = path.parent / f"{role}-x{copies}"
        if not target.exists():
            target.mkdir()
            for copy in range(copies):
                for file in sorted(path.glob("*.parquet")):
                    os.link(file, target / f"c{copy:02d}-{file.name}")
        out[role] = target
    return out


# ------------------------------------------------------------ subprocess work


class PeakWatcher:
    """Peak resident memory of the JVM children of this process, sampled."""

    def __init__(self) -> None:
        import psutil

        self._me = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for child in self._me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except Exception:  # exited meanwhile
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def measure(engine: str, reference: Path, current: Path) -> dict:
    import scipy.stats  # noqa: F401 - imported before timing in every engine

    from kedro_mlops.drift import detect_drift

    extra: dict = {}
    if engine == "spark":
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        watcher = PeakWatcher()
        start = time.perf_counter()
        from pyspark.sql import SparkSession

        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "1g")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        extra["session_start_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        report = detect_drift(
            spark.read.parquet(str(reference)), spark.read.parquet(str(current))
        )
        seconds = time.perf_counter() - start
        extra["jvm_peak_mb"] = watcher.stop() / 2**20
        spark.stop()
    elif engine == "memory":
        import pandas as pd

        start = time.perf_counter()
        report = detect_drift(pd.read_parquet(reference), pd.read_parquet(current))
        seconds = time.perf_counter() - start
    else:
        start = time.perf_counter()
        report = detect_drift(reference, current)
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "peak_mb": peak_mb,
        "rows": [report.rows_reference, report.rows_current],
        "drifted": sorted(report.drifted_columns),
        **extra,
    }


def run(engine: str, paths: dict[str, Path]) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            engine,
            str(paths["reference"]),
            str(paths["current"]),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"{engine} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument(
        "--data", type=Path, default=Path("/tmp/kedro-mlops-drift-scale")
    )
    parser.add_argument("--skip-memory-engine", action="store_true")
    parser.add_argument("--measure", nargs=3, metavar=("ENGINE", "REF", "CUR"))
    args = parser.parse_args()
    if args.measure:
        engine, reference, current = args.measure
        print(json.dumps(measure(engine, Path(reference), Path(current))))
        return
    print(f"data: {args.rows:,} + {args.rows:,} rows, 25 columns, in {args.data}")
    paths = make_data(args.data, args.rows)
    results = {}
    engines = ["spark", "batches"] + ([] if args.skip_memory_engine else ["memory"])
    for engine in engines:
        results[engine] = run(engine, paths)
        print(f"  {engine}: {results[engine]}", flush=True)
    if args.copies > 1:
        results["batches-x"] = run("batches", copies_of(paths, args.copies))
        print(f"  batches x{args.copies}: {results['batches-x']}", flush=True)
    spark, batches = results["spark"], results["batches"]
    print()
    print(f"{'engine':<22}{'rows':>14}{'seconds':>10}{'peak MB':>10}")
    for engine, result in results.items():
        print(
            f"{engine:<22}{result['rows'][1]:>14,}{result['seconds']:>10.1f}"
            f"{result['peak_mb']:>10.0f}"
        )
    print(
        f"\nSpark: session start {spark['session_start_seconds']:.1f} s (not counted); "
        f"JVM peak {spark['jvm_peak_mb']:.0f} MB (driver and local executors)"
    )
    print(
        f"Spark time / batches time: {spark['seconds'] / batches['seconds']:.2f} "
        "(target <= 2)"
    )
    print(f"Spark Python driver peak: {spark['peak_mb']:.0f} MB (target < 500)")
    if "batches-x" in results:
        print(
            f"batches at {results['batches-x']['rows'][1]:,} rows: peak "
            f"{results['batches-x']['peak_mb']:.0f} MB (target < 1024)"
        )
    drifted = {engine: result["drifted"] for engine, result in results.items()}
    same = len({tuple(d) for d in drifted.values()}) == 1
    print(f"same drifted columns in every engine: {same} {drifted['batches']}")


if __name__ == "__main__":
    main()
