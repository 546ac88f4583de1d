"""What request capture and /metrics cost the model server: the same load with
capture on and off, side by side.

The starter project (fresh from the wheel and trained, or ``--project``) serves
its champion twice with ``kedro mlops serve`` (one uvicorn worker each):
``on`` with ``serving.capture.enabled: true`` (the starter's setting, the
files going to this benchmark's temporary folder), ``off`` with it false
(an environment ``conf/<env>/mlops.yml`` each, merged over the starter's). Both
answer /metrics. The load is ``benchmarks/serving_load.py``'s client: 8
keep-alive clients posting ``dataframe_split`` JSON of 1 and of 100 rows of the
production batch, in windows of 10 s, the windows added up.

The two servers run at the same time on the same CPU (the last one; the
load clients run on the others), and are loaded at the same time: each
window, one client process per server opens its window at the same moment.
On a shared virtual machine the speed of one CPU drifts by 15% and more
within a minute (one server alone, capture off, 16 windows of 5 s in a
row served 37-62 req/s); two servers loaded one after the other see different CPUs, two
loaded together see the same one, and their ratio moves by about 1% from
window to window. The CPU's time is shared between the two servers' threads
by the kernel; the servers' CPU time per request (read from their processes
around each payload's windows, the writer's last flush included) is reported
beside the requests per second.

Each round starts a fresh pair of servers, the modes taking turns to start
first: of two servers alike (``--control``), the one started first served
about 1.5% fewer requests. ``--rounds`` is even, so that
each mode starts first as often.

Then, without HTTP, the request path in one process: the endpoint's ``score``
with and without what capture and metrics add to it (the metrics' counters and
score histogram, ``Capture.put``), alternating request by request: what the
request itself waits for.

Targets: with capture on, at least 0.95x the requests per second of capture off,
for both payloads; no errors; no dropped rows.

``--control`` runs the same with capture off in both servers: the ratio the
set-up itself gives (1.0 when the two server slots are alike).

Usage: python benchmarks/serving_capture.py [--duration 10] [--rounds 4]
           [--windows 3] [--clients 8] [--control] [--project PATH --python PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import Env, free_port
from serving_load import (
    SIZES,
    Server,
    combined,
    load,
    payload_files,
    run_script,
    started,
    trained_project,
)

MODES = ("on", "off")
#: ``serving.capture.flush_seconds`` in the starter: the writer's interval.
FLUSH_SECONDS = 5
TARGET = 0.95
#: Seconds from starting the two client processes to their windows' opening:
#: time for each to start and send its warm-up requests.
START_MARGIN = 5.0

IN_PROCESS = """
import json, statistics, sys, tempfile, time
import mlflow
from kedro_mlops import patches
from kedro_mlops.serving.capture import Capture, CaptureSettings
from kedro_mlops.serving.endpoint import Model, score
from kedro_mlops.serving.metrics import Metrics

patches.install("serving")
champion_uri, requests, *payloads = sys.argv[1:]
served = Model(mlflow.pyfunc.load_model(champion_uri))
metrics = Metrics("churn_model", "1")
capture = Capture(
    CaptureSettings(path=tempfile.mkdtemp(), flush_seconds=1),
    on_captured=metrics.captured.inc, on_dropped=metrics.dropped.inc,
)

spent = []

def recorded(frame, predictions):
    start = time.perf_counter()
    metrics.scored(predictions, len(frame))
    capture.put(frame, predictions)
    spent.append(time.perf_counter() - start)

paths = {
    "off": lambda body: score(body, "application/json", served),
    "on": lambda body: score(body, "application/json", served, recorded),
}
medians, adds = {}, {}
for path in payloads:
    body = open(path, "rb").read()
    times = {name: [] for name in paths}
    for i in range(int(requests) + 50):
        for name, request in paths.items():
            start = time.perf_counter()
            request(body)
            if i >= 50:
                times[name].append(time.perf_counter() - start)
    medians[path] = {name: statistics.median(t) * 1000 for name, t in times.items()}
    adds[path] = statistics.median(spent) * 1e6  # what the request path adds
    spent.clear()
capture.flush()
capture.close()
print(json.dumps({"medians": medians, "recorder_us": adds,
                  "captured": capture.captured_rows, "dropped": capture.dropped_rows}))
"""


def in_process_run(env: Env, project: Path, bodies: dict[int, Path]) -> dict:
    """The request path alone, in one thread."""
    print("in-process: 1000 requests per payload, capture on and off alternating")
    return json.loads(
        run_script(
            env,
            project,
            "the in-process run",
            IN_PROCESS,
            "models:/churn_model@champion",
            "1000",
            *(str(bodies[size]) for size in SIZES),
        )
    )


def configure(project: Path, work: Path, control: bool) -> None:
    """conf/bench_capture_{on,off}/mlops.yml: capture to ``work``, or off (both
    off for ``control``)."""
    for mode in MODES:
        folder = project / "conf" / f"bench_capture_{mode}"
        folder.mkdir(exist_ok=True)
        enabled = "true" if mode == "on" and not control else "false"
        (folder / "mlops.yml").write_text(
            f"serving:\n  capture:\n    enabled: {enabled}\n"
            f"    path: {work / 'captured'}\n"
        )


@contextlib.contextmanager
def serving(mode: str, env: Env, project: Path, logs: Path, cpus: set[int] | None):
    port = free_port()
    command = [
        str(env.bin / "kedro"), "mlops", "serve", "--env", f"bench_capture_{mode}",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with started(
        f"capture-{mode}", command, port, env=env, project=project, logs=logs, cpus=cpus
    ) as server:
        yield dataclasses.replace(server, name=mode)


def placement() -> tuple[set[int] | None, set[int] | None]:
    """The CPUs of the servers (the last one) and of this process and its load
    clients (the others); ``None`` for both with one CPU."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return {available[-1]}, set(available[:-1])


def cpu_seconds(server: Server) -> float:
    """CPU time (user and system) of the server's processes so far."""
    import psutil

    process = psutil.Process(server.process.pid)
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        times = each.cpu_times()
        total += times.user + times.system
    return total


def written_figures(server: Server, *, wait: bool) -> tuple[float, float, float]:
    """Rows the "on" server scored, captured and dropped, once its writer has
    written what it scored (a flush every 5 s)."""
    deadline = time.monotonic() + (30 if wait else 0)
    while True:
        figures = scrape(server)
        written = figures["kedro_mlops_captured_rows_total"]
        dropped = figures["kedro_mlops_capture_dropped_rows_total"]
        scored = figures["kedro_mlops_scored_rows_total"]
        if written + dropped >= scored or time.monotonic() > deadline:
            return scored, written, dropped
        time.sleep(0.5)


def scrape(server: Server) -> dict[str, float]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics") as answer:
        text = answer.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def together(
    servers: dict[str, Server], body: Path, clients: int, duration: float
) -> dict[str, dict]:
    """One window: each server loaded by its own client process, the two
    windows opening at the same moment."""
    start_at = time.time() + START_MARGIN
    with ThreadPoolExecutor(len(servers)) as pool:
        running = {
            mode: pool.submit(load, server, body, clients, duration, start_at)
            for mode, server in servers.items()
        }
        windows = {mode: future.result() for mode, future in running.items()}
    late = max(window["late"] for window in windows.values())
    if late > 0.1 * duration:
        raise RuntimeError(
            f"a load window opened {late:.1f} s late (the clients' warm-up took "
            f"longer than {START_MARGIN:g} s): is the machine busy?"
        )
    return windows


def order(round_: int) -> list[str]:
    """The modes in the order a round starts their servers: turn by turn."""
    return list(MODES if round_ % 2 == 0 else MODES[::-1])


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the command line asks for."""

    duration: float
    rounds: int
    windows: int  # per round and payload
    clients: int
    control: bool


@dataclasses.dataclass
class Measured:
    """The load windows and the servers' CPU seconds, by mode and payload; the
    "on" server's rows scored, written and dropped."""

    windows: dict[tuple[str, int], list[dict]] = dataclasses.field(default_factory=dict)
    cpu: dict[tuple[str, int], float] = dataclasses.field(default_factory=dict)
    rows: list[float] = dataclasses.field(default_factory=lambda: [0.0, 0.0, 0.0])


def run_round(  # noqa: PLR0913 - the round's set-up
    plan: Plan,
    round_: int,
    measured: Measured,
    *,
    env: Env,
    project: Path,
    work: Path,
    bodies: dict[int, Path],
    cpus: set[int] | None,
) -> None:
    """A fresh pair of servers (the modes taking turns to start first), each
    payload's windows loading both at once."""
    modes = order(round_)
    print(f"round {round_ + 1}/{plan.rounds}: fresh servers, {modes[0]} first")
    with contextlib.ExitStack() as stack:
        servers = {
            mode: stack.enter_context(serving(mode, env, project, work, cpus))
            for mode in modes
        }
        for size in SIZES:
            before = {mode: cpu_seconds(servers[mode]) for mode in MODES}
            for _ in range(plan.windows):
                print(
                    f"  {size} row(s): both servers at once, {plan.clients} "
                    f"clients each, {plan.duration:g} s"
                )
                loaded = together(servers, bodies[size], plan.clients, plan.duration)
                for mode in MODES:
                    measured.windows.setdefault((mode, size), []).append(loaded[mode])
            # the writer's last flush of this payload's rows counts too
            time.sleep(0 if plan.control else FLUSH_SECONDS + 1)
            for mode in MODES:
                spent = cpu_seconds(servers[mode]) - before[mode]
                measured.cpu[mode, size] = measured.cpu.get((mode, size), 0.0) + spent
        figures = written_figures(servers["on"], wait=not plan.control)
    for i, value in enumerate(figures):
        measured.rows[i] += value


def main(plan: Plan, project: Path | None, python: Path | None) -> None:
    measured = Measured()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if project is None:
            env, project = trained_project(work)
        else:
            env = Env(python.parent.parent)
        configure(project, work, plan.control)
        bodies = payload_files(project, work)
        everywhere = os.sched_getaffinity(0)
        server_cpus, client_cpus = placement()
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)  # the load clients inherit it
        for round_ in range(plan.rounds):
            run_round(
                plan,
                round_,
                measured,
                env=env,
                project=project,
                work=work,
                bodies=bodies,
                cpus=server_cpus,
            )
        os.sched_setaffinity(0, everywhere)
        files = sorted((work / "captured").rglob("*.parquet"))
        in_process = in_process_run(env, project, bodies)
        for mode in MODES:
            with contextlib.suppress(FileNotFoundError):
                for child in (project / "conf" / f"bench_capture_{mode}").iterdir():
                    child.unlink()
                (project / "conf" / f"bench_capture_{mode}").rmdir()
    results = {key: combined(value) for key, value in measured.windows.items()}
    for key, seconds in measured.cpu.items():
        results[key]["cpu_ms"] = seconds * 1000 / results[key]["ok"]
    if plan.control:
        print("\nCONTROL: capture is off in both servers; 'on' is only the slot")
    report(results, plan, (server_cpus, client_cpus), (*measured.rows, len(files)))
    report_in_process(in_process, bodies)


def report_in_process(in_process: dict, bodies: dict[int, Path]) -> None:
    print("In-process request path (JSON in, predict, JSON out; no HTTP, one thread)")
    for size in SIZES:
        medians = in_process["medians"][str(bodies[size])]
        adds = in_process["recorder_us"][str(bodies[size])]
        print(
            f"  {size:>4} row(s): capture on {medians['on']:.2f} ms, off "
            f"{medians['off']:.2f} ms per request; metrics + Capture.put alone "
            f"{adds:.0f} µs"
        )
    if in_process["dropped"]:
        print(f"  {in_process['dropped']} rows dropped in the in-process run")
        raise SystemExit(1)


def report(results: dict, plan: Plan, cpus: tuple, capture: tuple) -> None:
    """``cpus``: :func:`placement`'s; ``capture``: the "on" server's rows
    scored, written and dropped, and the files written."""
    scored, written, dropped, files = capture
    server_cpus, client_cpus = cpus
    where = (
        f"servers on CPU {sorted(server_cpus)}, clients on {sorted(client_cpus)}"
        if server_cpus and client_cpus
        else "1 CPU"
    )
    print()
    print(
        f"kedro mlops serve, 1 uvicorn worker each, both loaded at once by "
        f"{plan.clients} keep-alive clients each, "
        f"{plan.duration * plan.rounds * plan.windows:g} s per payload; {where}"
    )
    print(
        f"  {'rows':>4}  {'capture':<8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'CPU ms/req':>12}"
    )
    failed = False
    for size in SIZES:
        for mode in MODES:
            r = results[mode, size]
            print(
                f"  {size:>4}  {mode:<8}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}"
                f"{r['p99_ms']:>9.1f}{r['errors']:>8}{r['cpu_ms']:>12.2f}"
            )
            failed |= r["errors"] > 0
        ratio = results["on", size]["rps"] / results["off", size]["rps"]
        on, off = (results[mode, size]["window_rps"] for mode in MODES)
        pairs = [a / b for a, b in zip(on, off, strict=True)]
        verdict = "met" if ratio >= TARGET else "NOT met"
        print(
            f"        on/off req/s: {ratio:.3f}x (target >= {TARGET}x; {verdict}); "
            f"per window: {min(pairs):.3f}-{max(pairs):.3f}"
        )
        # window i is in round i // plan.windows
        by_first = {
            mode: [
                r for i, r in enumerate(pairs) if order(i // plan.windows)[0] == mode
            ]
            for mode in MODES
        }
        print(
            "        mean of the windows, by the server started first: "
            + ", ".join(
                f"{mode} {sum(values) / len(values):.3f}"
                for mode, values in by_first.items()
                if values
            )
        )
        extra = results["on", size]["cpu_ms"] / results["off", size]["cpu_ms"] - 1
        print(
            f"        server CPU per request, on vs off: {extra:+.1%} "
            "(the writer's flushes included)"
        )
    print(
        f"capture on: {scored:.0f} rows scored, {written:.0f} written in {files} "
        f"files, {dropped:.0f} dropped (target 0)"
    )
    if failed or dropped:
        raise SystemExit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument(
        "--rounds", type=int, default=4, help="fresh pairs of servers (even)"
    )
    parser.add_argument(
        "--windows", type=int, default=3, help="load windows per round and payload"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--control",
        action="store_true",
        help="capture off in both servers: the ratio the set-up gives by itself",
    )
    parser.add_argument("--project", type=Path, help="an already-trained project")
    parser.add_argument("--python", type=Path, help="the python of its environment")
    args = parser.parse_args()
    if args.rounds < 2 or args.rounds % 2:
        parser.error("--rounds must be even: each mode starts first as often")
    if (args.project is None) != (args.python is None):
        parser.error("--project and --python go together")
    main(
        Plan(args.duration, args.rounds, args.windows, args.clients, args.control),
        args.project.resolve() if args.project else None,
        args.python.absolute() if args.python else None,
    )
