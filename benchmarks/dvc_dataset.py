"""DVCDataset against the plain wrapped dataset, side by side, on a ~50 MB Parquet file.

1. Load: DVCDataset (no rev) vs pandas.ParquetDataset on the same file.
   Target: at most 1.05x.
2. Save + track (temporary file, DVC cache, .dvc record, renames) vs the
   plain save plus an md5 of the file (the least any tracking must do).
3. `import kedro_mlops.datasets` must import no dvc module.

Runs in a fresh git + DVC repository in a temporary folder; measurements are
interleaved and the medians compared.

Usage: python benchmarks/dvc_dataset.py [--runs N] [--rows N]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from kedro_datasets.pandas import ParquetDataset

from kedro_mlops.datasets import DVCDataset


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dvc_modules_on_import() -> list[str]:
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import kedro_mlops.datasets"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = [line.rsplit("|", 1)[-1].strip() for line in probe.stderr.splitlines()]
    return sorted(
        {n for n in names if n.split(".")[0] in ("dvc", "dvc_data", "dvc_objects")}
    )


def main(runs: int, rows: int) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=rows),
            "b": rng.normal(size=rows),
            "c": rng.integers(0, 1_000_000, size=rows),
            "d": rng.random(size=rows),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        for command in (
            ["git", "init", "-q"],
            [sys.executable, "-m", "dvc", "init", "-q"],
        ):
            subprocess.run(command, cwd=repo, check=True)
        tracked = DVCDataset(
            filepath=str(repo / "data/big.parquet"), dataset="pandas.ParquetDataset"
        )
        plain_path = repo / "plain/big.parquet"
        plain = ParquetDataset(filepath=str(plain_path))
        tracked.save(frame)  # warm-up: imports DVC, creates the cache
        plain.save(frame)
        size_mb = plain_path.stat().st_size / 1e6

        loads = {"plain": [], "dvc": []}
        saves = {"plain+md5": [], "dvc": []}
        for i in range(runs):
            changed = frame.assign(a=frame["a"] + i + 1)  # a new version each time
            pairs = [
                (
                    lambda: loads["plain"].append(_timed(plain.load)),
                    lambda: loads["dvc"].append(_timed(tracked.load)),
                ),
                (
                    lambda f=changed: saves["plain+md5"].append(
                        _timed(lambda: (plain.save(f), _md5(plain_path)))
                    ),
                    lambda f=changed: saves["dvc"].append(
                        _timed(lambda: tracked.save(f))
                    ),
                ),
            ]
            # alternate which side goes first, so neither always meets a cold cache
            for pair in pairs:
                for step in reversed(pair) if i % 2 else pair:
                    step()
        dvc_modules = _dvc_modules_on_import()

    load_plain, load_dvc = (statistics.median(loads[k]) for k in ("plain", "dvc"))
    save_plain, save_dvc = (statistics.median(saves[k]) for k in ("plain+md5", "dvc"))
    print(
        f"Parquet file of {size_mb:.1f} MB ({rows:,} rows), median of {runs} interleaved runs"
    )
    print(f"  load   pandas.ParquetDataset        {load_plain * 1000:8.1f} ms")
    print(f"  load   DVCDataset                   {load_dvc * 1000:8.1f} ms")
    print(f"         ratio {load_dvc / load_plain:.3f} (target at most 1.05)")
    print(f"  save   plain save + md5 of the file {save_plain * 1000:8.1f} ms")
    print(f"  save   DVCDataset (save + track)    {save_dvc * 1000:8.1f} ms")
    print(f"         ratio {save_dvc / save_plain:.3f}")
    print(
        f"  dvc modules imported by `import kedro_mlops.datasets`: {dvc_modules or 'none'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rows", type=int, default=1_600_000)
    arguments = parser.parse_args()
    main(arguments.runs, arguments.rows)
