"""The SparkSession of a project's ``spark`` settings (``conf/<env>/spark.yml``).

The plugin's ``after_context_created`` hook calls :func:`start_configured_session`:
where the run's configuration has Spark settings (files matching
:data:`CONFIG_PATTERNS`, as in Kedro's PySpark documentation), it starts the
session with them before any dataset is loaded, so that kedro-datasets'
``spark.SparkDataset`` uses it. Where it has none, nothing happens and pyspark
is not imported.

Before starting, Java must be there (:func:`find_java`); the Python workers
run this interpreter unless ``PYSPARK_PYTHON`` or ``spark.pyspark.python``
names another (Spark would run ``python3`` from ``PATH``, which may lack
pandas). A session that cannot start is one line naming the settings' files
and the cause (:class:`SparkStartError`), not the JVM's stack trace: the JVM's
error output is read while it starts, and passed on once it runs.

Example:
    >>> find_java({"PATH": ""}) is None
    True
    >>> print(java_missing({"PATH": ""}))  # doctest: +NORMALIZE_WHITESPACE
    Spark needs Java, which was not found: JAVA_HOME is not set and there is no
    `java` on PATH. Install Java 17 (Debian/Ubuntu: `apt-get install
    openjdk-17-jre-headless`; macOS: `brew install openjdk@17`), or set JAVA_HOME
    to a Java installation.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: Where a project's Spark settings are: ``conf/<env>/spark.yml`` or a
#: ``spark/`` folder (the key ``spark`` of the config loader).
CONFIG_KEY = "spark"
CONFIG_PATTERNS = ["spark*", "spark*/**"]

#: pyspark 4 warns on every use of pandas 3 (FutureWarning). The conversions
#: kedro-mlops uses (Arrow batches of numbers and text) give the same values
#: as with pandas 2 (tests/spark); the warning says nothing a run can act upon.
PANDAS_WARNING = "PySpark does not yet fully support pandas"

INSTALL_JAVA = (
    "Install Java 17 (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`; "
    "macOS: `brew install openjdk@17`), or set JAVA_HOME to a Java installation."
)


class SparkSetupError(RuntimeError):
    """Spark cannot run here (no Java)."""


class SparkStartError(RuntimeError):
    """The session of the project's Spark settings did not start."""


def find_java(environ: Mapping[str, str] | None = None) -> str | None:
    """The ``java`` that Spark will run: ``$JAVA_HOME/bin/java`` when
    ``JAVA_HOME`` is set, else ``java`` on ``PATH``; None when there is none."""
    environ = os.environ if environ is None else environ
    home = environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        return str(java) if os.access(java, os.X_OK) else None
    return shutil.which("java", path=environ.get("PATH", ""))


def java_missing(environ: Mapping[str, str] | None = None) -> SparkSetupError | None:
    """The error to raise when Spark would find no Java, or None."""
    environ = os.environ if environ is None else environ
    if find_java(environ) is not None:
        return None
    home = environ.get("JAVA_HOME")
    where = (
        f"JAVA_HOME is {home}, which has no bin/java"
        if home
        else "JAVA_HOME is not set and there is no `java` on PATH"
    )
    return SparkSetupError(
        f"Spark needs Java, which was not found: {where}. {INSTALL_JAVA}"
    )


def spark_settings(config_loader: Any) -> dict[str, str]:
    """The run's Spark settings as Spark reads them (text; ``true``/``false``).

    The config loader reads :data:`CONFIG_PATTERNS` unless the project's
    ``settings.py`` declares its own patterns for ``spark``.
    """
    from kedro.config import MissingConfigException

    patterns = getattr(config_loader, "config_patterns", None)
    if isinstance(patterns, dict):
        patterns.setdefault(CONFIG_KEY, list(CONFIG_PATTERNS))
    try:
        settings = config_loader[CONFIG_KEY]
    except (KeyError, MissingConfigException):
        return {}
    return {str(key): _text(value) for key, value in (settings or {}).items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def settings_files(config_loader: Any, env: str | None) -> str:
    """The files that hold the run's Spark settings, for messages."""
    source = Path(str(getattr(config_loader, "conf_source", "conf")))
    base = getattr(config_loader, "base_env", None) or "base"
    run_env = env or getattr(config_loader, "default_run_env", None) or "local"
    found = []
    for folder in dict.fromkeys([base, run_env]):
        for pattern in CONFIG_PATTERNS:
            found += [p for p in sorted((source / folder).glob(pattern)) if p.is_file()]
    names = [_relative(p) for p in dict.fromkeys(found)]
    return ", ".join(names) or f"{_relative(source / run_env)}/spark.yml"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def start_configured_session(context: Any) -> Any:
    """Start the session of the run's Spark settings; None (and no pyspark
    import) when there are none.

    Raises:
        SparkSetupError: Spark finds no Java.
        SparkStartError: the session did not start (the settings' files and
            the cause).
    """
    settings = spark_settings(context.config_loader)
    if not settings:
        return None
    source = settings_files(context.config_loader, getattr(context, "env", None))
    app_name = Path(str(getattr(context, "project_path", "kedro"))).name
    return start_session({"spark.app.name": app_name, **settings}, source)


def start_session(settings: Mapping[str, str], source: str) -> Any:
    """A SparkSession with ``settings`` (an active one is returned as it is).

    ``source`` names where the settings come from, for the error.
    """
    missing = java_missing()
    if missing is not None:
        raise missing
    warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
    if "spark.pyspark.python" not in settings:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    conf = SparkConf().setAll(list(settings.items()))
    output = _JvmOutput()
    try:
        gateway = output.launch(lambda stderr: launch_gateway(conf, {"stderr": stderr}))
        session = SparkSession(SparkContext(conf=conf, gateway=gateway))
        session.conf.get("spark.app.name")  # the SQL settings are read here
    except Exception as error:
        cause = output.cause(error)
        output.stop()
        raise SparkStartError(
            f"Spark could not start with the settings in {source}: {cause}"
        ) from None
    output.pass_on()
    logger.info(
        "Spark %s started (%s), settings from %s",
        session.version,
        session.sparkContext.master,
        source,
    )
    return session


_EXCEPTION = re.compile(r'(?:Exception in thread "\w+" |Caused by: )[\w.$]+: (.+)')
_CHATTER = re.compile(
    r"^(WARNING: Using incubator|Using Spark's default log4j|Setting default log level|"
    r"To adjust logging level|\d\d/\d\d/\d\d \d\d:\d\d:\d\d (WARN|INFO) |\s+at |\s*$)"
)


class _JvmOutput:
    """The JVM's error output: kept while the JVM starts, then passed on to
    this process's standard error as it comes."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._passing = False
        self._process: Any = None

    def launch(self, start: Any) -> Any:
        read, write = os.pipe()
        threading.Thread(target=self._pump, args=(read,), daemon=True).start()
        try:
            gateway = start(write)
        finally:
            os.close(write)
        self._process = getattr(gateway, "proc", None)
        return gateway

    def _pump(self, read: int) -> None:
        with os.fdopen(read, "rb") as stream:
            for raw in stream:
                line = raw.decode("utf-8", errors="replace")
                with self._lock:
                    if not self._passing:
                        self._lines.append(line)
                        continue
                _write_stderr(line)

    def pass_on(self) -> None:
        with self._lock:
            self._passing = True
            kept, self._lines = self._lines, []
        for line in kept:
            _write_stderr(line)

    def cause(self, error: BaseException) -> str:
        """The JVM's reason, in one line."""
        with self._lock:
            lines = list(self._lines)
        text = str(error).splitlines()
        for candidates in (text, lines):
            found = [m.group(1) for m in map(_EXCEPTION.search, candidates) if m]
            if found:
                return found[-1].strip()
        other = [line.strip() for line in lines if not _CHATTER.match(line)]
        return other[0] if other else (text[0] if text else type(error).__name__)

    def stop(self) -> None:
        """End a JVM that started but cannot serve the session."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()


def _write_stderr(line: str) -> None:
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError):  # standard error closed at exit
        pass
