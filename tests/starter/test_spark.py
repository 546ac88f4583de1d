"""Batch inference on Spark in a trained starter project: `kedro run --env spark
--pipelines inference` scores and checks drift like the pandas run.

The project is trained once on pandas (`kedro run`, without the search); the pandas inference run
(traced with ``python -X importtime``: kedro-mlops must not import pyspark) and
the Spark one then score the shipped production batch with the same champion.
The Spark run has a PATH without the environment's ``bin``: its Python workers
run the environment's interpreter only because the plugin names it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.envs import new_project, read_json
from tests.starter.runs import NO_SEARCH

pytestmark = pytest.mark.integration

ID = "customer_id"
REPORTS = ("drift_report.json", "drift_report.html", "retrain_decision.json")


def _outputs(project: Path, predictions: str) -> dict:
    reporting = project / "data/08_reporting"
    return {
        "predictions": pd.read_parquet(project / predictions)
        if predictions.endswith(".parquet")
        else pd.read_csv(project / predictions),
        "report": read_json(reporting / "drift_report.json"),
        "decision": read_json(reporting / "retrain_decision.json"),
        "files": {name: (reporting / name).stat().st_mtime_ns for name in REPORTS},
    }


@pytest.fixture(scope="module")
def runs(installed, tmp_path_factory):
    project = new_project(installed, tmp_path_factory.mktemp("spark"))
    # training, on pandas (the search over the model's parameters is not
    # what this module checks)
    installed.run("kedro", "run", "--params", NO_SEARCH, cwd=project)
    traced = installed.run(
        "python", "-X", "importtime", "-m", "kedro", "run", "--pipelines",
        "inference", cwd=project,
    )  # fmt: skip
    on_pandas = _outputs(project, "data/07_model_output/predictions.csv")
    on_pandas["imports"] = traced.stderr
    on_pandas["output"] = traced.stdout
    # PATH without the environment: Spark's Python workers would run the
    # system's `python3` (no pandas) unless the plugin names this interpreter
    run = installed.run(
        "kedro", "run", "--env", "spark", "--pipelines", "inference", cwd=project,
        extra_env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    on_spark = _outputs(project, "data/07_model_output/predictions.parquet")
    on_spark["output"] = run.stdout + run.stderr
    return project, on_pandas, on_spark


def _importers(trace: str, package: str) -> set[str]:
    """The modules outside ``package`` that import it, read from a
    ``python -X importtime`` trace (a module's imports precede it, indented
    deeper)."""
    names = [
        line.split("|")[-1] for line in trace.splitlines() if "import time:" in line
    ]
    modules = [(len(name) - len(name.lstrip()), name.strip()) for name in names]
    importers = set()
    for i, (depth, name) in enumerate(modules):
        if name.split(".")[0] != package:
            continue
        parent = next((n for d, n in modules[i + 1 :] if d < depth), None)
        if parent is not None and parent.split(".")[0] != package:
            importers.add(parent)
    return importers


def test_the_pandas_run_starts_no_spark_and_imports_no_pyspark_itself(runs):
    _, on_pandas, _ = runs
    # MLflow imports pyspark where it is installed (for its schema types);
    # nothing of kedro-mlops or Kedro does, and no session starts
    assert _importers(on_pandas["imports"], "pyspark") == {"mlflow.types.schema"}
    assert "Spark " not in on_pandas["output"]


def test_spark_scores_the_batch_as_pandas_does(runs):
    project, on_pandas, on_spark = runs
    folder = project / "data/07_model_output/predictions.parquet"
    assert folder.is_dir() and list(folder.glob("part-*.parquet"))
    expected = on_pandas["predictions"].set_index(ID).sort_index()
    got = on_spark["predictions"].set_index(ID).sort_index()
    assert len(got) == len(expected) == 2000
    assert got.index.equals(expected.index)
    probability = "churned_probability"
    assert (got[probability] - expected[probability]).abs().max() < 1e-9
    assert got["churned_prediction"].tolist() == expected["churned_prediction"].tolist()


def test_spark_flags_the_same_drift_in_the_same_files(runs):
    _, on_pandas, on_spark = runs
    drifted = [
        {c["column"] for c in run["report"]["columns"] if c["drifted"]}
        for run in (on_pandas, on_spark)
    ]
    assert (
        drifted[0] == drifted[1] == {"monthly_charges", "contract", "support_tickets"}
    )
    assert on_spark["decision"] == on_pandas["decision"]
    # each file written again by the Spark run
    assert all(on_spark["files"][n] > on_pandas["files"][n] for n in REPORTS)
    # Spark started quietly: no JVM stack trace, no pandas 3 warning
    assert "at org.apache" not in on_spark["output"]
    assert "does not yet fully support pandas" not in on_spark["output"]


def test_both_runs_log_the_same_to_mlflow(runs):
    from mlflow import MlflowClient

    project, _, _ = runs
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    pandas_run, spark_run = client.search_runs(
        [e.experiment_id for e in client.search_experiments()],
        filter_string="attributes.run_name = 'inference'",
        order_by=["attributes.start_time ASC"],
    )
    for run in (pandas_run, spark_run):
        assert run.info.status == "FINISHED"
    assert set(spark_run.data.metrics) == set(pandas_run.data.metrics)
    assert spark_run.data.metrics["drift.column.contract.drifted"] == 1.0
    assert set(spark_run.data.params) == set(pandas_run.data.params)
    # kedro-mlflow tags a run with the environment named by --env
    assert set(spark_run.data.tags) == set(pandas_run.data.tags) | {"env"}
    assert spark_run.data.tags["mlops.lineage.env"] == "spark"

    def artifacts(run) -> set[str]:
        return {a.path for a in client.list_artifacts(run.info.run_id, "drift")}

    assert (
        artifacts(spark_run)
        == artifacts(pandas_run)
        == {
            "drift/drift_report.html",
            "drift/drift_report.json",
            "drift/drift_retrain_decision.json",
        }
    )
