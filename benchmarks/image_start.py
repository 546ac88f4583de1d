"""Start-up of the image's runs without and with the bytecode of the precompile step.

In the image's runtime environment as :mod:`harness.rehearsal` sets it up for
the tests' build rehearsal (the project's wheel and kedro-mlops without extras,
slimmed, a folder laid out as the image's WORKDIR, the image's ENV, so no
bytecode is written at run time), a sqlite store that already holds a champion,
and interleaved rounds of each state:

* **without**: the environment as `python -m kedro_mlops.docker.slim` leaves it,
  which is how the image is by default;
* **with**: then the runtime stage's RUN line in its WORKDIR with the build
  argument `KEDRO_MLOPS_PRECOMPILE=1`, which runs
  `python -m kedro_mlops.docker.precompile`.

Each round times a training run (`kedro run --pipelines training`, wall and CPU
seconds of the command and its children) and `kedro mlops serve` from its start
to the first 200 on `/ping`. Then one training run under `python -v` shows how
many of the site-packages modules it imports came from that bytecode (the
step's coverage), and the step's bytes are counted.

Usage: python benchmarks/image_start.py [--runs N]
"""

from __future__ import annotations

import argparse
import contextlib
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
    free_port,
    median,
    new_project,
    stop,
    with_tools,
)

from harness.rehearsal import (
    PRECOMPILE,
    code_loaded,
    copy_context,
    project_wheel,
    runtime_folder,
    slim,
    workdir_steps,
)


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        dev = create_env(work / "dev", with_tools(wheel))
        project = new_project(dev, work / "projects")
        dockerfile = project / "Dockerfile"
        context = copy_context(project, work / "context")
        runtime = create_env(
            work / "runtime",
            str(project_wheel(context, work / "dist-project")),
            str(wheel),
            compile_bytecode=False,  # the image has only what precompile writes
        )
        app = work / "app"
        image_env = runtime_folder(dockerfile, context, app)
        (app / "data" / "01_raw").mkdir()
        for raw in (project / "data/01_raw").glob("*.csv"):  # the mounted volume
            shutil.copy2(raw, app / "data/01_raw")
        store = work / "tracking" / "mlflow.db"
        store.parent.mkdir()
        run_env = {**image_env, "MLFLOW_TRACKING_URI": f"sqlite:///{store}"}
        slim(runtime)
        training = ("kedro", "run", "--pipelines", "training")
        runtime.run(*training, cwd=app, extra_env=run_env)  # the store, a champion

        times: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
        for i in range(runs):
            for precompiled in (False, True) if i % 2 == 0 else (True, False):
                slim(runtime)
                if precompiled:
                    workdir_steps(dockerfile, runtime, app, image_env, PRECOMPILE)
                wall, cpu = cpu_timed(runtime, *training, cwd=app, extra_env=run_env)
                ping = serve_to_ping(runtime, app, run_env, work / "serve")
                times[precompiled].append((wall, cpu, ping))

        slim(runtime)
        printed = workdir_steps(dockerfile, runtime, app, image_env, PRECOMPILE)
        bytecode = sum(
            p.stat().st_size for p in runtime.root.glob("lib/python*/**/*.pyc")
        )
        verbose = runtime.run(
            *training, cwd=app, extra_env={**run_env, "PYTHONVERBOSE": "1"}
        ).stderr
        from_bytecode, from_source = code_loaded(verbose, runtime.root)
        site = next(runtime.root.glob("lib/python*/site-packages")).resolve()

    print(f"The image's runs, {runs} interleaved rounds of each state (medians, s)")
    print(f"  {'':34}{'without':>9}{'with':>9}  difference")
    for index, label in enumerate(
        ("training run, wall", "training run, CPU", "kedro mlops serve to /ping")
    ):
        before = median([t[index] for t in times[False]])
        after = median([t[index] for t in times[True]])
        print(
            f"  {label:<34}{before:9.2f}{after:9.2f}  {after - before:+.2f} "
            f"(ratio {after / before:.2f})"
        )
    for precompiled in (False, True):
        each = "; ".join(f"{w:.1f} {c:.1f} {p:.1f}" for w, c, p in times[precompiled])
        print(f"  {'with' if precompiled else 'without'}: {each}")
    print(f"Precompile step: {printed.strip()}")
    print(f"  bytecode in site-packages: {bytecode / 1e6:.1f} MB")
    total = len(from_bytecode) + len(from_source)
    print(
        f"  a training run loaded {len(from_bytecode)} of the {total} site-packages "
        f"modules it imports from that bytecode ({len(from_bytecode) / total:.1%}); "
        f"compiled from source: {len(from_source)}"
    )
    for source in sorted(from_source):
        print(f"    {source.relative_to(site)}")


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
            time.sleep(0.1)
        raise RuntimeError(f"kedro mlops serve stopped ({process.returncode})")
    finally:
        stop(process)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
