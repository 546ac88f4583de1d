"""Make the new project a git repository with DVC, its raw data tracked and committed.

Runs in the generated project's folder, with the Python that runs `kedro new`
(which has DVC, a kedro-mlops dependency). Inside an existing git repository the
project does not get a repository of its own: DVC is initialised in
subdirectory mode and only the project's files are committed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RAW_DATA = sorted(str(p) for p in Path("data/01_raw").glob("*.csv"))
FALLBACK_IDENTITY = [
    "-c",
    "user.name=kedro-mlops",
    "-c",
    "user.email=kedro-mlops@localhost",
]


def run(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(
            f"kedro-mlops: `{' '.join(args)}` failed while setting up the project:\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout.strip()


def has_identity() -> bool:
    return all(
        subprocess.run(
            ["git", "config", key], capture_output=True, check=False
        ).returncode
        == 0
        for key in ("user.name", "user.email")
    )


def main() -> None:
    project = Path.cwd()
    enclosing = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    nested = enclosing.returncode == 0
    if not nested:
        run("git", "init", "-q", "-b", "main")
    dvc = [sys.executable, "-m", "dvc"]
    run(*dvc, "init", "-q", *(["--subdir"] if nested else []))
    run(*dvc, "config", "core.analytics", "false")
    run(*dvc, "add", "-q", *RAW_DATA)
    run("git", "add", "-A", ".")
    identity = [] if has_identity() else FALLBACK_IDENTITY
    message = "New kedro-mlops project: raw data tracked by DVC"
    # --only with the project's path: an enclosing repository's other staged
    # changes stay as they were.
    run("git", *identity, "commit", "-q", "-m", message, "--only", "--", str(project))


if __name__ == "__main__":
    main()
