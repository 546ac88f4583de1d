"""The embedded tracking store: created once, by one process, and never overwritten.

MLflow creates the tables of a new sqlite store, and migrates an old one, on
first use, and two processes doing it at once collide (``duplicate column
name``, ``table alembic_version already exists``); two processes creating the
project's experiment at once collide too. So for a sqlite store (the embedded
``mlflow.db``, or any ``sqlite:///`` URI) :func:`opening_store` holds a lock,
the file ``<store>.lock`` beside it, while kedro-mlflow opens the store. Under
the lock it

* creates a missing store whole: migrated in a temporary file beside it, then
  moved into place, so that a process killed while creating it leaves no
  half-made store;
* checks an existing one: a file that is not an SQLite database, is cut short
  or that SQLite cannot read stops the command with :class:`TrackingStoreError`,
  naming the file, which stays as it is (MLflow would otherwise fail deep in a
  migration, or take an empty file for a new store).

:func:`registry_lock` is the same lock, for one champion/challenger
comparison at a time (:mod:`kedro_mlops.tracking.registry`).
:func:`require_existing_store` stops, before a run starts, a pipeline that
loads a registered model from a store that was not there (batch inference
after ``mlflow.db`` was deleted), saying what happened and what to run.

A tracking server (``http://``, ``postgresql://``) is left to itself.

Example:
    >>> sqlite_path("sqlite:////srv/churn-model/mlflow.db")
    PosixPath('/srv/churn-model/mlflow.db')
    >>> sqlite_path("http://mlflow.internal:5000") is None
    True
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kedro_mlops.locks import file_lock

logger = logging.getLogger(__name__)

SQLITE_PREFIX = "sqlite:///"
SQLITE_MAGIC = b"SQLite format 3\x00"
#: kedro-mlflow's patterns for mlflow.yml (it adds them in its own hook)
MLFLOW_CONFIG_PATTERNS = ["mlflow*", "mlflow*/**", "**/mlflow*"]
TRAIN = "`kedro run --pipelines training`"


class TrackingStoreError(RuntimeError):
    """The tracking store is unreadable, or was missing for a run that needs it."""


@dataclass(frozen=True)
class Store:
    """The tracking store that a Kedro session uses."""

    uri: str
    #: the sqlite file, for an embedded store
    path: Path | None
    #: True when this process created the store (there was none)
    created: bool = False


def sqlite_path(uri: str | None) -> Path | None:
    """The file of a ``sqlite:///`` URI (relative to the current directory, as
    MLflow opens it); None for any other store or an in-memory database."""
    if not uri or not uri.startswith(SQLITE_PREFIX):
        return None
    database = uri.removeprefix(SQLITE_PREFIX).split("?")[0]
    if not database or database == ":memory:":
        return None
    return Path(os.path.abspath(database))


def lock_path(database: Path) -> Path:
    """The lock file of a sqlite store: ``mlflow.db.lock`` beside ``mlflow.db``."""
    return database.with_name(database.name + ".lock")


def configured_tracking_uri(context: Any) -> str | None:
    """The tracking URI that kedro-mlflow will read from ``mlflow.yml``.

    None when it cannot be read here: kedro-mlflow then reports the problem
    itself, as it would without kedro-mlops.
    """
    from kedro.config import MissingConfigException

    loader = context.config_loader
    try:
        patterns = loader.config_patterns
        if "mlflow" not in patterns:
            patterns.update({"mlflow": MLFLOW_CONFIG_PATTERNS})
        try:
            conf = loader["mlflow"] or {}
        except MissingConfigException:
            conf = {}
        uri = (conf.get("server") or {}).get("mlflow_tracking_uri")
    except Exception:  # kedro-mlflow raises its own error next
        logger.debug("mlflow.yml could not be read", exc_info=True)
        return None
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or None


@contextmanager
def opening_store(context: Any) -> Iterator[Store | None]:
    """Around kedro-mlflow opening the store of ``context``'s project.

    For a sqlite store, holds its lock for the block, after creating the store
    when there is none and checking it when there is one. Yields the store, or
    None when it cannot be known here (or kedro-mlflow will not open one: an
    MLflow run is already active).
    """
    from kedro_mlops.tracking.uri import register_resolvers

    mlflow = sys.modules.get("mlflow")
    if mlflow is not None and mlflow.active_run() is not None:
        yield None  # kedro-mlflow uses that run's store and ignores mlflow.yml
        return
    register_resolvers(context.project_path)  # mlflow.yml uses them
    uri = configured_tracking_uri(context)
    database = sqlite_path(uri)
    if uri is None or database is None:
        yield None if uri is None else Store(uri, None)
        return
    with _store_lock(database, "the MLflow tracking store"):
        created = False
        if database.exists():
            check_readable(database)
        else:
            create_store(database)
            created = True
        yield Store(uri, database, created)


def _store_lock(database: Path, waiting: str) -> Any:
    lock, folder = lock_path(database), database.parent
    if not lock.exists() and folder.is_dir() and not os.access(folder, os.W_OK):
        # a store in a read-only folder (a mounted volume): nothing here can
        # create or change it, and there is no lock to take
        return nullcontext()
    return file_lock(lock, waiting=waiting)


@contextmanager
def registry_lock(registry_uri: str | None) -> Iterator[None]:
    """One champion/challenger step at a time on a sqlite registry."""
    database = sqlite_path(registry_uri)
    if database is None:
        yield
        return
    with _store_lock(database, "the model registry"):
        yield


# ---- checking an existing store -------------------------------------------------


def check_readable(database: Path) -> None:
    """Raise :class:`TrackingStoreError` when ``database`` cannot be an MLflow store."""
    problem = _unreadable(database)
    if problem is None:
        return
    aside = database.with_name(database.name + ".unreadable")
    raise TrackingStoreError(
        f"The MLflow tracking store at {database} is unreadable: {problem}. "
        "kedro-mlops left the file as it is. Restore it from a backup, or move it "
        f"aside (`mv {database} {aside}`) to start a new, empty store, then run "
        f"{TRAIN} to train and register a champion again."
    )


def _unreadable(database: Path) -> str | None:
    """What makes the file unreadable as an MLflow store, or None if nothing."""
    size = database.stat().st_size
    if size == 0:
        return "the file is empty (0 bytes)"
    with database.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return "it is not an SQLite database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    pages_known = header[24:28] == header[92:96]  # SQLite's "valid-for" check
    pending = [
        database.with_name(database.name + suffix) for suffix in ("-journal", "-wal")
    ]
    if (
        pages_known
        and pages * page_size > size
        and not any(p.exists() and p.stat().st_size for p in pending)
    ):
        return (
            f"it is cut short: {size} bytes, where its header says {pages * page_size}"
        )
    return _sqlite_problem(database)


def _sqlite_problem(database: Path) -> str | None:
    uri = f"file:{quote(database.as_posix())}?mode=rw"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=30)) as connection:
            tables = {
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
            if not tables:
                return None  # an empty database: MLflow creates its tables
            if "alembic_version" not in tables:
                return (
                    "it is an SQLite database, but not an MLflow store (it has no "
                    "alembic_version table)"
                )
            connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None  # another process is writing: the store is in use
        return f"SQLite cannot read it ({exc})"
    except sqlite3.DatabaseError as exc:
        return f"SQLite cannot read it ({exc})"
    return None


# ---- creating a new store -----------------------------------------------------------


def create_store(database: Path) -> None:
    """Create an MLflow store, fully migrated, at ``database`` (which must not exist).

    It is made in a temporary file beside it and linked into place, so that no
    process ever sees a half-made store, and an existing file is never replaced.
    """
    from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    database.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{database.name}."
    for stale in database.parent.glob(f"{prefix}*.tmp"):
        stale.unlink(missing_ok=True)  # a creation that was killed (we hold the lock)
    temporary = database.with_name(f"{prefix}{uuid.uuid4().hex[:12]}.tmp")
    logger.info("Creating the MLflow tracking store %s", database)
    try:
        # what MLflow itself gives the default experiment of a new sqlite store
        root = os.environ.get(
            "_MLFLOW_SERVER_ARTIFACT_ROOT", DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
        )
        store = SqlAlchemyStore(f"{SQLITE_PREFIX}{temporary.as_posix()}", root)
        store.engine.dispose()
        try:
            os.link(temporary, database)  # fails if a store appeared meanwhile
        except FileExistsError:
            logger.info("Another process created %s first", database)
        except OSError:  # a file system without hard links
            if not database.exists():
                os.replace(temporary, database)
    finally:
        temporary.unlink(missing_ok=True)


# ---- a pipeline that loads a registered model from a store made just now ----------


def require_existing_store(pipeline: Any, catalog: Any, store: Store | None) -> None:
    """Stop a run that loads a registered model from a store this session made.

    The store was not there (deleted, moved, or a ``MLFLOW_TRACKING_URI`` that
    names another file) while the pipeline's other inputs are: the project was
    trained, and its store is gone. Said before the run starts, with where the
    store was looked for. (A project never trained, or a store that exists but
    lacks the model, is reported with every missing input by
    :mod:`kedro_mlops.plugin.inputs`.)

    Raises:
        TrackingStoreError: naming the store, the dataset and what to run.
    """
    if store is None or not store.created:
        return
    needed = _registry_inputs(pipeline, catalog)
    # files logged with a registered model (RegistryArtifactDataset) are gone
    # with the store too: not "other inputs"
    from_registry = {n for n in pipeline.inputs() if _reads_registry(catalog, n)}
    skip = {n for n, _ in needed} | from_registry
    if not needed or _other_inputs_missing(pipeline, catalog, skip):
        return
    name, dataset = needed[0]
    raise TrackingStoreError(
        f"There was no MLflow tracking store at {store.path} (an empty one was "
        f"made for this run), so the dataset '{name}' has no model to load "
        f"({dataset.model_uri}). Run {TRAIN} (the project's training pipeline) "
        "first, to train a model and register it; or, if the store was moved, "
        "point MLFLOW_TRACKING_URI (or mlflow.yml) at it."
    )


def _other_inputs_missing(pipeline: Any, catalog: Any, skip: set[str]) -> bool:
    """Whether an input saved by an earlier run (a file) has no data."""
    from kedro.io import AbstractDataset, MemoryDataset

    for name in pipeline.inputs():
        if name in skip or name == "parameters" or name.startswith("params:"):
            continue
        try:
            dataset = catalog.get(name)
            if dataset is None or isinstance(dataset, MemoryDataset):
                continue
            if type(dataset)._exists is AbstractDataset._exists:
                continue  # the dataset cannot tell
            if not dataset.exists():
                return True
        except Exception:  # the run reports a broken catalog entry itself
            return True
    return False


def registry_model_dataset(dataset: Any) -> bool:
    """Whether ``dataset`` is kedro-mlflow's registry dataset (or derives from it)."""
    return any(
        kind.__name__ == "MlflowModelRegistryDataset" for kind in type(dataset).__mro__
    )


def reads_registry(dataset: Any) -> bool:
    """Whether ``dataset`` comes from the tracking store's registry: a registered
    model, or a file logged by its run (``RegistryArtifactDataset``). Training
    writes both, and both are gone with the store."""
    return registry_model_dataset(dataset) or hasattr(dataset, "missing_reason")


def _reads_registry(catalog: Any, name: str) -> bool:
    try:
        dataset = catalog.get(name)
    except Exception:  # the run reports a broken catalog entry itself
        return False
    return reads_registry(dataset)


def _registry_inputs(pipeline: Any, catalog: Any) -> list[tuple[str, Any]]:
    if "kedro_mlflow" not in sys.modules:
        return []  # no kedro-mlflow dataset can be in the catalog
    found = []
    for name in sorted(pipeline.inputs()):
        try:
            dataset = catalog.get(name)
        except Exception:  # the run reports a broken catalog entry itself
            continue
        if registry_model_dataset(dataset):
            found.append((name, dataset))
    return found
