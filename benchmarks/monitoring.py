"""The monitoring pipeline's work on a day of captured traffic: 1M rows, 24 hours.

Captured traffic as the model server writes it (``hour=YYYY-MM-DDTHH/`` folders,
four Parquet files per hour, the capture's own columns) is made from the
starter's control batch (rows drawn with replacement, numbers jittered by 1%,
made-up probabilities) for 20 hours and from its production batch for the
last 4. Each measurement runs in a fresh Python process, which reports its wall
time and its peak resident memory:

* ``monitoring``: the monitoring pipeline's nodes on a real
  ``PartitionedDataset`` and a real sqlite MLflow store: the windows loaded
  (``load_windows``), each compared with the reference (``drift_by_window``),
  the history logged (``log_history``: 24 windows in one ``log_batch`` chain),
  the latest report with its trend; then the same run again, which finds every
  window logged;
* ``per-window detect_drift``: the alternative without a shared profile, one
  ``detect_drift`` per window (the reference profiled 24 times);
* ``read only``: the floor, every file read with ``pandas.read_parquet`` and
  the frames concatenated per hour.

It measures the package's functions, so it imports the checkout rather than a
wheel. Target: loading and comparing the windows within 3x of reading the
files. Per-window ``detect_drift`` is shown for scale: with the starter's
2,000-row reference, profiling it is cheap and the two are within noise. The
history's cost is reported apart: it is MLflow's, about the same whatever the
rows.

Usage: python benchmarks/monitoring.py [--rows 1000000] [--hours 24]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RAW = REPO / "starters/mlops/{{ cookiecutter.repo_name }}/data/01_raw"
NUMERIC = [
    "age",
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "avg_session_minutes",
]
FILES_PER_HOUR = 4
DRIFTED_HOURS = 4


def scored(rows, rng, low=0.0):
    """``rows`` with made-up probabilities and the 0/1 decision."""
    rows = rows.copy()
    rows["churned_probability"] = rng.uniform(low, 1.0, len(rows))
    rows["churned_prediction"] = (rows["churned_probability"] >= 0.5).astype("int64")
    return rows


def make_traffic(folder: Path, rows: int, hours: int, end: datetime) -> None:
    """The captured partitions and the reference (``reference.parquet``)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20240601)
    control = pd.read_csv(RAW / "batch_control.csv")
    production = pd.read_csv(RAW / "batch_production.csv")
    scored(control, rng).drop(columns=["churned_prediction"]).to_parquet(
        folder / "reference.parquet", index=False
    )
    per_hour = rows // hours
    for h in range(hours):
        hour = end - timedelta(hours=hours - h)
        source = production if h >= hours - DRIFTED_HOURS else control
        sample = source.sample(per_hour, replace=True, random_state=h).reset_index(
            drop=True
        )
        for column in NUMERIC:
            jitter = rng.normal(1.0, 0.01, len(sample))
            sample[column] = (sample[column] * jitter).round(2)
        sample = scored(sample, rng, low=0.3 if source is production else 0.0)
        sample["customer_id"] = [f"R{h:02d}{i:07d}" for i in range(len(sample))]
        sample["_captured_at"] = pd.Timestamp(hour).as_unit("ms") + pd.to_timedelta(
            np.sort(rng.uniform(0, 3_599_000, len(sample))).astype("int64"), "ms"
        )
        sample["_model_name"] = "churn_model"
        sample["_model_version"] = "1"
        sample["_request_id"] = [f"{h:02d}-{i}" for i in range(len(sample))]
        target = folder / "captured" / f"hour={hour:%Y-%m-%dT%H}"
        target.mkdir(parents=True)
        for part, chunk in enumerate(
            np.array_split(np.arange(len(sample)), FILES_PER_HOUR)
        ):
            stamp = (hour + timedelta(minutes=15 * part)).strftime("%Y%m%dT%H%M%S")
            sample.iloc[chunk].to_parquet(
                target / f"{stamp}-101-{part}.parquet", index=False
            )


def measure(kind: str, folder: Path) -> dict:
    """One measurement in this (fresh) process."""
    import pandas as pd

    from kedro_mlops.config import MonitoringConfig
    from kedro_mlops.drift import DriftConfig

    settings = DriftConfig(
        prediction_column="churned_probability",
        ignore_columns=["customer_id", "churned"],
        on_drift="flag",
    )
    monitoring = MonitoringConfig(windows=24)
    reference = pd.read_parquet(folder / "reference.parquet")
    timings: dict[str, float] = {}
    import mlflow  # imports are not what is measured
    from kedro_datasets.partitions import PartitionedDataset

    from kedro_mlops.drift import detect_drift
    from kedro_mlops.monitoring.pipeline import (
        compare_windows,
        latest_report,
        log_drift_history,
        select_windows,
    )

    start = time.perf_counter()
    if kind == "read":
        frames = {}
        for hour in sorted((folder / "captured").iterdir()):
            parts = [pd.read_parquet(f) for f in sorted(hour.glob("*.parquet"))]
            frames[hour.name] = pd.concat(parts, ignore_index=True)
        timings["read"] = time.perf_counter() - start
    else:
        captured = PartitionedDataset(
            path=str(folder / "captured"),
            dataset="pandas.ParquetDataset",
            filename_suffix=".parquet",
        )
        windows, summary = select_windows(captured.load(), monitoring)
        timings["load windows"] = time.perf_counter() - start
        if kind == "detect":
            compared = reference.columns.difference(["customer_id"])
            for frame in windows.values():
                detect_drift(reference, frame[list(compared)], settings)
            timings["drift"] = time.perf_counter() - start - timings["load windows"]
        else:
            mark = time.perf_counter()
            results = compare_windows(windows, summary, reference, settings, monitoring)
            timings["drift"] = time.perf_counter() - mark
            mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
            mark = time.perf_counter()
            logged = log_drift_history(results)
            timings["history"] = time.perf_counter() - mark
            mark = time.perf_counter()
            latest_report(results, monitoring)
            timings["report"] = time.perf_counter() - mark
            timings["windows logged"] = len(logged["logged"])
    timings["total"] = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"timings": timings, "peak_mb": peak}


def in_process(kind: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", kind, "--folder", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, Path(args.folder))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = time.perf_counter()
        make_traffic(folder, args.rows, args.hours, end)
        from mlflow import MlflowClient

        # the store is created (migrated) before: its first opening is not measured
        MlflowClient(f"sqlite:///{folder / 'mlflow.db'}").search_experiments()
        size = sum(f.stat().st_size for f in (folder / "captured").rglob("*.parquet"))
        print(
            f"captured traffic: {args.rows:,} rows in {args.hours} hourly partitions, "
            f"{args.hours * FILES_PER_HOUR} files, {size / 1e6:.1f} MB "
            f"(made in {time.perf_counter() - start:.1f} s)"
        )
        results = {
            "read only (floor)": in_process("read", folder),
            "monitoring, first run": in_process("monitoring", folder),
            "monitoring, again (all logged)": in_process("monitoring", folder),
            "per-window detect_drift": in_process("detect", folder),
        }
    for name, result in results.items():
        steps = ", ".join(
            f"{k} {v:.2f} s" if k != "windows logged" else f"{k} {v:.0f}"
            for k, v in result["timings"].items()
        )
        print(f"{name:32s} peak {result['peak_mb']:7.0f} MB   {steps}")
    floor = results["read only (floor)"]["timings"]["total"]
    first = results["monitoring, first run"]["timings"]
    detect = results["per-window detect_drift"]["timings"]
    work = first["load windows"] + first["drift"]
    print(
        f"windows loaded and compared / reading the files: {work / floor:.2f}x "
        f"(target <= 3x); the whole first run: {first['total'] / floor:.2f}x; "
        f"drift of the windows, shared profile vs per-window detect_drift: "
        f"{first['drift']:.2f} s vs {detect['drift']:.2f} s "
        f"({detect['drift'] / first['drift']:.2f}x)"
    )


if __name__ == "__main__":
    main()
