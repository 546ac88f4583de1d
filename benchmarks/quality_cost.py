"""What the model-quality steps of the evaluation add to a training run.

Two starter projects from the same wheel in one fresh environment: "on" is the
project as `kedro new --starter=mlops` makes it; "off" is the same project whose
registry drops the quality nodes of ``QUALITY_NODES`` from the evaluate
pipeline (the decision threshold stays: the bundled model reads it). Each
project trains once to warm its MLflow store, then the two train in turn,
``--runs`` times each; the medians of wall and CPU seconds are printed with
their difference.

Target: the quality steps add at most 3 s to a training run.

Usage: python benchmarks/quality_cost.py [--runs N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import build_wheel, cpu_timed, create_env, median, new_project, with_tools

#: The evaluate nodes that only report on the model's quality (nothing reads them).
QUALITY_NODES = (
    "evaluate.check_calibration",
    "evaluate.explain_model",
    "evaluate.evaluate_slices",
    "evaluate.log_slice_metrics_to_mlflow",
)

REGISTERED = '"evaluate": evaluate.create_pipeline(),'


def switch_off(project: Path) -> None:
    """Drop ``QUALITY_NODES`` from the project's evaluate pipeline."""
    registry = next((project / "src").glob("*/pipeline_registry.py"))
    text = registry.read_text()
    if REGISTERED not in text:
        raise SystemExit(f"{registry}: no line {REGISTERED!r} to change")
    dropped = ", ".join(repr(name) for name in QUALITY_NODES)
    registry.write_text(
        text.replace(
            REGISTERED,
            '"evaluate": evaluate.create_pipeline()'
            f" - evaluate.create_pipeline().only_nodes({dropped}),",
        )
    )


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = create_env(work / "env", with_tools(build_wheel(work / "dist")))
        on = new_project(env, work / "on")
        off = new_project(env, work / "off")
        switch_off(off)
        for project in (on, off):  # the first run migrates the MLflow store
            env.run("kedro", "run", cwd=project)
        times: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
        for _ in range(runs):
            times["on"].append(cpu_timed(env, "kedro", "run", cwd=on))
            times["off"].append(cpu_timed(env, "kedro", "run", cwd=off))
    wall = {k: median([w for w, _ in v]) for k, v in times.items()}
    cpu = {k: median([c for _, c in v]) for k, v in times.items()}
    print(f"Training run, median of {runs} (s): wall, CPU")
    print(f"  quality steps on : {wall['on']:6.2f} {cpu['on']:6.2f}")
    print(f"  quality steps off: {wall['off']:6.2f} {cpu['off']:6.2f}")
    print(
        f"  added            : {wall['on'] - wall['off']:+6.2f} "
        f"{cpu['on'] - cpu['off']:+6.2f}   (target: at most +3 s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
