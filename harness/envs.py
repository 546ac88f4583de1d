"""Build the kedro-mlops wheel, install it into fresh environments, drive projects.

Used by the starter tests and by the benchmarks, so that both measure what a
user gets from `pip install kedro-mlops`, not the editable checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Env:
    """A virtual environment; commands run from its ``bin`` with it on PATH."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def environ(self) -> dict[str, str]:
        env = {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "VIRTUAL_ENV": str(self.root),
            "COLUMNS": "200",
            "KEDRO_DISABLE_TELEMETRY": "true",
            # one OpenMP thread per process: with other work on the 2 cores, a
            # fit's team of 2 threads waits on each other (an untuned
            # training took 55-60 s instead of 8 s under load)
            "OMP_NUM_THREADS": "1",
        }
        # the project's mlflow.yml decides, not the caller's environment; and
        # Spark's Python workers run this environment's interpreter
        for name in (
            "MLFLOW_TRACKING_URI",
            "MLFLOW_REGISTRY_URI",
            "MLFLOW_EXPERIMENT_ID",
            "MLFLOW_RUN_ID",
            "PYSPARK_PYTHON",
            "PYSPARK_DRIVER_PYTHON",
        ):
            env.pop(name, None)
        return env

    def run(
        self,
        *args: str,
        cwd: Path,
        check: bool = True,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            cwd=cwd,
            env={**self.environ(), **(extra_env or {})},
            capture_output=True,
            text=True,
            check=False,  # a failure is reported below with its output
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}) in {cwd}:\n"
                f"--- stdout ---\n{result.stdout[-4000:]}\n"
                f"--- stderr ---\n{result.stderr[-4000:]}"
            )
        return result


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which(
        "uv"
    )
    if found is None:
        raise RuntimeError("uv is needed to build the wheel: pip install uv")
    return found


def wheel_of(source: Path, dist: Path) -> Path:
    """Build the wheel of the project in ``source`` into ``dist`` (left empty
    before) and return it."""
    subprocess.run(
        [uv(), "build", "--wheel", "--out-dir", str(dist), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = dist.glob("*.whl")
    return built


def build_wheel(dist: Path) -> Path:
    """Build kedro-mlops' wheel from this checkout into ``dist``."""
    return wheel_of(REPO, dist)


def with_tools(wheel: Path, *extras: str) -> str:
    """The requirement for ``wheel`` with its ``tools`` extra (DVC, kedro-viz,
    kedro-docker): what a user installs to work on a project; ``extras`` adds
    others (``spark``)."""
    return f"kedro-mlops[{','.join(('tools', *extras))}] @ {wheel.resolve().as_uri()}"


def create_env(
    root: Path,
    *requirements: str,
    compile_bytecode: bool = True,
    python: Path | None = None,
) -> Env:
    """A brand-new environment with ``requirements`` installed (paths or names).

    With their bytecode compiled, as ``pip install`` does: uv writes none unless
    asked, and where ``PYTHONDONTWRITEBYTECODE`` is set (these machines, many
    images) every ``kedro`` command would compile every module it imports.
    ``compile_bytecode=False`` gives an environment as an image without
    bytecode has it. ``python``: the interpreter (this one by default; for the
    image's, :func:`image_python`, whose standard library is left without
    bytecode, as the image has it).
    """
    interpreter = str(python or sys.executable)
    environ = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"} if python else None
    subprocess.run(
        [uv(), "venv", "--quiet", "--python", interpreter, str(root)],
        check=True,
        env=environ,
    )
    env = Env(root)
    install(env, *requirements, compile_bytecode=compile_bytecode, environ=environ)
    return env


def install(
    env: Env,
    *requirements: str,
    compile_bytecode: bool = True,
    environ: dict[str, str] | None = None,
) -> None:
    """Install ``requirements`` into ``env`` (what is there already stays)."""
    compile_flag = ["--compile-bytecode"] if compile_bytecode else []
    subprocess.run(
        [uv(), "pip", "install", "--quiet", *compile_flag]
        + ["--python", str(env.bin / "python"), *requirements],
        check=True,
        env=environ,
    )


def image_python(folder: Path) -> Path:
    """A copy of the Python running this, laid out as in the official
    ``python:<version>-slim`` images: its standard library without test suites,
    IDLE, Tk or any bytecode (those images delete every ``.pyc``), and no
    installed package. Returns the copy's interpreter, for :func:`create_env`.

    The copy's shared ``libpython``, if any, is the original's: the
    interpreter's run path names it.
    """
    base = Path(sys.base_prefix)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (folder / "bin").mkdir(parents=True)
    executable = folder / "bin" / version
    shutil.copy2(base / "bin" / version, executable)
    skip = shutil.ignore_patterns(
        "site-packages", "test", "tests", "idle_test", "idlelib", "tkinter",
        "turtledemo", "__pycache__", "*.pyc",
    )  # fmt: skip
    shutil.copytree(base / "lib" / version, folder / "lib" / version, ignore=skip)
    (folder / "lib" / version / "site-packages").mkdir()
    return executable


def new_project(env: Env, parent: Path, name: str = "churn-model") -> Path:
    """`kedro new --starter=mlops --name NAME` in ``parent``."""
    parent.mkdir(parents=True, exist_ok=True)
    env.run("kedro", "new", "--starter=mlops", "--name", name, cwd=parent)
    return parent / name


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
