"""Your own table with configuration only: the README's "Use your own table" steps.

A fresh project gets a table whose columns all have other names (another id
column, another target with another positive class), derived from the shipped
data. Following the README, the file is put under DVC and only
`conf/base/parameters.yml` (the schema) and the catalog's file paths change.
Then the project's own tests, training, batch inference and the drift check
run as they do on the sample data, and everything they write follows the new
names.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from tests.git_dvc import sh
from tests.starter.envs import new_project, read_json
from tests.starter.runs import NO_SEARCH

pytestmark = pytest.mark.integration

RENAMED = {
    "customer_id": "account_ref",
    "age": "holder_age",
    "tenure_months": "months_active",
    "monthly_charges": "monthly_fee",
    "total_charges": "lifetime_fee",
    "support_tickets": "tickets",
    "avg_session_minutes": "session_minutes",
    "contract": "plan_term",
    "payment_method": "pay_by",
    "internet_service": "connection",
    "paperless_billing": "e_billing",
    "region": "area",
    "churned": "cancelled",
}
OUTCOME = {"yes": "left", "no": "stayed"}
TABLE = "data/01_raw/accounts.csv"
BATCH = "data/01_raw/accounts_to_score.csv"
MODEL = "churn_model"


def _renamed_schema(schema: dict) -> dict:
    return {
        "id_column": RENAMED[schema["id_column"]],
        "target": {"column": RENAMED[schema["target"]["column"]], "positive_class": "left"},
        "numeric": {RENAMED[c]: r for c, r in schema["numeric"].items()},
        "categorical": {RENAMED[c]: v for c, v in schema["categorical"].items()},
    }  # fmt: skip


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory):
    """A new project, switched to the renamed table as the README says."""
    project = new_project(installed, tmp_path_factory.mktemp("own-table"))
    raw = project / "data/01_raw"
    # the table and a batch to score, with new column names and target values
    customers = pd.read_csv(raw / "customers.csv")
    customers["churned"] = customers["churned"].map(OUTCOME)
    customers.rename(columns=RENAMED).to_csv(project / TABLE, index=False)
    batch = pd.read_csv(raw / "batch_production.csv")
    batch.rename(columns=RENAMED).to_csv(project / BATCH, index=False)
    # step 1: version the new files with DVC and commit their records
    installed.run("dvc", "add", TABLE, BATCH, cwd=project)
    sh(
        "git",
        "add",
        f"{TABLE}.dvc",
        f"{BATCH}.dvc",
        "data/01_raw/.gitignore",
        cwd=project,
    )
    sh("git", "commit", "-qm", "Accounts table", cwd=project)
    # step 2: the catalog's file paths
    catalog = project / "conf/base/catalog.yml"
    text = catalog.read_text()
    for old, new in (
        ("data/01_raw/customers.csv", TABLE),
        ("data/01_raw/batch_production.csv", BATCH),
    ):
        assert old in text
        text = text.replace(old, new)
    catalog.write_text(text)
    # step 3: the schema
    parameters = project / "conf/base/parameters.yml"
    schema = yaml.safe_load(parameters.read_text())["schema"]
    parameters.write_text(yaml.safe_dump({"schema": _renamed_schema(schema)}))
    return project  # fmt: skip


@pytest.fixture(scope="module")
def ran(installed, project):
    """Step 4: training (without the search), then batch inference with the
    drift check."""
    installed.run("kedro", "run", "--params", NO_SEARCH, cwd=project)
    installed.run("kedro", "run", "--pipelines", "inference", cwd=project)
    return project


def test_only_the_schema_and_the_catalog_paths_changed(project):
    changed = sh("git", "status", "--porcelain", cwd=project).split("\n")
    assert sorted(line.split()[-1] for line in changed if line) == [
        "conf/base/catalog.yml",
        "conf/base/parameters.yml",
    ]


def test_the_projects_own_tests_pass_on_the_new_table(installed, project):
    result = installed.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
    )
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_training_registers_a_champion_on_the_new_table(ran):
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{ran / 'mlflow.db'}")
    champion = client.get_model_version_by_alias(MODEL, "champion")
    run = client.get_run(champion.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["test.roc_auc"] > 0.75
    assert run.data.params["schema.target.column"] == "cancelled"
    tags = run.data.tags
    assert tags["mlops.lineage.data.raw_customers.path"] == TABLE
    assert tags["mlops.lineage.data.raw_customers.state"] == "committed"


def test_predictions_carry_the_new_id_and_target_names(ran):
    predictions = pd.read_csv(ran / "data/07_model_output/predictions.csv")
    assert list(predictions.columns) == [
        "account_ref",
        "cancelled_probability",
        "cancelled_prediction",
    ]
    batch = pd.read_csv(ran / BATCH)
    assert list(predictions["account_ref"]) == list(batch["account_ref"])
    assert predictions["cancelled_probability"].between(0, 1).all()


def test_drift_report_compares_the_new_columns(ran):
    report = read_json(ran / "data/08_reporting/drift_report.json")
    compared = {c["column"] for c in report["columns"]}
    assert compared == set(RENAMED.values()) - {"account_ref", "cancelled"}
    assert report["prediction"]["column"] == "cancelled_probability"
    # the production batch's drifted columns, under their new names
    drifted = {c["column"] for c in report["columns"] if c["drifted"]}
    assert drifted == {"monthly_fee", "plan_term", "tickets"}
    decision = read_json(ran / "data/08_reporting/retrain_decision.json")
    assert decision["retrain"] is True and decision["prediction_drift"] is True
