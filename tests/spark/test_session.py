"""The session of a project's Spark settings: Java checked first, one-line
errors, no pyspark without settings. (That the Python workers run the
interpreter of the run, not a `python3` on PATH, is checked by the starter's
Spark run: tests/starter/test_spark.py.)

Sessions are started in a child process: the test session's own (``spark``)
would otherwise be returned as the active one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kedro_mlops.spark.session import (
    SparkSetupError,
    find_java,
    java_missing,
    settings_files,
    spark_settings,
    start_session,
)
from tests.conftest import REPO

INSTALL = (
    "Install Java 17 (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`; "
    "macOS: `brew install openjdk@17`), or set JAVA_HOME to a Java installation."
)


def test_java_missing_says_how_to_install_it(tmp_path):
    environ = {"PATH": str(tmp_path)}  # a PATH without java, no JAVA_HOME
    assert find_java(environ) is None
    assert str(java_missing(environ)) == (
        "Spark needs Java, which was not found: JAVA_HOME is not set and there "
        f"is no `java` on PATH. {INSTALL}"
    )


def test_a_java_home_without_java_is_named(tmp_path):
    assert str(java_missing({"JAVA_HOME": str(tmp_path), "PATH": ""})) == (
        f"Spark needs Java, which was not found: JAVA_HOME is {tmp_path}, which "
        f"has no bin/java. {INSTALL}"
    )


def test_java_is_found_in_java_home_first_then_on_path(tmp_path):
    for folder in ("home/bin", "path"):
        java = tmp_path / folder / "java"
        java.parent.mkdir(parents=True)
        java.write_text("#!/bin/sh\n")
        java.chmod(0o755)
    environ = {"JAVA_HOME": str(tmp_path / "home"), "PATH": str(tmp_path / "path")}
    assert find_java(environ) == str(tmp_path / "home/bin/java")
    assert find_java({"PATH": str(tmp_path / "path")}) == str(tmp_path / "path/java")
    assert java_missing(environ) is None


def test_no_session_starts_without_java(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(SparkSetupError) as raised:
        start_session({"spark.master": "local[1]"}, "conf/spark/spark.yml")
    assert str(raised.value) == (
        f"Spark needs Java, which was not found: JAVA_HOME is {tmp_path}, which "
        f"has no bin/java. {INSTALL}"
    )


def _project(folder: Path, spark_yml: str) -> Path:
    """A project's conf/: base without Spark settings, a `spark` environment."""
    for env in ("base", "local", "spark"):
        (folder / "conf" / env).mkdir(parents=True)
    (folder / "conf/base/parameters.yml").write_text("x: 1\n")
    (folder / "conf/spark/spark.yml").write_text(textwrap.dedent(spark_yml))
    return folder


def _loader(project: Path, env: str):
    from kedro.config import OmegaConfigLoader

    return OmegaConfigLoader(
        str(project / "conf"), base_env="base", default_run_env="local", env=env
    )


def test_the_settings_are_those_of_the_environment_as_spark_text(tmp_path):
    project = _project(
        tmp_path,
        """\
        spark.master: local[2]
        spark.ui.enabled: false
        spark.sql.shuffle.partitions: 4
        """,
    )
    assert spark_settings(_loader(project, "local")) == {}
    loader = _loader(project, "spark")
    assert spark_settings(loader) == {
        "spark.master": "local[2]",
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "4",
    }
    assert settings_files(loader, "spark") == str(project / "conf/spark/spark.yml")


def _child(project: Path, env: str, after: str = "", **environ: str):
    """Run the plugin's start in a child process in ``project``, as the hook
    does with the run's context."""
    code = textwrap.dedent(
        f"""\
        import sys
        from pathlib import Path
        from kedro.config import OmegaConfigLoader
        from kedro_mlops.spark.session import start_configured_session

        class Context:
            env = {env!r}
            project_path = Path.cwd()
            config_loader = OmegaConfigLoader(
                "conf", base_env="base", default_run_env="local", env=env
            )

        try:
            spark = start_configured_session(Context())
        except Exception as error:
            print(f"{{type(error).__name__}}: {{error}}")
            sys.exit(1)
        print("pyspark imported:", "pyspark" in sys.modules)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code + textwrap.dedent(after)],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(REPO), **environ},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_a_run_without_spark_settings_does_not_import_pyspark(tmp_path):
    project = _project(tmp_path, "spark.master: local[1]\n")
    child = _child(project, "local")
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "pyspark imported: False"


def test_a_session_that_cannot_start_is_one_line_naming_the_file(tmp_path):
    project = _project(tmp_path, "spark.master: nowhere\nspark.ui.enabled: false\n")
    child = _child(project, "spark")
    assert child.returncode == 1
    assert child.stdout == (
        "SparkStartError: Spark could not start with the settings in "
        "conf/spark/spark.yml: Master must either be yarn or start with spark, "
        "k8s, or local\n"
    )
    assert "at org.apache" not in child.stderr and "Exception" not in child.stderr
