"""``kedro mlops init``: add the MLOps layer to an existing Kedro project.

Writes, from the templates shipped in this package:

* ``conf/base/mlops.yml``: the registry and drift settings;
* ``conf/base/mlflow.yml``: kedro-mlflow's configuration for MLflow 3 (an
  embedded sqlite store at the project root, or ``MLFLOW_TRACKING_URI``). It
  goes to ``conf/base``, not to the ``conf/local`` that ``kedro mlflow init``
  writes and that git and Docker ignore;
* ``Dockerfile`` and ``.dockerignore``: the production image;
* ``airflow_dag.j2``: the template of ``kedro airflow create --jinja-file``
  (one Airflow task per pipeline run; its settings go in ``conf/base/airflow.yml``).

A file that is already there is never changed unless ``force`` is given (an
identical one is reported as unchanged), so running it twice changes nothing.
The starter writes the same files when a project is generated.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> project = Path(tempfile.mkdtemp())
    >>> [(w.path, w.status) for w in write_files(project, "churn")][:2]
    [('conf/base/mlops.yml', 'created'), ('conf/base/mlflow.yml', 'created')]
    >>> {w.status for w in write_files(project, "churn")}
    {'unchanged'}
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kedro_mlops.scaffold import FILES, template

PLACEHOLDER = "{{ package }}"


@dataclass(frozen=True)
class Written:
    path: str  # relative to the project
    status: str  # created | unchanged | kept | overwritten


def rendered(package_name: str) -> dict[str, str]:
    """Project path -> content, for a project whose package is ``package_name``."""
    return {path: template(path).replace(PLACEHOLDER, package_name) for path in FILES}


def write_files(
    project_path: Path,
    package_name: str,
    *,
    force: bool = False,
    only: tuple[str, ...] = (),
) -> list[Written]:
    """Write the files (or ``only`` those project paths); see the module doc."""
    written = []
    for relative, text in rendered(package_name).items():
        if only and relative not in only:
            continue
        target = Path(project_path) / relative
        if target.exists():
            if target.read_text(encoding="utf-8") == text:
                written.append(Written(relative, "unchanged"))
                continue
            if not force:
                written.append(Written(relative, "kept"))
                continue
        status = "overwritten" if target.exists() else "created"
        _write_atomically(target, text)
        written.append(Written(relative, status))
    return written


def _write_atomically(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def next_steps(project_path: Path, written: list[Written]) -> list[str]:
    """What to do after ``init``, as lines to print."""
    steps = []
    kept = [w.path for w in written if w.status == "kept"]
    if kept:
        steps.append(
            f"Kept your {', '.join(kept)} (different from the template): compare, or "
            "run `kedro mlops init --force` to replace them."
        )
    if (Path(project_path) / "conf/local/mlflow.yml").exists():
        steps.append(
            "conf/local/mlflow.yml exists (from `kedro mlflow init`?) and overrides "
            "conf/base/mlflow.yml on this machine only: delete it to use the new one."
        )
    steps += [
        "kedro run                  # tracked in MLflow: mlflow.db at the project root, "
        "or the server in MLFLOW_TRACKING_URI",
        "kedro mlflow ui            # browse the runs",
        "Register models: build your training pipeline with kedro-mlflow's "
        "pipeline_ml_factory and log the metric named in conf/base/mlops.yml "
        "(registry.metric); each run's model then becomes challenger, or champion "
        "when it wins.",
        "kedro docker build         # the production image (Dockerfile); "
        "`docker run IMAGE mlops serve` serves the champion",
        "Schedule the pipelines with Airflow: write conf/base/airflow.yml, then "
        "`kedro airflow create --pipelines NAME --jinja-file airflow_dag.j2` "
        '(kedro-mlops\' docs, "Scheduling with Airflow").',
        "Add mlflow.db, mlflow.db.lock and mlartifacts/ to .gitignore.",
    ]
    return steps
