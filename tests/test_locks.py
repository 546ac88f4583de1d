"""The lock between processes: held until released, or until its holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kedro_mlops.locks import file_lock

HOLD = """
import sys, time
from pathlib import Path
from kedro_mlops.locks import file_lock
with file_lock(Path(sys.argv[1]), waiting="the test"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(path: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds the lock for ``seconds`` (once it says so)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p or "." for p in sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_process_waits_for_the_first_and_says_so(tmp_path, caplog):
    lock = tmp_path / "store.lock"
    holder = _holder(lock, 1.0)
    started = time.monotonic()
    with caplog.at_level("INFO", logger="kedro_mlops.locks"):
        with file_lock(lock, waiting="the store"):
            waited = time.monotonic() - started
    holder.wait()
    assert waited > 0.5  # the holder kept it for a second
    assert "Waiting for another process to release the store" in caplog.text


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    lock = tmp_path / "store.lock"
    holder = _holder(lock, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    started = time.monotonic()
    with file_lock(lock, waiting="the store"):
        assert time.monotonic() - started < 1
    assert lock.read_bytes() == b""  # the file stays, empty


def test_a_second_run_of_a_project_waits_for_the_first(tmp_path):
    import threading
    import time

    from kedro_mlops.locks import RunLock

    first, second = RunLock(), RunLock()
    first.acquire(tmp_path)
    started = []
    waiter = threading.Thread(
        target=lambda: (second.acquire(tmp_path), started.append(time.monotonic()))
    )
    waiter.start()
    time.sleep(0.5)
    assert started == []  # still waiting
    released = time.monotonic()
    first.release()
    waiter.join(timeout=10)
    assert started and started[0] >= released
    second.release()
    # another project is not held up
    other = RunLock()
    other.acquire(tmp_path / "other")
    other.release()
