"""Write kedro-mlops' shared files, then make the new project a git repository
with DVC, its raw data tracked and committed.

The Dockerfile, .dockerignore, conf/base/mlflow.yml and airflow_dag.j2 come
from kedro-mlops' templates, the very files `kedro mlops init` writes into
other projects.

Runs in the generated project's folder, with the Python that runs `kedro new`
(which needs DVC: kedro-mlops' `tools` extra). Inside an existing git repository the
project does not get a repository of its own: DVC is initialised in
subdirectory mode and only the project's files are committed. When that
repository ignores the project's folder, it cannot track it, so the project
gets its own repository after all.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

RAW_DATA = sorted(
    str(p) for p in Path("data/01_raw").iterdir() if p.suffix in (".csv", ".parquet")
)
FALLBACK_IDENTITY = [
    "-c",
    "user.name=kedro-mlops",
    "-c",
    "user.email=kedro-mlops@localhost",
]


def run(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stderr.strip() + "\n" + result.stdout.strip()).strip()
        sys.exit(
            f"kedro-mlops: `{' '.join(args)}` failed while setting up the project:\n"
            f"{output or '(no output)'}"
        )
    return result.stdout.strip()


def inside_tracked_folder_of_a_repository() -> bool:
    """True inside a git repository that does not ignore this folder."""
    inside = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], capture_output=True, check=False
    )
    if inside.returncode != 0:
        return False
    ignored = subprocess.run(["git", "check-ignore", "-q", "."], check=False)
    return ignored.returncode != 0


def has_identity() -> bool:
    return all(
        subprocess.run(
            ["git", "config", key], capture_output=True, check=False
        ).returncode
        == 0
        for key in ("user.name", "user.email")
    )


def write_shared_files(package_name: str) -> None:
    from kedro_mlops.scaffold.project_files import write_files

    write_files(
        Path.cwd(),
        package_name,
        only=("conf/base/mlflow.yml", "Dockerfile", ".dockerignore", "airflow_dag.j2"),
    )


def main() -> None:
    project = Path.cwd()
    if importlib.util.find_spec("dvc") is None:
        sys.exit(
            "kedro-mlops: the project versions its data with DVC, which is not "
            "installed: `pip install 'kedro-mlops[tools]'`, then run kedro new again."
        )
    write_shared_files("{{ cookiecutter.python_package }}")
    nested = inside_tracked_folder_of_a_repository()
    if not nested:
        run("git", "init", "-q", "-b", "main")
    dvc = [sys.executable, "-m", "dvc"]
    run(*dvc, "init", *(["--subdir"] if nested else []))
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
