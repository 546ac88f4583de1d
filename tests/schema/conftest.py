"""The starter's shipped schema and slices of its shipped data."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from tests.conftest import REPO

TEMPLATE = REPO / "starters/mlops/{{ cookiecutter.repo_name }}"


@pytest.fixture(scope="session")
def schema() -> dict:
    """The ``schema`` block of the starter's conf/base/parameters.yml."""
    parameters = yaml.safe_load((TEMPLATE / "conf/base/parameters.yml").read_text())
    return parameters["schema"]


@pytest.fixture
def raw_slice() -> pd.DataFrame:
    """The first 600 rows of the shipped training table."""
    return pd.read_csv(TEMPLATE / "data/01_raw/customers.csv", nrows=600)


@pytest.fixture
def batch_slice() -> pd.DataFrame:
    """The first 100 rows of the shipped production batch (unlabelled)."""
    return pd.read_csv(TEMPLATE / "data/01_raw/batch_production.csv", nrows=100)
