"""Production packaging without a Docker daemon: lint, build command, rehearsal, serving.

* hadolint (from PyPI) lints the Dockerfile that the starter ships and
  `kedro mlops init` writes (one template);
* a recording fake `docker` first on PATH shows the `docker build` command line
  that `kedro docker build` produces;
* the build rehearsal computes the build context from `.dockerignore` as Docker
  does, then performs the Dockerfile's steps: the project's wheel is built from
  that context, installed with kedro-mlops (no extras) into a fresh environment,
  slimmed and its shared libraries stripped, the runtime stage's COPY lines and
  ENV settings are applied to an empty folder, its RUN line there writes the
  bytecode of the modules the runs import (nothing with the build argument
  KEDRO_MLOPS_PRECOMPILE=0); then training and batch inference run there from
  the installed package, with the data folder as the volume, and the champion
  is served from that environment;
* the champion is served with `kedro mlops serve` (MLflow's model server) on
  127.0.0.1 and must answer like batch inference, reject bad rows with a 4xx,
  and print no per-request Kedro logging;
* the generated GitHub Actions workflow passes the GitHub workflow schema.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness.dockerfile import created_folders, parse
from harness.dockerignore import build_context
from harness.envs import REPO, create_env, free_port, image_python, new_project
from harness.rehearsal import (
    NO_PRECOMPILE,
    code_loaded,
    copy_context,
    project_wheel,
    runtime_folder,
    slim,
    workdir_steps,
)

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
TEMPLATE = REPO / "kedro_mlops" / "scaffold" / "templates" / "Dockerfile"
MODEL = "churn_model"
SECRETS = [
    "conf/local/credentials.yml",
    "conf/local/mlflow.yml",
    "conf/base/credentials.yml",
    "conf/staging/credentials.yml",
    ".env",
    "mlflow.db",
    "mlartifacts/1/model.pkl",
    "data/01_raw/customers.csv",
    "data/06_models/model.pkl",
    ".git/HEAD",
    ".dvc/cache/files/md5/ab/cdef",
    "notebooks/explore.ipynb",
    "src/churn_model/__pycache__/settings.cpython-311.pyc",
]


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory):
    """A starter project, trained once and scored once."""
    path = new_project(installed, tmp_path_factory.mktemp("docker"))
    installed.run("kedro", "run", "--pipelines", "training", cwd=path)
    installed.run("kedro", "run", "--pipelines", "inference", cwd=path)
    return path


def test_hadolint_passes_on_the_dockerfile_template():
    lint = subprocess.run(
        [str(BIN / "hadolint"), str(TEMPLATE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    # every ignored rule carries its reason just above
    lines = TEMPLATE.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith("# hadolint ignore="):
            rules = line.split("=", 1)[1].split(",")
            reason = " ".join(lines[max(0, number - 4) : number])
            assert all(f"{rule} (" in reason for rule in rules), line


def test_generated_files_are_the_templates_and_pass_the_checks(project):
    for name, template in (
        ("Dockerfile", "Dockerfile"),
        (".dockerignore", "dockerignore"),
    ):
        shipped = (
            REPO / "kedro_mlops" / "scaffold" / "templates" / template
        ).read_text()
        assert (project / name).read_text() == shipped
    lint = subprocess.run(
        [str(BIN / "hadolint"), str(project / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout
    workflows = project / ".github" / "workflows"
    check = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflows / "ci.yml"),
            str(workflows / "monitor.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    steps = (workflows / "ci.yml").read_text()
    for command in ("pytest", "kedro run --pipelines training", "kedro docker build"):
        assert f"run: {command}" in steps
    monitor = yaml.safe_load((workflows / "monitor.yml").read_text())
    assert monitor[True]["schedule"][0]["cron"]  # YAML 1.1 reads `on` as True
    steps = monitor["jobs"]["monitor-and-retrain"]["steps"]
    assert steps[-1]["run"] == "kedro mlops monitor --retrain"


def test_kedro_docker_build_command_line(installed, project, tmp_path):
    # given a fake docker that records its arguments, first on PATH
    fake = tmp_path / "bin"
    fake.mkdir()
    record = tmp_path / "docker-calls.jsonl"
    (fake / "docker").write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "with open(os.environ['FAKE_DOCKER_RECORD'], 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    (fake / "docker").chmod(0o755)
    dockerfile = (project / "Dockerfile").read_text()
    # when the user builds the image
    environ = {
        "PATH": f"{fake}{os.pathsep}{installed.environ()['PATH']}",
        "FAKE_DOCKER_RECORD": str(record),
    }
    installed.run("kedro", "docker", "build", cwd=project, extra_env=environ)
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    # then kedro-docker checked the daemon, and built this project's Dockerfile
    version = subprocess.run(
        [
            str(installed.bin / "python"),
            "-c",
            "import sys; print(*sys.version_info[:2], sep='.')",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert calls[0] == ["version"]
    assert calls[-1] == [
        "build",
        "--build-arg",
        f"KEDRO_UID={os.getuid()}",
        "--build-arg",
        f"KEDRO_GID={os.getgid()}",
        "--build-arg",
        f"BASE_IMAGE=python:{version}-slim",  # the project's Python
        "-t",
        project.name,
        str(project),
    ]
    # with the production Dockerfile kept, whose stages use those arguments
    assert (project / "Dockerfile").read_text() == dockerfile
    stages = parse(project / "Dockerfile")
    assert [s.name for s in stages] == ["build", "runtime"]
    assert all(s.base == "${BASE_IMAGE}" for s in stages)
    runtime_args = " ".join(stages[1].all("ARG"))
    assert "KEDRO_UID" in runtime_args and "KEDRO_GID" in runtime_args


def test_ci_restores_the_sample_data_the_dvc_records_name(installed, project, tmp_path):
    # given a clone without the DVC-tracked raw files and without a DVC remote
    clone = Path(shutil.copytree(project, tmp_path / project.name, symlinks=True))
    raw = sorted((clone / "data/01_raw").glob("*.csv"))
    for path in raw:
        path.unlink()
    # when the workflow's step restores them
    restore = [
        "python",
        "-m",
        "kedro_mlops.scaffold.sample_data",
        "restore-sample-data",
    ]
    result = installed.run(*restore, cwd=clone)
    # then the bytes are those the records name: DVC sees nothing to do
    assert f"restored {len(raw)} raw data file(s)" in result.stdout
    assert [p.name for p in raw] == sorted(
        p.name for p in (clone / "data/01_raw").glob("*.csv")
    )
    assert "up to date" in installed.run("dvc", "status", cwd=clone).stdout
    # and a record naming other data is refused, not overwritten
    record = clone / "data/01_raw/customers.csv.dvc"
    record.write_text(record.read_text().replace("md5: ", "md5: 0", 1))
    refused = installed.run(*restore, cwd=clone, check=False)
    assert refused.returncode != 0
    assert "does not name the starter's customers.csv" in refused.stderr


def test_build_context_holds_nothing_secret_or_local(project, tmp_path):
    # given everything a working copy accumulates (in a copy of the project)
    project = Path(shutil.copytree(project, tmp_path / project.name, symlinks=True))
    for relative in SECRETS:
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text("secret: do-not-ship\n")
    context = build_context(project)
    # then none of it reaches the Docker daemon
    leaked = [
        f
        for f in context
        if f in SECRETS
        or f.startswith(("conf/local/", "data/", ".git/", ".dvc/", "mlartifacts/"))
        or "credentials" in f
        or f.endswith((".db", ".ipynb", ".pyc"))
    ]
    assert leaked == []
    # while what the build needs is there (Docker reads the Dockerfile and
    # .dockerignore themselves even though COPY cannot see them)
    assert {"pyproject.toml", "README.md"} <= set(context)
    assert "conf/base/catalog.yml" in context
    assert "src/churn_model/pipeline_registry.py" in context


def test_rehearsal_trains_and_scores_from_the_installed_wheel(project, wheel, tmp_path):
    # -- the build stage: the project's wheel, from the build context only --
    context = copy_context(project, tmp_path / "context")
    project_whl = project_wheel(context, tmp_path / "dist")
    assert project_whl.name.startswith("churn_model-")
    # ...then the environment that the runtime stage copies: the wheels alone
    # (kedro-mlops without extras), slimmed, with binutils' strip at hand
    build = next(s for s in parse(project / "Dockerfile") if s.name == "build")
    assert "install -y --no-install-recommends binutils" in build.all("RUN")[0]
    # (on the base image's Python: a standard library without bytecode)
    base = image_python(tmp_path / "python")
    runtime = create_env(
        tmp_path / "opt-venv", str(project_whl), str(wheel), python=base
    )
    python = str(runtime.bin / "python")
    site = next(runtime.root.glob("lib/python*/site-packages")).resolve()
    slimmed = slim(runtime, project / "Dockerfile")
    assert "not needed at run time" in slimmed
    # ...whose shared libraries lost their symbol tables, except those the step
    # names as left unstripped (stripping would change what the loader maps)
    stripped = int(re.search(r"stripped (\d+) shared libraries", slimmed)[1])
    kept = re.search(r"left (\d+) shared librar", slimmed)
    with_symbols = _with_symbol_table(site)
    assert stripped > 200
    assert len(with_symbols) <= (int(kept[1]) if kept else 0), with_symbols[:10]
    absent = subprocess.run(
        [
            python,
            "-c",
            "import importlib.util as u; print([m for m in ('dvc', 'kedro_viz', "
            "'kedro_docker', 'IPython', 'jupyterlab', 'notebook', 'pytest', 'ruff') "
            "if u.find_spec(m)])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert absent.stdout.strip() == "[]"
    # -- the runtime stage: its own COPY, mkdir and ENV lines, in an empty folder
    app = tmp_path / "app"
    image_env = runtime_folder(project / "Dockerfile", context, app)
    copied = sorted(
        p.relative_to(app).as_posix() for p in app.rglob("*") if p.is_file()
    )
    assert copied == [
        f for f in build_context(project) if f.startswith("conf/base/")
    ] + ["pyproject.toml"]
    stage = next(s for s in parse(project / "Dockerfile") if s.name == "runtime")
    assert {"data", "conf/local", "src"} <= set(created_folders(stage))
    # ...and its RUN line in that folder, with the image's ENV: with the build
    # argument KEDRO_MLOPS_PRECOMPILE=0 it writes nothing...
    laid_out = sorted(app.rglob("*"))
    dockerfile = project / "Dockerfile"
    assert workdir_steps(dockerfile, runtime, app, image_env, NO_PRECOMPILE) == ""
    assert not list(site.rglob("*.pyc"))
    assert not list(base.parent.parent.rglob("*.pyc"))
    # ...and by default the bytecode of what the runs import, installed or
    # from the standard library
    printed = workdir_steps(dockerfile, runtime, app, image_env)
    assert re.search(
        r"wrote the bytecode of \d+ modules \(\d+\.\d MB\) that the image's runs "
        r"import, and of \d+ modules of the standard library \(\d+\.\d MB\)",
        printed,
    )
    assert sorted(app.rglob("*")) == laid_out  # it left nothing in the image
    volume = app / "data" / "01_raw"  # docker run -v "$PWD/data:/home/kedro/app/data"
    volume.mkdir()
    for name in ("customers.csv", "batch_production.csv"):
        shutil.copy2(project / "data/01_raw" / name, volume / name)
    assert image_env["KEDRO_MLOPS_DVC"] == "off"
    # no usage reports from a production container (`docker run -e` can opt in)
    assert image_env["KEDRO_DISABLE_TELEMETRY"] == "1"
    assert image_env["MLFLOW_DISABLE_TELEMETRY"] == "true"
    store = tmp_path / "tracking" / "mlflow.db"
    store.parent.mkdir()
    run_env = {
        **image_env,
        "MLFLOW_TRACKING_URI": f"sqlite:///{store}",
    }  # docker run -e
    # -- docker run IMAGE; docker run IMAGE run --pipelines inference --
    training = runtime.run(
        "kedro", "run", "--pipelines", "training",
        cwd=app, extra_env={**run_env, "PYTHONVERBOSE": "1"},
    )  # fmt: skip
    # the training run loaded the installed modules from that bytecode
    from_bytecode, from_source = code_loaded(training.stderr, runtime.root)
    for module in (
        "mlflow/pyfunc/__init__.py",
        "kedro/framework/session/session.py",
        "kedro_mlflow/framework/hooks/mlflow_hook.py",
        "churn_model/pipeline_registry.py",
        "churn_model/pipelines/train/nodes.py",
        "optuna/study/study.py",  # the search, which the training runs
    ):
        assert site / module in from_bytecode, module
    covered = len(from_bytecode) / (len(from_bytecode) + len(from_source))
    assert covered > 0.95, sorted(from_source)
    std_bytecode, std_source = code_loaded(training.stderr, base.parent.parent)
    assert (
        base.parent.parent / "lib" / base.name / "json" / "decoder.py" in std_bytecode
    )
    assert len(std_source) <= 0.05 * len(std_bytecode), sorted(std_source)
    runtime.run("kedro", "run", "--pipelines", "inference", cwd=app, extra_env=run_env)

    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{store}")
    assert not (app / "mlflow.db").exists()  # the store came from the environment
    champion = client.get_model_version_by_alias(MODEL, "champion")
    run = client.get_run(champion.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["test.roc_auc"] > 0.7
    tags = run.data.tags
    states = {v for k, v in tags.items() if k.endswith(".state")}
    assert states == {"untracked"}  # DVC is off in the image, and says so
    # the same code and data make the same predictions as in the project
    scored = pd.read_csv(app / "data/07_model_output/predictions.csv")
    expected = pd.read_csv(project / "data/07_model_output/predictions.csv")
    pd.testing.assert_frame_equal(scored, expected, rtol=1e-9)
    # -- docker run -p 8080:8080 IMAGE mlops serve --
    batch = pd.read_csv(volume / "batch_production.csv").head(3)
    serve_tmp = tmp_path / "serve"
    serve_tmp.mkdir()
    with serving(runtime, app, serve_tmp, run_env) as running:  # one worker
        assert (serve_tmp / "kedro-mlops-serving.port").is_file()
        assert _request(running["url"] + "/ping")[0] == 200
        started = len(running["log"].read_text().splitlines())
        status, body = _request(running["url"] + "/invocations", _split(batch))
        answered = running["log"].read_text().splitlines()[started:]
    assert status == 200, body
    # one access line, and no Kedro run logging for the request
    assert len(answered) == 1 and '"POST /invocations HTTP/1.1" 200' in answered[0]
    # (the server removed the health check's marker when it stopped)
    assert not (serve_tmp / "kedro-mlops-serving.port").exists()
    served = pd.DataFrame(json.loads(body)["predictions"])
    pd.testing.assert_frame_equal(
        served, expected.head(3), rtol=1e-9, check_dtype=False
    )
    # What the runs keep is on the volumes: data/ and the store's folder, which
    # holds the sqlite file and the artifacts it points at; nothing was written
    # in the image's folder outside data/.
    written = [p for p in app.rglob("*") if p not in laid_out]
    assert [p for p in written if app / "data" not in p.parents] == []
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.artifact_location.endswith(f"{store.parent}/mlartifacts")
    assert any((store.parent / "mlartifacts").rglob("MLmodel"))


def _with_symbol_table(site: Path) -> list[str]:
    """The shared libraries under ``site`` that still have a symbol table."""
    libraries = sorted(
        str(p)
        for p in site.rglob("*.so*")
        if p.is_file() and (p.suffix == ".so" or ".so." in p.name)
    )
    listing = subprocess.run(
        ["readelf", "--section-headers", "--wide", *libraries],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found, current = [], None
    for line in listing.splitlines():
        if line.startswith("File: "):
            current = line.removeprefix("File: ")
        elif " .symtab " in line and current is not None:
            found.append(current)
    return found


# ---- serving -------------------------------------------------------------------


def _request(url: str, payload: dict | None = None) -> tuple[int, str]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _split(frame: pd.DataFrame) -> dict:
    return {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}


@contextlib.contextmanager
def serving(
    env,
    project: Path,
    tmp: Path,
    extra_env: dict[str, str] | None = None,
    *,
    workers: int = 1,
    args: tuple[str, ...] = (),
):
    """`kedro mlops serve ARGS` on 127.0.0.1; its own TMPDIR holds the health marker."""
    port = free_port()
    log = tmp / "server.log"
    environ = {**env.environ(), **(extra_env or {}), "TMPDIR": str(tmp)}
    with log.open("w") as stream:
        process = subprocess.Popen(
            [
                str(env.bin / "kedro"),
                "mlops",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
                *args,
            ],  # fmt: skip
            cwd=project,
            env=environ,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError("the server stopped:\n" + log.read_text()[-3000:])
            started = log.read_text().count("Application startup complete")
            try:
                if started >= workers and _request(base + "/ping")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("no answer on /ping:\n" + log.read_text()[-3000:])
        yield {"url": base, "log": log, "env": environ, "process": process}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def server(installed, project, tmp_path_factory):
    """Two server processes, as for parallel predictions."""
    with serving(
        installed, project, tmp_path_factory.mktemp("serve"), workers=2
    ) as running:
        yield running


def test_served_champion_scores_like_batch_inference(server, project):
    batch = pd.read_csv(project / "data/01_raw/batch_production.csv")
    lines_before = len(server["log"].read_text().splitlines())
    status, body = _request(server["url"] + "/invocations", _split(batch))
    assert status == 200, body
    served = pd.DataFrame(json.loads(body)["predictions"])
    expected = pd.read_csv(project / "data/07_model_output/predictions.csv")
    pd.testing.assert_frame_equal(served, expected, rtol=1e-9, check_dtype=False)
    for _ in range(5):  # a few single rows
        assert _request(server["url"] + "/invocations", _split(batch.head(1)))[0] == 200
    # no Kedro run logging per request: the server's access line for each
    new_lines = server["log"].read_text().splitlines()[lines_before:]
    access = [line for line in new_lines if '"POST /invocations HTTP/1.1" 200' in line]
    assert len(access) == 6, new_lines
    chatter = (
        "Running node",
        "Loading data",
        "Saving data",
        "Completed",
        "Using params",
    )
    assert not [line for line in new_lines if any(c in line for c in chatter)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.drop(columns=["tenure_months"]),
            "missing inputs ['tenure_months']",
        ),
        (lambda f: f.assign(monthly_charges="cheap"), "monthly_charges"),
        (
            lambda f: f.assign(age=f["age"].astype(object).where(f.index != 1, "old")),
            "column 'age' must be numeric but has non-numeric values ('old') in row 2",
        ),
        (
            lambda f: f.assign(age=f["age"].where(f.index != 2, -3)),
            "column 'age' has values outside [18, 110] ('-3') in row 3",
        ),
        (
            lambda f: f.assign(customer_id=f["customer_id"].where(f.index != 0, None)),
            "column 'customer_id' (id) is empty in row 1",
        ),
    ],
    ids=[
        "missing column",
        "text in a float column",
        "text in an integer column",
        "out of range",
        "no id",
    ],
)
def test_bad_rows_get_a_4xx_with_a_clear_message(server, project, change, message):
    batch = pd.read_csv(project / "data/01_raw/batch_production.csv").head(3)
    status, body = _request(server["url"] + "/invocations", _split(change(batch)))
    assert 400 <= status < 500, (status, body)
    answer = json.loads(body)
    assert message in answer["message"]
    assert "Traceback" not in body and "stack_trace" not in answer
    assert "\n" not in answer["message"]


def test_health_endpoints_and_the_image_health_check(server, installed):
    for path in ("/ping", "/health"):
        assert _request(server["url"] + path)[0] == 200
    check = subprocess.run(
        [str(installed.bin / "python"), "-m", "kedro_mlops.docker.health"],
        env=server["env"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "answered 200" in check.stdout


def _scrape(server) -> dict[tuple[str, tuple], float]:
    """GET /metrics, parsed as Prometheus does: {(name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    status, text = _request(server["url"] + "/metrics")
    assert status == 200, text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


SCORED = ("kedro_mlops_scored_rows_total", ())
CAPTURED = ("kedro_mlops_captured_rows_total", ())
DROPPED = ("kedro_mlops_capture_dropped_rows_total", ())


def _all_captured(server, timeout: float = 30) -> dict:
    """The scrape once capture has written (or dropped) every scored row."""
    deadline = time.monotonic() + timeout
    while True:
        found = _scrape(server)
        if found[CAPTURED] + found[DROPPED] == found[SCORED]:
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.5)


def test_served_requests_are_captured_and_counted(server, project):
    from kedro_datasets.partitions import PartitionedDataset
    from mlflow import MlflowClient

    batch = pd.read_csv(project / "data/01_raw/batch_production.csv").head(3)
    before = _all_captured(server)  # the earlier tests' rows written first
    # given two requests scored and one refused, by the two server processes
    status, body = _request(server["url"] + "/invocations", _split(batch))
    assert status == 200, body
    assert _request(server["url"] + "/invocations", _split(batch))[0] == 200
    refused = _split(batch.drop(columns=["tenure_months"]))
    assert _request(server["url"] + "/invocations", refused)[0] == 400
    # then one scrape counts them, whichever process answered each
    after = _all_captured(server)

    def added(key):
        return after[key] - before.get(key, 0)

    assert added(("kedro_mlops_requests_total", (("status", "200"),))) == 2
    assert added(("kedro_mlops_requests_total", (("status", "400"),))) == 1
    assert added(SCORED) == 6 and added(CAPTURED) == 6 and after[DROPPED] == 0
    assert added(("kedro_mlops_prediction_score_count", ())) == 6
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    version = client.get_model_version_by_alias(MODEL, "champion").version
    info = ("kedro_mlops_model_info", (("name", MODEL), ("version", str(version))))
    assert after[info] == 1
    # and the starter's capture folder holds every scored row, whole files only
    folder = project / "data/09_monitoring/captured"
    assert not list(folder.rglob("*.partial"))
    assert all(p.parent.name.startswith("hour=") for p in folder.rglob("*.parquet"))
    parts = PartitionedDataset(
        path=str(folder), dataset="pandas.ParquetDataset", filename_suffix=".parquet"
    ).load()
    frames = [load() for load in parts.values()]
    captured = pd.concat(frames, ignore_index=True)
    assert len(captured) == after[CAPTURED]
    predicted = [c for c in json.loads(body)["predictions"][0] if c not in batch]
    assert predicted == ["churned_probability", "churned_prediction"]
    meta = ["_captured_at", "_model_name", "_model_version", "_request_id"]
    for frame in frames:  # every request so far sent the batch's columns
        assert list(frame.columns) == [*batch.columns, *predicted, *meta]
    requests = captured.groupby("_request_id")["customer_id"].apply(frozenset)
    assert (requests == frozenset(batch["customer_id"])).sum() == 2
    assert set(captured["_model_name"]) == {MODEL}
    assert set(captured["_model_version"]) == {str(version)}


# ---- serving under bad requests and load ---------------------------------------------


def _same_predictions(served: list[dict], expected: list[dict]) -> bool:
    return len(served) == len(expected) and all(
        s["customer_id"] == e["customer_id"]
        and s["churned_prediction"] == e["churned_prediction"]
        and abs(s["churned_probability"] - e["churned_probability"]) <= 1e-9
        for s, e in zip(served, expected, strict=True)
    )


def _post(conn: http.client.HTTPConnection, body: bytes, content_type: str | None):
    headers = {"Content-Type": content_type} if content_type else {}
    conn.request("POST", "/invocations", body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _port(server) -> int:
    return int(server["url"].rsplit(":", 1)[1])


def test_csv_requests_score_like_json(server, project):
    # given rows with gaps, including in integer columns
    batch = pd.read_csv(project / "data/01_raw/batch_production.csv").head(20)
    batch.loc[[0, 1], "age"] = None
    batch.loc[2, "support_tickets"] = None
    conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=60)
    # when they are sent as CSV and as JSON
    as_csv = _post(conn, batch.to_csv(index=False).encode(), "text/csv")
    as_json = _post(conn, json.dumps(_split(batch)).encode(), "application/json")
    conn.close()
    # then both are scored, alike
    assert as_csv[0] == 200, as_csv[1][:500]
    assert as_json[0] == 200, as_json[1][:500]
    assert json.loads(as_csv[1]) == json.loads(as_json[1])
    assert len(json.loads(as_csv[1])["predictions"]) == 20


def _bad_requests(batch: pd.DataFrame) -> list[tuple[str, bytes, str | None, str]]:
    """(what, body, content type, what the message must say) of each kind."""
    rows = batch.head(5)
    split = _split(rows)

    def as_json(frame: pd.DataFrame, **extra) -> bytes:
        return json.dumps({**_split(frame), **extra}).encode()

    text_age = rows.astype({"age": object})
    text_age.loc[text_age.index[3], "age"] = "old"
    return [
        ("malformed JSON", b'{"dataframe_split": {"columns": [', "application/json", "not valid JSON"),
        ("not an object", b"[1, 2, 3]", "application/json", "it is a list"),
        ("unknown key", b'{"rows": []}', "application/json", "it has ['rows']"),
        ("missing column", as_json(rows.drop(columns=["tenure_months"])), "application/json", "missing inputs ['tenure_months']"),
        ("text in an integer column", as_json(text_age), "application/json", "('old') in row 4"),
        ("text in a float column", as_json(rows.assign(monthly_charges="cheap")), "application/json", "'monthly_charges' must be numeric"),
        ("out of range", as_json(rows.assign(age=[30, 40, 50, 60, 200])), "application/json", "('200') in row 5"),
        ("no id", as_json(rows.assign(customer_id=[None, "a", "b", "c", "d"])), "application/json", "(id) is empty in row 1"),
        ("repeated ids", as_json(rows.assign(customer_id="X")), "application/json", "(id) repeats values in rows 1, 2, 3, 4, 5"),
        ("no rows", as_json(rows.iloc[:0]), "application/json", "has no rows"),
        ("empty body", b"", "application/json", "body is empty"),
        ("no content type", json.dumps(split).encode(), None, "no Content-Type"),
        ("unknown content type", json.dumps(split).encode(), "text/plain", "'text/plain' is not scored"),
        ("other charset", json.dumps(split).encode(), "application/json; charset=latin-1", "only charset=utf-8"),
        ("another runner", as_json(rows, params={"runner": "ThreadRunner"}), "application/json", "params.runner 'ThreadRunner' is refused"),
        ("CSV missing column", rows.drop(columns=["region"]).to_csv(index=False).encode(), "text/csv", "missing inputs ['region']"),
        ("CSV with text", text_age.to_csv(index=False).encode(), "text/csv", "('old') in row 4"),
        ("CSV not UTF-8", b"\xff\xfe\x00garbage", "text/csv", "not UTF-8"),
        ("not Parquet", b"PAR1 but not really", "application/vnd.apache.parquet", "not a table in Parquet"),
        ("repeated column", json.dumps({"dataframe_split": {"columns": ["age", "age"], "data": [[1, 2]]}}).encode(), "application/json", "repeats the columns ['age']"),
        ("over the size limit", b" " * 16_000_001, "application/json", "over the limit of 16 MB"),
    ]  # fmt: skip


def _valid_requests(batch: pd.DataFrame, slices: list) -> list[tuple]:
    """Each slice of the batch as a request, in CSV, JSON records or JSON split;
    the last item is the slice's number (its expected predictions)."""
    valid = []
    for number, (start, stop) in enumerate(slices):
        rows = batch.iloc[start:stop]
        if number % 3 == 0:
            body, content_type = rows.to_csv(index=False).encode(), "text/csv"
        elif number % 3 == 1:
            records = {"dataframe_records": json.loads(rows.to_json(orient="records"))}
            body, content_type = json.dumps(records).encode(), "application/json"
        else:
            body, content_type = json.dumps(_split(rows)).encode(), "application/json"
        valid.append(("valid", body, content_type, number))
    return valid


def _wrong_answers(plan: list[tuple], answers: list, expected: list) -> list:
    """The requests answered otherwise than they should be."""
    wrong = []
    for (what, _, _, check), (status, body) in zip(plan, answers, strict=True):
        if what == "valid":
            right = status == 200 and _same_predictions(
                json.loads(body)["predictions"], expected[check]
            )
        else:
            try:
                answer = json.loads(body)
            except ValueError:
                answer = {}
            message = answer.get("message", "") if isinstance(answer, dict) else ""
            right = (
                400 <= status < 500
                and set(answer) == {"error_code", "message"}
                and "\n" not in message
                and check in message
            )
        if not right:
            wrong.append((what, status, body[:300]))
    return wrong


def test_a_mix_of_valid_and_bad_requests_from_8_clients(server, project):
    """10,000 requests, a quarter of them valid, from 8 concurrent clients: no 5xx,
    every bad one a 4xx with its one-line reason, every valid one answered with
    the predictions of the same model loaded in-process (batch inference, which
    loads the champion with MLflow and scored the whole batch)."""
    import random

    batch = pd.read_csv(project / "data/01_raw/batch_production.csv")
    by_batch = pd.read_csv(project / "data/07_model_output/predictions.csv")
    rng = random.Random(7)
    # the valid requests: slices of the production batch
    slices = []
    for _ in range(40):
        start = rng.randrange(0, len(batch) - 50)
        slices.append((start, start + rng.choice([1, 1, 1, 2, 5, 50])))
    expected = [by_batch.iloc[a:b].to_dict(orient="records") for a, b in slices]
    valid = _valid_requests(batch, slices)
    bad = _bad_requests(batch)
    oversize = next(b for b in bad if b[0] == "over the size limit")
    others = [b for b in bad if b is not oversize]
    plan: list[tuple] = [oversize] * 10  # a few: each is 16 MB on the wire
    while len(plan) < 10_000:
        plan.append(rng.choice(valid) if rng.random() < 0.25 else rng.choice(others))
    rng.shuffle(plan)
    answers: list = [None] * len(plan)

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=120)
        for index in range(offset, len(plan), 8):
            _, body, content_type, _ = plan[index]
            try:
                answers[index] = _post(conn, body, content_type)
            except (OSError, http.client.HTTPException) as exc:
                answers[index] = (-1, repr(exc).encode())
                conn.close()
                conn = http.client.HTTPConnection(
                    "127.0.0.1", _port(server), timeout=120
                )
        conn.close()

    pids = _server_pids(server["process"])
    server_cpu, client_cpu = _cpu_seconds(pids), time.process_time()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    server_cpu = _cpu_seconds(pids) - server_cpu
    client_cpu = time.process_time() - client_cpu
    valid_count = sum(1 for item in plan if item[0] == "valid")
    print(
        f"{len(plan)} requests ({valid_count} valid), 8 clients: {elapsed:.1f} s; "
        f"CPU: server {server_cpu:.1f} s, clients {client_cpu:.1f} s"
    )
    assert _wrong_answers(plan, answers, expected)[:5] == []
    assert 2000 < valid_count < 3000
    # and no server error in the log either
    assert " 500 " not in server["log"].read_text()


def _server_pids(process) -> list[int]:
    """The server's process and its children (uvicorn's workers)."""
    pids = [process.pid]
    for task in Path(f"/proc/{process.pid}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes used so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _worker_peak_rss_mb(process) -> float:
    """The largest peak RSS among the server's processes (uvicorn's workers)."""
    peaks = []
    for pid in _server_pids(process):
        with contextlib.suppress(FileNotFoundError):
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(status.split("VmHWM:")[1].split()[0]) / 1024)
    return max(peaks)


def test_large_requests_within_and_over_the_limit(server, project):
    batch = pd.read_csv(project / "data/01_raw/batch_production.csv")
    big = pd.concat([batch] * 50, ignore_index=True)  # 100,000 rows
    big["customer_id"] = [f"C{i:07d}" for i in range(len(big))]
    body = json.dumps(_split(big)).encode()
    assert 8e6 < len(body) < 16e6  # about 10 MB: within the default limit
    huge = json.dumps(_split(pd.concat([big] * 5, ignore_index=True))).encode()
    assert len(huge) > 50e6  # 500,000 rows
    # 100,000 rows in one request are scored
    conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=120)
    status, answer = _post(conn, body, "application/json")
    conn.close()
    assert status == 200, answer[:500]
    predictions = json.loads(answer)["predictions"]
    assert len(predictions) == 100_000
    assert predictions[-1]["customer_id"] == "C0099999"
    _all_captured(server)  # capture has written them, and let go of them
    peak = _worker_peak_rss_mb(server["process"])
    # a 51 MB request is refused before it is read
    conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=120)
    status, answer = _post(conn, huge, "application/json")
    conn.close()
    assert status == 413
    message = json.loads(answer)["message"]
    assert "over the limit of 16 MB" in message and "max_request_mb" in message
    # and no server process grew for it
    assert _worker_peak_rss_mb(server["process"]) - peak < 20


def test_serve_without_a_champion_says_what_to_do(installed, tmp_path):
    project = new_project(installed, tmp_path, name="untrained")
    result = installed.run("kedro", "mlops", "serve", cwd=project, check=False)
    assert result.returncode != 0
    assert "No 'champion' version of the model 'untrained'" in result.stderr
    assert "kedro run --pipelines training" in result.stderr
