"""The image's size and start-up, built by default, against a build without
stripped libraries and without bytecode.

Two runtime environments are made as :mod:`harness.rehearsal` makes the one of
the tests' build rehearsal (the project's wheel and kedro-mlops without extras,
on a copy of this Python laid out as in the official slim images, whose standard
library has no bytecode; a folder laid out as the image's WORKDIR; the image's
ENV, so no bytecode is written at run time), each with its own folder, both
using one sqlite store that already holds a champion:

* **default build**: the Dockerfile's steps with no build argument: the build
  stage's `python -m kedro_mlops.docker.slim` (it strips the shared libraries),
  then the runtime stage's RUN line, which writes the bytecode of the modules the
  runs import, installed or from the standard library
  (`python -m kedro_mlops.docker.precompile`);
* **not stripped, no bytecode**: the same with `--no-strip` and the build
  argument `KEDRO_MLOPS_PRECOMPILE=0`, as the image was before both.

Reported, for each: the size of the installed site-packages and its share of
what kedro-docker's default Dockerfile installs for the same project (see
benchmarks/runtime_size.py); then, in interleaved rounds, a cold start of
`kedro mlops serve` (a new process, as in a new container) to its first 200 on
`/ping`, and a training run (`kedro run --pipelines training`) to its end (wall
and CPU seconds of the command and its children). Then one training run of the
default build under `python -v` shows how many of the site-packages modules it
imports came from the bytecode.

Targets: the default build at most 0.60 of kedro-docker's default; its first
`/ping` within 3 s.

Usage: python benchmarks/image_start.py [--runs N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import (
    Env,
    build_wheel,
    cpu_timed,
    create_env,
    default_requirements,
    free_port,
    image_python,
    median,
    new_project,
    site_packages_size,
    stop,
    with_tools,
)

from harness.rehearsal import (
    NO_PRECOMPILE,
    code_loaded,
    copy_context,
    project_wheel,
    runtime_folder,
    slim,
    workdir_steps,
)

STATES = {  # name -> (strip, build arguments)
    "not stripped, no bytecode": (False, NO_PRECOMPILE),
    "default build": (True, {}),
}


Image = tuple[Env, Path, dict[str, str]]  # environment, WORKDIR, run environment
TRAINING = ("kedro", "run", "--pipelines", "training")


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        dev = create_env(work / "dev", with_tools(wheel))
        project = new_project(dev, work / "projects")
        images = {
            name: build_image(project, wheel, work, number, how)
            for number, (name, how) in enumerate(STATES.items())
        }
        default = create_env(
            work / "default",
            *default_requirements(dev, project, work, wheel),
            compile_bytecode=False,
        )
        default_size, _ = site_packages_size(default.root)
        sizes = {
            name: site_packages_size(r.root)[0] for name, (r, _, _) in images.items()
        }
        runtime, app, run_env = images["default build"]
        runtime.run(*TRAINING, cwd=app, extra_env=run_env)  # the store, a champion
        load_before = os.getloadavg()[0]
        times: dict[str, list[tuple[float, float, float]]] = {n: [] for n in STATES}
        for i in range(runs):
            for name in STATES if i % 2 == 0 else reversed(STATES):
                times[name].append(start_and_train(*images[name], work / "serve"))
        load_after = os.getloadavg()[0]
        verbose = runtime.run(
            *TRAINING, cwd=app, extra_env={**run_env, "PYTHONVERBOSE": "1"}
        ).stderr
        from_bytecode, from_source = code_loaded(verbose, runtime.root)
        site = next(runtime.root.glob("lib/python*/site-packages")).resolve()

    before, after = STATES
    print(f"The image, built two ways; medians of {runs} interleaved rounds")
    print(f"  (load average over the rounds: {load_before:.1f} to {load_after:.1f})")
    print(f"  {'':44}{before:>28}{after:>16}  change")
    print(
        f"  {'site-packages, MB':<44}{sizes[before] / 1e6:28.1f}"
        f"{sizes[after] / 1e6:16.1f}  {(sizes[after] - sizes[before]) / 1e6:+.1f}"
    )
    print(
        f"  {f'share of kedro-docker default ({default_size / 1e6:.1f} MB)':<44}"
        f"{sizes[before] / default_size:28.2f}{sizes[after] / default_size:16.2f}"
        "  (target: at most 0.60)"
    )
    for index, label in enumerate(
        (
            "kedro mlops serve to its first /ping, s",
            "training run to its end, s (wall)",
            "training run, CPU s",
        )
    ):
        was = [t[index] for t in times[before]]
        now = [t[index] for t in times[after]]
        target = "  (target: at most 3 s)" if index == 0 else ""
        print(
            f"  {label:<44}{median(was):28.2f}{median(now):16.2f}  "
            f"{median(now) - median(was):+.2f}{target}"
        )
        print(f"  {'  fastest round':<44}{min(was):28.2f}{min(now):16.2f}")
    for name in STATES:
        each = "; ".join(f"{p:.1f} {w:.1f} {c:.1f}" for p, w, c in times[name])
        print(f"  {name} (ping, wall, CPU): {each}")
    total = len(from_bytecode) + len(from_source)
    print(
        f"Default build: a training run loaded {len(from_bytecode)} of the {total} "
        f"site-packages modules it imports from bytecode "
        f"({len(from_bytecode) / total:.1%}); compiled from source: {len(from_source)}"
    )
    for source in sorted(from_source):
        print(f"    {source.relative_to(site)}")


def build_image(
    project: Path,
    wheel: Path,
    work: Path,
    number: int,
    how: tuple[bool, dict[str, str]],
) -> Image:
    """The Dockerfile's steps for ``project``, in folders of ``work`` numbered
    ``number``, ``how`` = (strip, build arguments); every image uses the one
    store in ``work/tracking``."""
    strip, build_args = how
    dockerfile = project / "Dockerfile"
    context = copy_context(project, work / f"context-{number}")
    runtime = create_env(
        work / f"runtime-{number}",
        str(project_wheel(context, work / f"dist-project-{number}")),
        str(wheel),
        compile_bytecode=False,  # the image has only what precompile writes
        python=image_python(work / f"python-{number}"),  # the base image's
    )
    app = work / f"app-{number}"
    image_env = runtime_folder(dockerfile, context, app)
    slim(runtime, dockerfile, strip=strip)
    workdir_steps(dockerfile, runtime, app, image_env, build_args)
    (app / "data" / "01_raw").mkdir()
    for raw in (project / "data/01_raw").glob("*.csv"):  # the mounted volume
        shutil.copy2(raw, app / "data/01_raw")
    store = work / "tracking" / "mlflow.db"
    store.parent.mkdir(exist_ok=True)
    return runtime, app, {**image_env, "MLFLOW_TRACKING_URI": f"sqlite:///{store}"}


def start_and_train(
    runtime: Env, app: Path, run_env: dict[str, str], tmp: Path
) -> tuple[float, float, float]:
    """(seconds to the first /ping, training wall and CPU seconds) in an image."""
    ping = serve_to_ping(runtime, app, run_env, tmp)
    wall, cpu = cpu_timed(runtime, *TRAINING, cwd=app, extra_env=run_env)
    return ping, wall, cpu


def serve_to_ping(runtime: Env, app: Path, run_env: dict[str, str], tmp: Path) -> float:
    """Seconds from `kedro mlops serve` to the first 200 on /ping."""
    tmp.mkdir(exist_ok=True)  # the health marker's TMPDIR
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(runtime.bin / "kedro"), "mlops", "serve", "--port", str(port)],
        cwd=app,
        env={**runtime.environ(), **run_env, "TMPDIR": str(tmp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # one group: the command execs uvicorn, and its workers
    )
    try:
        while process.poll() is None:
            with contextlib.suppress(OSError):
                url = f"http://127.0.0.1:{port}/ping"
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - start
            time.sleep(0.02)
        raise RuntimeError(f"kedro mlops serve stopped ({process.returncode})")
    finally:
        stop(process)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
