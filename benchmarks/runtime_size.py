"""Size of the production image's Python environment against kedro-docker's default.

Both environments are built side by side for the same starter project:

* **runtime** (what the starter's Dockerfile installs): the project's wheel and
  kedro-mlops without extras, then `python -m kedro_mlops.docker.slim`, then the
  stage's RUN line in its WORKDIR, exactly as in the image's runtime stage (the
  build rehearsal of the tests performs the same steps and runs the pipelines in
  that environment). By default that line writes nothing; the bytes that the
  optional precompile step adds (build argument ``KEDRO_MLOPS_PRECOMPILE=1``) are
  printed beside;
* **kedro-docker default**: kedro-docker's own Dockerfile installs the project's
  `requirements.txt`. A Kedro project's `requirements.txt` holds Kedro's
  template requirements (read here from a project made by plain `kedro new` in
  the same environment: IPython, JupyterLab, Notebook, Kedro) plus what the
  project needs to be worked on: its dependencies with their `dev` extra
  (kedro-mlops[tools], pytest, ruff).

Sizes are of the installed ``site-packages`` (bytes of regular files), both
installed by uv without bytecode compilation, as kedro-docker's Dockerfile does.
Target: runtime at most 60% of the default.

Usage: python benchmarks/runtime_size.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import tomllib
from _common import build_wheel, create_env, new_project, with_tools

from harness.rehearsal import (
    PRECOMPILE,
    copy_context,
    project_wheel,
    runtime_folder,
    slim,
    workdir_steps,
)


def site_packages_size(env_root: Path) -> tuple[int, int]:
    """(bytes, files) of the environment's site-packages."""
    total = files = 0
    for site in env_root.glob("lib/python*/site-packages"):
        for folder, _, names in os.walk(site):
            for name in names:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    total += path.stat().st_size
                    files += 1
    return total, files


def default_requirements(dev, project: Path, work: Path, wheel: Path) -> list[str]:
    """The requirements.txt kedro-docker's default Dockerfile would install."""
    dev.run(
        "kedro", "new", "--name", "plain", "--tools", "none", "--example", "n",
        cwd=work,
    )  # fmt: skip
    template = (work / "plain" / "requirements.txt").read_text().split()
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    needs = [
        r
        for r in metadata["dependencies"] + metadata["optional-dependencies"]["dev"]
        if not r.startswith("kedro-mlops")
    ]
    return [with_tools(wheel), *template, *needs]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        dev = create_env(work / "dev", with_tools(wheel))
        project = new_project(dev, work / "projects")

        context = copy_context(project, work / "context")
        runtime = create_env(
            work / "runtime",
            str(project_wheel(context, work / "dist-project")),
            str(wheel),
            compile_bytecode=False,  # as the image installs it; sizes without .pyc
        )
        unslimmed, _ = site_packages_size(runtime.root)
        print(slim(runtime), end="")
        app = work / "app"
        image_env = runtime_folder(project / "Dockerfile", context, app)
        dockerfile = project / "Dockerfile"
        print(workdir_steps(dockerfile, runtime, app, image_env), end="")
        requirements = default_requirements(dev, project, work, wheel)
        default = create_env(work / "default", *requirements, compile_bytecode=False)
        sizes = {
            "runtime (starter Dockerfile)": site_packages_size(runtime.root),
            "kedro-docker default (requirements.txt)": site_packages_size(default.root),
        }
        # the optional step, as `--build-arg KEDRO_MLOPS_PRECOMPILE=1` runs it
        print(workdir_steps(dockerfile, runtime, app, image_env, PRECOMPILE), end="")
        precompiled, _ = site_packages_size(runtime.root)
        print("Python environment of the image, installed site-packages")
        for name, (size, files) in sizes.items():
            print(f"  {name:<42}{size / 1e6:9.1f} MB {files:8d} files")
        runtime_size, _ = sizes["runtime (starter Dockerfile)"]
        default_size, _ = sizes["kedro-docker default (requirements.txt)"]
        print(f"  runtime before slimming                   {unslimmed / 1e6:9.1f} MB")
        print(
            f"  runtime with KEDRO_MLOPS_PRECOMPILE=1     {precompiled / 1e6:9.1f} MB"
            f" (+{(precompiled - runtime_size) / 1e6:.1f} MB of bytecode, "
            f"{precompiled / default_size:.2f} of the default)"
        )
        ratio = runtime_size / default_size
        print(f"  runtime / default: {ratio:.2f} (target: at most 0.60)")
        print(
            "  default requirements: "
            + " ".join(r.split(" @ ")[0] for r in requirements)
        )


if __name__ == "__main__":
    main()
