"""The Dockerfile's steps without Docker, shared by the tests and the benchmarks.

* :func:`project_wheel`: the build stage, the project's wheel built from the
  build context only (as ``.dockerignore`` makes it);
* :func:`runtime_folder`: the runtime stage's own ``COPY`` and ``mkdir -p``
  lines applied to an empty folder, and its ``ENV`` settings returned, as
  parsed from the project's Dockerfile.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.docker.context import build_context
from tests.docker.dockerfile import created_folders, env_values, local_copies, parse
from tests.starter.envs import wheel_of


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
