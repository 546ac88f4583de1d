"""The ``kedro mlops`` commands through Click's CliRunner, in a minimal Kedro
project built in ``tmp_path`` (a real session, real catalog, real sqlite store),
in this process: no ``kedro`` subprocess, no server started."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from kedro import __version__ as kedro_version

from kedro_mlops.plugin.cli import commands
from kedro_mlops.serving.capture import (
    CAPTURE_VARIABLE,
    MODEL_NAME_VARIABLE,
    MODEL_VERSION_VARIABLE,
)
from kedro_mlops.serving.endpoint import LIMIT_VARIABLE
from kedro_mlops.versioning.lineage import DataVersion, Lineage, log_lineage
from tests.mlflow_models import log_constant_model

PACKAGE = "cli_project"

PYPROJECT = f"""\
[tool.kedro]
package_name = "{PACKAGE}"
project_name = "cli-project"
kedro_init_version = "{kedro_version}"
"""
CATALOG = """\
reference:
  type: pandas.CSVDataset
  filepath: data/reference.csv
current:
  type: pandas.CSVDataset
  filepath: data/current.csv
"""
REGISTRY = """\
def register_pipelines():
    return {}
"""


@pytest.fixture
def project(tmp_path, monkeypatch, kedro_state) -> Path:
    """A Kedro project with two catalog datasets; the test runs from its root."""
    root = tmp_path / "cli-project"
    package = root / "src" / PACKAGE
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text("")
    (package / "pipeline_registry.py").write_text(REGISTRY)
    for env in ("base", "local"):
        (root / "conf" / env).mkdir(parents=True)
    (root / "conf/base/catalog.yml").write_text(CATALOG)
    (root / "conf/base/parameters.yml").write_text("{}\n")
    (root / "data").mkdir()
    reference = pd.DataFrame(
        {"amount": [1.0, 2.0, 3.0] * 100, "plan": list("abc") * 100}
    )
    current = reference.assign(amount=reference["amount"] + 5)  # only `amount` drifts
    reference.to_csv(root / "data/reference.csv", index=False)
    current.to_csv(root / "data/current.csv", index=False)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def tracked(project, tracking_uri, monkeypatch) -> Path:
    """The project with ``kedro mlops init``'s mlflow.yml, pointed by
    ``MLFLOW_TRACKING_URI`` at the test's store.

    Every command that opens a session needs it: kedro-mlflow's hook, without
    an mlflow.yml, points MLflow at ``./mlruns``, a file store MLflow 3 refuses.
    """
    from kedro_mlops.scaffold.project_files import write_files

    write_files(project, PACKAGE, only=("conf/base/mlflow.yml",))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    monkeypatch.chdir(project)
    return project


def mlops(*args: str):
    return CliRunner().invoke(commands, ["mlops", *args])


# ----------------------------------------------------------------------------- init


def test_init_writes_the_files_then_changes_nothing(project):
    # when kedro-mlops is added to the project, twice
    first = mlops("init")
    second = mlops("init")
    # then the files are created once, with the project's package in mlflow.yml
    assert first.exit_code == 0, first.output
    for name in ("conf/base/mlops.yml", "conf/base/mlflow.yml", "Dockerfile"):
        assert f"created     {name}" in first.output
        assert f"unchanged   {name}" in second.output
    assert f"name: {PACKAGE}" in (project / "conf/base/mlflow.yml").read_text()
    assert "Next:" in first.output


def test_init_keeps_an_edited_file_unless_forced(project):
    mlops("init")
    (project / "Dockerfile").write_text("FROM scratch\n")
    kept = mlops("init")
    assert "kept        Dockerfile" in kept.output and "--force" in kept.output
    assert (project / "Dockerfile").read_text() == "FROM scratch\n"
    forced = mlops("init", "--force")
    assert "overwritten Dockerfile" in forced.output
    assert (project / "Dockerfile").read_text() != "FROM scratch\n"


def test_commands_outside_a_project_say_where_to_run_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["init"], ["drift", "--reference", "a", "--current", "b"]):
        result = mlops(*args)
        assert result.exit_code == 1
        assert "Run this command inside a Kedro project." in result.output


# ---------------------------------------------------------------------------- serve


@pytest.fixture
def execve(monkeypatch, tmp_path):
    """Stops ``serve`` where it would start the server, recording how: ("exec",
    command, environment) for uvicorn replacing this process, ("here", uvicorn's
    app and options, environment) for the one server run in this process (whose
    environment changes are undone), and the BLAS thread limit it sets. The
    health check's marker goes to the test's folder."""
    import uvicorn

    from kedro_mlops.docker import health
    from kedro_mlops.plugin import cli

    calls: list = []
    monkeypatch.setattr(
        os, "execve", lambda _, command, env: calls.append(("exec", command, env))
    )
    monkeypatch.setattr(
        uvicorn,
        "run",
        lambda app, **options: calls.append(("here", (app, options), dict(os.environ))),
    )
    monkeypatch.setattr(cli, "_limit_blas_threads", lambda n: calls.append(("blas", n)))
    monkeypatch.setattr(health, "MARKER", tmp_path / "serving.port")
    saved = dict(os.environ)
    yield calls
    os.environ.clear()
    os.environ.update(saved)


def _register_champion(name: str = PACKAGE) -> str:
    import mlflow

    with mlflow.start_run():
        info = log_constant_model()
    version = mlflow.register_model(info.model_uri, name).version
    mlflow.MlflowClient().set_registered_model_alias(name, "champion", version)
    return str(version)


def test_serve_runs_the_champion_with_uvicorn(tracked, tracking_uri, execve, tmp_path):
    from kedro_mlops.serving import MODEL_VARIABLE, PORT_VARIABLE

    # given a registered champion
    version = _register_champion()
    # when it is served on a chosen port, the host from the environment
    result = CliRunner().invoke(
        commands,
        ["mlops", "serve", "--port", "9001", "--workers", "2"],
        env={"KEDRO_MLOPS_SERVE_HOST": "0.0.0.0"},
    )
    # then uvicorn would replace this process with MLflow's app on that model
    assert result.exit_code == 0, result.output
    assert f"models:/{PACKAGE}@champion (version {version})" in result.output
    ((how, command, environ),) = execve
    assert how == "exec"
    assert command == [
        sys.executable, "-m", "uvicorn", "--host", "0.0.0.0", "--port", "9001",
        "--workers", "2", "kedro_mlops.serving.app:app",
    ]  # fmt: skip
    # with the model downloaded once for every worker, uvicorn's folder on PATH,
    # one OpenMP thread per prediction
    assert (Path(environ[MODEL_VARIABLE]) / "MLmodel").is_file()
    assert environ["MLFLOW_TRACKING_URI"] == tracking_uri
    assert environ["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert environ["OMP_NUM_THREADS"] == "1"
    # the port for the app (which removes the health check's marker at its
    # stop) and the request size limit: mlops.yml's default
    assert environ[PORT_VARIABLE] == "9001"
    assert environ[LIMIT_VARIABLE] == "16"
    assert "requests up to 16 MB" in result.output
    # and the health check knows the port
    assert (tmp_path / "serving.port").read_text() == "9001"
    # the model's name and version for /metrics and capture (off by default), and
    # a new, empty folder where the workers add up their metrics
    assert environ[MODEL_NAME_VARIABLE] == PACKAGE
    assert environ[MODEL_VERSION_VARIABLE] == version
    assert CAPTURE_VARIABLE not in environ
    metrics_folder = Path(environ["PROMETHEUS_MULTIPROC_DIR"])
    assert list(metrics_folder.iterdir()) == []
    metrics_folder.rmdir()


def test_one_server_process_is_this_one(tracked, tracking_uri, execve, tmp_path):
    from kedro_mlops.serving import MODEL_VARIABLE, PORT_VARIABLE

    # given a registered champion
    _register_champion()
    # when it is served by one worker (the default)
    result = mlops("serve", "--port", "9002")
    assert result.exit_code == 0, result.output
    # then uvicorn runs MLflow's app in this process, which imported MLflow
    # already, with the environment a new server process would get
    ((limit, threads), (how, (app, options), environ)) = execve
    assert (limit, how) == ("blas", "here")
    assert app == "kedro_mlops.serving.app:app"
    assert options == {"host": "127.0.0.1", "port": 9002}
    assert (Path(environ[MODEL_VARIABLE]) / "MLmodel").is_file()
    assert environ["MLFLOW_TRACKING_URI"] == tracking_uri
    assert environ[PORT_VARIABLE] == "9002"
    assert environ[LIMIT_VARIABLE] == "16"
    # and one thread per BLAS call, as OMP_NUM_THREADS gives a new process
    assert environ["OMP_NUM_THREADS"] == "1"
    assert threads == 1
    assert (tmp_path / "serving.port").read_text() == "9002"


def test_serve_passes_the_capture_settings_with_the_path_from_the_project_root(
    tracked, execve, monkeypatch
):
    # given a champion, capture on in mlops.yml, and an old metrics folder set
    _register_champion()
    Path("conf/base/mlops.yml").write_text(
        "serving:\n  capture:\n    enabled: true\n    flush_seconds: 1\n"
    )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/old-metrics")
    # when it is served by one worker
    result = mlops("serve")
    assert result.exit_code == 0, result.output
    # then the server process gets the settings, the path resolved
    environ = execve[-1][2]
    settings = json.loads(environ[CAPTURE_VARIABLE])
    captured = str((tracked / "data/09_monitoring/captured").resolve())
    assert settings == {
        "path": captured,
        "max_queue_rows": 100_000,
        "flush_seconds": 1.0,
        "file_rows": 50_000,
    }
    assert f"Capturing the scored requests to {captured}" in result.output
    # and no multiprocess folder: one process has its own metrics
    assert "PROMETHEUS_MULTIPROC_DIR" not in environ
    # a URL is kept as it is
    Path("conf/base/mlops.yml").write_text(
        "serving:\n  capture:\n    enabled: true\n    path: memory://captured\n"
    )
    assert mlops("serve").exit_code == 0
    assert json.loads(execve[-1][2][CAPTURE_VARIABLE])["path"] == "memory://captured"


def test_serve_takes_the_request_size_limit_from_mlops_yml_or_the_option(
    tracked, execve
):
    # given a champion, and a limit in mlops.yml
    _register_champion()
    Path("conf/base/mlops.yml").write_text("serving:\n  max_request_mb: 2.5\n")
    # then the server gets it
    assert mlops("serve").exit_code == 0
    assert execve[-1][2][LIMIT_VARIABLE] == "2.5"
    # and the option (or its environment variable) wins
    assert mlops("serve", "--max-request-mb", "40").exit_code == 0
    assert execve[-1][2][LIMIT_VARIABLE] == "40"
    result = CliRunner().invoke(
        commands, ["mlops", "serve"], env={LIMIT_VARIABLE: "0.5"}
    )
    assert result.exit_code == 0, result.output
    assert execve[-1][2][LIMIT_VARIABLE] == "0.5"


CHAMPION_ENTRY = """
champion_model:
  type: kedro_mlflow.io.models.MlflowModelRegistryDataset
  model_name: {name}
  alias: champion
"""


def test_serve_uses_the_model_name_training_and_inference_use(tracked, execve):
    # given mlops.yml and the catalog naming the model anew, and its champion
    (tracked / "conf/base/mlops.yml").write_text(
        "registry:\n  model_name: churn_renamed\n"
    )
    catalog = tracked / "conf/base/catalog.yml"
    catalog.write_text(
        catalog.read_text() + CHAMPION_ENTRY.format(name="churn_renamed")
    )
    version = _register_champion("churn_renamed")
    # when the champion is served, then it is that model's
    result = mlops("serve")
    assert result.exit_code == 0, result.output
    assert f"models:/churn_renamed@champion (version {version})" in result.output
    # and with the catalog loading another name, nothing is served
    catalog.write_text(catalog.read_text().replace("churn_renamed", "churn_model"))
    result = mlops("serve")
    assert result.exit_code == 1
    assert "The model has two names: registry.model_name is 'churn_renamed'" in (
        result.output
    )
    assert [call[0] for call in execve] == ["blas", "here"]


def test_serve_without_a_champion_says_how_to_get_one(tracked, execve):
    result = mlops("serve", "--alias", "champion")
    assert result.exit_code == 1
    assert f"No 'champion' version of the model '{PACKAGE}'" in result.output
    assert "kedro run --pipelines training" in result.output
    assert execve == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--port", "99999"),
        ("--port", "0"),
        ("--workers", "0"),
        ("--max-request-mb", "0"),
        ("--max-request-mb", "lots"),
    ],
)
def test_serve_refuses_a_port_or_worker_count_that_cannot_be(
    tracked, execve, option, value
):
    result = mlops("serve", option, value)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output
    assert execve == []


# ---------------------------------------------------------------------------- drift


def test_drift_between_two_catalog_datasets(tracked, tmp_path):
    # when the two datasets of the catalog are compared, with an HTML report
    report = tmp_path / "drift.html"
    result = mlops(
        "drift", "--reference", "reference", "--current", "current",
        "--output", str(report),
    )  # fmt: skip
    # then the verdict, a line per column (the most drifted first), and the report
    assert result.exit_code == 0, result.output
    assert (
        "current (300 rows) against reference (300 rows): DRIFT, 1 of 2 columns"
        in result.output
    )
    lines = result.stdout.splitlines()  # Kedro's log lines are in it too
    top = next(i for i, line in enumerate(lines) if line.split()[:1] == ["column"])
    columns = [line.split()[0] for line in lines[top + 1 : top + 3]]
    assert columns == ["amount", "plan"]
    assert f"HTML report: {report}" in result.output
    assert report.read_text().lstrip().lower().startswith("<!doctype html")


def test_drift_without_the_configured_prediction_column_checks_the_rest(tracked):
    # given mlops.yml naming a model output column that these datasets lack
    (tracked / "conf/base/mlops.yml").write_text(
        "drift:\n  prediction_column: churn_probability\n"
    )
    # when they are compared
    result = mlops("drift", "--reference", "reference", "--current", "current")
    # then that check is skipped, said so, and the features are compared
    assert result.exit_code == 0, result.output
    assert "(no 'churn_probability' column here" in result.stdout
    assert "DRIFT, 1 of 2 columns" in result.stdout


def test_drift_leaves_the_schemas_id_and_target_out(tracked):
    # given raw tables with an id and a target (only in the reference), and a
    # schema in parameters.yml that names them (mlops.yml names no column)
    data = tracked / "data"
    reference = pd.read_csv(data / "reference.csv")
    reference.assign(id=range(300), left=["yes", "no"] * 150).to_csv(
        data / "reference.csv", index=False
    )
    current = pd.read_csv(data / "current.csv").assign(id=range(1000, 1300))
    current.to_csv(data / "current.csv", index=False)
    (tracked / "conf/base/parameters.yml").write_text(
        "schema:\n  id_column: id\n  target: {column: left, positive_class: 'yes'}\n"
        "  numeric: {amount: {}}\n  categorical: {plan: [a, b, c]}\n"
    )
    # when they are compared
    result = mlops("drift", "--reference", "reference", "--current", "current")
    # then only the features are: the id and target are left out, and the
    # model's output column (absent from raw tables) is said to be skipped
    assert result.exit_code == 0, result.output
    assert "DRIFT, 1 of 2 columns" in result.stdout
    assert "(no 'left_probability' column here" in result.stdout
    skipped = {
        line.split()[0]
        for line in result.stdout.splitlines()
        if "skipped: ignored by configuration" in line
    }
    assert skipped == {"id", "left"}


def test_drift_with_a_wrong_schema_says_what_is_wrong(tracked):
    # given a schema block with a misspelt key
    (tracked / "conf/base/parameters.yml").write_text(
        "schema:\n  id_colum: id\n  target: {column: left, positive_class: 'yes'}\n"
        "  numeric: {amount: {}}\n"
    )
    result = mlops("drift", "--reference", "reference", "--current", "current")
    # then a one-line error names the key, with no traceback
    assert result.exit_code == 1
    assert "id_colum: unknown key" in result.output
    assert "Traceback" not in result.output


def test_drift_of_a_dataset_not_in_the_catalog_names_it(tracked):
    result = mlops("drift", "--reference", "reference", "--current", "scoring")
    assert result.exit_code == 1
    assert "'scoring' is neither a dataset of this project's catalog" in result.output
    assert "its datasets: current, reference." in result.output
    assert "kedro catalog describe-datasets" in result.output


def test_drift_of_a_dataset_with_no_data_yet_says_which_pipeline_writes_it(tracked):
    (tracked / "data/current.csv").unlink()
    registry = tracked / "src" / PACKAGE / "pipeline_registry.py"
    registry.write_text(
        "from kedro.pipeline import Node, Pipeline\n"
        "def register_pipelines():\n"
        "    score = Pipeline([Node(abs, 'reference', 'current', name='score')])\n"
        "    return {'scoring': score, '__default__': score}\n"
    )
    result = mlops("drift", "--reference", "reference", "--current", "current")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Error: 'current' has no data yet: nothing is saved there. "
        "Run `kedro run --pipelines scoring` first, which writes it."
    )


def _add_to_catalog(project: Path, name: str, kind: str, filepath: str) -> None:
    with (project / "conf/base/catalog.yml").open("a") as catalog:
        catalog.write(f"{name}:\n  type: {kind}\n  filepath: {filepath}\n")


def test_drift_of_a_dataset_that_is_not_a_table_says_so(tracked):
    (tracked / "data/settings.json").write_text('{"a": 1}')
    _add_to_catalog(tracked, "settings", "json.JSONDataset", "data/settings.json")
    result = mlops("drift", "--reference", "reference", "--current", "settings")
    assert result.exit_code == 1
    assert "Error: 'settings' is a dict, not a table" in result.output
    assert "Traceback" not in result.output


def test_drift_of_a_file_that_cannot_be_read_names_it(tracked):
    (tracked / "data/batch.parquet").write_text("id,amount\n1,2\n")
    _add_to_catalog(tracked, "batch", "pandas.ParquetDataset", "data/batch.parquet")
    result = mlops("drift", "--reference", "reference", "--current", "batch")
    assert result.exit_code == 1
    last = result.output.splitlines()[-1]
    assert last.startswith("Error: 'batch' cannot be read: Could not open Parquet")
    assert last.endswith("this is not a parquet file.")
    assert "Traceback" not in result.output


def test_drift_without_common_columns_says_what_is_missing(tracked):
    pd.DataFrame({"other": [1, 2, 3]}).to_csv(tracked / "data/current.csv", index=False)
    result = mlops("drift", "--reference", "reference", "--current", "current")
    assert result.exit_code == 1
    assert "of the reference are missing from the current data" in result.output


# -------------------------------------------------------------------------- lineage

LINEAGE = Lineage(
    commit="4f2a9c1",
    dirty=False,
    env="local",
    pipelines=["training"],
    data=[
        DataVersion(
            "raw_customers",
            "data/01_raw/customers.csv",
            "0cc175b9c0f1b6a831c399e269772661",
            460261,
        )
    ],
)


def _run(lineage: Lineage | None) -> str:
    from mlflow import MlflowClient

    client = MlflowClient()
    run = client.create_run(experiment_id="0", run_name="training")
    client.set_terminated(run.info.run_id)
    if lineage is not None:
        log_lineage(client, run.info.run_id, lineage)
    return run.info.run_id


def test_lineage_shows_code_data_and_how_to_restore(tracked):
    # given a run with lineage tags
    run_id = _run(LINEAGE)
    # when its lineage is asked for
    result = mlops("lineage", run_id)
    # then the code, the data version and the restore commands are shown
    assert result.exit_code == 0, result.output
    assert f"Run {run_id} (training)" in result.stdout.splitlines()
    assert "code       4f2a9c1" in result.output
    assert "data/01_raw/customers.csv  md5 0cc175b9c0f1b6a831c399e269772661" in (
        result.output
    )
    assert "git checkout 4f2a9c1 -- data/01_raw/customers.csv.dvc" in result.output
    assert "dvc checkout data/01_raw/customers.csv.dvc" in result.output


def test_lineage_of_a_run_without_tags_or_unknown(tracked):
    untagged = mlops("lineage", _run(None))
    assert untagged.exit_code == 1 and "has no lineage tags" in untagged.output
    unknown = mlops("lineage", "0123456789abcdef")
    assert unknown.exit_code == 1
    assert "No MLflow run '0123456789abcdef'" in unknown.output


def test_the_lineage_of_a_tuning_trial_points_to_its_training_run(tracked):
    from mlflow import MlflowClient

    # given a trial nested in a training run (it has no lineage tags itself)
    parent = _run(LINEAGE)
    trial = MlflowClient().create_run("0", tags={"mlflow.parentRunId": parent})
    # when its lineage is asked for
    result = mlops("lineage", trial.info.run_id)
    # then the training run is named, with the command that shows its lineage
    assert result.exit_code == 1
    assert f"`kedro mlops lineage {parent}`" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("committed", [True, False])
def test_lineage_checkout_restores_through_versioning(tracked, monkeypatch, committed):
    from kedro_mlops.versioning import restore
    from tests.git_dvc import DVC, sh

    # given a git + DVC project whose branch has, or has not, committed the record
    sh("git", "init", "-q", "-b", "main", cwd=tracked)
    sh(DVC, "init", "-q", cwd=tracked)
    record = tracked / "data/01_raw/customers.csv.dvc"
    record.parent.mkdir(parents=True)
    record.write_text(
        "outs:\n- md5: 0cc175b9c0f1b6a831c399e269772661\n  size: 1\n"
        "  hash: md5\n  path: customers.csv\n"
    )
    sh("git", "add", ".dvc", cwd=tracked)
    if committed:
        sh("git", "add", str(record), cwd=tracked)
    sh(
        "git",
        "-c",
        "user.email=t@e",
        "-c",
        "user.name=t",
        "commit",
        "-qm",
        "r",
        cwd=tracked,
    )

    # given restore itself replaced (tests/versioning runs it on real git + DVC)
    calls = []

    def restored(lineage, project_path, progress):
        calls.append((lineage, Path(project_path)))
        progress("Checking out 1 data version(s) from the DVC cache.")
        return lineage.restorable()

    monkeypatch.setattr(restore, "restore", restored)
    run_id = _run(LINEAGE)
    # when the run's data is checked out
    result = mlops("lineage", run_id, "--checkout")
    # then restore got the recorded lineage and this project, its progress is
    # shown, and so is the way back: a pull, as the branch's data is in no cache
    assert result.exit_code == 0, result.output
    assert calls == [(LINEAGE, tracked)]
    assert "Checking out 1 data version(s) from the DVC cache." in result.output
    assert f"Restored 1 data version(s) into {tracked}." in result.output
    way_back = (
        "git checkout HEAD -- data/01_raw/customers.csv.dvc "
        "&& dvc pull data/01_raw/customers.csv.dvc"
    )
    not_in_git = "data/01_raw/customers.csv.dvc is not committed to git"
    assert (way_back in result.output) is committed
    assert (not_in_git in result.output) is not committed
    # and the listing says where the data is: nowhere this clone can reach
    assert (
        "not in the local DVC cache, and no DVC remote is configured" in result.output
    )


def test_lineage_checkout_that_would_lose_work_is_a_clean_error(tracked, monkeypatch):
    from kedro_mlops.versioning import restore

    def refuse(lineage, project_path, progress):
        raise restore.RestoreError("The work tree has uncommitted changes")

    monkeypatch.setattr(restore, "restore", refuse)
    result = mlops("lineage", _run(LINEAGE), "--checkout")
    assert result.exit_code == 1
    assert "Error: The work tree has uncommitted changes" in result.output


def test_lineage_without_a_store_creates_none_and_names_it(project, monkeypatch):
    from kedro_mlops.scaffold.project_files import write_files

    # given a clone: the starter's mlflow.yml, no mlflow.db, no MLFLOW_TRACKING_URI
    write_files(project, PACKAGE, only=("conf/base/mlflow.yml",))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    # when the lineage of a run is asked for, without --env
    result = mlops("lineage", "0123456789abcdef")
    # then the store that is not there is named, with the environment, and not made
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(
        f"Error: No MLflow tracking store at {project / 'mlflow.db'} (mlflow.yml of "
        "the environment 'local'); nothing was created. Point MLFLOW_TRACKING_URI"
    )
    assert not (project / "mlflow.db").exists()
    assert "Traceback" not in result.output
    # a URI from the environment that names no store is said to come from there
    missing = project / "elsewhere" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{missing}")
    result = mlops("lineage", "0123456789abcdef", "--env", "local")
    assert result.exit_code == 1
    assert f"(MLFLOW_TRACKING_URI=sqlite:///{missing})" in result.output
    assert sorted(p.name for p in project.iterdir()) == [
        "conf",
        "data",
        "pyproject.toml",
        "src",
    ]


# ------------------------------------------------------------------------ CLI hooks


def test_run_with_an_unknown_pipeline_lists_the_projects_pipelines(project, capsys):
    from types import SimpleNamespace

    from kedro.framework.startup import bootstrap_project

    from kedro_mlops.plugin.cli import cli_hooks

    (project / "src" / PACKAGE / "pipeline_registry.py").write_text(
        "from kedro.pipeline import Node, Pipeline\n"
        "def register_pipelines():\n"
        "    score = Pipeline([Node(abs, 'reference', 'current', name='score')])\n"
        "    return {'scoring': score, '__default__': score}\n"
    )
    bootstrap_project(project)
    metadata = SimpleNamespace(package_name=PACKAGE)
    with pytest.raises(SystemExit) as caught:
        cli_hooks.before_command_run(
            metadata, ["run", "--pipelines", "scoring,trainin"]
        )
    assert caught.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "Error: no pipeline named 'trainin' in this project; its pipelines: "
        f"__default__, scoring (src/{PACKAGE}/pipeline_registry.py registers them)."
    )
    # known names, and other commands, pass
    cli_hooks.before_command_run(metadata, ["run", "--pipeline", "scoring"])
    cli_hooks.before_command_run(metadata, ["viz", "--pipeline", "nothing"])


def test_drift_reads_parquet_in_batches_from_a_path_or_the_catalog(tracked):
    # given the current data as a folder of two Parquet files, and the reference
    # as a ParquetBatchesDataset of the catalog
    import pandas as pd

    current = pd.read_csv(tracked / "data/current.csv")
    (tracked / "data/current_parts").mkdir()
    half = len(current) // 2
    current.iloc[:half].to_parquet(tracked / "data/current_parts/part-0.parquet")
    current.iloc[half:].to_parquet(tracked / "data/current_parts/part-1.parquet")
    pd.read_csv(tracked / "data/reference.csv").to_parquet(
        tracked / "data/reference.parquet"
    )
    _add_to_catalog(
        tracked,
        "reference_parquet",
        "kedro_mlops.datasets.ParquetBatchesDataset",
        "data/reference.parquet",
    )
    in_memory = mlops("drift", "--reference", "reference", "--current", "current")
    # when the check reads them in record batches
    batched = mlops(
        "drift",
        "--reference",
        "reference_parquet",
        "--current",
        "data/current_parts",
    )
    # then it prints the table of the in-memory check
    assert in_memory.exit_code == 0, in_memory.output
    assert batched.exit_code == 0, batched.output
    header, table = _drift_table(batched.output, "data/current_parts (")
    assert header.startswith(
        f"data/current_parts ({len(current)} rows) against reference_parquet"
    )
    assert table == _drift_table(in_memory.output, "current (")[1]
    assert len(table) > 3


def _drift_table(output: str, start: str) -> tuple[str, list[str]]:
    """The header line of `kedro mlops drift`'s printout, and the lines after it."""
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    return lines[first], lines[first + 1 :]
