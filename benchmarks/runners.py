"""The starter's training under each of Kedro's runners, side by side.

From a fresh environment built from the wheel and one generated project (its
store created by a first, untimed run), the training pipeline runs under
``SequentialRunner``, ``ThreadRunner`` and ``ParallelRunner``, interleaved,
``--runs`` times each. Prints the median wall time of each runner and its ratio
to ``SequentialRunner``, and checks that every runner's run logged the same
test metrics.

Usage: python benchmarks/runners.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _common import build_wheel, create_env, median, new_project, timed, with_tools

RUNNERS = ("SequentialRunner", "ThreadRunner", "ParallelRunner")

LAST_METRICS = """
import json, mlflow
client = mlflow.MlflowClient()
experiments = [e.experiment_id for e in client.search_experiments()]
# the last training run, not one of its tuning trials (nested runs)
run = client.search_runs(experiments, "tags.`mlflow.parentRunId` IS NULL",
                         order_by=["attributes.start_time DESC"], max_results=1)[0]
print(json.dumps({"status": run.info.status, "metrics": run.data.metrics}))
"""


def last_run(env, project: Path) -> dict:
    result = env.run(
        "python",
        "-c",
        LAST_METRICS,
        cwd=project,
        extra_env={"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = create_env(work / "env", with_tools(build_wheel(work / "dist")))
        project = new_project(env, work)
        env.run("kedro", "run", "--pipelines", "training", cwd=project)
        times: dict[str, list[float]] = {runner: [] for runner in RUNNERS}
        metrics: dict[str, dict] = {}
        for _ in range(runs):
            for runner in RUNNERS:
                times[runner].append(
                    timed(
                        env,
                        "kedro",
                        "run",
                        "--pipelines",
                        "training",
                        "--runner",
                        runner,
                        cwd=project,
                    )
                )
                run = last_run(env, project)
                assert run["status"] == "FINISHED", (runner, run)
                metrics[runner] = run["metrics"]
        base = median(times["SequentialRunner"])
        print(f"Training of the starter, median of {runs} runs each (2 cores):")
        for runner in RUNNERS:
            value = median(times[runner])
            print(f"  {runner:<17} {value:6.2f} s   {value / base:5.2f}x Sequential")
        same = all(metrics[r] == metrics["SequentialRunner"] for r in RUNNERS)
        print(f"Same logged metrics under every runner: {same}")
        if not same:
            raise SystemExit(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
