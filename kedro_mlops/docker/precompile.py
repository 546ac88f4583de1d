"""Write bytecode for the modules that the image's runs import, and no others.

``python -m kedro_mlops.docker.precompile``, run in the project folder of the
image (its WORKDIR, with ``pyproject.toml`` and ``conf/``), imports what
training, batch inference and serving import: the Kedro CLI with its plugins'
commands and hooks, the project's settings and pipelines, the dataset classes
that the catalog names, MLflow's tracking stores and its model server
(:data:`RUN_MODULES`). Then it compiles the source of every imported module that
lives in the environment's ``site-packages`` or in Python's standard library
into its ``__pycache__`` (unless the bytecode there is up to date), and prints
how many files and bytes it wrote.

The Dockerfile runs it unless built with ``--build-arg KEDRO_MLOPS_PRECOMPILE=0``
(its bytes fit in the image's size target once the shared libraries are
stripped: :mod:`kedro_mlops.docker.strip`).

Why: the image has no bytecode caches (:mod:`kedro_mlops.docker.slim` deletes
them, and the official Python images delete the standard library's) and cannot
write any at run time (``PYTHONDONTWRITEBYTECODE``; the environment belongs to
root), so without this step every container compiles each module it imports,
every time it starts. Compiling the whole environment
instead would add bytecode for modules that no run loads (the sizes of both
are in ``docs/deployment.md``).

The imports have no side effect: no Kedro session or context is created, no
MLflow store is opened and nothing is fetched. Python uses a module's bytecode
while the source's modification time and size are those recorded in it (or its
hash, when ``SOURCE_DATE_EPOCH`` is set for a reproducible build).

Example:
    >>> import sys, tempfile
    >>> site = Path(tempfile.mkdtemp())
    >>> _ = (site / "tiny.py").write_text("VALUE = 1")
    >>> compile_sources([site / "tiny.py", Path(sys.executable)], [site])[0]
    1
    >>> [p.name for p in (site / "__pycache__").iterdir()]  # doctest: +ELLIPSIS
    ['tiny.cpython-3...pyc']
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import py_compile
import sys
import sysconfig
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# What the runs import beyond the project's code, its catalog's dataset classes
# and the plugins' entry points, as traced in real runs (`python -v`; the share
# they load from bytecode is printed by benchmarks/image_start.py).
RUN_MODULES = (
    # `kedro run`: Kedro's session and runner, and what kedro-mlops' hooks load
    "kedro.framework.cli.project",
    "kedro.framework.session",
    "kedro.runner",
    "kedro_mlops.drift.html",
    "kedro_mlops.patches",
    "kedro_mlops.plugin.hooks",
    "kedro_mlops.serving.bundle",
    "kedro_mlops.tracking.model_logging",
    "kedro_mlops.tracking.registry",
    "kedro_mlops.tracking.uri",
    "kedro_mlops.versioning.lineage",
    "narwhals._pandas_like.dataframe",  # how scikit-learn reads pandas frames
    "narwhals._pandas_like.namespace",
    "git",  # the commit, recorded by kedro-mlops and MLflow
    # MLflow's stores: MLFLOW_TRACKING_URI=sqlite:///... or http(s)://...
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.tracking.sqlalchemy_workspace_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_workspace_store",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "mlflow.store.tracking.rest_store",
    "mlflow.store.model_registry.rest_store",
    # MLflow's run, model logging and tracing set-up
    "mlflow.sklearn",
    "mlflow.models.display_utils",
    "mlflow.utils.search_logged_model_utils",
    "mlflow.tracing.processor.otel",
    "mlflow.tracing.export.utils",
    "mlflow.tracing.utils.environment",
    # reading and writing data: Parquet, CSV, plots
    "pyarrow.parquet",
    "pyarrow.dataset",
    "pyarrow.pandas_compat",
    "pandas.io.formats.csvs",
    "pandas.core.methods.to_dict",
    "matplotlib.backends.backend_agg",
    # `kedro mlops serve` runs uvicorn on kedro_mlops.serving.app (in its own
    # process with one worker; execs `python -m uvicorn` with more)
    "mlflow.pyfunc.scoring_server",
    "uvicorn.main",
    "uvicorn.loops.auto",
    "uvicorn.loops.asyncio",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.websockets.auto",
    "uvicorn.lifespan.on",
    "anyio._backends._asyncio",
    "kedro_mlops.docker.health",  # the image's HEALTHCHECK
    # what the runs import later, inside functions
    "kedro_mlops.parameters",
    "kedro_mlops.plugin.errors",
    "kedro_mlops.plugin.inputs",
    "kedro_mlops.drift.tracking",
    "kedro_mlops.schema.tracking",
    "kedro_mlops.serving.estimators",
    "kedro_mlops.tracking.server",
    "kedro_mlops.tracking.stale",
    "kedro_mlops.tracking.workers",
    "kedro_mlops.quality.tuning",  # the starter's search over the parameters
    "optuna",
    "sklearn.frozen",  # the estimators a bundled model shares
    "alembic.command",  # MLflow's check of a store's schema
    "alembic.config",
    "mlflow.tracing.processor.base_mlflow",
    "omegaconf._impl",
    "fsspec.implementations.local",
    "narwhals._namespace",
    "narwhals._interchange.dataframe",
    "narwhals.stable.v2._namespace",
    "pandas.core.arrays.arrow.extension_types",
    "PIL.BmpImagePlugin",  # Pillow's formats, registered when a plot is saved
    "PIL.GifImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.PpmImagePlugin",
)
# Modules that the runs execute but that cannot be imported here: importing them
# starts a command line or loads a model. Compiled from their source file.
RUN_SCRIPTS = ("uvicorn.__main__", "kedro_mlops.serving.app")
# Packages whose every module a run may load by path, not by import: MLflow
# reads all its database migrations to check a store's schema.
RUN_FOLDERS = ("mlflow.store.db_migrations", "mlflow.store.db")
ENTRY_POINT_GROUPS = ("kedro.hooks", "kedro.project_commands", "kedro.cli_hooks")
CATALOG_KEYS = ("type", "dataset")  # `dataset:` names the dataset a wrapper wraps


class PrecompileError(RuntimeError):
    """The project that the image runs cannot be found or read."""


def precompile(project: Path) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Import what the image's runs import; compile those modules' sources.

    Args:
        project: The project folder as laid out in the image (``pyproject.toml``
            and ``conf/``; the code is in the installed package).

    Returns:
        (files and bytes written under ``site-packages`` and under the standard
        library, by those names; what could not be imported and why).

    Raises:
        PrecompileError: ``pyproject.toml`` or its ``[tool.kedro] package_name``
            is missing.
    """
    skipped = import_run_modules(project)
    sources = run_sources()
    installed = site_packages()
    written = {"site-packages": compile_sources(sources, installed)}
    stdlib = [p for p in standard_library() if p not in installed]
    written["standard library"] = compile_sources(sources, stdlib, exclude=installed)
    return written, skipped


def import_run_modules(project: Path) -> list[str]:
    """Import the modules that training, batch inference and serving import.

    Returns what could not be imported, each with the reason: a plugin that
    fails to load, a dataset type that does not resolve. A module of
    :data:`RUN_MODULES` that cannot be imported here (not installed, no ``git``
    executable...) is left out quietly: no run can import it either.
    """
    package_name(project)  # says what is wrong before Kedro does
    with (
        tempfile.TemporaryDirectory() as scratch,
        _environment(
            MPLCONFIGDIR=scratch,  # Matplotlib's font cache, not in root's home
            MLFLOW_DISABLE_TELEMETRY="true",  # MLflow's import would write and fetch
            KEDRO_DISABLE_TELEMETRY="true",
        ),
        warnings.catch_warnings(),  # about code that is imported, not run, here
    ):
        warnings.simplefilter("ignore")
        return _import_run_modules(project)


def _import_run_modules(project: Path) -> list[str]:
    from kedro.framework.cli.cli import KedroCLI
    from kedro.framework.project import pipelines, settings
    from kedro.io.core import parse_dataset_definition

    KedroCLI(project_path=project)  # bootstraps the project, loads plugin commands
    skipped = []
    for group in ENTRY_POINT_GROUPS:
        for entry_point in _entry_points(group):
            try:
                entry_point.load()
            except Exception as exc:  # a broken plugin fails the run, not the build
                skipped.append(f"{entry_point.value}: {exc}")
    _ = settings.HOOKS  # imports the project's settings
    _ = list(pipelines)  # its pipeline registry, and every pipeline
    for type_name in catalog_types(project / settings.CONF_SOURCE):
        try:
            parse_dataset_definition({"type": type_name})
        except Exception as exc:
            skipped.append(f"{type_name}: {exc}")
    for name in RUN_MODULES:
        with contextlib.suppress(ImportError):  # nor can a run import it here
            importlib.import_module(name)
    return skipped


def package_name(project: Path) -> str:
    """The package of the Kedro project at ``project``, which Kedro sets up
    (``bootstrap_project``) as a run does."""
    from kedro.framework.startup import bootstrap_project

    pyproject = Path(project).resolve() / "pyproject.toml"
    fix = (
        "Run `python -m kedro_mlops.docker.precompile` in the project folder of "
        "the image (its WORKDIR), after `COPY pyproject.toml ./`."
    )
    if not pyproject.is_file():  # Kedro's CLI would carry on without a project
        raise PrecompileError(f"There is no {pyproject}. {fix}")
    try:
        return bootstrap_project(pyproject.parent).package_name
    except (RuntimeError, ValueError, OSError) as exc:
        raise PrecompileError(
            f"{pyproject} does not describe a Kedro project: {exc} {fix}"
        ) from exc


def catalog_types(conf: Path) -> list[str]:
    """Dataset types that the catalog files under ``conf`` name (all environments).

    Example:
        >>> import tempfile
        >>> conf = Path(tempfile.mkdtemp())
        >>> (conf / "base").mkdir()
        >>> _ = (conf / "base" / "catalog.yml").write_text(
        ...     "raw:\\n  type: kedro_mlops.datasets.DVCDataset\\n"
        ...     "  dataset: pandas.CSVDataset\\n"
        ...     "plot:\\n  type: kedro_mlflow.io.artifacts.MlflowArtifactDataset\\n"
        ...     "  dataset:\\n    type: matplotlib.MatplotlibDataset\\n"
        ... )
        >>> catalog_types(conf)  # doctest: +NORMALIZE_WHITESPACE
        ['kedro_mlflow.io.artifacts.MlflowArtifactDataset',
         'kedro_mlops.datasets.DVCDataset', 'matplotlib.MatplotlibDataset',
         'pandas.CSVDataset']
    """
    import yaml

    found: set[str] = set()
    for path in sorted(Path(conf).glob("*/**/*")):
        below_env = path.relative_to(conf).parts[1:]
        if path.suffix in (".yml", ".yaml") and any(
            part.startswith("catalog") for part in below_env
        ):
            found.update(_types_in(yaml.safe_load(path.read_text())))
    return sorted(found)


def _types_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CATALOG_KEYS and isinstance(value, str) and "${" not in value:
                yield value
            else:
                yield from _types_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _types_in(item)


def run_sources() -> set[Path]:
    """Source files of the imported modules, :data:`RUN_SCRIPTS` and :data:`RUN_FOLDERS`."""
    sources = set()
    for module in list(sys.modules.values()):
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.has_location and spec.origin:
            sources.add(Path(spec.origin))
    for name in RUN_SCRIPTS + RUN_FOLDERS:
        try:
            spec = importlib.util.find_spec(name)  # imports its parent only
        except ImportError:
            continue
        if spec is None:
            continue
        if spec.origin:
            sources.add(Path(spec.origin))
        for folder in spec.submodule_search_locations or ():
            sources.update(Path(folder).rglob("*.py"))
    return {source.resolve() for source in sources if source.suffix == ".py"}


def site_packages() -> list[Path]:
    """The ``site-packages`` folders of the running environment."""
    paths = sysconfig.get_paths()
    return sorted({Path(paths["purelib"]).resolve(), Path(paths["platlib"]).resolve()})


def standard_library() -> list[Path]:
    """The folders of Python's standard library (pure and platform-specific)."""
    paths = sysconfig.get_paths()
    return sorted(
        {Path(paths["stdlib"]).resolve(), Path(paths["platstdlib"]).resolve()}
    )


def compile_sources(
    sources: Iterable[Path], roots: Iterable[Path], exclude: Iterable[Path] = ()
) -> tuple[int, int]:
    """Write the bytecode of the ``.py`` sources that are under ``roots`` (and
    not under ``exclude``), unless it is there and up to date.

    Returns (files written, bytes written).
    """
    roots = [Path(root).resolve() for root in roots]
    excluded = [Path(path).resolve() for path in exclude]
    written = size = 0
    for source in sorted({Path(s).resolve() for s in sources}):
        if source.suffix != ".py" or not any(r in source.parents for r in roots):
            continue
        if any(e in source.parents for e in excluded) or _up_to_date(source):
            continue
        target = py_compile.compile(str(source), doraise=True)
        assert target is not None  # None only without doraise
        written += 1
        size += Path(target).stat().st_size
    return written, size


def _up_to_date(source: Path) -> bool:
    """Whether the bytecode cache of ``source`` exists and Python would use it."""
    try:
        with open(importlib.util.cache_from_source(str(source)), "rb") as cached:
            header = cached.read(16)
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") == 0:  # checked by time and size
        stat = source.stat()
        return header[8:16] == (
            (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
            + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
        )
    return header[8:16] == importlib.util.source_hash(source.read_bytes())


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _entry_points(group: str) -> list:
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


def main(argv: list[str]) -> int:
    if argv:
        sys.stderr.write(
            "usage: python -m kedro_mlops.docker.precompile  (in the project folder)\n"
        )
        return 2
    try:
        written, skipped = precompile(Path.cwd())
    except PrecompileError as exc:
        sys.stderr.write(f"kedro-mlops: cannot precompile: {exc}\n")
        return 1
    for reason in skipped:
        sys.stderr.write(f"kedro-mlops: not precompiled: {reason}\n")
    files, size = written["site-packages"]
    std_files, std_size = written["standard library"]
    sys.stdout.write(
        f"kedro-mlops: wrote the bytecode of {files} modules ({size / 1e6:.1f} MB) "
        f"that the image's runs import, and of {std_files} modules of the standard "
        f"library ({std_size / 1e6:.1f} MB)\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
