"""Serving the bundled model under load, against a plain scikit-learn pyfunc.

From a fresh environment built from the wheel: `kedro new --starter=mlops` and
a training run, which registers ``churn_model`` with the alias ``champion``: the
bundled model, which runs the project's inference pipeline (schema check, then
scoring) with kedro-mlops' ``ServingRunner`` on every request. It is served as
users serve it, by ``kedro mlops serve`` in the project: the command downloads
the model once, then execs uvicorn on ``kedro_mlops.serving.app`` (MLflow's
scoring app, in a process with kedro-mlops' serving patches). Into the same
store, a plain ``mlflow.pyfunc.PythonModel`` is logged as the baseline: it
unpickles the same fitted preprocessor and model that training wrote and scores
with them directly (no Kedro code, no validation), returns the same columns, and
has the champion's input signature. A second baseline, ``serial``, is the
same plain model running one prediction at a time per process, as the bundled
model's ``ServingRunner`` does: the like-for-like comparison of what the bundled
model adds per request, under the same load.

The two baselines are served by ``mlflow models serve --env-manager local``.
Every server is uvicorn with one worker and ``OMP_NUM_THREADS=1``; the servers
start once and stay up, the ones not under load idle. A second process (this
script with ``--client``) drives the one under load with 8 keep-alive HTTP
clients, after a short warm-up, posting rows of the production batch as
``dataframe_split`` JSON: one payload of 1 row and one of 100 rows. Each model
gets 30 s of load per payload, in 3 windows of 10 s interleaved with the other
models' (the order rotates from round to round), so that a slow spell of the
machine weighs on all alike; the figures add the windows up. The client shares
the machine's cores with the server, the same way for every model. Before the
load, the 100-row predictions of every server must agree (probabilities within
1e-9). The server's log lines are counted during the load: uvicorn writes one
access line per request, and the bundled model is supposed to add no
per-request Kedro logging to it.

Then, with no HTTP and no concurrency, each model's request path in one
process (parse the JSON, predict, serialise: for the bundled model the function
``kedro mlops serve`` answers ``/invocations`` with,
``kedro_mlops.serving.endpoint.score``; for the plain one MLflow's
scoring-server function), with the serving patches installed as in the bundled
model's server, the two alternating request by request: the cost per request
that the load figures are made of, measured with much less noise.

Target: the bundled model serves at least 0.9x the requests per second of the
plain one, for both payload sizes, with no errors. The ratio to ``serial`` is
printed beside it.

Usage: python benchmarks/serving_load.py [--duration 10] [--rounds 3]
           [--clients 8] [--project PATH --python PATH]
(``--project``: an already-trained starter project; ``--python``: the python of
the environment it runs in. Both skip building the wheel and the project.)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _common import (
    Env,
    build_wheel,
    create_env,
    free_port,
    median,
    new_project,
    stop,
)

MODEL = "churn_model"
CHAMPION = f"models:/{MODEL}@champion"
BATCH = Path("data/01_raw/batch_production.csv")
SIZES = (1, 100)
MODELS = ("bundled", "plain", "serial")
WARMUP = 3  # requests per client, before the measured window
TOLERANCE = 1e-9

# Run with the environment's python in the project: logs the plain baseline into
# the project's store and prints its model URI as the last line. The class is
# defined in __main__, so MLflow's cloudpickle stores it by value: serving it
# needs neither this script nor the project.
LOG_PLAIN_MODEL = """
import json
import sys
import mlflow
import pandas as pd
import sklearn
from mlflow.models import ModelSignature


class PlainModel(mlflow.pyfunc.PythonModel):
    \"\"\"The fitted preprocessor and model, called directly: no Kedro.\"\"\"

    def load_context(self, context):
        import pickle

        from sklearn.frozen import FrozenEstimator

        def load(name):
            with open(context.artifacts[name], "rb") as f:
                fitted = pickle.load(f)
            # kedro-mlops shares fitted estimators as FrozenEstimators: unwrap.
            while isinstance(fitted, FrozenEstimator):
                fitted = fitted.estimator
            return fitted

        self.preprocessor = load("preprocessor")
        self.model = load("model")
        self.columns = list(self.preprocessor.feature_names_in_)

    def predict(self, context, model_input, params=None):
        features = self.preprocessor.transform(model_input[self.columns])
        probability = self.model.predict_proba(features)[:, 1]
        return pd.DataFrame(
            {
                "customer_id": model_input["customer_id"].to_numpy(),
                "churned_probability": probability,
                "churned_prediction": (probability >= 0.5).astype(int),
            }
        )


class SerialModel(PlainModel):
    \"\"\"The plain model, one prediction at a time per process.\"\"\"

    def load_context(self, context):
        import threading

        super().load_context(context)
        self.lock = threading.Lock()

    def predict(self, context, model_input, params=None):
        with self.lock:
            return super().predict(context, model_input, params)


preprocessor, model, champion_uri = sys.argv[1:4]
champion = mlflow.models.get_model_info(champion_uri)
mlflow.set_experiment("serving_load_baseline")
uris = {}
for name, python_model in (("plain", PlainModel()), ("serial", SerialModel())):
    with mlflow.start_run(run_name=f"{name}_sklearn_pyfunc"):
        uris[name] = mlflow.pyfunc.log_model(
            name=f"{name}_model",
            python_model=python_model,
            artifacts={"preprocessor": preprocessor, "model": model},
            signature=ModelSignature(inputs=champion.signature.inputs),
            # Listed, so that MLflow does not spend seconds inferring them.
            pip_requirements=[
                f"mlflow=={mlflow.__version__}",
                f"scikit-learn=={sklearn.__version__}",
                f"pandas=={pd.__version__}",
            ],
        ).model_uri
print(json.dumps(uris))
"""


# Run with the environment's python in the project: each model's request path
# without HTTP or concurrency (MLflow's scoring-server function that parses the
# JSON, predicts and serialises), the two models alternating request by
# request, so that a slow spell of the machine weighs on both alike. The serving
# patches are installed first, as `kedro mlops serve`'s app does; they replace
# only names of kedro-mlflow's pipeline model, so the plain model runs as in its
# own server. Prints the median milliseconds per request as JSON.
IN_PROCESS = """
import json, statistics, sys, time
import mlflow
from mlflow.pyfunc import scoring_server
from kedro_mlops import patches

from kedro_mlops.serving.endpoint import Model, score

patches.install("serving")
champion_uri, plain_uri, requests, *payloads = sys.argv[1:]
bundled = Model(mlflow.pyfunc.load_model(champion_uri))
plain = mlflow.pyfunc.load_model(plain_uri)
plain_schema = plain.metadata.get_input_schema()
paths = {  # each model's request path, as its server runs it
    "bundled": lambda body: score(body, "application/json", bundled),
    "plain": lambda body: scoring_server.invocations(
        body, "application/json", plain, plain_schema
    ),
}
medians = {}
for path in payloads:
    body = open(path, "rb").read()
    times = {name: [] for name in paths}
    for i in range(int(requests) + 50):
        for name, request in paths.items():
            start = time.perf_counter()
            request(body)
            if i >= 50:  # after a warm-up
                times[name].append(time.perf_counter() - start)
    medians[path] = {name: statistics.median(t) * 1000 for name, t in times.items()}
print(json.dumps(medians))
"""


def in_process(env: Env, project: Path, plain_uri: str, bodies: dict[int, Path]):
    """Median ms per request of each model, in one process, alternating."""
    last_line = run_script(
        env,
        project,
        "the in-process run",
        IN_PROCESS,
        CHAMPION,
        plain_uri,
        "1000",
        *(str(bodies[size]) for size in SIZES),
    )
    medians = json.loads(last_line)
    return {size: medians[str(bodies[size])] for size in SIZES}


def run_script(env: Env, project: Path, what: str, script: str, *args: str) -> str:
    """Run ``script`` with the environment's python in the project; its last line."""
    result = subprocess.run(
        [str(env.bin / "python"), "-c", script, *args],
        cwd=project,
        env=server_environ(env, project),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{result.stderr[-4000:]}")
    return result.stdout.strip().splitlines()[-1]


def server_environ(env: Env, project: Path) -> dict[str, str]:
    return {
        **env.environ(),  # the environment's bin first on PATH: mlflow execs uvicorn
        "KEDRO_DISABLE_TELEMETRY": "1",
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        # uvicorn runs each prediction in a thread of its pool, and scikit-learn's
        # gradient boosting predicts with OpenMP: one OpenMP team of (cores)
        # threads per concurrent request oversubscribes the 2 cores many times
        # over. One OpenMP thread per request, for every model (as
        # `kedro mlops serve` sets it).
        "OMP_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",  # every log line reaches the log file as written
    }


# ---- the trained project -----------------------------------------------------


def trained_project(work: Path) -> tuple[Env, Path]:
    """A fresh environment from the wheel and a starter project trained in it."""
    print("building the wheel, a fresh environment and a trained starter project...")
    wheel = build_wheel(work / "dist")
    # `kedro new` sets the project up with DVC, one of the development tools.
    env = create_env(work / "env", f"kedro-mlops[tools] @ {wheel.as_uri()}")
    project = new_project(env, work / "projects")
    env.run("kedro", "run", "--pipelines", "training", cwd=project)
    return env, project


def log_plain_models(env: Env, project: Path) -> dict[str, str]:
    """The baselines' model URIs by name: ``plain`` and ``serial``."""
    models = project / "data" / "06_models"
    last_line = run_script(
        env,
        project,
        "logging the plain models",
        LOG_PLAIN_MODEL,
        str(models / "preprocessor.pkl"),
        str(models / "model.pkl"),
        CHAMPION,
    )
    return json.loads(last_line)


def payloads(project: Path) -> dict[int, bytes]:
    """``dataframe_split`` request bodies: the first N rows of the production batch."""
    import pandas as pd

    batch = pd.read_csv(project / BATCH)
    bodies = {}
    for size in SIZES:
        split = batch.head(size).to_json(
            orient="split", index=False, double_precision=15
        )
        bodies[size] = f'{{"dataframe_split": {split}}}'.encode()
    return bodies


# ---- servers -----------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    log: Path
    process: subprocess.Popen

    def log_lines(self) -> int:
        return self.log.read_bytes().count(b"\n")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def serve_command(name: str, uri: str, env: Env, port: int) -> list[str]:
    """The bundled champion as users serve it (``kedro mlops serve``); the
    baselines with ``mlflow models serve``. One uvicorn worker each."""
    if name == "bundled":
        # models:/<mlops.yml's registry.model_name>@champion, that is CHAMPION
        return [
            str(env.bin / "kedro"), "mlops", "serve", "--alias", "champion",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ]  # fmt: skip
    return [
        str(env.bin / "mlflow"), "models", "serve", "-m", uri,
        "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip


@contextlib.contextmanager
def serving(name: str, uri: str, env: Env, project: Path, logs: Path):
    """The server of model ``name``, ready (GET /ping == 200) on entry."""
    port = free_port()
    command = serve_command(name, uri, env, port)
    with started(name, command, port, env=env, project=project, logs=logs) as server:
        yield server


@contextlib.contextmanager
def started(
    name: str,
    command: list[str],
    port: int,
    *,
    env: Env,
    project: Path,
    logs: Path,
    cpus: set[int] | None = None,
):
    """``command`` (a server on ``port``) started in ``project``, ready
    (GET /ping == 200) on entry, stopped with its process group on exit;
    ``cpus``: the only CPUs its processes and threads may run on once it
    answers (it starts up on any)."""
    log = logs / f"{name}.log"
    # The server's temporary files (the model `kedro mlops serve` downloads, its
    # health marker) go with the benchmark's folder.
    scratch = logs / f"{name}-tmp"
    scratch.mkdir(exist_ok=True)  # a server started again (a new round)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=project,
            env={**server_environ(env, project), "TMPDIR": str(scratch)},
            stdout=out,
            stderr=subprocess.STDOUT,
            # Its own process group: `mlflow models serve` starts uvicorn as a
            # child process (`kedro mlops serve` execs it), and stopping the
            # group stops every process of the server.
            start_new_session=True,
        )
    server = Server(name, port, log, process)
    try:
        wait_until_ready(server, timeout=120)
        if cpus:
            pin(process.pid, cpus)
        yield server
    finally:
        stop(process)


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of process ``pid`` and of its children on ``cpus`` (the
    threads they start later inherit it)."""
    import psutil

    process = psutil.Process(pid)
    for each in [process, *process.children(recursive=True)]:
        for thread in each.threads():
            os.sched_setaffinity(thread.id, cpus)


def wait_until_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"the {server.name} server exited ({server.process.returncode}):\n"
                + server.log_tail()
            )
        try:
            url = f"http://127.0.0.1:{server.port}/ping"
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"the {server.name} server did not answer /ping within {timeout:.0f} s:\n"
        + server.log_tail()
    )


def post(port: int, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST",
            "/invocations",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def predictions(server: Server, body: bytes) -> list[dict]:
    status, content = post(server.port, body)
    if status != 200:
        raise AssertionError(
            f"the {server.name} server answered {status}: {content[:2000]!r}"
        )
    return json.loads(content)["predictions"]


def check_same_predictions(bundled: Server, other: Server, body: bytes) -> None:
    """Both servers must score the same rows the same way; fail loudly if not."""
    ours, theirs = predictions(bundled, body), predictions(other, body)
    if len(ours) != len(theirs):
        raise AssertionError(
            f"{len(ours)} bundled vs {len(theirs)} {other.name} predictions"
        )
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if (
            a["customer_id"] != b["customer_id"]
            or a["churned_prediction"] != b["churned_prediction"]
            or abs(a["churned_probability"] - b["churned_probability"]) > TOLERANCE
        ):
            raise AssertionError(
                f"row {i}: the bundled model predicts {a}, the {other.name} one {b}"
            )


# ---- load (the --client process) ---------------------------------------------


def client_main(
    url: str,
    payload: Path,
    clients: int,
    duration: float,
    start_at: float | None = None,
) -> None:
    """Drive ``url`` from ``clients`` keep-alive connections; print a JSON summary.

    ``start_at`` (seconds since the epoch): the window opens then, after the
    warm-up requests, rather than as soon as they are done; the summary's
    ``late`` is how long after that moment it opened.
    """
    host, port = url.removeprefix("http://").split(":")
    body = payload.read_bytes()
    headers = {"Content-Type": "application/json"}
    window: dict[str, float] = {}

    def open_window() -> None:
        if start_at is not None:
            time.sleep(max(0.0, start_at - time.time()))
            window["late"] = max(0.0, time.time() - start_at)
        window["start"] = time.perf_counter()
        window["end"] = window["start"] + duration

    barrier = threading.Barrier(clients, action=open_window)
    results = [
        {"latencies": [], "errors": 0, "first_error": None, "last": 0.0}
        for _ in range(clients)
    ]

    def one(conn: http.client.HTTPConnection) -> tuple[int, bytes]:
        conn.request("POST", "/invocations", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()

    def client(result: dict) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        for _ in range(WARMUP):
            one(conn)
        barrier.wait()
        while (start := time.perf_counter()) < window["end"]:
            try:
                status, content = one(conn)
            except (OSError, http.client.HTTPException) as exc:
                status, content = -1, repr(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
            finished = time.perf_counter()
            result["last"] = finished
            if status == 200:
                result["latencies"].append(finished - start)
            else:
                result["errors"] += 1
                if result["first_error"] is None:
                    text = content[:2000].decode(errors="replace")
                    result["first_error"] = f"HTTP {status}: {text}"
        conn.close()

    threads = [threading.Thread(target=client, args=(r,)) for r in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    latencies = sorted(x for r in results for x in r["latencies"])
    errors = sum(r["errors"] for r in results)
    elapsed = max(r["last"] for r in results) - window["start"]
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else 0.0
    summary = {
        "ok": len(latencies),
        "errors": errors,
        # every request this process sent, for the server's log lines per request
        "sent": len(latencies) + errors + WARMUP * clients,
        "elapsed": elapsed,
        "late": window.get("late", 0.0),
        "latencies": latencies,
        "rps": len(latencies) / elapsed,
        "p50_ms": median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": p99 * 1000,
        "first_error": next(
            (r["first_error"] for r in results if r["first_error"]), None
        ),
    }
    print(json.dumps(summary))


def load(
    server: Server,
    body: Path,
    clients: int,
    duration: float,
    start_at: float | None = None,
) -> dict:
    """Run the client process against ``server``; count its log lines meanwhile.

    ``start_at``: when the load window opens (see :func:`client_main`).
    """
    before = server.log_lines()
    at = [] if start_at is None else ["--start-at", repr(start_at)]
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            "--client",
            f"http://127.0.0.1:{server.port}",
            str(body),
            "--clients",
            str(clients),
            "--duration",
            str(duration),
            *at,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the load client failed:\n{result.stderr[-4000:]}")
    time.sleep(0.5)  # the last access lines
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    summary["log_lines"] = server.log_lines() - before
    return summary


def load_rounds(
    servers: dict[str, Server],
    names: list[str],
    bodies: dict[int, Path],
    *,
    rounds: int,
    clients: int,
    duration: float,
) -> dict[tuple[str, int], list[dict]]:
    """Load windows per server and payload, the servers taking turns (each
    going first in turn from round to round): ``{(name, size): windows}``."""
    windows: dict[tuple[str, int], list[dict]] = {}
    for round_ in range(rounds):
        shift = round_ % len(names)
        for size in SIZES:
            for name in names[shift:] + names[:shift]:
                print(
                    f"round {round_ + 1}/{rounds}: {name}, {size} row(s), "
                    f"{clients} clients, {duration:g} s"
                )
                windows.setdefault((name, size), []).append(
                    load(servers[name], bodies[size], clients, duration)
                )
    return windows


def payload_files(project: Path, work: Path) -> dict[int, Path]:
    """:func:`payloads`, written to ``work/payload_<rows>.json``."""
    bodies = {}
    for size, body in payloads(project).items():
        bodies[size] = work / f"payload_{size}.json"
        bodies[size].write_bytes(body)
    return bodies


def combined(windows: list[dict]) -> dict:
    """One model's load windows for one payload, added up."""
    latencies = sorted(x for w in windows for x in w["latencies"])
    sent = sum(w["sent"] for w in windows)
    return {
        "ok": len(latencies),
        "errors": sum(w["errors"] for w in windows),
        "rps": len(latencies) / sum(w["elapsed"] for w in windows),
        "p50_ms": median(latencies) * 1000 if latencies else 0.0,
        "p99_ms": statistics.quantiles(latencies, n=100)[98] * 1000
        if len(latencies) > 1
        else 0.0,
        "log_lines_per_request": sum(w["log_lines"] for w in windows) / sent,
        "window_rps": [w["rps"] for w in windows],
        "first_error": next(
            (w["first_error"] for w in windows if w["first_error"]), None
        ),
    }


# ---- the benchmark -----------------------------------------------------------


def main(
    duration: float,
    rounds: int,
    clients: int,
    project: Path | None,
    python: Path | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if project is None:
            env, project = trained_project(work)
        else:
            env = Env(python.parent.parent)  # .../bin/python -> the environment
        uris = {"bundled": CHAMPION, **log_plain_models(env, project)}
        bodies = payload_files(project, work)
        print("models: " + "; ".join(f"{n}: {u}" for n, u in uris.items()))

        with contextlib.ExitStack() as stack:
            servers = {
                name: stack.enter_context(serving(name, uri, env, project, work))
                for name, uri in uris.items()
            }
            for name in MODELS[1:]:
                check_same_predictions(
                    servers["bundled"], servers[name], bodies[100].read_bytes()
                )
            print("the 100-row predictions of every server agree")
            windows = load_rounds(
                servers,
                list(MODELS),
                bodies,
                rounds=rounds,
                clients=clients,
                duration=duration,
            )

        print("in-process: 1000 requests per model and payload, alternating")
        requests = in_process(env, project, uris["plain"], bodies)

    results = {key: combined(value) for key, value in windows.items()}
    report(results, duration * rounds, clients)
    print("In-process request path (JSON in, predict, JSON out; no HTTP, one thread)")
    for size in SIZES:
        bundled, plain = requests[size]["bundled"], requests[size]["plain"]
        print(
            f"  {size:>4} row(s): bundled {bundled:.2f} ms, plain {plain:.2f} ms "
            f"per request; plain/bundled time {plain / bundled:.3f}x"
        )


def report(results: dict[tuple[str, int], dict], duration: float, clients: int) -> None:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print()
    print(
        f"1 uvicorn worker per server, OMP_NUM_THREADS=1, {clients} keep-alive "
        f"clients, {duration:g} s per model and payload; "
        f"CPUs: {cpus} ({usable} usable)"
    )
    print("  bundled: the champion, served by `kedro mlops serve`")
    print("  plain: a scikit-learn pyfunc, served by `mlflow models serve`")
    print("  serial: the plain model, one prediction at a time (as the bundled one)")
    header = (
        f"  {'rows':>4}  {'model':<8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'log lines/req':>15}"
    )
    print(header)
    failed = False
    for size in SIZES:
        for name in MODELS:
            r = results[name, size]
            print(
                f"  {size:>4}  {name:<8}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}"
                f"{r['p99_ms']:>9.1f}{r['errors']:>8}{r['log_lines_per_request']:>15.2f}"
            )
        ratio = results["bundled", size]["rps"] / results["plain", size]["rps"]
        verdict = "met" if ratio >= 0.9 else "NOT met"
        per_window = ", ".join(
            f"{b / p:.2f}"
            for b, p in zip(
                results["bundled", size]["window_rps"],
                results["plain", size]["window_rps"],
                strict=True,
            )
        )
        print(
            f"        bundled/plain req/s: {ratio:.3f}x "
            f"(target: bundled >= 0.9x plain; {verdict}); per round: {per_window}"
        )
        like = results["bundled", size]["rps"] / results["serial", size]["rps"]
        print(f"        bundled/serial req/s: {like:.3f}x (like for like)")
    for (name, size), r in results.items():
        if r["errors"]:
            failed = True
            print(f"{name}, {size} row(s): {r['errors']} errors; the first one:")
            print(f"  {r['first_error']}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per load window"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="load windows per model and payload"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--project", type=Path, help="an already-trained project")
    parser.add_argument("--python", type=Path, help="the python of its environment")
    parser.add_argument(
        "--client", nargs=2, metavar=("URL", "PAYLOAD"), help=argparse.SUPPRESS
    )
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(
            args.client[0],
            Path(args.client[1]),
            args.clients,
            args.duration,
            args.start_at,
        )
    elif (args.project is None) != (args.python is None):
        parser.error("--project and --python go together")
    else:
        main(
            args.duration,
            args.rounds,
            args.clients,
            args.project.resolve() if args.project else None,
            args.python.absolute() if args.python else None,
        )
