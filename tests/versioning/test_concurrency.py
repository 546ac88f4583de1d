"""Parallel saves, and processes killed mid-save, on a real repository."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.io import DataCatalog, SharedMemoryDataCatalog
from kedro.pipeline import Node, Pipeline
from kedro.runner import ParallelRunner, ThreadRunner

from kedro_mlops.datasets import DVCDataset
from kedro_mlops.versioning.lineage import collect
from kedro_mlops.versioning.records import file_md5
from tests.git_dvc import commit, dvc_status, sh

# Real repositories, worker processes and a killed process: seconds each.
pytestmark = pytest.mark.integration

CLEAN = "Data and pipelines are up to date."
TABLES = 6


def make_table(seed: int) -> pd.DataFrame:
    return pd.DataFrame({"seed": [seed] * 1000, "value": range(1000)})


def _datasets(repo: Path) -> dict[str, DVCDataset]:
    return {
        f"table_{i}": DVCDataset(
            filepath=str(repo / "data" / f"table_{i}.parquet"),
            dataset="pandas.ParquetDataset",
        )
        for i in range(TABLES)
    }


def _pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(make_table, f"params:seed_{i}", f"table_{i}", name=f"make_table_{i}")
            for i in range(TABLES)
        ]
    )


@pytest.mark.parametrize(
    ("runner", "catalog_class"),
    [
        (ParallelRunner(max_workers=TABLES), SharedMemoryDataCatalog),
        (ThreadRunner(max_workers=TABLES), DataCatalog),
    ],
    ids=["ParallelRunner", "ThreadRunner"],
)
def test_six_nodes_saving_in_parallel_are_all_tracked(
    repo, runner, catalog_class, tmp_path, monkeypatch
):
    # Kedro registers plugin hooks in each worker process; kedro-mlflow's node
    # hook then logs parameters to MLflow's default store, and six processes
    # migrating a fresh sqlite store at once collide. Give them one, migrated.
    from mlflow import MlflowClient

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(store).search_experiments()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    # given six nodes, each saving its own DVC-tracked table in the same folder
    catalog = catalog_class(datasets=_datasets(repo))
    for i in range(TABLES):
        catalog[f"params:seed_{i}"] = i
    # when they run concurrently (every save waits for the DVC repository lock)
    runner.run(_pipeline(), catalog)
    # then every table is tracked, cached and ignored by git exactly once
    for i in range(TABLES):
        assert (repo / "data" / f"table_{i}.parquet.dvc").is_file()
        assert (
            pd.read_parquet(repo / "data" / f"table_{i}.parquet")["seed"].iloc[0] == i
        )
    ignored = (repo / "data" / ".gitignore").read_text().split()
    assert sorted(ignored) == sorted(f"/table_{i}.parquet" for i in range(TABLES))
    assert dvc_status(repo) == CLEAN
    # and the lineage, read from the files in this (main) process, is complete
    lineage = collect(_pipeline(), catalog, repo, env="local", pipelines=["tables"])
    outputs = {v.name: v for v in lineage.data}
    assert sorted(outputs) == [f"table_{i}" for i in range(TABLES)]
    for i in range(TABLES):
        record = (repo / "data" / f"table_{i}.parquet.dvc").read_text()
        assert outputs[f"table_{i}"].md5 in record
        assert outputs[f"table_{i}"].state == "cached"


def _scratch(repo: Path) -> Path:
    """Where saves write their temporary files and take their lock."""
    return repo / ".dvc" / "tmp" / "kedro-mlops"


def _leftovers(repo: Path) -> list[str]:
    """Temporary files of saves, wherever they are (the locks excepted)."""
    scratch = [p.name for p in _scratch(repo).glob("*") if p.suffix != ".lock"]
    beside = [p.name for p in (repo / "data").glob(".*") if p.name != ".gitignore"]
    return sorted(scratch + beside)


def _child_env() -> dict[str, str]:
    """The environment of a child Python: this checkout's code and tests first."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p or "." for p in sys.path)}


def _untracked(repo: Path) -> list[str]:
    """Files git would add with `git add -A` that it does not track yet."""
    status = sh("git", "status", "--porcelain", "--untracked-files=all", cwd=repo)
    return [line[3:] for line in status.splitlines() if line.startswith("??")]


# The table in version 0 or 1, as code: the child processes' scripts build it
# from the same text.
TABLE = 'pd.DataFrame({{"version": [{version}] * 20_000, "value": range(20_000)}})'


def _table(version: int) -> pd.DataFrame:
    return eval(TABLE.format(version=version))


def _expect(stream: Any, word: str) -> None:
    """Read the child's lines up to ``word`` (logging may come before it)."""
    for line in stream:
        if line.strip() == word:
            return
    raise AssertionError(f"the child process ended before saying {word!r}")


# A process that keeps saving the table, forked anew (imports done once) for
# each kill: the test sends a delay; the forked child saves version after
# version, each different from the last, and is SIGKILLed that long after its
# first save began.
KILL_LOOP = f"""
import os, signal, sys, time
import pandas as pd
from dvc.repo import Repo  # imported once, before the forks
from kedro_mlops.datasets import DVCDataset

tables = [{TABLE.format(version=0)}, {TABLE.format(version=1)}]
dataset = DVCDataset(filepath="data/table.parquet", dataset="pandas.ParquetDataset")
print("ready", flush=True)
for line in sys.stdin:
    started, starting = os.pipe()
    child = os.fork()
    if child == 0:
        latest = int(pd.read_parquet("data/table.parquet")["version"].iloc[0])
        os.write(starting, b"go")
        try:
            while True:
                latest = 1 - latest
                dataset.save(tables[latest])
        finally:
            os._exit(0)
    os.read(started, 2)
    time.sleep(float(line))
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    os.close(started)
    os.close(starting)
    print("killed", flush=True)
"""

KILLS = 20
#: the longest delay before a kill: a few saves of the table
MAX_DELAY = 0.5


def test_saves_killed_at_random_points_leave_data_and_record_in_step(repo):
    # given a committed table, saved once in each of its two versions
    dataset = DVCDataset(filepath="data/table.parquet", dataset="pandas.ParquetDataset")
    md5s = {}
    for version in (0, 1):
        dataset.save(_table(version))
        md5s[dataset.recorded_md5()] = version
    commit(repo, "table")
    # when a process saving it again and again is SIGKILLed at random points,
    # many times
    loop = subprocess.Popen(
        [sys.executable, "-c", KILL_LOOP],
        cwd=repo,
        env=_child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert loop.stdout is not None and loop.stdin is not None
    _expect(loop.stdout, "ready")
    rng = random.Random(20_240_611)
    mid_save = 0
    try:
        for _ in range(KILLS):
            loop.stdin.write(f"{rng.uniform(0, MAX_DELAY):.4f}\n")
            loop.stdin.flush()
            _expect(loop.stdout, "killed")
            mid_save += bool(_leftovers(repo))
            # then git never sees a file of the killed save
            assert _untracked(repo) == []
            # and a load reads one whole version, and leaves the data and its
            # .dvc record in step, the data in the DVC cache, nothing else
            loaded = DVCDataset(
                filepath="data/table.parquet", dataset="pandas.ParquetDataset"
            ).load()
            recorded = dataset.recorded_md5()
            assert recorded in md5s
            pd.testing.assert_frame_equal(loaded, _table(md5s[recorded]))
            assert file_md5(repo / "data/table.parquet") == recorded
            cached = repo / ".dvc/cache/files/md5" / recorded[:2] / recorded[2:]
            assert file_md5(cached) == recorded
            assert _leftovers(repo) == []
    finally:
        loop.stdin.close()
        loop.wait(timeout=30)
    assert dvc_status(repo) == CLEAN
    # and most kills landed inside a save (it had left temporary files)
    assert mid_save >= KILLS // 3, mid_save


# A save killed between its two renames: the data is new, its record still old.
KILLED_BETWEEN_RENAMES = f"""
import os, signal
import pandas as pd
from kedro_mlops.datasets import DVCDataset

rename = os.replace
def replace_then_die_before_the_record(source, destination):
    if str(destination).endswith(".dvc"):
        os.kill(os.getpid(), signal.SIGKILL)
    rename(source, destination)
os.replace = replace_then_die_before_the_record
DVCDataset(filepath="data/table.parquet", dataset="pandas.ParquetDataset").save(
    {TABLE.format(version=1)}
)
"""


def test_a_save_killed_between_its_renames_is_finished_by_the_next_load(repo):
    # given a committed table
    dataset = DVCDataset(filepath="data/table.parquet", dataset="pandas.ParquetDataset")
    dataset.save(_table(0))
    commit(repo, "table")
    old = dataset.recorded_md5()
    # when a save is killed after the data's rename, before the record's
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_RENAMES],
        cwd=repo,
        env=_child_env(),
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    # then the new record waits in the scratch folder, which git does not see
    assert dataset.recorded_md5() == old
    assert [n.endswith(".record.tmp") for n in _leftovers(repo)] == [True]
    assert _untracked(repo) == []
    # and the next load moves it into place: the data and its record agree
    pd.testing.assert_frame_equal(dataset.load(), _table(1))
    assert dataset.recorded_md5() == file_md5(repo / "data/table.parquet") != old
    assert _leftovers(repo) == []
    assert dvc_status(repo) == CLEAN


def test_leftovers_of_older_versions_beside_the_data_are_deleted(repo):
    # given the temporary files kedro-mlops 0.1 left beside the data when a save
    # was killed, and a file of another dataset whose name starts the same
    dataset = DVCDataset(filepath="data/table.parquet", dataset="pandas.ParquetDataset")
    dataset.save(_table(0))
    data = repo / "data"
    stale = [
        ".table.parquet.0123456789ab.tmp.parquet",
        ".table.parquet.dvc.ba9876543210.tmp",
    ]
    other = ".table.parquet.gz.0123456789ab.tmp.gz"
    for name in [*stale, other]:
        (data / name).write_text("left by a killed save")
    # when the dataset is saved again
    dataset.save(_table(1))
    # then its own leftovers are gone, the other dataset's file is kept
    assert sorted(p.name for p in data.glob(".*")) == [".gitignore", other]
    assert dvc_status(repo) == CLEAN
