"""A raw file that breaks the schema stops the run with a clear error and no RUNNING run."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.envs import new_project
from tests.starter.runs import NOT_NESTED

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory):
    return new_project(installed, tmp_path_factory.mktemp("bad-input"))


def _run_with_raw(installed, project, raw: pd.DataFrame):
    raw.to_csv(project / "data/01_raw/customers.csv", index=False)
    return installed.run("kedro", "run", cwd=project, check=False)


def _statuses(project) -> list[str]:
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], NOT_NESTED
    )
    return [r.info.status for r in runs]


@pytest.fixture
def raw(project) -> pd.DataFrame:
    return pd.read_csv(project / "data/01_raw/customers.csv")


def test_missing_required_column(installed, project, raw):
    result = _run_with_raw(installed, project, raw.drop(columns=["monthly_charges"]))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Error: The data does not match the schema" in output
    assert "column 'monthly_charges' is missing" in output
    assert "Traceback" not in output
    assert "RUNNING" not in _statuses(project)


def test_wrong_dtype(installed, project, raw):
    raw = raw.astype({"tenure_months": object})
    raw.loc[[4, 8], "tenure_months"] = "two years"
    result = _run_with_raw(installed, project, raw)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "column 'tenure_months' must be numeric" in output
    # the rows are counted from 1, as in the file (whose line 1 is the header)
    assert "'two years'" in output and "rows 5, 9" in output
    assert "row N is on line N + 1" in output
    statuses = _statuses(project)
    assert statuses and "RUNNING" not in statuses and "FAILED" in statuses
