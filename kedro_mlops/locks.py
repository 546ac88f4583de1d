"""A lock between the processes of one machine: an OS lock on a file.

The operating system releases it when its process ends, however it ends (a
``SIGKILL`` included), so a crashed process never leaves a stale lock behind.
The lock file itself stays (deleting it on release would let two processes
lock two different files of the same name); it is empty.

* the tracking store (:mod:`kedro_mlops.tracking.store`): one process creates
  and migrates a new sqlite store, one at a time moves the registry's aliases;
* ``DVCDataset`` (:mod:`kedro_mlops.versioning.dataset`): one save of a
  dataset at a time, and a save's leftovers are only cleaned under the lock.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with file_lock(Path(folder) / "store.lock", waiting="the store"):
    ...         "only one process at a time gets here"
    'only one process at a time gets here'
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

#: how often a waiting process tries again where the OS cannot block (Windows)
POLL_SECONDS = 0.05


@contextmanager
def file_lock(path: Path, *, waiting: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed) for the block.

    Args:
        path: the lock file; its folder is created if it is missing.
        waiting: what the lock protects, for the one log line written when
            another process holds it and this one waits.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        if not path.exists():
            raise
        descriptor = os.open(path, os.O_RDONLY)  # another user's lock file
    try:
        if not _try_lock(descriptor):
            logger.info("Waiting for another process to release %s (%s)", waiting, path)
            _lock(descriptor)
        try:
            yield
        finally:
            _unlock(descriptor)
    finally:
        os.close(descriptor)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        os.lseek(descriptor, 0, os.SEEK_SET)
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _lock(descriptor: int) -> None:
        while not _try_lock(descriptor):
            time.sleep(POLL_SECONDS)

    def _unlock(descriptor: int) -> None:
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _lock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)

    def _unlock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)


def run_lock_path(project_path: Path) -> Path:
    """The lock of ``kedro run`` for the project at ``project_path``, in the
    system's temporary folder (nothing is added to the project)."""
    import hashlib
    import tempfile

    key = hashlib.sha1(str(Path(project_path).resolve()).encode()).hexdigest()[:16]
    user = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"kedro-mlops-{user}" / f"run-{key}.lock"


class RunLock:
    """One ``kedro run`` of a project at a time on this machine.

    Two runs of one project read and write the same files (Kedro's datasets
    write in place), so a second run started while one runs would read a file
    half-written by the first. The second waits, saying so, and starts when the
    first ends, however it ends.
    """

    def __init__(self) -> None:
        from contextlib import ExitStack

        self._held: ExitStack | None = None
        self._stack_type = ExitStack

    def acquire(self, project_path: Path) -> None:
        self.release()
        stack = self._stack_type()
        stack.enter_context(
            file_lock(
                run_lock_path(project_path),
                waiting="this project's run lock (one `kedro run` at a time)",
            )
        )
        self._held = stack

    def release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.close()


#: The run lock of this process (the plugin's hooks take and release it).
RUN_LOCK = RunLock()
