"""Request capture: the files, the columns, a request that never waits for the
disk, and what happens when the disk fails (full queue, unwritable path, full
disk, a process killed between writing and renaming a file).

The app is the server's ``ScoringApp`` around a small stub model
(``tests/serving/stubs.py``), called as uvicorn calls it; the files are real
(a temporary folder) or in fsspec file systems that block or fail on purpose.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import fsspec
import pandas as pd
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from kedro_mlops.serving.capture import Capture, CaptureSettings
from kedro_mlops.serving.endpoint import ScoringApp
from kedro_mlops.serving.metrics import Metrics
from tests.conftest import REPO
from tests.serving.stubs import (
    ROWS,
    StubModel,
    probabilities,
    request,
    scraped,
    split,
)

LOGGER = "kedro_mlops.serving.capture"
DROPPED = ("kedro_mlops_capture_dropped_rows_total", ())
CAPTURED_ROWS = ("kedro_mlops_captured_rows_total", ())
CAPTURED = [
    "id", "age", "charges", "plan",  # the request
    "churned_probability", "churned_prediction",  # the model's (not "id")
    "_captured_at", "_model_name", "_model_version", "_request_id",
]  # fmt: skip


def _app(path: str, **settings) -> tuple[ScoringApp, Capture, Metrics]:
    metrics = Metrics("churn_model", "7")
    capture = Capture(
        CaptureSettings(path=path, **{"flush_seconds": 60, **settings}),
        "churn_model",
        "7",
        on_captured=metrics.captured.inc,
        on_dropped=metrics.dropped.inc,
    )
    app = ScoringApp(None, StubModel(), 1_000_000, metrics=metrics, capture=capture)
    return app, capture, metrics


def _files(root: Path, pattern: str = "**/*") -> list[Path]:
    return sorted(p for p in root.glob(pattern) if p.is_file())


def _partitions(root: Path) -> dict[str, pd.DataFrame]:
    """What a pipeline reads: Kedro's PartitionedDataset of the .parquet files."""
    from kedro_datasets.partitions import PartitionedDataset

    dataset = PartitionedDataset(
        path=str(root), dataset="pandas.ParquetDataset", filename_suffix=".parquet"
    )
    return {name: load() for name, load in dataset.load().items()}


def test_capture_writes_hourly_partitions_with_the_exact_columns(tmp_path):
    # given a server that captures to a folder
    app, capture, _ = _app(str(tmp_path / "captured"))
    # when it scores two requests, refuses one, and scores one with an extra column
    assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
    assert request(app, "POST", "/invocations", split(ROWS.head(2)))[0] == 200
    assert (
        request(app, "POST", "/invocations", split(ROWS.drop(columns="age")))[0] == 400
    )
    extra = ROWS.head(1).assign(channel="web")
    assert request(app, "POST", "/invocations", split(extra))[0] == 200
    # and writes what waits (as it does every flush_seconds, and at shutdown)
    assert capture.flush()
    # then the scored rows are in hourly folders, one file per set of columns
    files = _files(tmp_path / "captured")
    assert [f.suffix for f in files] == [".parquet", ".parquet"]
    assert all(f.name.split("-")[1] == str(os.getpid()) for f in files)
    parts = _partitions(tmp_path / "captured")
    assert len(parts) == 2
    same, other = sorted(parts.values(), key=len, reverse=True)
    assert list(same.columns) == CAPTURED
    assert list(other.columns) == [*CAPTURED[:4], "channel", *CAPTURED[4:]]
    # with the request's rows, the model's columns and capture's own
    expected = pd.concat([ROWS, ROWS.head(2)], ignore_index=True)
    pd.testing.assert_frame_equal(same[CAPTURED[:4]], expected, check_dtype=False)
    assert same["churned_probability"].tolist() == probabilities(expected).tolist()
    assert set(same["_model_name"]) == {"churn_model"}
    assert set(same["_model_version"]) == {"7"}
    assert same["_request_id"].nunique() == 2
    assert (same.groupby("_request_id").size().sort_values().tolist()) == [2, 4]
    assert str(same["_captured_at"].dtype) == "datetime64[ms, UTC]"
    assert (
        abs(pd.Timestamp.now("UTC") - same["_captured_at"].max()).total_seconds() < 60
    )
    # and each file's folder is the hour of its rows
    for name, frame in parts.items():
        hours = frame["_captured_at"].dt.strftime("hour=%Y-%m-%dT%H").unique()
        assert name.split("/")[0] == hours[0] and len(hours) == 1
    assert capture.captured_rows == 7 and capture.dropped_rows == 0
    capture.close()


class BlockingDisk(MemoryFileSystem):
    """An fsspec file system whose writes wait until ``release`` is set."""

    protocol = "blockingdisk"
    store: dict = {}  # noqa: RUF012 - MemoryFileSystem's class-level store, our own
    pseudo_dirs = [""]  # noqa: RUF012
    writing = threading.Event()
    release = threading.Event()

    def _open(self, path, mode="rb", **kwargs):
        if "w" in mode:
            BlockingDisk.writing.set()
            assert BlockingDisk.release.wait(30), "the test never released the disk"
        return super()._open(path, mode, **kwargs)


@pytest.fixture
def blocking_disk():
    fsspec.register_implementation("blockingdisk", BlockingDisk, clobber=True)
    BlockingDisk.store.clear()
    BlockingDisk.writing.clear()
    BlockingDisk.release.clear()
    yield BlockingDisk
    BlockingDisk.release.set()


def _parquet_files(fs_class) -> list[str]:
    return sorted(p for p in fs_class.store if p.endswith(".parquet"))


def test_a_request_does_not_wait_for_a_slow_disk(blocking_disk):
    # given a server whose disk blocks the writer, and a first request written
    app, capture, _ = _app("blockingdisk://captured", flush_seconds=0.05)
    assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
    assert blocking_disk.writing.wait(5)  # the writer is stuck in a write
    # when more requests come while the disk does not answer
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        status, _ = request(app, "POST", "/invocations", split(ROWS))
        timings.append(time.perf_counter() - start)
        assert status == 200
    # then each is answered at once, as without capture
    assert max(timings) < 0.5, timings
    assert not blocking_disk.release.is_set() and _parquet_files(blocking_disk) == []
    # and once the disk answers, every row is written
    blocking_disk.release.set()
    assert capture.flush()
    assert capture.captured_rows == 21 * len(ROWS)
    assert capture.dropped_rows == 0
    assert _parquet_files(blocking_disk)
    capture.close()


def test_a_full_queue_drops_and_counts(blocking_disk, caplog):
    # given a queue of 10 rows whose writer is stuck in writing the first request
    app, capture, metrics = _app(
        "blockingdisk://captured", flush_seconds=0.05, max_queue_rows=10
    )
    assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
    assert blocking_disk.writing.wait(5)
    # when 5 more requests of 4 rows come (4 + 4 rows fit; 8 + 4 do not)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(5):
            assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
    # then all are answered, the last 4 requests' rows are dropped and counted,
    assert capture.dropped_rows == 16
    assert scraped(app)[DROPPED] == 16
    # with one warning for them that names the setting
    warnings = [r for r in caplog.records if r.name == LOGGER]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "serving.capture.max_queue_rows is 10" in warnings[0].getMessage()
    # and what fitted is written when the disk answers
    blocking_disk.release.set()
    assert capture.flush()
    assert capture.captured_rows == 8
    capture.close()


class FullDisk(MemoryFileSystem):
    """An fsspec file system that runs out of space (ENOSPC) while ``full`` is
    set: the file is created, then its first write fails."""

    protocol = "fulldisk"
    store: dict = {}  # noqa: RUF012
    pseudo_dirs = [""]  # noqa: RUF012
    full = True

    def _open(self, path, mode="rb", **kwargs):
        opened = super()._open(path, mode, **kwargs)
        if "w" in mode and FullDisk.full:
            self.store[self._strip_protocol(path)] = opened  # half written

            def write(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            opened.write = write
        return opened


def _serves_warns_once_and_resumes(app, capture, caplog, *, path, error, fix):
    """Requests are answered while writing fails; one warning; then `fix()`."""
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for _ in range(3):  # three flushes, each failing
            assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
            assert capture.flush()
        warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER]
        assert len(warnings) == 1, warnings
        assert path in warnings[0] and error in warnings[0], warnings[0]
        assert "goes on serving" in warnings[0]
        assert capture.dropped_rows == 3 * len(ROWS) == scraped(app)[DROPPED]
        assert capture.captured_rows == 0
        # when the path can be written again, the next flush writes
        fix()
        assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
        assert capture.flush()
    assert capture.captured_rows == len(ROWS) == scraped(app)[CAPTURED_ROWS]
    assert "works again" in caplog.records[-1].getMessage()
    capture.close()


def test_an_unwritable_path_is_warned_once_and_counted_as_dropped(tmp_path, caplog):
    # given a capture path that cannot be a folder (a file stands in its way:
    # root may write anywhere, so permissions would not stop it)
    blocker = tmp_path / "monitoring"
    blocker.write_text("not a folder")
    path = str(blocker / "captured")
    app, capture, _ = _app(path)

    def fix():
        blocker.unlink()

    _serves_warns_once_and_resumes(
        app, capture, caplog, path=path, error="NotADirectoryError", fix=fix
    )
    # and no partial file is left
    assert [f.name.endswith(".parquet") for f in _files(blocker)] == [True]


def test_a_full_disk_is_warned_once_and_leaves_no_partial_file(caplog):
    fsspec.register_implementation("fulldisk", FullDisk, clobber=True)
    FullDisk.store.clear()
    FullDisk.full = True
    app, capture, _ = _app("fulldisk://captured")

    def fix():
        # no half-written file was left by the failed writes
        assert list(FullDisk.store) == []
        FullDisk.full = False

    _serves_warns_once_and_resumes(
        app, capture, caplog, path="fulldisk://captured", error="No space left", fix=fix
    )
    assert [p.endswith(".parquet") for p in FullDisk.store] == [True]


KILLED_BETWEEN_WRITE_AND_RENAME = """
import os, signal, sys
import pandas as pd
from kedro_mlops.serving.capture import Capture, CaptureSettings

capture = Capture(CaptureSettings(path=sys.argv[1], flush_seconds=60), "m", "1")
rows = pd.DataFrame({"id": ["A", "B"], "x": [1.0, 2.0]})
capture.put(rows, pd.DataFrame({"p": [0.1, 0.9]}))
assert capture.flush()  # a whole file
os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
capture.put(rows, pd.DataFrame({"p": [0.2, 0.8]}))
capture.flush()
"""


def test_a_process_killed_while_writing_leaves_no_visible_file(tmp_path):
    # given a process killed after writing a file's bytes, before its rename
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_BETWEEN_WRITE_AND_RENAME),
         str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == -9, result.stderr
    # then the half-made file has the .partial name
    names = [f.name for f in _files(tmp_path)]
    assert len(names) == 2 and sum(n.endswith(".parquet.partial") for n in names) == 1
    # and a reader of the .parquet files sees the whole file only
    (whole,) = _partitions(tmp_path).values()
    assert whole["p"].tolist() == [0.1, 0.9]


def test_shutdown_writes_what_waits(tmp_path):
    # given requests waiting for a flush an hour away
    app, capture, _ = _app(str(tmp_path), flush_seconds=3600)
    assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
    assert _files(tmp_path) == []
    # when the server stops (the lifespan's shutdown)
    app.stopped()
    # then they are written
    assert sum(len(f) for f in _partitions(tmp_path).values()) == len(ROWS)


def test_a_file_is_written_as_soon_as_file_rows_wait(tmp_path):
    app, capture, _ = _app(str(tmp_path), flush_seconds=3600, file_rows=8)
    assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
    time.sleep(0.2)
    assert _files(tmp_path) == []  # 4 rows wait
    assert request(app, "POST", "/invocations", split(ROWS))[0] == 200
    deadline = time.monotonic() + 5
    while not _files(tmp_path, "**/*.parquet") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_partitions(tmp_path)) == 1
    capture.close()


def test_settings_travel_through_the_environment():
    settings = CaptureSettings(path="memory://c", max_queue_rows=5, file_rows=2)
    environ = {"KEDRO_MLOPS_SERVE_CAPTURE": settings.to_environ()}
    assert CaptureSettings.from_environ(environ) == settings
    assert CaptureSettings.from_environ({}) is None
    with pytest.raises(ValueError, match="greater than 0"):
        CaptureSettings.from_environ(
            {"KEDRO_MLOPS_SERVE_CAPTURE": '{"path": "x", "file_rows": 0}'}
        )


def test_each_column_kind_keeps_its_type_in_the_file(tmp_path):
    import numpy as np
    import pyarrow.parquet as pq

    # given requests as a server can receive them (JSON, CSV or Parquet bodies)
    when = pd.Timestamp("2025-01-31 14:05", tz="UTC")
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a", None, "c"], dtype="str"),
            "whole": np.array([1, 2, 3], dtype="int64"),
            "small": np.array([1, 2, 3], dtype="int32"),
            "real": [0.5, np.nan, 2.0],
            "flag": [True, False, True],
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "level": pd.Categorical(["x", "y", "x"]),
            "day": pd.to_datetime(["2025-01-01", None, "2025-01-03"]),
            "zoned": [when, when, None],
            "mixed": pd.Series([1, "two", None], dtype=object),
        }
    )
    capture = Capture(CaptureSettings(path=str(tmp_path), flush_seconds=3600))
    # and models that answer a table, a series, an array, lists per row
    answers = [
        pd.DataFrame({"text": ["z"] * 3, "p": [0.1, 0.2, 0.3]}),
        pd.Series([0.1, 0.2, 0.3]),
        np.array([1, 0, 1]),
        np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]),
    ]
    for answer in answers:
        assert capture.put(frame, answer)
        assert capture.put(frame.iloc[1:].reset_index(drop=True), answer[1:])
    # and a request whose text is all missing (an object column, not str)
    assert capture.put(frame.assign(text=[None, None, None]), answers[0])
    assert capture.flush()
    capture.close()
    # then each model's answers share one file, the request's columns typed
    # as they came, text that mixes kinds kept as text, nulls kept as nulls
    files = sorted(tmp_path.glob("hour=*/*.parquet"))
    tables = [pq.read_table(f) for f in files]
    assert sorted(t.num_rows for t in tables) == [5, 5, 5, 8]
    request_types = {
        "text": "string", "whole": "int64", "small": "int32", "real": "double",
        "flag": "bool", "nullable": "int64", "level": "string",
        "day": "timestamp[us]", "zoned": "timestamp[us, tz=UTC]", "mixed": "string",
    }  # fmt: skip
    answer_types = [
        {"p": "double"},
        {"prediction": "double"},
        {"prediction": "int64"},
        {"prediction": "list<element: double>"},
    ]
    meta = {
        "_captured_at": "timestamp[ms, tz=UTC]", "_model_name": "string",
        "_model_version": "string", "_request_id": "string",
    }  # fmt: skip
    found = sorted(str({f.name: str(f.type) for f in t.schema}) for t in tables)
    expected = sorted(
        str({**request_types, **answer, **meta}) for answer in answer_types
    )
    assert found == expected  # the types, and the columns in order
    (values,) = [t.to_pydict() for t in tables if t.num_rows == 8]
    assert values["text"] == ["a", None, "c", None, "c", None, None, None]
    assert values["real"][1] is None
    assert values["nullable"] == [1, None, 3, None, 3, 1, None, 3]
    assert values["mixed"] == ["1", "two", None, "two", None, "1", "two", None]
    assert values["level"] == ["x", "y", "x", "y", "x", "x", "y", "x"]
    assert values["zoned"][2] is None


def test_requests_made_into_tables_apart_still_share_one_file(tmp_path):
    import pyarrow.parquet as pq

    # given a writer that makes the queue into tables twice a second, and
    # writes an hour later
    capture = Capture(CaptureSettings(path=str(tmp_path), flush_seconds=3600))
    parts = [  # the same columns, each made into a table on its own
        pd.DataFrame({"id": ["a", "b"], "v": pd.Series([1, 2], dtype=object)}),
        pd.DataFrame({"id": ["c", None], "v": pd.Series(["x", None], dtype=object)}),
        pd.DataFrame({"id": [None, None], "v": pd.Series([3, 4], dtype=object)}),
    ]
    for frame in parts:
        assert capture.put(frame, [0.5] * len(frame))
        deadline = time.monotonic() + 5
        while capture._queue and time.monotonic() < deadline:  # made a table
            time.sleep(0.05)
        assert not capture._queue
    assert not list(tmp_path.rglob("*.parquet"))
    # when it writes
    assert capture.flush()
    capture.close()
    # then one file holds them: ids as text (all-missing ids too), and the
    # column of numbers in some requests and text in another as text
    (file,) = tmp_path.rglob("*.parquet")
    table = pq.read_table(file)
    assert str(table.schema.field("id").type) == "string"
    assert str(table.schema.field("v").type) == "string"
    assert table.column("id").to_pylist() == ["a", "b", "c", None, None, None]
    assert table.column("v").to_pylist() == ["1", "2", "x", None, "3", "4"]
    assert capture.captured_rows == 6 and capture.dropped_rows == 0
