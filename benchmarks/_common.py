"""Shared set-up for the benchmarks: wheel, fresh environments, sizes, timing."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import tomllib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.envs import (  # noqa: E402
    Env,
    build_wheel,
    create_env,
    free_port,
    image_python,
    new_project,
    uv,
    with_tools,
)

__all__ = [
    "Env",
    "build_wheel",
    "cpu_timed",
    "create_env",
    "default_requirements",
    "free_port",
    "image_python",
    "median",
    "new_project",
    "site_packages_size",
    "stop",
    "timed",
    "uv",
    "with_tools",
]


def timed(env: Env, *args: str, cwd: Path) -> float:
    """Wall time in seconds of one command (which must succeed)."""
    start = time.perf_counter()
    env.run(*args, cwd=cwd)
    return time.perf_counter() - start


def cpu_timed(env: Env, *args: str, cwd: Path, **kwargs) -> tuple[float, float]:
    """Wall and CPU (user + system, the command and its children) seconds of one
    command: CPU time is less disturbed than wall time by a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env.run(*args, cwd=cwd, **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def median(values: list[float]) -> float:
    return statistics.median(values)


def stop(process: subprocess.Popen) -> None:
    """Stop a server started in its own process group, and its children."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def site_packages_size(env_root: Path) -> tuple[int, int]:
    """(bytes, files) of the environment's site-packages: its regular files."""
    total = files = 0
    for site in env_root.glob("lib/python*/site-packages"):
        for folder, _, names in os.walk(site):
            for name in names:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    total += path.stat().st_size
                    files += 1
    return total, files


def default_requirements(dev: Env, project: Path, work: Path, wheel: Path) -> list[str]:
    """What kedro-docker's default Dockerfile would install for ``project``: its
    ``requirements.txt``, which holds Kedro's template requirements (read from a
    project made by plain ``kedro new`` with ``dev``) plus what the project needs
    to be worked on (its dependencies with their ``dev`` extra)."""
    dev.run(
        "kedro", "new", "--name", "plain", "--tools", "none", "--example", "n",
        cwd=work,
    )  # fmt: skip
    template = (work / "plain" / "requirements.txt").read_text().split()
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    needs = [
        r
        for r in metadata["dependencies"] + metadata["optional-dependencies"]["dev"]
        if not r.startswith("kedro-mlops")
    ]
    return [with_tools(wheel), *template, *needs]
