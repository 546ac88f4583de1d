"""Parallel saves and a process killed mid-save, on a real repository."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DataCatalog, SharedMemoryDataCatalog
from kedro.pipeline import Node, Pipeline
from kedro.runner import ParallelRunner, ThreadRunner

from kedro_mlops.datasets import DVCDataset
from kedro_mlops.versioning.lineage import collect
from tests.git_dvc import commit, dvc_status

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


KILLED_SAVE = """
import sys
import pandas as pd
from kedro_mlops.datasets import DVCDataset
from kedro_mlops.versioning.lineage import collect
rows = int(sys.argv[1])
frame = pd.DataFrame({"a": range(rows), "b": [0.25] * rows, "c": ["text"] * rows})
DVCDataset(filepath="data/big.csv", dataset="pandas.CSVDataset").save(frame)
"""


def test_a_process_killed_mid_save_leaves_the_previous_version_consistent(repo):
    # given a tracked, committed file
    dataset = DVCDataset(filepath="data/big.csv", dataset="pandas.CSVDataset")
    dataset.save(pd.DataFrame({"a": [1, 2, 3]}))
    commit(repo, "v1")
    before = (repo / "data/big.csv").read_bytes()
    record = (repo / "data/big.csv.dvc").read_bytes()
    # when another process is SIGKILLed while it writes a large new version
    process = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, "3000000"], cwd=repo)
    deadline = time.monotonic() + 120
    while not list((repo / "data").glob(".big.csv.*.tmp.csv")):
        assert process.poll() is None, "the save finished before it could be killed"
        assert time.monotonic() < deadline, "the save never started writing"
        time.sleep(0.01)
    time.sleep(0.2)  # well inside the write
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # then the previous file and its .dvc record are untouched and consistent
    assert (repo / "data/big.csv").read_bytes() == before
    assert (repo / "data/big.csv.dvc").read_bytes() == record
    assert dvc_status(repo, "data/big.csv.dvc") == CLEAN
    # and the next save works and cleans up nothing it should not
    dataset.save(pd.DataFrame({"a": [4]}))
    assert dataset.load()["a"].tolist() == [4]
    assert dvc_status(repo, "data/big.csv.dvc") == CLEAN
