"""Wall times of the user's commands in a starter project, and what tracking costs.

From a fresh environment built from the wheel: `kedro new --starter=mlops`, the
first training run (which also creates the MLflow store), a second training run,
and the inference run. Then training with tracking against the same training
with kedro-mlflow's tracking disabled (`disable_tracking` in a `notrack`
configuration environment), interleaved.

The tracking comparison is made twice: in the development environment
(kedro-mlops with its ``tools`` extra, whose kedro-viz brings IPython, which
MLflow imports when a run starts) and in the production image's runtime
environment (the project's wheel and kedro-mlops without extras, in a folder
holding only ``conf/base``, ``pyproject.toml`` and the data, with
``KEDRO_MLOPS_DVC=off``), as :mod:`harness.rehearsal` sets it up for the
tests' build rehearsal.

Target: tracking (MLflow run, params, metrics, plots, the bundled model, the
registry step) adds at most 1 s to a training run.

Usage: python benchmarks/run_times.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import yaml
from _common import build_wheel, cpu_timed, create_env, median, timed, with_tools

from harness.rehearsal import copy_context, project_wheel, runtime_folder


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        env = create_env(work / "env", with_tools(wheel))
        news = []
        for i in range(runs):
            parent = work / f"new{i}"
            parent.mkdir()
            news.append(
                timed(
                    env,
                    "kedro",
                    "new",
                    "--starter=mlops",
                    "--name",
                    "churn-model",
                    cwd=parent,
                )
            )
        project = work / "new0" / "churn-model"
        first = timed(env, "kedro", "run", cwd=project)
        second = timed(env, "kedro", "run", cwd=project)
        inference = timed(env, "kedro", "run", "--pipelines", "inference", cwd=project)

        notrack = project / "conf" / "notrack"
        notrack.mkdir()
        config = yaml.safe_load((project / "conf/base/mlflow.yml").read_text())
        config["tracking"]["disable_tracking"]["pipelines"] = [
            "__default__",
            "training",
        ]
        (notrack / "mlflow.yml").write_text(yaml.safe_dump(config))
        tracked, untracked = [], []
        for _ in range(runs):
            tracked.append(cpu_timed(env, "kedro", "run", cwd=project))
            untracked.append(
                cpu_timed(env, "kedro", "run", "--env", "notrack", cwd=project)
            )
        runtime_tracked, runtime_untracked = runtime_comparison(
            work, wheel, project, runs
        )
        shutil.rmtree(notrack)

    print("Starter project wall times (s), this machine")
    print(
        f"  kedro new --starter=mlops         {median(news):6.2f}  (median of {runs})"
    )
    print(f"  first training run (new store)    {first:6.2f}")
    print(f"  second training run               {second:6.2f}")
    print(f"  inference run (champion)          {inference:6.2f}")

    print(f"Training with vs without tracking, {runs} interleaved runs of each")
    compare(tracked, untracked)
    print(f"The same in the image's runtime environment, {runs} runs of each")
    compare(runtime_tracked, runtime_untracked)


def compare(tracked: list[tuple[float, float]], untracked: list[tuple[float, float]]):
    """Medians of wall and CPU seconds, and what tracking adds to each."""
    for kind, label in ((0, "wall"), (1, "CPU")):
        t = [run[kind] for run in tracked]
        u = [run[kind] for run in untracked]
        for name, values in (("disabled", u), ("enabled ", t)):
            each = " ".join(f"{v:.2f}" for v in values)
            print(f"  {label}: tracking {name} {median(values):6.2f}  ({each})")
        print(
            f"  {label}: tracking adds {median(t) - median(u):+.2f} s "
            f"(ratio {median(t) / median(u):.3f}; target at most +1 s)"
        )


def runtime_comparison(work: Path, wheel: Path, project: Path, runs: int):
    """Tracked vs untracked training as the Docker image runs it."""
    context = copy_context(project, work / "context")
    runtime = create_env(
        work / "runtime", str(project_wheel(context, work / "dist-project")), str(wheel)
    )
    app = work / "app"
    image_env = runtime_folder(project / "Dockerfile", context, app)  # the image's ENV
    shutil.copytree(project / "conf" / "notrack", app / "conf" / "notrack")
    (app / "data" / "01_raw").mkdir()
    for raw in (project / "data/01_raw").glob("*.csv"):  # the mounted volume
        shutil.copy2(raw, app / "data/01_raw")
    runtime.run("kedro", "run", cwd=app, extra_env=image_env)  # creates the store
    tracked, untracked = [], []
    for _ in range(runs):
        tracked.append(cpu_timed(runtime, "kedro", "run", cwd=app, extra_env=image_env))
        untracked.append(
            cpu_timed(
                runtime,
                "kedro",
                "run",
                "--env",
                "notrack",
                cwd=app,
                extra_env=image_env,
            )
        )
    return tracked, untracked


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
