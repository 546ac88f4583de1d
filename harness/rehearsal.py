"""The Dockerfile's steps without Docker, shared by the tests and the benchmarks.

* :func:`project_wheel`: the build stage, the project's wheel built from the
  build context only (as ``.dockerignore`` makes it);
* :func:`runtime_folder`: the runtime stage's own ``COPY`` and ``mkdir -p``
  lines applied to an empty folder, and its ``ENV`` settings returned, as
  parsed from the project's Dockerfile;
* :func:`slim`: the build stage's ``python -m kedro_mlops.docker.slim`` on the
  environment it installs (which the runtime stage copies), with the
  Dockerfile's options: removing what the runs never load, stripping the
  shared libraries;
* :func:`workdir_steps`: the runtime stage's RUN lines that follow its
  WORKDIR (writing the bytecode the runs use, unless a build argument turns
  it off), run in that folder with the runtime environment first on PATH;
* :func:`code_loaded`: which modules a ``python -v`` run loaded from bytecode.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness.dockerfile import (
    arg_defaults,
    created_folders,
    env_values,
    local_copies,
    module_command,
    parse,
    workdir_runs,
)
from harness.dockerignore import build_context
from harness.envs import Env, wheel_of

# The build argument that turns the precompile step off (it is on by default).
NO_PRECOMPILE = {"KEDRO_MLOPS_PRECOMPILE": "0"}


def copy_context(project: Path, context: Path) -> Path:
    """Copy the project's build context (what Docker would send) to ``context``."""
    for relative in build_context(project):
        target = context / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / relative, target)
    return context


def project_wheel(context: Path, dist: Path) -> Path:
    """The build stage: the project's wheel, from the build context only."""
    return wheel_of(context, dist)


def runtime_folder(dockerfile: Path, context: Path, app: Path) -> dict[str, str]:
    """Lay out ``app`` as the runtime stage lays out its WORKDIR.

    Returns the stage's ``ENV`` settings, without the image's own ``PATH`` and
    ``VIRTUAL_ENV``.
    """
    stage = next(s for s in parse(dockerfile) if s.name == "runtime")
    app.mkdir(parents=True, exist_ok=True)
    for source, destination in local_copies(stage):
        origin, target = context / source, app / destination
        if origin.is_dir():
            shutil.copytree(origin, target)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / origin.name)
    for folder in created_folders(stage):
        (app / folder).mkdir(parents=True, exist_ok=True)
    return {
        k: v for k, v in env_values(stage).items() if k not in ("PATH", "VIRTUAL_ENV")
    }


def slim(runtime: Env, dockerfile: Path, strip: bool = True) -> str:
    """The build stage's slimming of the environment, as the Dockerfile runs it
    (its paths in the image mapped to ``runtime``); ``strip=False`` adds
    ``--no-strip``. Return what it printed (stdout, then stderr)."""
    stages = parse(dockerfile)
    build = next(s for s in stages if s.name == "build")
    image_env = env_values(next(s for s in stages if s.name == "runtime"))
    root = image_env["VIRTUAL_ENV"]  # where the image has the environment

    def in_rehearsal(word: str) -> str:
        return str(runtime.root) + word[len(root) :] if word.startswith(root) else word

    command = [
        in_rehearsal(w) for w in module_command(build, "kedro_mlops.docker.slim")
    ]
    result = subprocess.run(
        command + ([] if strip else ["--no-strip"]),
        # what the build stage writes outside the environment stays there
        env={**runtime.environ(), "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result.stdout + result.stderr


def workdir_steps(
    dockerfile: Path,
    runtime: Env,
    app: Path,
    image_env: dict[str, str],
    build_args: dict[str, str] | None = None,
) -> str:
    """Run the runtime stage's RUN lines that follow its WORKDIR, in ``app``
    (laid out by :func:`runtime_folder`), with the stage's ``ARG`` values as
    ``docker build --build-arg`` would set them; return what they printed."""
    stage = next(s for s in parse(dockerfile) if s.name == "runtime")
    args = {**arg_defaults(stage), **(build_args or {})}
    printed = ""
    for command in workdir_runs(stage):
        result = subprocess.run(
            ["/bin/sh", "-c", command],  # what RUN's shell form runs
            cwd=app,
            env={**runtime.environ(), **args, **image_env},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"RUN {command} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        printed += result.stdout
    return printed


def code_loaded(verbose: str, environment: Path) -> tuple[set[Path], set[Path]]:
    """Source files of the modules under ``environment`` (an environment, or an
    interpreter's folder) that a ``python -v`` run loaded from their bytecode,
    and those it compiled from source."""
    from_bytecode, from_source = set(), set()
    for line in verbose.splitlines():
        if not line.startswith("# code object from "):
            continue
        path = Path(line.removeprefix("# code object from ").strip("'")).resolve()
        if environment.resolve() not in path.parents:
            continue
        if path.suffix == ".pyc":  # <folder>/__pycache__/<name>.<tag>.pyc
            source = path.parent.parent / (path.name.split(".")[0] + ".py")
            from_bytecode.add(source)
        else:
            from_source.add(path)
    return from_bytecode, from_source
