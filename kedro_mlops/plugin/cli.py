"""``kedro mlops`` commands, registered through the ``kedro.project_commands`` entry point.

Only click is imported here: Kedro loads this module on every ``kedro`` command
inside a project, so everything else is imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.hooks import cli_hook_impl


@click.group(name="kedro-mlops")
def commands() -> None:
    """kedro-mlops project commands."""


@commands.group(name="mlops")
def mlops() -> None:
    """MLOps for this project: set-up, serving, drift checks, monitoring, lineage of runs."""


@mlops.command()
@click.option(
    "--force", is_flag=True, help="Replace files that differ from the templates."
)
def init(force: bool) -> None:
    """Add kedro-mlops to this project: mlops.yml, mlflow.yml, Dockerfile, .dockerignore."""
    from kedro.framework.startup import bootstrap_project
    from kedro.utils import find_kedro_project

    from kedro_mlops.scaffold.project_files import next_steps, write_files

    project_path = find_kedro_project(Path.cwd())
    if project_path is None:
        raise click.ClickException("Run this command inside a Kedro project.")
    metadata = bootstrap_project(project_path)
    written = write_files(project_path, metadata.package_name, force=force)
    for item in written:
        click.echo(f"  {item.status:<12}{item.path}")
    click.echo("\nNext:")
    for step in next_steps(project_path, written):
        click.echo(f"  {step}")


@mlops.command()
@click.option(
    "--alias", default="champion", show_default=True, help="Registry alias to serve."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="KEDRO_MLOPS_SERVE_HOST",
    help="Interface to listen on (the Docker image sets 0.0.0.0). Env: KEDRO_MLOPS_SERVE_HOST.",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    envvar="KEDRO_MLOPS_SERVE_PORT",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Server processes.",
)
@click.option(
    "--max-request-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    envvar="KEDRO_MLOPS_SERVE_MAX_REQUEST_MB",
    help="Largest request body, in MB: a larger one gets HTTP 413 unread "
    "[default: serving.max_request_mb in mlops.yml, 16]. Env: KEDRO_MLOPS_SERVE_MAX_REQUEST_MB.",
)
@click.option(
    "--env", "-e", default=None, help="Kedro environment (for mlflow.yml, mlops.yml)."
)
def serve(  # noqa: PLR0917 - Click passes one argument per option
    alias: str,
    host: str,
    port: int,
    workers: int,
    max_request_mb: float | None,
    env: str | None,
) -> None:
    """Serve the registered model (the champion by default) over HTTP with MLflow.

    Runs MLflow's model server (uvicorn) on models:/<registry.model_name>@ALIAS
    from this project's tracking store: POST /invocations scores rows (JSON, CSV
    or Parquet), GET /ping answers health checks.
    """
    import os
    import sys

    import mlflow
    from kedro.config import MissingConfigException
    from mlflow import MlflowClient

    from kedro_mlops.config import project_config
    from kedro_mlops.docker.health import MARKER
    from kedro_mlops.serving import MODEL_VARIABLE, PORT_VARIABLE
    from kedro_mlops.serving.endpoint import LIMIT_VARIABLE
    from kedro_mlops.tracking.registry import RegistryError, check_catalog_model_name

    context = _context(env)  # kedro-mlflow points MLflow at the project's store
    config = project_config(context)
    # the name training registers under, and batch inference loads (checked)
    name = config.registry.model_name
    if max_request_mb is None:
        max_request_mb = config.serving.max_request_mb
    if not name:  # a project always has a package name; a bare session may not
        raise click.ClickException(
            "No model name: set registry.model_name in conf/base/mlops.yml."
        )
    try:
        check_catalog_model_name(context.config_loader["catalog"], name)
    except MissingConfigException:
        pass  # no catalog: nothing else names the model
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    tracking_uri = mlflow.get_tracking_uri()
    try:
        version = MlflowClient().get_model_version_by_alias(name, alias)
    except Exception as exc:
        raise click.ClickException(
            f"No '{alias}' version of the model '{name}' in {tracking_uri}: {exc}\n"
            "Train one first (`kedro run --pipelines training`), or point "
            "MLFLOW_TRACKING_URI at the store that has it."
        ) from exc
    uri = f"models:/{name}@{alias}"
    # Downloaded once here; every server process loads it from this folder.
    local = mlflow.artifacts.download_artifacts(artifact_uri=uri)
    bin_dir = str(Path(sys.executable).parent)
    environ = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        MODEL_VARIABLE: local,
        PORT_VARIABLE: str(port),
        LIMIT_VARIABLE: f"{max_request_mb:g}",
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    # Each request runs in a thread of its own. ServingRunner predicts one at a
    # time, but the other requests' threads parse JSON beside it (and a model
    # bundled without it predicts concurrently): OpenMP threads inside each
    # prediction (scikit-learn's tree models) would oversubscribe the cores.
    environ.setdefault("OMP_NUM_THREADS", "1")
    capture = _capture_and_metrics(
        environ,
        config.serving.capture,
        Path(context.project_path),
        model=(name, str(version.version)),
        workers=workers,
    )
    MARKER.write_text(str(port))
    click.echo(
        f"Serving {uri} (version {version.version}) on http://{host}:{port} "
        f"(requests up to {max_request_mb:g} MB; metrics on /metrics)"
    )
    if capture is not None:
        click.echo(f"Capturing the scored requests to {capture.path}")
    if workers == 1:
        _serve_here(environ, host, port)
        return
    command = [
        sys.executable, "-m", "uvicorn", "--host", host, "--port", str(port),
        "--workers", str(workers), SERVING_APP,
    ]  # fmt: skip
    os.execve(sys.executable, command, environ)


SERVING_APP = "kedro_mlops.serving.app:app"


def _capture_and_metrics(
    environ: dict[str, str],
    capture: Any,
    project_path: Path,
    *,
    model: tuple[str, str],
    workers: int,
) -> Any:
    """Set the server processes' capture and metrics variables in ``environ``;
    the capture settings (``None`` when off).

    A relative ``serving.capture.path`` is resolved from the project root (a
    URL stays as it is). With several workers, one scrape of /metrics adds up
    every worker's figures (prometheus-client's multiprocess mode): their
    files go to a new folder, never an old one's.
    """
    import tempfile

    from kedro_mlops.serving.capture import (
        CAPTURE_VARIABLE,
        MODEL_NAME_VARIABLE,
        MODEL_VERSION_VARIABLE,
        CaptureSettings,
    )
    from kedro_mlops.serving.metrics import MULTIPROCESS_VARIABLE

    environ[MODEL_NAME_VARIABLE], environ[MODEL_VERSION_VARIABLE] = model
    if workers > 1:
        environ[MULTIPROCESS_VARIABLE] = tempfile.mkdtemp(prefix="kedro-mlops-metrics-")
    else:
        environ.pop(MULTIPROCESS_VARIABLE, None)
    if not capture.enabled:
        environ.pop(CAPTURE_VARIABLE, None)
        return None
    path = capture.path
    if "://" not in path:
        path = str((project_path / path).resolve())
    settings = CaptureSettings(
        path=path,
        max_queue_rows=capture.max_queue_rows,
        flush_seconds=capture.flush_seconds,
        file_rows=capture.file_rows,
    )
    environ[CAPTURE_VARIABLE] = settings.to_environ()
    return settings


# What OpenBLAS reads its thread count from, before OMP_NUM_THREADS
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS")


def _serve_here(environ: dict[str, str], host: str, port: int) -> None:
    """The model server, one worker, in this process: what this command imported
    (MLflow, pandas, NumPy) is not imported again, and the server answers its
    first /ping about 1.3 s sooner than in a new interpreter."""
    import os

    import uvicorn

    blas_set = any(name in os.environ for name in BLAS_THREADS)
    for name in set(os.environ) - set(environ):  # what the command unset
        del os.environ[name]
    os.environ.update(environ)
    threads = os.environ["OMP_NUM_THREADS"]
    if not blas_set and threads.isdigit():  # NumPy's BLAS counted its threads
        _limit_blas_threads(int(threads))  # before OMP_NUM_THREADS was set
    uvicorn.run(SERVING_APP, host=host, port=port)


def _limit_blas_threads(threads: int) -> None:
    """At most ``threads`` threads in each BLAS call, as a new process started with
    OMP_NUM_THREADS would have (threadpoolctl comes with scikit-learn)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # no scikit-learn: nothing here splits work into threads
        return
    threadpool_limits(limits=threads, user_api="blas")


@mlops.command()
@click.option(
    "--reference",
    required=True,
    help="Catalog dataset (or Parquet file or folder) to compare against.",
)
@click.option(
    "--current",
    required=True,
    help="Catalog dataset (or Parquet file or folder) to check.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the self-contained HTML report to this file.",
)
@click.option("--env", "-e", default=None, help="Kedro environment.")
def drift(reference: str, current: str, output: str | None, env: str | None) -> None:
    """Check two catalog datasets of this project for drift (mlops.yml's drift settings).

    A dataset that loads as a Spark DataFrame is summarised on Spark, partition
    by partition; a Parquet file or folder given by its path (or a
    ParquetBatchesDataset) is read in record batches, with bounded memory.

    In a project whose parameters have a `schema`, its id and target columns are
    not compared and its prediction column is the model's output, as in the
    starter's inference pipeline.
    """
    from kedro_mlops.config import load_config
    from kedro_mlops.drift import DriftInputError, detect_drift, save_html

    context = _context(env)
    catalog = context.catalog  # each access builds a new catalog and runs its hooks
    tables = {name: _table(catalog, name, context.env) for name in (reference, current)}
    config = load_config(context.config_loader).drift
    schema = context.params.get("schema")
    if schema is not None:
        from kedro_mlops.schema import drift_settings

        try:
            config = drift_settings(config, schema)
        except ValueError as exc:  # the schema, or mlops.yml against it
            raise click.ClickException(str(exc)) from exc
    predicted = config.prediction_column
    if predicted and predicted not in _column_names(tables[reference]):
        click.echo(
            f"(no '{predicted}' column here: drift.prediction_column not checked)"
        )
        config = config.model_copy(update={"prediction_column": None})
    try:
        report = detect_drift(tables[reference], tables[current], config)
    except DriftInputError as exc:
        raise click.ClickException(str(exc)) from exc
    _print_drift(reference, current, report)
    if output:
        path = save_html(report, output, title=f"Drift: {current} against {reference}")
        click.echo(f"\nHTML report: {path}")


def _table(catalog: Any, name: str, env: str | None) -> Any:
    """A catalog dataset loaded as a table, or a Parquet path left unread."""
    from kedro_mlops.drift.pipeline import CONFIG_DATASET
    from kedro_mlops.monitoring.pipeline import MONITORING_CONFIG_DATASET

    settings = ("parameters", CONFIG_DATASET, MONITORING_CONFIG_DATASET)
    if name in catalog:
        return _load_table(catalog, name)
    path = Path(name)
    if path.is_dir() or (path.is_file() and path.suffix == ".parquet"):
        return path
    known = sorted(
        k for k in catalog.keys() if not k.startswith("params:") and k not in settings
    )
    raise click.ClickException(
        f"'{name}' is neither a dataset of this project's catalog (env "
        f"{env or 'local'}) nor a Parquet file or folder; its datasets: "
        f"{', '.join(known)}. `kedro catalog describe-datasets` says which "
        "pipeline uses which."
    )


def _column_names(table: Any) -> list[str]:
    """The column names of a pandas or Spark DataFrame, a pyarrow dataset or a
    Parquet path (read from the footers)."""
    if isinstance(table, Path):
        import pyarrow.dataset as ds

        return list(ds.dataset(table, format="parquet").schema.names)
    if hasattr(table, "schema") and hasattr(table.schema, "names"):  # pyarrow
        return list(table.schema.names)
    return [str(column) for column in table.columns]


def _writers(name: str) -> list[str]:
    """The registered pipelines (not ``__default__``) that write dataset ``name``,
    the largest first (the one a user runs, rather than one of its parts)."""
    from kedro.framework.project import pipelines

    found = [
        (-len(pipe.nodes), key)
        for key, pipe in pipelines.items()
        if key != "__default__" and name in pipe.all_outputs()
    ]
    return [key for _, key in sorted(found)]


def _load_table(catalog: Any, name: str) -> Any:
    """Dataset ``name`` as a table, or a one-line error saying why it is not one."""
    import pandas as pd
    from kedro.io.core import DatasetError

    if not catalog.exists(name):
        writers = _writers(name)
        hint = (
            f" Run `kedro run --pipelines {writers[0]}` first, which writes it."
            if writers
            else ""
        )
        raise click.ClickException(
            f"'{name}' has no data yet: nothing is saved there.{hint}"
        )
    try:
        data = catalog.load(name)
    except DatasetError as exc:
        # Kedro's first line repeats the dataset's whole repr; the last is the cause
        cause = str(exc).strip().splitlines()[-1]
        raise click.ClickException(f"'{name}' cannot be read: {cause}") from exc
    from kedro_mlops.drift import batches, spark

    if not (
        isinstance(data, pd.DataFrame)
        or spark.is_spark_frame(data)
        or (batches.is_parquet_source(data) and not isinstance(data, str))
    ):
        raise click.ClickException(
            f"'{name}' is a {type(data).__name__}, not a table: `kedro mlops drift` "
            "compares two tables (datasets that load as pandas or Spark "
            "DataFrames, or ParquetBatchesDataset)."
        )
    return data


@mlops.command()
@click.argument("run_id")
@click.option(
    "--checkout",
    is_flag=True,
    help="Restore the run's data versions into the workspace (git + DVC).",
)
@click.option("--env", "-e", default=None, help="Kedro environment (for mlflow.yml).")
def lineage(run_id: str, checkout: bool, env: str | None) -> None:
    """Show what code and data made the MLflow run RUN_ID, and how to restore them."""
    from kedro_mlops.versioning.lineage import Lineage
    from kedro_mlops.versioning.restore import RestoreError, restore, way_back

    _require_existing_store(env)  # reading runs never creates a store
    project_path, client = _tracking_client(env)
    try:
        run = client.get_run(run_id)
    except Exception as exc:
        raise click.ClickException(
            f"No MLflow run '{run_id}' in {client.tracking_uri}: {exc}. "
            "List runs with `kedro mlflow ui`."
        ) from exc
    recorded = Lineage.from_tags(run.data.tags)
    parent = run.data.tags.get("mlflow.parentRunId")
    if recorded.commit is None and not recorded.data and parent:
        raise click.ClickException(
            f"Run {run_id} is a run nested in run {parent} (a tuning trial): its "
            f"lineage is its parent's: `kedro mlops lineage {parent}`."
        )
    if recorded.commit is None and not recorded.data:
        raise click.ClickException(
            f"Run {run_id} has no lineage tags (mlops.lineage.*): it was not made by "
            "`kedro run` with kedro-mlops installed."
        )
    _print_lineage(run_id, run.info.run_name, recorded, project_path)
    if not checkout:
        return
    click.echo("")
    try:
        restored = restore(recorded, project_path, progress=click.echo)
    except RestoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {len(restored)} data version(s) into {project_path}.")
    command, never_committed = way_back(project_path, restored)
    if command:
        click.echo(f"To return to your branch's data: {command}")
    for record in never_committed:
        click.echo(
            f"{record} is not committed to git: your branch has no version of it to "
            "return to (the restored one stays until the next run writes it)."
        )


@mlops.command()
@click.option(
    "--retrain",
    is_flag=True,
    help="Run the training pipeline when the monitoring decision says retrain.",
)
@click.option(
    "--pipeline",
    "monitoring",
    default="monitoring",
    show_default=True,
    help="The pipeline that checks the captured traffic.",
)
@click.option(
    "--training-pipeline",
    "training",
    default="training",
    show_default=True,
    help="The pipeline that retrains.",
)
@click.option(
    "--decision",
    default="monitoring.retrain_decision",
    show_default=True,
    help="The catalog dataset that holds the monitoring run's decision.",
)
@click.option("--env", "-e", default=None, help="Kedro environment.")
def monitor(
    retrain: bool, monitoring: str, training: str, decision: str, env: str | None
) -> None:
    """Check the served model's traffic, and retrain when the decision says so.

    Runs `kedro run --pipelines monitoring`, reads its retrain decision and, with
    --retrain and a decision to retrain, runs `kedro run --pipelines training`:
    the registry's gate (mlops.yml) still decides whether the new model becomes
    champion. What a scheduler runs (the starter's monitor workflow does).
    """
    context = _context(env)
    name = _registered_name(context)
    before = _champion_version(name)
    _kedro_run(monitoring, env)
    verdict = _decision(_context(env).catalog, decision, monitoring)
    click.echo(_describe_decision(verdict))
    if not verdict.get("retrain"):
        return
    if not retrain:
        click.echo(
            "Not retrained: run `kedro mlops monitor --retrain` (or "
            f"`kedro run --pipelines {training}`) to train a challenger."
        )
        return
    latest = _latest_version(name)
    _kedro_run(training, env)
    click.echo(_describe_retraining(name, before, latest, _champion_version(name)))


def _registered_name(context: Any) -> str:
    from kedro_mlops.config import project_config

    name = project_config(context).registry.model_name
    if not name:
        raise click.ClickException(
            "No model name: set registry.model_name in conf/base/mlops.yml."
        )
    return name


def _champion_version(name: str) -> int | None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = MlflowClient().get_model_version_by_alias(name, "champion")
    except MlflowException:
        return None
    return int(version.version)


def _latest_version(name: str) -> int | None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        found = MlflowClient().search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    return max((int(v.version) for v in found), default=None)


def _kedro_run(pipeline: str, env: str | None) -> None:
    """``kedro run --pipelines PIPELINE`` in a process of its own, its output
    shown as it comes."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "kedro", "run", "--pipelines", pipeline]
    if env:
        command += ["--env", env]
    click.echo(f"$ kedro run --pipelines {pipeline}" + (f" --env {env}" if env else ""))
    code = subprocess.run(command, cwd=_project_path(), check=False).returncode
    if code:
        raise click.ClickException(
            f"`kedro run --pipelines {pipeline}` failed (exit code {code}); its "
            "error is above."
        )


def _decision(catalog: Any, name: str, pipeline: str) -> dict[str, Any]:
    if name not in catalog or not catalog.exists(name):
        raise click.ClickException(
            f"The '{pipeline}' pipeline wrote no decision: '{name}' is not in the "
            "catalog or has no data. Name the dataset with --decision."
        )
    verdict = catalog.load(name)
    if not isinstance(verdict, dict) or "retrain" not in verdict:
        raise click.ClickException(
            f"'{name}' is not a retrain decision (a JSON object with 'retrain'): "
            f"{str(verdict)[:120]}"
        )
    return verdict


def _describe_decision(verdict: dict[str, Any]) -> str:
    drifted = ", ".join(verdict.get("drifted_columns") or []) or "none"
    share = verdict.get("drift_share")
    shown = f"{share:.2f}" if isinstance(share, float | int) else "n/a"
    head = "retrain" if verdict["retrain"] else "no retraining needed"
    return f"Monitoring decision: {head} (drift share {shown}; drifted: {drifted})"


def _describe_retraining(
    name: str, before: int | None, latest: int | None, after: int | None
) -> str:
    new = _latest_version(name)
    if new is None or new == latest:
        return f"Retrained: no new version of '{name}' was registered."
    if after == new:
        was = f"was v{before}" if before is not None else "there was none"
        return f"Retrained: {name} v{new} registered and now champion ({was})."
    return (
        f"Retrained: {name} v{new} registered as challenger; the champion stays "
        f"v{after} (the gate in mlops.yml kept it)."
    )


def _project_path() -> Path:
    from kedro.utils import find_kedro_project

    project_path = find_kedro_project(Path.cwd())
    if project_path is None:
        raise click.ClickException("Run this command inside a Kedro project.")
    return Path(project_path)


def _require_existing_store(env: str | None) -> None:
    """Stop when the project's tracking store is a sqlite file that is not there.

    Opening a Kedro session would have kedro-mlflow create an empty store just
    to find no run in it; the configuration is read without one instead.
    """
    import os
    from types import SimpleNamespace

    from kedro.framework.project import settings
    from kedro.framework.startup import bootstrap_project

    from kedro_mlops.tracking.store import configured_tracking_uri, sqlite_path
    from kedro_mlops.tracking.uri import TRACKING_URI_VARIABLE, register_resolvers

    project_path = _project_path()
    bootstrap_project(project_path)
    env = env or os.environ.get("KEDRO_ENV")
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project_path / settings.CONF_SOURCE),
        env=env,
        **settings.CONFIG_LOADER_ARGS,
    )
    register_resolvers(project_path)  # mlflow.yml uses them
    uri = configured_tracking_uri(SimpleNamespace(config_loader=loader))
    database = sqlite_path(uri)
    if database is None or database.exists():
        return
    name = env or settings.CONFIG_LOADER_ARGS.get("default_run_env") or "local"
    from_variable = os.environ.get(TRACKING_URI_VARIABLE, "").strip() == uri
    source = (
        f"{TRACKING_URI_VARIABLE}={uri}"
        if from_variable
        else f"mlflow.yml of the environment '{name}'"
    )
    raise click.ClickException(
        f"No MLflow tracking store at {database} ({source}); nothing was created. "
        f"Point {TRACKING_URI_VARIABLE} at the store or server that holds the runs "
        "(a clone has no mlflow.db of its own), or choose the environment whose "
        "mlflow.yml names it with --env."
    )


def _context(env: str | None):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project_path = _project_path()
    bootstrap_project(project_path)
    session = KedroSession.create(project_path=project_path, env=env)
    with session:
        return session.load_context()


def _tracking_client(env: str | None):
    from mlflow import MlflowClient

    context = _context(env)  # kedro-mlflow points MLflow at the project's store
    return Path(context.project_path), MlflowClient()


def _print_drift(reference: str, current: str, report) -> None:
    verdict = "DRIFT" if report.dataset_drift else "no dataset drift"
    click.echo(
        f"{current} ({report.rows_current} rows) against {reference} "
        f"({report.rows_reference} rows): {verdict}, {len(report.drifted_columns)} of "
        f"{len(report.columns)} columns drifted (share {report.drift_share:.2f}, "
        f"threshold {report.share_threshold:.2f})"
    )
    click.echo(
        f"\n  {'column':<24}{'kind':<13}{'test':<15}{'score':>10}{'threshold':>11}  drift"
    )
    rows = list(report.columns)
    if report.prediction is not None:
        rows.append(report.prediction)
    for column in sorted(rows, key=lambda c: -c.severity):
        score = "-" if column.score is None else f"{column.score:.3g}"
        threshold = "-" if column.threshold is None else f"{column.threshold:g}"
        name = column.column + (" (prediction)" if column.role == "prediction" else "")
        click.echo(
            f"  {name:<24}{column.kind:<13}{column.test or column.status:<15}"
            f"{score:>10}{threshold:>11}  {'yes' if column.drifted else '-'}"
        )
    for name, reason in report.skipped.items():
        click.echo(f"  {name:<24}skipped: {reason}")


def _print_lineage(run_id: str, run_name: str, recorded, project_path: Path) -> None:
    from kedro_mlops.versioning.restore import CACHE

    dirty = {True: " (uncommitted changes)", False: "", None: " (unknown)"}[
        recorded.dirty
    ]
    click.echo(f"Run {run_id} ({run_name})")
    click.echo(f"  code       {recorded.commit or 'not a git repository'}{dirty}")
    click.echo(
        f"  env        {recorded.env}   pipelines: {', '.join(recorded.pipelines)}"
    )
    if not recorded.data:
        click.echo("  data       no DVC-backed dataset")
    places, unknown = _whereabouts(recorded, project_path)
    for version in recorded.data:
        where = "" if version.rev == "workspace" else f" @ {version.rev}"
        click.echo(
            f"  {version.role:<6}     {version.path}{where}  md5 {version.md5}  "
            f"{version.size} bytes  [{version.state}]"
        )
        if version.name in places:
            click.echo(f"             {places[version.name].describe()}")
    if unknown:
        click.echo(f"  (where the data is was not checked: {unknown})")
    committed = [v for v in recorded.data if v.state == "committed"]
    pull = any(v.name in places and places[v.name].place != CACHE for v in committed)
    commands = recorded.restore_commands(pull=pull)
    if commands:
        click.echo("\nRestore the committed data versions with:")
        for command in commands:
            click.echo(f"  {command}")
    if recorded.commit:
        click.echo(
            f"  git checkout {recorded.commit}    # the code, if you need it too"
        )
    cached = [v for v in recorded.data if v.state == "cached"]
    if cached:
        click.echo(
            f"\n{len(cached)} version(s) had no committed .dvc record when the run was "
            f"made: `kedro mlops lineage {run_id} --checkout` restores them by md5."
        )
    untracked = [v for v in recorded.data if v.state == "untracked"]
    if untracked:
        click.echo(
            f"\n{len(untracked)} version(s) were read or written with DVC off "
            "(KEDRO_MLOPS_DVC=off, e.g. in a container): their md5 identifies the "
            "bytes, but DVC does not hold them."
        )
    modified = [v for v in recorded.data if v.state == "modified"]
    for version in modified:
        click.echo(
            f"\n{version.path} was edited but not added to DVC when the run read it: "
            "those bytes cannot be restored."
        )


def _whereabouts(recorded, project_path: Path) -> tuple[dict[str, Any], str | None]:
    """Where each restorable version's bytes are, by dataset name; or why unknown."""
    from kedro_mlops.versioning.restore import RestoreError, locate

    if not recorded.restorable():
        return {}, None
    try:
        found = locate(recorded, project_path)
    except RestoreError as exc:
        return {}, str(exc)
    return {place.version.name: place for place in found}, None


# ------------------------------------------------------------------- CLI hooks


def requested_pipelines(command_args: list[str]) -> list[str]:
    """The pipeline names a ``kedro run`` command line asks for.

    >>> requested_pipelines(["run", "--pipelines", "training, inference", "-p=x"])
    ['training', 'inference', 'x']
    >>> requested_pipelines(["viz", "--pipeline", "training"])
    []
    """
    if not command_args or command_args[0] != "run":
        return []
    names: list[str] = []
    args = iter(command_args[1:])
    for arg in args:
        option, equals, value = arg.partition("=")
        if option in ("--pipeline", "-p", "--pipelines"):
            value = value if equals else next(args, "")
            names += [n.strip() for n in value.split(",") if n.strip()]
    return names


def check_airflow_create(project_metadata: Any, command_args: list[str]) -> None:
    """Stop ``kedro airflow create`` before it writes a DAG when its command
    line or the project's ``airflow.yml`` has a problem (see
    :mod:`kedro_mlops.scheduling.airflow_settings`)."""
    from kedro_mlops.scheduling import airflow_settings

    create = airflow_settings.parse_create_args(command_args)
    if create is None:
        return
    from kedro.framework.project import pipelines, settings

    conf_source = Path(project_metadata.project_path) / settings.CONF_SOURCE
    if not (conf_source / create.env).is_dir():
        return  # the session names the environments there are
    jinja_file = Path(create.jinja_file) if create.jinja_file else None
    if jinja_file is not None and not jinja_file.is_file():
        return  # kedro-airflow's option check says so
    ours = jinja_file is not None and airflow_settings.is_ours(
        jinja_file.read_text(encoding="utf-8")
    )
    config = airflow_settings.load_config(str(conf_source), create.env)
    problems = airflow_settings.check_create(create, config, list(pipelines), ours=ours)
    if problems:
        click.echo(
            "Error: kedro airflow create wrote no DAG; fix these in airflow.yml "
            f"({settings.CONF_SOURCE}/base, then {settings.CONF_SOURCE}/{create.env}) "
            "or on the command line:\n" + "\n".join(f"  - {p}" for p in problems),
            err=True,
        )
        raise SystemExit(2)


class CliHooks:
    """``kedro run --pipelines NAME`` with a NAME the project does not register
    stops at once with the project's pipelines, instead of Kedro's traceback;
    ``kedro airflow create`` stops on a problem of its ``airflow.yml``."""

    @cli_hook_impl
    def before_command_run(
        self, project_metadata: Any, command_args: list[str]
    ) -> None:
        if project_metadata is None:
            return
        check_airflow_create(project_metadata, command_args)
        names = requested_pipelines(command_args)
        if not names:
            return
        from kedro.framework.project import pipelines

        unknown = [name for name in names if name not in pipelines]
        if unknown:
            quoted = ", ".join(f"'{name}'" for name in unknown)
            click.echo(
                f"Error: no pipeline named {quoted} in this project; its pipelines: "
                f"{', '.join(sorted(pipelines))} (src/{project_metadata.package_name}"
                "/pipeline_registry.py registers them).",
                err=True,
            )
            raise SystemExit(2)


cli_hooks = CliHooks()
