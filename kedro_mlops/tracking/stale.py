"""Runs left ``RUNNING`` by a process that was killed (SIGKILL, a lost machine).

MLflow cannot tell a killed run from a running one: the process that would have
closed it is gone. kedro-mlops tags every run with the process that runs it
(``mlops.process``: host, process id and the process's start time). When a new
``kedro run`` starts, :func:`close_stale_runs` looks at the experiment's runs
still ``RUNNING`` and marks ``KILLED`` those whose process, on this host, no
longer exists (the start time tells a reused process id apart). Runs from other
hosts are left alone: only their own host can tell. A nested run (a tuning
trial) is closed with its parent.

Example:
    >>> parse_process_tag("build-7|4242|1790000000")
    ('build-7', 4242, 1790000000)
    >>> parse_process_tag("not a tag") is None
    True
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

logger = logging.getLogger(__name__)

PROCESS_TAG = "mlops.process"
#: MLflow's tag of a nested run (a tuning trial): its parent's run id.
PARENT_TAG = "mlflow.parentRunId"


def _start_time(pid: int) -> int | None:
    import psutil

    try:
        return int(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def process_tag() -> str:
    """This process, as written in the ``mlops.process`` tag."""
    pid = os.getpid()
    return f"{socket.gethostname()}|{pid}|{_start_time(pid) or 0}"


def parse_process_tag(value: str) -> tuple[str, int, int] | None:
    host, _, rest = value.partition("|")
    pid, _, started = rest.partition("|")
    if not host or not pid.isdigit() or not started.isdigit():
        return None
    return host, int(pid), int(started)


def is_stale(value: str) -> bool:
    """True when the process a run's tag names is gone from this host."""
    parsed = parse_process_tag(value)
    if parsed is None or parsed[0] != socket.gethostname():
        return False
    _, pid, started = parsed
    return _start_time(pid) != started


def close_stale_runs(client: Any, experiment_id: str, current_run_id: str) -> list[str]:
    """Mark KILLED the experiment's RUNNING runs whose process is gone.

    A nested run (a tuning trial) still ``RUNNING`` under a parent that is
    over, or that this call closes, is marked ``KILLED`` too: it carries no
    process tag of its own. Returns their run ids; logs one warning for each.
    """
    runs = client.search_runs(
        [experiment_id],
        filter_string="attributes.status = 'RUNNING'",
        max_results=1000,
    )
    closed: list[str] = []

    def close(run_id: str, why: str) -> None:
        client.set_terminated(run_id, "KILLED")
        closed.append(run_id)
        logger.warning("MLflow run %s was left RUNNING %s: marked KILLED.", run_id, why)

    for run in runs:
        tag = run.data.tags.get(PROCESS_TAG)
        if run.info.run_id == current_run_id or tag is None or not is_stale(tag):
            continue
        close(
            run.info.run_id,
            f"by process {tag.split('|')[1]}, which no longer exists (killed?)",
        )
    running = {run.info.run_id for run in runs} - set(closed)
    for run in runs:  # a child (a tuning trial) of a run that is over
        parent = run.data.tags.get(PARENT_TAG)
        if parent is None or parent in running or run.info.run_id in closed:
            continue
        close(run.info.run_id, f"under run {parent}, which is over")
    return closed
