"""Real git + DVC repositories for tests: helpers (fixtures are in tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DVC = str(Path(sys.executable).with_name("dvc"))


def sh(*args: str, cwd: Path) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    sh("git", "init", "-q", "-b", "main", cwd=path)
    sh("git", "config", "user.email", "tests@example.com", cwd=path)
    sh("git", "config", "user.name", "tests", cwd=path)
    sh(DVC, "init", "-q", cwd=path)
    sh("git", "commit", "-qm", "init dvc", cwd=path)
    return path


def commit(repo: Path, message: str, tag: str | None = None) -> None:
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", message, cwd=repo)
    if tag:
        sh("git", "tag", tag, cwd=repo)


def dvc_status(repo: Path, *targets: str) -> str:
    return sh(DVC, "status", *targets, cwd=repo).strip()
