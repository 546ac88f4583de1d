"""What kedro-mlops writes into projects: the starter, ``kedro mlops init``'s files, sample data.

* :mod:`~kedro_mlops.scaffold.starters`: the ``mlops`` starter (``kedro new
  --starter=mlops``), shipped inside the wheel;
* :mod:`~kedro_mlops.scaffold.project_files`: the files ``kedro mlops init``
  writes into an existing project (and the starter writes at generation);
* :mod:`~kedro_mlops.scaffold.sample_data`: puts the starter's raw data back in
  a fresh clone without a DVC remote;
* ``templates/``: every template file (``mlops.yml``, ``mlflow.yml``,
  ``Dockerfile``, ``dockerignore``, and ``airflow_dag.j2``, the DAG template
  for ``kedro airflow create --jinja-file``), read with :func:`template`.

Example:
    >>> "registry:" in template("conf/base/mlops.yml")
    True
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
#: project file -> template file in ``templates/``
FILES = {
    "conf/base/mlops.yml": "mlops.yml",
    "conf/base/mlflow.yml": "mlflow.yml",
    "Dockerfile": "Dockerfile",
    ".dockerignore": "dockerignore",
    "airflow_dag.j2": "airflow_dag.j2",
}


def template(project_file: str) -> str:
    """The text of a project file's template, by its path in the project."""
    return (TEMPLATES / FILES[project_file]).read_text(encoding="utf-8")
