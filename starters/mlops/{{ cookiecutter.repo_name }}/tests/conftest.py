"""Shared fixtures: the project's real configuration and slices of its data.

The data comes from the files the catalog names, and the tests take column
names from the schema, so they follow the project onto another table.
"""

from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import AbstractDataset

PROJECT = Path(__file__).resolve().parents[1]


def _config(key: str) -> dict:
    """conf/base and conf/local as a Kedro run reads them (no runtime parameters)."""
    loader = OmegaConfigLoader(
        str(PROJECT / "conf"), base_env="base", default_run_env="local"
    )
    return loader[key]


def _load(name: str) -> pd.DataFrame:
    """The catalog dataset ``name``, read from the project's folder."""
    entry = dict(_config("catalog")[name])
    entry["filepath"] = str(PROJECT / entry["filepath"])
    return AbstractDataset.from_config(name, entry).load()


@pytest.fixture(scope="session")
def params() -> dict:
    return _config("parameters")


@pytest.fixture(scope="session")
def schema(params) -> dict:
    return params["schema"]


@pytest.fixture(scope="session")
def raw_table() -> pd.DataFrame:
    return _load("raw_customers")


@pytest.fixture(scope="session")
def batch_table() -> pd.DataFrame:
    return _load("scoring_batch")


@pytest.fixture
def raw_slice(raw_table) -> pd.DataFrame:
    """The first 600 rows of the labelled table (`raw_customers`)."""
    return raw_table.head(600).copy()


@pytest.fixture
def batch_slice(batch_table) -> pd.DataFrame:
    """The first 100 rows of the batch to score (`scoring_batch`)."""
    return batch_table.head(100).copy()
