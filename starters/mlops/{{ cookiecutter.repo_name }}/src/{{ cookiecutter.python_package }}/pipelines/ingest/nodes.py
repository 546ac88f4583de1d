"""Ingest nodes: split the validated table, keep a reference sample for drift checks."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import pandas as pd
from pydantic import Field, PositiveInt
from sklearn.model_selection import train_test_split


class IngestParams(TypedDict):
    """`ingest` in conf/base/parameters_ingest.yml (kedro-mlops checks it before a run)."""

    test_size: Annotated[float, Field(gt=0, lt=1)]
    random_state: int
    reference_sample_size: PositiveInt


def split_data(
    data: pd.DataFrame, target: dict[str, Any], params: IngestParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into train and test sets, stratified on the target column."""
    train, test = train_test_split(
        data,
        test_size=params["test_size"],
        random_state=params["random_state"],
        stratify=data[target["column"]],
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def sample_reference(train: pd.DataFrame, params: IngestParams) -> pd.DataFrame:
    """Keep a sample of the training rows as the reference for drift checks."""
    size = min(params["reference_sample_size"], len(train))
    return train.sample(n=size, random_state=params["random_state"]).reset_index(
        drop=True
    )
