"""`kedro mlops init` on a project made by plain `kedro new`, then a tracked run."""

from __future__ import annotations

import pytest

from kedro_mlops.scaffold import template
from kedro_mlops.scaffold.project_files import rendered

pytestmark = pytest.mark.integration

FILES = [
    "conf/base/mlops.yml",
    "conf/base/mlflow.yml",
    "Dockerfile",
    ".dockerignore",
    "airflow_dag.j2",
]
NODES = """
def greet(params: dict) -> str:
    return f"hello {params['name']}"


def shout(greeting: str) -> str:
    return greeting.upper()
"""
PIPELINE = """
from kedro.pipeline import Node, Pipeline

from .nodes import greet, shout


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(greet, "params:hello", "greeting", name="greet"),
            Node(shout, "greeting", "shouted", name="shout"),
        ]
    )
"""


@pytest.fixture(scope="module")
def plain(installed, tmp_path_factory):
    """`kedro new` with Kedro's own template, and one pipeline of ours."""
    parent = tmp_path_factory.mktemp("plain")
    installed.run(
        "kedro", "new", "--name", "plain-project", "--tools", "none", "--example", "n",
        cwd=parent,
    )  # fmt: skip
    project = parent / "plain-project"
    installed.run("kedro", "pipeline", "create", "hello", cwd=project)
    package = project / "src" / "plain_project" / "pipelines" / "hello"
    (package / "nodes.py").write_text(NODES)
    (package / "pipeline.py").write_text(PIPELINE)
    (project / "conf/base/parameters_hello.yml").write_text("hello:\n  name: world\n")
    return project


def _snapshot(project):
    return {
        name: ((project / name).read_bytes(), (project / name).stat().st_mtime_ns)
        for name in FILES
    }


def test_init_adds_tracking_that_works_and_is_idempotent(installed, plain):
    # when kedro-mlops is added to the project
    first = installed.run("kedro", "mlops", "init", cwd=plain)
    for name in FILES:
        assert f"created     {name}" in first.stdout
    assert "Next:" in first.stdout and "kedro docker build" in first.stdout
    files = rendered("plain_project")
    for name in FILES:
        assert (plain / name).read_text() == files[name]
    assert (plain / "Dockerfile").read_text() == template("Dockerfile")
    assert "name: plain_project" in (plain / "conf/base/mlflow.yml").read_text()
    # then `kedro run` of its pipeline is tracked in the project-root store
    installed.run("kedro", "run", cwd=plain)
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{plain / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("plain_project")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["hello.name"] == "world"
    assert run.data.tags["mlops.lineage.pipelines"] == "__default__"
    # and a second init changes nothing at all
    before = _snapshot(plain)
    second = installed.run("kedro", "mlops", "init", cwd=plain)
    for name in FILES:
        assert f"unchanged   {name}" in second.stdout
    assert _snapshot(plain) == before


def test_init_keeps_edited_files_unless_forced(installed, plain):
    installed.run("kedro", "mlops", "init", cwd=plain)
    edited = (plain / "Dockerfile").read_text() + "LABEL team=churn\n"
    (plain / "Dockerfile").write_text(edited)
    kept = installed.run("kedro", "mlops", "init", cwd=plain)
    assert "kept        Dockerfile" in kept.stdout
    assert "--force" in kept.stdout
    assert (plain / "Dockerfile").read_text() == edited
    forced = installed.run("kedro", "mlops", "init", "--force", cwd=plain)
    assert "overwritten Dockerfile" in forced.stdout
    assert (plain / "Dockerfile").read_text() == template("Dockerfile")
