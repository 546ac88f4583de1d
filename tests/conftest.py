"""Shared fixtures for the kedro-mlops test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Generated projects and `kedro` sub-processes must not try to send usage data.
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@pytest.fixture(autouse=True)
def _reset_mlflow():
    """End any MLflow run a test left open; reset MLflow's URIs and experiment."""
    yield
    import sys

    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
    # both setters also export their URI for subprocesses: a later test's
    # `kedro run` would otherwise register its models in this test's store
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("MLFLOW_REGISTRY_URI", None)
    # mlflow.set_experiment (kedro-mlflow's hook calls it) keeps the experiment
    # in a module global and in MLFLOW_EXPERIMENT_ID
    mlflow.tracking.fluent._active_experiment_id = None
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    # the plugin shares a run with runner workers through MLFLOW_RUN_ID and
    # bounds MLflow's HTTP retries for the process
    os.environ.pop("MLFLOW_RUN_ID", None)
    os.environ.pop("MLFLOW_HTTP_REQUEST_MAX_RETRIES", None)
    os.environ.pop("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", None)


@pytest.fixture
def kedro_state(monkeypatch, tmp_path):
    """Undo what bootstrapping a project in ``tmp_path`` changes in this
    process: Kedro's project settings, its pipeline registry, ``sys.path``,
    ``PYTHONPATH`` and the project's imported modules."""
    import sys

    from kedro.framework import project

    monkeypatch.setattr(project, "PACKAGE_NAME", project.PACKAGE_NAME)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    wrapped = project.settings._wrapped
    pipelines = {k: v for k, v in vars(project.pipelines).items() if k != "_lock"}
    yield
    object.__setattr__(project.settings, "_wrapped", wrapped)
    vars(project.pipelines).update(pipelines)
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory) -> Path:
    """An empty sqlite MLflow store with every migration applied, made once.

    Migrating a new store takes seconds; a copy of this file opens at once. Its
    default experiment is removed so that MLflow creates it again in each copy,
    with its artifacts beside that copy, as in a brand-new store.
    """
    import sqlite3
    from contextlib import closing

    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM experiments")
    return path


@pytest.fixture
def tracking_uri(tmp_path: Path, monkeypatch, migrated_store: Path) -> str:
    """A real, empty sqlite MLflow store in the test's folder.

    The test also runs from that folder: a sqlite store puts artifacts under
    ``./mlruns`` of the current directory.
    """
    import shutil

    import mlflow

    monkeypatch.chdir(tmp_path)
    shutil.copyfile(migrated_store, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


@pytest.fixture(scope="session")
def rendered_project(tmp_path_factory) -> Path:
    """The starter rendered by cookiecutter (files only; nothing installed or run)."""
    from cookiecutter.main import cookiecutter

    from kedro_mlops.scaffold.starters import starters

    out = tmp_path_factory.mktemp("rendered")
    from kedro import __version__ as kedro_version

    return Path(
        cookiecutter(
            starters[0].template_path,
            no_input=True,
            output_dir=str(out),
            extra_context={
                "project_name": "churn-model",
                "kedro_version": kedro_version,
            },
        )
    )


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A git + DVC repository; the test runs from its root, as `kedro run` does."""
    from tests.git_dvc import init_repo

    path = init_repo(tmp_path / "project")
    monkeypatch.chdir(path)
    return path


@pytest.fixture
def remote(repo, tmp_path) -> Path:
    """A local folder as the repository's default DVC remote ``storage``."""
    from tests.git_dvc import DVC, commit, sh

    folder = tmp_path / "remote"
    folder.mkdir()
    sh(DVC, "remote", "add", "-d", "storage", str(folder), cwd=repo)
    commit(repo, "add remote")
    return folder


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (two cores) for the whole test session."""
    import sys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("kedro-mlops-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
