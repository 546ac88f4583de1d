"""What the starter's tests read back of a training run in MLflow."""

from __future__ import annotations

from typing import Any

PLOTS = {"plots/confusion_matrix.png", "plots/roc_curve.png"}
#: A filter of ``search_runs`` that leaves out nested runs (tuning trials).
NOT_NESTED = "tags.`mlflow.parentRunId` IS NULL"


def plots_and_models(client: Any, run: Any) -> tuple[set[str], int]:
    """The run's logged plots, and how many models it logged."""
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    models = client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
    )
    return plots, len(models)
