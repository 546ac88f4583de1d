"""Wall times of the user's commands in a starter project, and what tracking costs.

From a fresh environment built from the wheel: `kedro new --starter=mlops`, the
first training run (which also creates the MLflow store), a second training run,
and the inference run. Then training with tracking against the same training
with kedro-mlflow's tracking disabled (`disable_tracking` in a `notrack`
configuration environment), interleaved.

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
from _common import build_wheel, create_env, median, timed, with_tools


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = create_env(work / "env", with_tools(build_wheel(work / "dist")))
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
            tracked.append(timed(env, "kedro", "run", cwd=project))
            untracked.append(
                timed(env, "kedro", "run", "--env", "notrack", cwd=project)
            )
        shutil.rmtree(notrack)

    print("Starter project wall times (s), this machine")
    print(
        f"  kedro new --starter=mlops         {median(news):6.2f}  (median of {runs})"
    )
    print(f"  first training run (new store)    {first:6.2f}")
    print(f"  second training run               {second:6.2f}")
    print(f"  inference run (champion)          {inference:6.2f}")
    t, u = median(tracked), median(untracked)
    print(f"Training with vs without tracking, median of {runs} interleaved runs")
    print(f"  tracking disabled                 {u:6.2f}")
    print(f"  tracking enabled                  {t:6.2f}")
    print(f"  tracking adds {t - u:+.2f} s (ratio {t / u:.3f}; target at most +1 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
