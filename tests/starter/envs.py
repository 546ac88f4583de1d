"""Moved to :mod:`harness.envs`; these names stay importable from here for older imports."""

from harness.envs import (
    REPO,
    Env,
    build_wheel,
    create_env,
    free_port,
    new_project,
    read_json,
    uv,
    wheel_of,
    with_tools,
)

__all__ = [
    "REPO",
    "Env",
    "build_wheel",
    "create_env",
    "free_port",
    "new_project",
    "read_json",
    "uv",
    "wheel_of",
    "with_tools",
]
