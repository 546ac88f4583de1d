"""A kedro-mlops error ends a command with its message, not a traceback."""

from __future__ import annotations

import subprocess
import sys

RAISE = """
import sys
from kedro_mlops.plugin import errors
errors.install()
from kedro_mlops.config import MlopsConfigError
if sys.argv[1] == "ours":
    try:
        raise MlopsConfigError("registry.metric: 'x' is not a metric")
    except MlopsConfigError as error:
        raise RuntimeError("Failed while loading") from error
raise KeyError("a bug")
"""


def _run(kind: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-c", RAISE, kind],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def test_our_error_is_its_message():
    result = _run("ours")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "Error: registry.metric: 'x' is not a metric"
    )
    assert "Traceback" not in result.stderr


def test_a_bug_keeps_its_traceback():
    result = _run("bug")
    assert result.returncode == 1 and "Traceback" in result.stderr
    assert "KeyError: 'a bug'" in result.stderr


def test_the_traceback_comes_back_on_request():
    result = _run("ours", KEDRO_MLOPS_TRACEBACK="1")
    assert "Traceback" in result.stderr and "MlopsConfigError" in result.stderr
