"""kedro-mlops' drift engine vs Evidently's default data drift report, and vs the floor.

Data: 1,000,000 reference and 1,000,000 current rows; 20 numeric columns
(normal, lognormal, gamma, uniform) and 5 text columns with 3, 10, 50, 200 and
1,000 levels. In the current data a few columns drift by amounts a user calls
drift (a 0.25-sd mean shift, a 30% scale change, 10 points of category share
moved), one column moves by a tiny 0.05 sd that a good default ignores, and the
rest are unchanged.

Each tool runs in its own subprocess that first loads the same parquet files;
time and peak memory are measured around the tool's call only (peak resident
memory above the loaded-data baseline, the kernel's peak mark reset first):

* floor: one ``np.sort`` of each numeric column and one ``pd.factorize`` of
  each text column, of both frames (what any exact engine must at least do);
* kedro-mlops: ``kedro_mlops.drift.detect_drift`` with the default settings
  (scipy imported before timing, as Evidently's modules are);
* Evidently 0.7.23: ``Report([DataDriftPreset()]).run(current, reference)``,
  in its own environment (it does not import with pandas 3), created with uv in
  a temporary folder (``benchmarks/evidently_reference.py`` runs there).

Targets: at least 40x faster than Evidently, at most a fifth of its peak memory,
within 2x of the floor; every shifted column flagged, neither the tiny shift nor
any unchanged column flagged.

Usage: python benchmarks/drift_engine.py [--rows N] [--repeat N]
           [--evidently-python PATH | --skip-evidently]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from evidently_reference import measured  # noqa: E402

EVIDENTLY = ["evidently==0.7.23", "pandas<3", "pyarrow"]
KINDS = ["normal", "lognormal", "gamma", "uniform"]
LEVELS = [3, 10, 50, 200, 1000]
# column -> (what changed, should a good default flag it?)
SHIFTS = {
    "normal_0": ("mean +0.25 sd", True),
    "lognormal_1": ("scale x1.3", True),
    "gamma_2": ("mean +0.25 sd", True),
    "uniform_3": ("scale x1.3", True),
    "normal_4": ("mean +0.05 sd (tiny)", False),
    "cat3": ("10 points moved", True),
    "cat50": ("10 points moved", True),
}


def _numeric(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    if kind == "normal":
        return rng.normal(10.0, 2.0, n)
    if kind == "lognormal":
        return rng.lognormal(0.0, 0.75, n)
    if kind == "gamma":
        return rng.gamma(2.0, 3.0, n)
    return rng.uniform(0.0, 100.0, n)


def _shares(levels: int) -> np.ndarray:
    if levels == 3:
        return np.array([0.5, 0.3, 0.2])
    weights = 1.0 / np.arange(1, levels + 1) ** 0.7  # a realistic long tail
    return weights / weights.sum()


def make_frames(rows: int, seed: int = 20240601) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference and current frames, with the documented shifts."""
    rng = np.random.default_rng(seed)
    frames = []
    for role in ("reference", "current"):
        data: dict[str, object] = {}
        for i in range(20):
            kind = KINDS[i % 4]
            values = _numeric(rng, kind, rows)
            name = f"{kind}_{i}"
            if role == "current" and name in SHIFTS:
                sd = {"normal": 2.0, "gamma": 3.0 * np.sqrt(2.0)}.get(kind, 1.0)
                if name in ("normal_0", "gamma_2"):
                    values = values + 0.25 * sd
                elif name == "normal_4":
                    values = values + 0.05 * sd
                else:  # 30% wider around the mean
                    values = values.mean() + (values - values.mean()) * 1.3
            data[name] = values
        for levels in LEVELS:
            shares = _shares(levels)
            name = f"cat{levels}"
            if role == "current" and name == "cat3":
                shares = np.array(
                    [0.4, 0.3, 0.3]
                )  # 10 points from the first to the last
            elif role == "current" and name == "cat50":
                shares = shares * 0.9
                shares[-1] += 0.1  # 10 points onto the rarest level
            labels = np.array([f"{name}_level{j}" for j in range(levels)], dtype=object)
            codes = rng.choice(levels, size=rows, p=shares)
            data[name] = pd.Series(labels[codes], dtype="str")
        frames.append(pd.DataFrame(data))
    return frames[0], frames[1]


# ------------------------------------------------------------ subprocess work


def run_engine(data: Path) -> dict:
    import scipy.stats  # noqa: F401 - imported before timing, as Evidently's stack is

    from kedro_mlops.drift import detect_drift, render_html

    reference, current = _load(data)
    report, seconds, peak_mb = measured(lambda: detect_drift(reference, current))
    return {
        "seconds": seconds,
        "peak_mb": peak_mb,
        "html_bytes": len(render_html(report).encode()),
        "columns": {
            c.column: {"drifted": c.drifted, "test": c.test, "score": c.score}
            for c in report.columns
        },
    }


def run_floor(data: Path) -> dict:
    reference, current = _load(data)

    def floor() -> None:
        for frame in (reference, current):
            for _, column in frame.items():
                if pd.api.types.is_numeric_dtype(column.dtype):
                    np.sort(column.to_numpy())
                else:
                    pd.factorize(column)

    _, seconds, peak_mb = measured(floor)
    return {"seconds": seconds, "peak_mb": peak_mb}


def _load(data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        pd.read_parquet(data / "reference.parquet"),
        pd.read_parquet(data / "current.parquet"),
    )


def _child(python: str, *args: str) -> dict:
    done = subprocess.run([python, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _evidently_env(folder: Path) -> str:
    from harness.envs import uv

    env = folder / "evidently-env"
    subprocess.run([uv(), "venv", "--quiet", "--python", "3.11", str(env)], check=True)
    python = str(env / "bin" / "python")
    subprocess.run(
        [uv(), "pip", "install", "--quiet", "--python", python, *EVIDENTLY], check=True
    )
    return python


# ----------------------------------------------------------------------- main


def main(rows: int, repeat: int, evidently_python: str | None, skip: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        folder = Path(tmp)
        reference, current = make_frames(rows)
        reference.to_parquet(folder / "reference.parquet")
        current.to_parquet(folder / "current.parquet")
        del reference, current
        me = str(Path(__file__).resolve())
        runs = {"floor": [], "kedro-mlops": []}
        for _ in range(repeat):  # interleaved, each in a fresh process
            runs["floor"].append(_child(sys.executable, me, "--child", "floor", tmp))
            runs["kedro-mlops"].append(
                _child(sys.executable, me, "--child", "engine", tmp)
            )
        evidently = None
        if not skip:
            python = evidently_python or _evidently_env(folder)
            evidently = _child(python, str(HERE / "evidently_reference.py"), tmp)

    engine = runs["kedro-mlops"][-1]
    timing = {
        tool: (
            statistics.median(r["seconds"] for r in results),
            statistics.median(r["peak_mb"] for r in results),
        )
        for tool, results in runs.items()
    }
    if evidently is not None:
        timing["evidently"] = (evidently["seconds"], evidently["peak_mb"])
    _print_decisions(engine, evidently)
    _print_timing(rows, repeat, timing, engine)


def _expected(column: str) -> bool:
    return SHIFTS.get(column, ("", False))[1]


def _print_decisions(engine: dict, evidently: dict | None) -> None:
    print("Decisions per column (DRIFT = flagged)")
    header = f"  {'column':<13}{'change in current':<22}{'expected':<10}"
    header += f"{'kedro-mlops':<34}{'evidently' if evidently else ''}"
    print(header)
    for column in engine["columns"]:
        mine = engine["columns"][column]
        change = SHIFTS.get(column, ("none", False))[0]
        line = (
            f"  {column:<13}{change:<22}{'DRIFT' if _expected(column) else '-':<10}"
            f"{_verdict(mine):<34}"
        )
        if evidently:
            line += _verdict(evidently["columns"][column])
        print(line)
    for name, result in (("kedro-mlops", engine), ("evidently", evidently)):
        if result is None:
            continue
        wrong = [
            c for c, v in result["columns"].items() if v["drifted"] != _expected(c)
        ]
        missed = [c for c in wrong if _expected(c)]
        false = [c for c in wrong if not _expected(c)]
        print(
            f"  {name}: {'all decisions as expected' if not wrong else 'WRONG'}"
            f" (missed shifts: {missed or 'none'}; false alarms: {false or 'none'})"
        )


def _verdict(result: dict) -> str:
    flag = "DRIFT" if result["drifted"] else "-"
    test = result["test"].replace(" distance", "").replace(" (normed)", "")
    return f"{flag:<6}{test[:16]:<17}{result['score']:.3g}"


def _print_timing(rows: int, repeat: int, timing: dict, engine: dict) -> None:
    print()
    print(
        f"Wall time and peak memory above the loaded data, {rows:,} + {rows:,} rows, "
        f"25 columns (median of {repeat} runs; Evidently: 1 run)"
    )
    print(f"  {'tool':<14}{'seconds':>9}{'peak MB':>10}")
    for tool, (seconds, peak) in timing.items():
        print(f"  {tool:<14}{seconds:>9.2f}{peak:>10.0f}")
    seconds, peak = timing["kedro-mlops"]
    floor_seconds = timing["floor"][0]
    print(f"  kedro-mlops / floor time: {seconds / floor_seconds:.2f}x (target <= 2x)")
    if "evidently" in timing:
        ev_seconds, ev_peak = timing["evidently"]
        print(
            f"  kedro-mlops is {ev_seconds / seconds:.0f}x faster than evidently "
            "(target >= 40x)"
        )
        print(
            f"  kedro-mlops / evidently peak memory: {peak / ev_peak:.3f} "
            "(target <= 0.2)"
        )
    print(f"  HTML report: {engine['html_bytes'] / 1e6:.2f} MB (target < 1 MB)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        work = {"engine": run_engine, "floor": run_floor}[sys.argv[2]]
        print(json.dumps(work(Path(sys.argv[3]))))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--evidently-python",
        help="python of an existing environment with evidently 0.7.23 (skips creating one)",
    )
    parser.add_argument("--skip-evidently", action="store_true")
    args = parser.parse_args()
    main(args.rows, args.repeat, args.evidently_python, args.skip_evidently)
