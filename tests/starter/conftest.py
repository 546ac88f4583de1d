"""Fixtures that build the wheel, install it into a fresh environment and
generate a starter project with the real `kedro new` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO


@dataclass
class Env:
    """A fresh virtual environment with the kedro-mlops wheel installed."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def run(
        self, *args: str, cwd: Path, check: bool = True
    ) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "VIRTUAL_ENV": str(self.root),
            "COLUMNS": "200",
        }
        env.pop("MLFLOW_TRACKING_URI", None)
        result = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,  # a failure is reported below with its output
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}) in {cwd}:\n"
                f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
            )
        return result


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which(
        "uv"
    )
    if found is None:
        raise RuntimeError("uv is needed to build the wheel: pip install uv")
    return found


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [_uv(), "build", "--wheel", "--out-dir", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = dist.glob("kedro_mlops-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Env:
    """The wheel (not an editable install) in a brand-new environment."""
    root = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run(
        [_uv(), "venv", "--quiet", "--python", sys.executable, str(root)], check=True
    )
    subprocess.run(
        [
            _uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(root / "bin" / "python"),
            str(wheel),
            "pytest",
        ],
        check=True,
    )
    return Env(root)


def new_project(env: Env, parent: Path, name: str = "churn-model") -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    env.run("kedro", "new", "--starter=mlops", "--name", name, cwd=parent)
    return parent / name


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
