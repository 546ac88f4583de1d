"""What kedro-mlops adds to `kedro --help` inside a generated project.

Two fresh environments from the same wheel, one with kedro-mlops uninstalled
again (everything else identical); `kedro --help` runs in the project from each,
interleaved, and the medians are compared: wall time, and the CPU time (user +
system) the command used, which a busy machine disturbs less. Also times,
in-process, loading every kedro-mlops entry point after Kedro itself is
imported: the plugin's own share.

Target: kedro-mlops adds at most 30 ms.

Usage: python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from _common import (
    build_wheel,
    cpu_timed,
    create_env,
    median,
    new_project,
    timed,
    uv,
    with_tools,
)

ENTRY_POINT_COST = """
import sys, time
import kedro.framework.cli  # what `kedro` has imported before it looks at plugins
from importlib.metadata import entry_points
groups = ("kedro.hooks", "kedro.project_commands", "kedro.global_commands",
          "kedro.starters", "kedro.cli_hooks", "kedro.init")
ours = [ep for g in groups for ep in entry_points(group=g) if ep.value.startswith("kedro_mlops")]
start = time.perf_counter()
for ep in ours:
    ep.load()
print("entry_point_ms=%.2f" % ((time.perf_counter() - start) * 1000))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("mlflow", "dvc", "scipy", "sklearn"))
print("heavy_modules=" + (",".join(heavy) or "none"))
print("entry_points=" + ",".join(sorted(ep.group for ep in ours)))
"""


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        with_plugin = create_env(work / "with", with_tools(wheel))
        without_plugin = create_env(work / "without", with_tools(wheel))
        subprocess.run(
            [
                uv(),
                "pip",
                "uninstall",
                "--quiet",
                "--python",
                str(without_plugin.bin / "python"),
                "kedro-mlops",
            ],
            check=True,
        )
        project = new_project(with_plugin, work / "projects")
        for env in (with_plugin, without_plugin):  # warm the file cache
            timed(env, "kedro", "--help", cwd=project)
        times = {"with": [], "without": []}
        for _ in range(runs):
            for name, env in (("with", with_plugin), ("without", without_plugin)):
                times[name].append(cpu_timed(env, "kedro", "--help", cwd=project))
        probe = with_plugin.run("python", "-c", ENTRY_POINT_COST, cwd=project).stdout
        own = dict(line.split("=", 1) for line in probe.split() if "=" in line)

    def ms(name: str, kind: int) -> float:
        return median([t[kind] for t in times[name]]) * 1000

    print(f"kedro --help in a generated project, median of {runs} interleaved runs")
    print(f"  {'environment':<28}{'wall ms':>10}{'CPU ms':>10}")
    for name in ("without", "with"):
        print(f"  {name + ' kedro-mlops':<28}{ms(name, 0):>10.0f}{ms(name, 1):>10.0f}")
    for kind, label in ((0, "wall"), (1, "CPU")):
        added, base = ms("with", kind) - ms("without", kind), ms("without", kind)
        print(
            f"  added by kedro-mlops ({label}): {added:+.0f} ms "
            f"(ratio {(base + added) / base:.3f}; target at most +30 ms)"
        )
    print(
        f"  loading kedro-mlops' entry points in-process: {float(own['entry_point_ms']):.1f} ms; "
        f"heavy modules they import: {own['heavy_modules']} "
        f"(groups: {own['entry_points']})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    main(parser.parse_args().runs)
