"""`kedro run --pipelines monitoring` in a trained starter project, on traffic
captured as the model server writes it: three hours like the control batch,
then an hour of the production batch."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from harness.envs import read_json
from tests.monitoring.captured import write_captured

pytestmark = pytest.mark.integration

#: Scores both batches with the champion, as the server would (run in the project's env).
SCORE = """
import mlflow, pandas as pd
mlflow.set_tracking_uri("sqlite:///mlflow.db")
model = mlflow.pyfunc.load_model("models:/churn_model@champion")
version = mlflow.MlflowClient().get_model_version_by_alias("churn_model", "champion").version
for name in ("control", "production"):
    rows = pd.read_csv(f"data/01_raw/batch_{name}.csv")
    scores = model.predict(rows).drop(columns=["customer_id"])
    rows.join(scores).to_parquet(f"scored_{name}.parquet", index=False)
print(version)
"""


@pytest.fixture(scope="module")
def monitored(installed, trained_project):
    project = trained_project
    # before anything is captured, the run stops at once and says how to capture
    refused = installed.run(
        "kedro", "run", "--pipelines", "monitoring", cwd=project, check=False
    )
    refused_monitor = installed.run(
        "kedro", "mlops", "monitor", "--retrain", cwd=project, check=False
    )
    version = installed.run("python", "-c", SCORE, cwd=project).stdout.split()[-1]
    control = pd.read_parquet(project / "scored_control.parquet")
    production = pd.read_parquet(project / "scored_production.parquet")
    last = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [last - timedelta(hours=i) for i in (4, 3, 2, 1)]
    root = project / "data" / "09_monitoring" / "captured"
    for i, hour in enumerate(hours[:-1]):
        write_captured(
            root, control.iloc[i * 650 : (i + 1) * 650], hour, model_version=version
        )
    write_captured(root, production.head(650), hours[-1], model_version=version)
    (root / f"hour={hours[-1]:%Y-%m-%dT%H}" / "late.parquet.partial").write_bytes(b"")
    result = installed.run("kedro", "run", "--pipelines", "monitoring", cwd=project)
    return {
        "project": project,
        "refused": refused,
        "refused_monitor": refused_monitor,
        "result": result,
        "hours": [f"{h:%Y-%m-%dT%H}" for h in hours],
        "version": version,
    }


def test_nothing_captured_stops_the_run_saying_how_to_capture(monitored):
    refused = monitored["refused"]
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert (
        "captured_requests: No captured traffic in data/09_monitoring/captured"
        in output
    )
    assert "serving.capture.enabled" in output and "Traceback" not in output


def test_kedro_mlops_monitor_stops_with_the_runs_error_and_trains_nothing(
    monitored,
):
    refused = monitored["refused_monitor"]
    assert refused.returncode == 1
    assert "No captured traffic in data/09_monitoring/captured" in refused.stderr
    assert refused.stderr.rstrip().endswith(
        "Error: `kedro run --pipelines monitoring` failed (exit code 1); its error "
        "is above."
    )
    assert "kedro run --pipelines training" not in refused.stdout


def test_drift_is_flagged_in_the_production_hour_only(monitored):
    reporting = monitored["project"] / "data" / "08_reporting"
    windows = read_json(reporting / "monitoring_window_drift.json")
    compared = {k: w["report"] for k, w in windows.items() if w["status"] == "compared"}
    # the hours may have moved on by one while the test ran: the same four windows
    assert list(compared) == monitored["hours"]
    flagged = {
        key: report["dataset_drift"] or report["prediction"]["drifted"]
        for key, report in compared.items()
    }
    assert flagged == {
        **dict.fromkeys(monitored["hours"][:-1], False),
        monitored["hours"][-1]: True,
    }
    decision = read_json(reporting / "monitoring_retrain_decision.json")
    assert decision["retrain"] is True and decision["window"] == monitored["hours"][-1]
    assert {"monthly_charges", "contract", "support_tickets"} <= set(
        decision["drifted_columns"]
    )


def test_the_history_has_one_point_per_window_per_column(monitored):
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{monitored['project'] / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    (run,) = client.search_runs(
        experiments, filter_string="tags.`mlops.monitoring` = 'churn_model'"
    )
    assert run.data.tags["mlops.model_version"] == monitored["version"]
    assert run.info.status == "FINISHED"
    steps = sorted(
        int(datetime.strptime(k, "%Y-%m-%dT%H").replace(tzinfo=UTC).timestamp())
        for k in monitored["hours"]
    )
    scores = [k for k in run.data.metrics if k.endswith(".score")]
    assert len(scores) == 12  # eleven features and the predicted probability
    for key in [*scores, "drift.dataset.share", "monitoring.rows"]:
        assert (
            sorted(m.step for m in client.get_metric_history(run.info.run_id, key))
            == steps
        )
    # the pipeline's own run has the latest report and names the history's run
    (own,) = client.search_runs(
        experiments, filter_string="tags.`mlops.monitoring.runs` != ''"
    )
    assert run.info.run_id in own.data.tags["mlops.monitoring.runs"]
    artifacts = {a.path for a in client.list_artifacts(own.info.run_id, "monitoring")}
    assert "monitoring/monitoring_report.html" in artifacts


def test_the_report_shows_the_trend(monitored):
    page = (
        monitored["project"] / "data/08_reporting/monitoring_report.html"
    ).read_text()
    assert '<section id="trend">' in page
    for key in monitored["hours"]:
        assert f"<td>{key}</td>" in page
    summary = json.loads(
        (monitored["project"] / "data/08_reporting/monitoring_windows.json").read_text()
    )
    assert [w["rows"] for w in summary["windows"] if w["rows"]] == [650] * 4
