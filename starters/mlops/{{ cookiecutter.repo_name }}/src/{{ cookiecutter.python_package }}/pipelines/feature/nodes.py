"""Feature nodes: a scikit-learn preprocessor fitted on the training split only."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

import pandas as pd
from pydantic import PositiveInt
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from {{ cookiecutter.python_package }}.model_io import binary_labels, feature_columns


class FeatureParams(TypedDict):
    """`feature` in conf/base/parameters_feature.yml (kedro-mlops checks it before a run)."""

    numeric_imputation: Literal["median", "mean"]
    scale_numeric: bool
    min_category_frequency: PositiveInt


def fit_preprocessor(
    train: pd.DataFrame, schema: dict[str, Any], params: FeatureParams
) -> ColumnTransformer:
    """Fit imputation + scaling for numeric columns and imputation + one-hot
    encoding for categorical ones.

    Categories rarer than ``min_category_frequency`` in training are grouped
    into one "infrequent" column. A category never seen in training is encoded
    into that group when the column has one, and as all zeros otherwise.
    """
    numeric_steps = [SimpleImputer(strategy=params["numeric_imputation"])]
    if params["scale_numeric"]:
        numeric_steps.append(StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=params["min_category_frequency"],
            sparse_output=False,
        ),
    )
    preprocessor = ColumnTransformer(
        [
            ("numeric", make_pipeline(*numeric_steps), list(schema["numeric"])),
            ("categorical", categorical, list(schema["categorical"])),
        ],
        verbose_feature_names_out=False,
    )
    preprocessor.set_output(transform="pandas")
    return preprocessor.fit(train[feature_columns(schema)])


def build_model_input(
    train: pd.DataFrame, preprocessor: ColumnTransformer, schema: dict[str, Any]
) -> pd.DataFrame:
    """Transform the training split; the target becomes a 0/1 column."""
    features = preprocessor.transform(train[feature_columns(schema)])
    target = schema["target"]
    return features.assign(
        **{target["column"]: binary_labels(train, target).to_numpy()}
    )
