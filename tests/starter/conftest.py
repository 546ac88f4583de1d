"""Fixtures that build the wheel, install it into a fresh environment and
generate starter projects with the real `kedro new` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.envs import Env, build_wheel, create_env, install, new_project, with_tools
from tests.starter.runs import NO_SEARCH


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Env:
    """The wheel (not an editable install) in a brand-new environment, with
    its ``tools`` and ``spark`` extras."""
    env = create_env(
        tmp_path_factory.mktemp("venv") / "env", with_tools(wheel), "pytest"
    )
    # Spark's packages without bytecode: compiling all of pyspark and botocore
    # takes about 30 s, the modules a Spark run imports compile in about 1 s.
    install(env, with_tools(wheel, "spark"), compile_bytecode=False)
    return env


@pytest.fixture(scope="session")
def trained_project(installed, tmp_path_factory) -> Path:
    """A starter project trained once with its shipped parameters, without the
    search over them (`kedro run --params train.tuning.enabled=false`): its
    model is registered as the champion. Shared by the modules that need a
    trained project and check nothing of the search; a test may add to it
    (files, runs) but not change what training left there."""
    project = new_project(installed, tmp_path_factory.mktemp("trained"))
    installed.run("kedro", "run", "--params", NO_SEARCH, cwd=project)
    return project


#: The tracking server's database password: no client may ever see it.
DATABASE_PASSWORD = "db-secret-7b1e9"


@pytest.fixture(scope="session")
def team_server(tmp_path_factory):
    """A team's tracking server: PostgreSQL 15 (a throwaway cluster) holding
    MLflow's runs, registry and users, ``mlflow server --serve-artifacts
    --app-name basic-auth`` on 127.0.0.1; both stopped at the end."""
    from harness.servers import start_mlflow_server, start_postgres

    work = tmp_path_factory.mktemp("team-server")
    postgres = start_postgres(work / "postgres")
    try:
        backend = postgres.create_database("mlflow", "mlflow", DATABASE_PASSWORD)
        users = postgres.create_database("mlflow_auth", "mlflow", DATABASE_PASSWORD)
        server = start_mlflow_server(
            work / "mlflow", backend, DATABASE_PASSWORD, auth_database=users
        )
    except BaseException:
        postgres.stop()
        raise
    server.postgres = postgres  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()
        postgres.stop()
