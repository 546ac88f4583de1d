"""Shared fixtures: the project's real configuration and a slice of its data."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]


def _parameters() -> dict:
    params: dict = {}
    for path in sorted((PROJECT / "conf" / "base").glob("parameters*.yml")):
        params.update(yaml.safe_load(path.read_text()) or {})
    return params


@pytest.fixture(scope="session")
def params() -> dict:
    return _parameters()


@pytest.fixture(scope="session")
def schema(params) -> dict:
    return params["schema"]


@pytest.fixture
def raw_slice() -> pd.DataFrame:
    """The first 600 rows of the shipped training table."""
    return pd.read_csv(PROJECT / "data" / "01_raw" / "customers.csv", nrows=600)


@pytest.fixture
def batch_slice() -> pd.DataFrame:
    """The first 100 rows of the shipped production batch (unlabelled)."""
    return pd.read_csv(PROJECT / "data" / "01_raw" / "batch_production.csv", nrows=100)
