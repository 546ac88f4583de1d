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

The servers run on the last CPU, the load clients on the others: a server's
threads and its capture writer share one CPU, as in a server with as many
workers as CPUs, and the two servers get the same CPU. Each round starts a
fresh pair of servers, the two modes taking turns to start and be loaded
first: on this 2-CPU machine, of two servers alike (capture off in both) the
one started first served 1-6% fewer requests, and in the runs with capture
the rounds where its server started first gave ratios 0.79-0.93 against
0.94-1.15 for the others, pinned or not. ``--rounds`` is even, so that each
mode starts first as often. Within a round, each payload loads the servers in
the order A B B A, so that a drift during the round (other work on the
machine) weighs on both modes alike.
Besides the requests per second, the servers' CPU time per request (read from
their processes around each payload's windows, the writer's last flush
included): on a busy 2-core machine it moves less than the throughput does.

Then, without HTTP, the request path in one process: the endpoint's ``score``
with and without what capture and metrics add to it (the metrics' counters and
score histogram, ``Capture.put``), alternating request by request. And in
one process on one CPU, six threads scoring in a closed loop (as uvicorn's
pool does) while windows of 5 s turn capture on and off (A B B A, the writer
writing each "on" window's rows within its time): capture's cost to a busy
server's throughput without a second server or HTTP, so without the servers'
order to weigh on it.

Targets: with capture on, at least 0.95x the requests per second of capture off,
for both payloads; no errors; no dropped rows.

``--control`` runs the same with capture off in both servers: the ratio the
set-up itself gives (1.0 when the two server slots are alike).

Usage: python benchmarks/serving_capture.py [--duration 10] [--rounds 6]
           [--clients 8] [--control] [--project PATH --python PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import tempfile
import time
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


# One process on one CPU: SCORERS threads score one payload in a closed loop
# (as uvicorn's thread pool does) while windows alternate capture on and off
# (A B B A), the writer writing each "on" window's rows within that window's
# time. No second server, no HTTP: what capture costs a server whose CPU is busy.
SCORERS = 6
THREADED_WINDOWS, THREADED_SECONDS = 12, 5.0
THREADED = """
import gc, json, os, sys, tempfile, threading, time
import mlflow
from kedro_mlops import patches
from kedro_mlops.serving.capture import Capture, CaptureSettings
from kedro_mlops.serving.endpoint import Model, score
from kedro_mlops.serving.metrics import Metrics

os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
patches.install("serving")
champion_uri, scorers, windows, seconds, *payloads = sys.argv[1:]
served = Model(mlflow.pyfunc.load_model(champion_uri))
metrics = Metrics("churn_model", "1")
capture = Capture(
    CaptureSettings(path=tempfile.mkdtemp()),
    on_captured=metrics.captured.inc, on_dropped=metrics.dropped.inc,
)

def captured(frame, predictions):
    metrics.scored(predictions, len(frame))
    capture.put(frame, predictions)

def counted(frame, predictions):
    metrics.scored(predictions, len(frame))

gc.collect()
gc.freeze()  # as the server's app does
state = {"recorder": counted, "body": b"", "stop": False, "done": 0}
lock = threading.Lock()

def scorer():
    while not state["stop"]:
        score(state["body"], "application/json", served, state["recorder"])
        with lock:
            state["done"] += 1

threads = [threading.Thread(target=scorer) for _ in range(int(scorers))]
rates = {}
for path in payloads:
    state["body"] = open(path, "rb").read()
    if not threads[0].is_alive():
        for thread in threads:
            thread.start()
    time.sleep(2)
    rates[path] = {"on": [], "off": []}
    for window in range(int(windows)):
        mode = ("on", "off", "off", "on")[window % 4]
        state["recorder"] = captured if mode == "on" else counted
        before, start = state["done"], time.perf_counter()
        time.sleep(float(seconds))
        state["recorder"] = counted
        if mode == "on":
            capture.flush()  # the window's rows written in its own time
        rates[path][mode].append((state["done"] - before) / (time.perf_counter() - start))
state["stop"] = True
for thread in threads:
    thread.join()
capture.close()
print(json.dumps({"rates": rates, "dropped": capture.dropped_rows}))
"""


def in_process_runs(
    env: Env, project: Path, bodies: dict[int, Path]
) -> tuple[dict, dict]:
    """The request path alone (one thread), then :data:`THREADED`."""
    print("in-process: 1000 requests per payload, capture on and off alternating")
    in_process = json.loads(
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
    print(
        f"in one process on one CPU: {SCORERS} scoring threads, capture on "
        f"and off by turns, {THREADED_WINDOWS} windows of "
        f"{THREADED_SECONDS:g} s per payload"
    )
    threaded = json.loads(
        run_script(
            env,
            project,
            "the threaded in-process run",
            THREADED,
            "models:/churn_model@champion",
            str(SCORERS),
            str(THREADED_WINDOWS),
            str(THREADED_SECONDS),
            *(str(bodies[size]) for size in SIZES),
        )
    )
    return in_process, threaded


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


def main(
    duration: float,
    rounds: int,
    clients: int,
    project: Path | None,
    python: Path | None,
    *,
    control: bool = False,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if project is None:
            env, project = trained_project(work)
        else:
            env = Env(python.parent.parent)
        configure(project, work, control)
        bodies = payload_files(project, work)
        everywhere = os.sched_getaffinity(0)
        server_cpus, client_cpus = placement()
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)  # the load clients inherit it
        windows: dict[tuple[str, int], list[dict]] = {}
        cpu: dict[tuple[str, int], float] = {}  # server CPU seconds
        scored = written = dropped = 0.0
        for round_ in range(rounds):
            # a fresh pair of servers per round, started (and loaded) in
            # turns: neither mode keeps the same process or slot throughout
            order = list(MODES if round_ % 2 == 0 else MODES[::-1])
            print(f"round {round_ + 1}/{rounds}: fresh servers, {order[0]} first")
            with contextlib.ExitStack() as stack:
                servers = {
                    mode: stack.enter_context(
                        serving(mode, env, project, work, server_cpus)
                    )
                    for mode in order
                }
                for size in SIZES:
                    before = {mode: cpu_seconds(servers[mode]) for mode in order}
                    # A B B A: a drift within the round (the machine's other
                    # work, the servers warming up) weighs on both alike
                    for mode in order + order[::-1]:
                        print(
                            f"  {mode}, {size} row(s), {clients} clients, "
                            f"{duration:g} s"
                        )
                        windows.setdefault((mode, size), []).append(
                            load(servers[mode], bodies[size], clients, duration)
                        )
                    # the writer's last flush of this payload's rows counts too
                    time.sleep(0 if control else FLUSH_SECONDS + 1)
                    for mode in order:
                        spent = cpu_seconds(servers[mode]) - before[mode]
                        cpu[mode, size] = cpu.get((mode, size), 0.0) + spent
                figures = written_figures(servers["on"], wait=not control)
            scored += figures[0]
            written += figures[1]
            dropped += figures[2]
        os.sched_setaffinity(0, everywhere)
        files = sorted((work / "captured").rglob("*.parquet"))
        in_process, threaded = in_process_runs(env, project, bodies)
        for mode in MODES:
            with contextlib.suppress(FileNotFoundError):
                for child in (project / "conf" / f"bench_capture_{mode}").iterdir():
                    child.unlink()
                (project / "conf" / f"bench_capture_{mode}").rmdir()
    results = {key: combined(value) for key, value in windows.items()}
    for key, seconds in cpu.items():
        results[key]["cpu_ms"] = seconds * 1000 / results[key]["ok"]
    if control:
        print("\nCONTROL: capture is off in both servers; 'on' is only the slot")
    report(
        results, 2 * duration * rounds, clients, (scored, written, dropped, len(files))
    )
    report_in_process(in_process, threaded, bodies)


def report_in_process(
    in_process: dict, threaded: dict, bodies: dict[int, Path]
) -> None:
    print("In-process request path (JSON in, predict, JSON out; no HTTP, one thread)")
    for size in SIZES:
        medians = in_process["medians"][str(bodies[size])]
        adds = in_process["recorder_us"][str(bodies[size])]
        print(
            f"  {size:>4} row(s): capture on {medians['on']:.2f} ms, off "
            f"{medians['off']:.2f} ms per request; metrics + Capture.put alone "
            f"{adds:.0f} µs"
        )
    print(
        f"In one process on one CPU ({SCORERS} scoring threads, no HTTP, no "
        "second server), capture on vs off by turns"
    )
    for size in SIZES:
        rates = threaded["rates"][str(bodies[size])]
        on, off = (sum(rates[mode]) / len(rates[mode]) for mode in MODES)
        pairs = ", ".join(
            f"{a / b:.2f}" for a, b in zip(rates["on"], rates["off"], strict=True)
        )
        print(
            f"  {size:>4} row(s): on {on:.1f}, off {off:.1f} req/s: {on / off:.3f}x; "
            f"per pair of windows: {pairs}"
        )
    if threaded["dropped"]:
        print(f"  {threaded['dropped']} rows dropped in the threaded run")
        raise SystemExit(1)


def report(results: dict, duration: float, clients: int, capture: tuple) -> None:
    scored, written, dropped, files = capture
    server_cpus, client_cpus = placement()
    where = (
        f"servers on CPU {sorted(server_cpus)}, clients on {sorted(client_cpus)}"
        if server_cpus and client_cpus
        else "1 CPU"
    )
    print()
    print(
        f"kedro mlops serve, 1 uvicorn worker each, {clients} keep-alive clients, "
        f"{duration:g} s per mode and payload; {where}"
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
        # two windows per mode and round (A B B A)
        on, off = (results[mode, size]["window_rps"] for mode in MODES)
        per_round = ", ".join(
            f"{(on[i] + on[i + 1]) / (off[i] + off[i + 1]):.2f}"
            for i in range(0, len(on), 2)
        )
        verdict = "met" if ratio >= TARGET else "NOT met"
        print(
            f"        on/off req/s: {ratio:.3f}x (target >= {TARGET}x; {verdict}); "
            f"per round: {per_round}"
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
    parser.add_argument("--rounds", type=int, default=6)
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
        args.duration,
        args.rounds,
        args.clients,
        args.project.resolve() if args.project else None,
        args.python.absolute() if args.python else None,
        control=args.control,
    )
