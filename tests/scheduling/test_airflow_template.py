"""kedro-mlops' DAG template rendered by kedro-airflow's own `kedro airflow create`,
in a minimal project in ``tmp_path`` (a real session, in this process), and the
CLI hook that stops the command on a wrong airflow.yml.

Airflow is not installed here: the DAG files are compiled, linted and read with
``ast``; tests/starter/test_airflow.py imports and runs them in Airflow.
"""

from __future__ import annotations

import ast
import datetime
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from kedro import __version__ as kedro_version

from kedro_mlops.scaffold.project_files import write_files
from kedro_mlops.scheduling.airflow_settings import AirflowSettings

PACKAGE = "sched_project"
PYPROJECT = f"""\
[tool.kedro]
package_name = "{PACKAGE}"
project_name = "sched-project"
kedro_init_version = "{kedro_version}"
"""
REGISTRY = """\
from kedro.pipeline import Node, Pipeline


def register_pipelines():
    training = Pipeline([Node(abs, "x", "y", name="fit")])
    inference = Pipeline([Node(abs, "y", "z", name="score")])
    return {"__default__": training, "training": training, "inference": inference}
"""
HERE = {"project_path": "/srv/sched-project"}


@pytest.fixture
def project(tmp_path, monkeypatch, kedro_state, tracking_uri) -> Path:
    """Two pipelines, kedro-mlops' mlflow.yml and DAG template; the test runs
    from the project's root."""
    root = tmp_path / "sched-project"
    package = root / "src" / PACKAGE
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text("")
    (package / "pipeline_registry.py").write_text(REGISTRY)
    for env in ("base", "local"):
        (root / "conf" / env).mkdir(parents=True)
    write_files(root, PACKAGE, only=("conf/base/mlflow.yml", "airflow_dag.j2"))
    monkeypatch.chdir(root)
    return root


def _create(project: Path, airflow_yml: dict | None, *options: str):
    from kedro.framework.startup import bootstrap_project
    from kedro_airflow.plugin import commands

    if airflow_yml is not None:
        (project / "conf/base/airflow.yml").write_text(yaml.safe_dump(airflow_yml))
    metadata = bootstrap_project(project)
    args = ["airflow", "create", "-p", "training,inference", "-j", "airflow_dag.j2"]
    result = CliRunner().invoke(commands, [*args, *options], obj=metadata)
    assert result.exit_code == 0, result.output
    return {p.name: p.read_text() for p in (project / "airflow_dags").glob("*.py")}


def _constants(source: str) -> dict:
    """The module-level constants of a DAG file."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and target.id.isupper():
                found[target.id] = ast.literal_eval(node.value)  # type: ignore[arg-type]
    return found


def _dag_arguments(source: str) -> dict:
    """The keywords of the file's ``@dag(...)``, as values where they are literals."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "dag":
            return {k.arg: k.value for k in node.keywords}
    raise AssertionError("no @dag(...) in the file")


SHAPES = {
    "project": {**HERE, "run_command": "/srv/sched-project/.venv/bin/kedro run"},
    "docker": {"runs_in": "docker", "image": "sched:1", "volumes": {"/d": "/app/d"}},
    "kubernetes": {"runs_in": "kubernetes", "image": "sched:1"},
}


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_renders_dag_files_that_compile_and_lint_clean(project, shape):
    config = {
        "default": SHAPES[shape],
        "training": {"schedule": "@weekly"},
        "inference": {"schedule": "0 3 * * *", "retrain_pipeline": "training"},
    }
    files = _create(project, config)
    assert sorted(files) == [
        f"{PACKAGE}_inference_dag.py",
        f"{PACKAGE}_training_dag.py",
    ]
    for name, source in files.items():
        compile(source, name, "exec")
    # pyflakes (no unused or undefined name), imports sorted, bugbear, whitespace
    ruff = Path(sys.executable).with_name("ruff")
    lint = subprocess.run(
        [str(ruff), "check", "--no-cache", "--isolated", "--target-version",
         "py310", "--select", "F,I,B,W,E9", str(project / "airflow_dags")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout
    inference = _constants(files[f"{PACKAGE}_inference_dag.py"])
    assert inference["DAG_ID"] == f"{PACKAGE}_inference"
    assert inference["RETRAIN_DAG_ID"] == f"{PACKAGE}_training"
    assert inference["PIPELINE"] == "inference" and inference["ENV"] == "local"
    training = _constants(files[f"{PACKAGE}_training_dag.py"])
    assert "RETRAIN_DAG_ID" not in training
    assert "retrain_decision" not in files[f"{PACKAGE}_training_dag.py"]
    arguments = _dag_arguments(files[f"{PACKAGE}_inference_dag.py"])
    assert ast.literal_eval(arguments["schedule"]) == "0 3 * * *"


def test_the_templates_defaults_are_the_settings_models(project):
    config = {
        "default": SHAPES["project"],
        "inference": {"retrain_pipeline": "training"},
    }
    source = _create(project, config)[f"{PACKAGE}_inference_dag.py"]
    defaults = AirflowSettings.model_validate(config["default"])
    constants = _constants(source)
    assert constants["RUN_COMMAND"] == defaults.run_command
    assert constants["DECISION_FILE"] == defaults.decision_file
    assert constants["ENVIRONMENT"] == defaults.environment
    assert constants["RUN_PARAMS"] == ""
    dag = _dag_arguments(source)
    assert ast.literal_eval(dag["schedule"]) == defaults.schedule
    assert ast.literal_eval(dag["catchup"]) == defaults.catchup
    assert ast.literal_eval(dag["max_active_runs"]) == defaults.max_active_runs
    start = dag["start_date"]
    assert isinstance(start, ast.Call)
    assert [ast.literal_eval(a) for a in start.args] == defaults.start_date
    assert datetime.date(*defaults.start_date)
    default_args = dag["default_args"]
    assert isinstance(default_args, ast.Dict)
    found = {
        ast.literal_eval(k): v
        for k, v in zip(default_args.keys, default_args.values, strict=True)
    }
    for key in ("owner", "depends_on_past", "email_on_failure", "email_on_retry"):
        assert ast.literal_eval(found[key]) == getattr(defaults, key)
    assert ast.literal_eval(found["retries"]) == defaults.retries
    delay = found["retry_delay"]
    assert isinstance(delay, ast.Call)
    assert ast.literal_eval(delay.keywords[0].value) == defaults.retry_delay
    # and the image shape's
    image = _constants(
        _create(project, {"default": SHAPES["docker"]})[f"{PACKAGE}_training_dag.py"]
    )
    assert image["DOCKER_URL"] == AirflowSettings.model_fields["docker_url"].default
    k8s = {"default": SHAPES["kubernetes"]}
    constants = _constants(_create(project, k8s)[f"{PACKAGE}_training_dag.py"])
    assert constants["NAMESPACE"] == (
        AirflowSettings.model_fields["kubernetes_namespace"].default
    )


def test_values_reach_the_dag_file_as_written(project):
    # kedro-airflow renders with HTML autoescaping: none of it may reach the file
    awkward = "https://u:p@mlflow.example.com/x?a=1&b='2'<3>\"4\""
    config = {
        "default": {
            **HERE,
            "run_command": "/srv/my project/bin/kedro run",
            "environment": {"MLFLOW_TRACKING_URI": awkward, "KEDRO_ENV": "prod"},
            "run_params": {"scoring_file": "data/01_raw/b & c.csv", "limit": 3},
            "tags": ["churn & co"],
        }
    }
    source = _create(project, config)[f"{PACKAGE}_training_dag.py"]
    constants = _constants(source)
    assert constants["ENVIRONMENT"] == config["default"]["environment"]
    assert constants["RUN_COMMAND"] == "/srv/my project/bin/kedro run"
    assert sorted(constants["RUN_PARAMS"].split(",")) == [
        "limit=3",
        "scoring_file=data/01_raw/b & c.csv",
    ]
    tags = ast.literal_eval(_dag_arguments(source)["tags"])
    assert tags == ["kedro", "training", "churn & co"]


# ---------------------------------------------------------------------- the CLI hook


def test_a_wrong_airflow_yml_stops_kedro_airflow_create_before_any_dag(project, capsys):
    from kedro.framework.cli.hooks import get_cli_hook_manager
    from kedro.framework.startup import bootstrap_project

    (project / "conf/base/airflow.yml").write_text(
        yaml.safe_dump({"default": {"retries": 2}, "trainig": {"schedule": "@weekly"}})
    )
    # what `kedro` calls before the command, with the hooks its plugins register
    hooks = get_cli_hook_manager().hook
    with pytest.raises(SystemExit) as stopped:
        hooks.before_command_run(
            project_metadata=bootstrap_project(project),
            command_args=[
                "airflow",
                "create",
                "-p",
                "training",
                "-j",
                "airflow_dag.j2",
            ],
        )
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "Error: kedro airflow create wrote no DAG; fix these in airflow.yml "
        "(conf/base, then conf/local) or on the command line:",
        "  - trainig: a section named after no pipeline of this project (its "
        "pipelines: __default__, inference, training); the sections are `default` "
        "(every DAG) and pipeline names",
        "  - training: project_path is not set: the project's folder on the "
        "Airflow workers, where the task runs `kedro run` (runs_in: project). Set "
        "it in airflow.yml, or pass --params project_path=/path/to/project",
    ]
    assert not (project / "airflow_dags").exists()


def test_an_unknown_pipeline_is_named_whatever_the_template(project, capsys):
    # kedro-airflow's own message for it is "NoneType: None"
    from types import SimpleNamespace

    from kedro.framework.startup import bootstrap_project

    from kedro_mlops.plugin.cli import cli_hooks

    bootstrap_project(project)
    metadata = SimpleNamespace(package_name=PACKAGE, project_path=project)
    with pytest.raises(SystemExit):
        cli_hooks.before_command_run(metadata, ["airflow", "create", "-p", "scoring"])
    assert capsys.readouterr().err.splitlines()[1] == (
        "  - --pipelines: no pipeline named 'scoring' in this project; its "
        "pipelines: __default__, inference, training"
    )
    # a template given but missing, and an environment that does not exist, are
    # left to kedro-airflow's option check and to the session
    cli_hooks.before_command_run(metadata, ["airflow", "create", "-j", "missing.j2"])
    cli_hooks.before_command_run(metadata, ["airflow", "create", "-e", "prod"])
    assert capsys.readouterr().err == ""
