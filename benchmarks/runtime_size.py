"""Size of the production image's Python environment against kedro-docker's default.

Both environments are built side by side for the same starter project:

* **runtime** (what the starter's Dockerfile installs, built with no build
  argument): the project's wheel and kedro-mlops without extras, then the build
  stage's `python -m kedro_mlops.docker.slim` (removing what the runs never load,
  stripping the shared libraries), then the runtime stage's RUN line in its
  WORKDIR, which writes the bytecode of the modules the runs import, exactly as
  in the image (the standard library's are counted apart: they are outside the
  environment) (the build rehearsal of the tests performs the same steps and
  runs the pipelines in that environment). The size after each step is printed,
  so the bytes of each are there to read: stripping is skipped with
  `--no-strip`, the bytecode with the build argument `KEDRO_MLOPS_PRECOMPILE=0`;
* **kedro-docker default**: kedro-docker's own Dockerfile installs the project's
  `requirements.txt`. A Kedro project's `requirements.txt` holds Kedro's
  template requirements (read here from a project made by plain `kedro new` in
  the same environment: IPython, JupyterLab, Notebook, Kedro) plus what the
  project needs to be worked on: its dependencies with their `dev` extra
  (kedro-mlops[tools], pytest, ruff).

Sizes are of the installed ``site-packages`` (bytes of regular files), both
installed by uv without bytecode compilation, as kedro-docker's Dockerfile does.
Target: the default build's runtime at most 60% of the default.

Usage: python benchmarks/runtime_size.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _common import (
    build_wheel,
    create_env,
    default_requirements,
    image_python,
    new_project,
    site_packages_size,
    with_tools,
)

from harness.rehearsal import (
    copy_context,
    project_wheel,
    runtime_folder,
    slim,
    workdir_steps,
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        dev = create_env(work / "dev", with_tools(wheel))
        project = new_project(dev, work / "projects")
        dockerfile = project / "Dockerfile"

        context = copy_context(project, work / "context")
        python = image_python(work / "python")  # the base image's: no bytecode
        runtime = create_env(
            work / "runtime",
            str(project_wheel(context, work / "dist-project")),
            str(wheel),
            compile_bytecode=False,  # as the image installs it; sizes without .pyc
            python=python,
        )
        steps = [("installed", site_packages_size(runtime.root))]
        print(slim(runtime, dockerfile, strip=False), end="")
        steps.append(("slimmed (--no-strip)", site_packages_size(runtime.root)))
        print(slim(runtime, dockerfile), end="")  # the Dockerfile's step: it strips
        steps.append(("shared libraries stripped", site_packages_size(runtime.root)))
        app = work / "app"
        image_env = runtime_folder(dockerfile, context, app)
        print(workdir_steps(dockerfile, runtime, app, image_env), end="")
        steps.append(
            ("bytecode written (the default build)", site_packages_size(runtime.root))
        )
        stdlib = python.parent.parent
        stdlib_bytecode = sum(p.stat().st_size for p in stdlib.rglob("*.pyc"))
        requirements = default_requirements(dev, project, work, wheel)
        default = create_env(work / "default", *requirements, compile_bytecode=False)
        default_size, default_files = site_packages_size(default.root)

    runtime_size, runtime_files = steps[-1][1]
    print("Python environment of the image, installed site-packages")
    print(
        f"  {'runtime, default build (no build argument)':<46}{runtime_size / 1e6:9.1f} MB {runtime_files:8d} files"
    )
    print(
        f"  {'kedro-docker default (requirements.txt)':<46}{default_size / 1e6:9.1f} MB {default_files:8d} files"
    )
    print("  the runtime after each step of the Dockerfile (share of the default)")
    previous = None
    for name, (size, _) in steps:
        change = "" if previous is None else f" ({(size - previous) / 1e6:+.1f} MB)"
        print(f"    {name:<44}{size / 1e6:9.1f} MB  {size / default_size:.2f}{change}")
        previous = size
    print(
        f"  (and outside the environment, the bytecode of the standard library's "
        f"modules the runs import: {stdlib_bytecode / 1e6:.1f} MB)"
    )
    ratio = runtime_size / default_size
    print(f"  runtime / default: {ratio:.2f} (target: at most 0.60)")
    print(
        "  default requirements: " + " ".join(r.split(" @ ")[0] for r in requirements)
    )


if __name__ == "__main__":
    main()
