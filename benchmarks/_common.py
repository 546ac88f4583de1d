"""Shared set-up for the benchmarks: wheel, fresh environments, timing."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.starter.envs import (  # noqa: E402
    Env,
    build_wheel,
    create_env,
    new_project,
    uv,
    with_tools,
)

__all__ = [
    "Env",
    "build_wheel",
    "create_env",
    "median",
    "new_project",
    "timed",
    "uv",
    "with_tools",
]


def timed(env: Env, *args: str, cwd: Path) -> float:
    """Wall time in seconds of one command (which must succeed)."""
    start = time.perf_counter()
    env.run(*args, cwd=cwd)
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)
