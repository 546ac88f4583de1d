"""What the starter's tests pass to a training run, and read back of it in MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PLOTS = {"plots/confusion_matrix.png", "plots/roc_curve.png"}
#: A filter of ``search_runs`` that leaves out nested runs (tuning trials).
NOT_NESTED = "tags.`mlflow.parentRunId` IS NULL"
#: `kedro run --params` that trains the shipped model without the search over
#: its parameters (train.tuning): for the runs whose test checks nothing of it.
NO_SEARCH = "train.tuning.enabled=false"


def plots_and_models(client: Any, run: Any) -> tuple[set[str], int]:
    """The run's logged plots, and how many models it logged."""
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    models = client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
    )
    return plots, len(models)


def search_off_in_conf_local(project: Path) -> None:
    """Turn the search off in the project's ``conf/local``, for the training
    runs that a test cannot give ``--params`` (those `kedro mlops monitor
    --retrain` or an Airflow task starts). Kedro replaces a top-level key of the
    base parameters with the environment's, so the whole ``train`` section is
    copied, with ``tuning.enabled: false``."""
    import yaml

    name = "parameters_train.yml"
    parameters = yaml.safe_load((project / "conf/base" / name).read_text())
    parameters["train"]["tuning"]["enabled"] = False
    (project / "conf/local" / name).write_text(yaml.safe_dump(parameters))
