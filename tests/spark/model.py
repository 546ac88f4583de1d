"""A bundled model as kedro-mlops logs one, small: kedro-mlflow's
``KedroPipelineModel`` running the schema check then a scoring node with
:class:`~kedro_mlops.serving.ServingRunner`, saved with its signature.

Its functions are pickled by value into the model, so that Spark's Python
workers load it without importing the tests.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCHEMA = {
    "id_column": "customer_id",
    "target": {"column": "churned", "positive_class": "yes"},
    "numeric": {"age": {"min": 18, "max": 110}, "charges": {"min": 0}},
    "categorical": {"plan": ["basic", "premium"]},
}


def rows(n: int, seed: int = 3) -> pd.DataFrame:
    """``n`` valid rows to score (integer ages, some missing charges)."""
    rng = np.random.default_rng(seed)
    charges = np.round(rng.gamma(2.0, 30.0, n), 2)
    charges[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n)],
            "age": rng.integers(18, 90, n),
            "charges": charges,
            "plan": rng.choice(["basic", "premium"], n),
        }
    )


def score(batch: pd.DataFrame, schema: dict[str, Any]) -> pd.DataFrame:
    """The id, a probability and the 0/1 decision, named after the target."""
    logit = (
        0.04 * (batch["age"].to_numpy(dtype=float) - 50)
        + 0.01 * np.nan_to_num(batch["charges"].to_numpy(dtype=float), nan=60.0)
        - 0.8 * (batch["plan"] == "premium").to_numpy()
    )
    probability = 1 / (1 + np.exp(-logit))
    target = schema["target"]["column"]
    return pd.DataFrame(
        {
            schema["id_column"]: batch[schema["id_column"]].to_numpy(),
            f"{target}_probability": probability,
            f"{target}_prediction": (probability >= 0.5).astype(int),
        }
    )


def save_bundled_model(folder: Path) -> Path:
    """Save the model into ``folder`` (a new folder) and return it."""
    import sys

    import cloudpickle
    import mlflow
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.pipeline import Node, Pipeline
    from kedro_mlflow.mlflow import KedroPipelineModel
    from mlflow.models import infer_signature

    from kedro_mlops.schema import validate_scoring_batch
    from kedro_mlops.serving import ServingRunner
    from kedro_mlops.tracking.model_logging import nullable_integers

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    pipeline = Pipeline(
        [
            Node(validate_scoring_batch, ["rows", "params:schema"], "checked"),
            Node(score, ["checked", "params:schema"], "scores"),
        ]
    )
    catalog = DataCatalog(
        {"rows": MemoryDataset(), "params:schema": MemoryDataset(SCHEMA)}
    )
    bundled = KedroPipelineModel(
        pipeline=pipeline, catalog=catalog, input_name="rows", runner=ServingRunner()
    )
    parameters = folder.parent / f"{folder.name}-parameters"
    parameters.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's hints (integer columns, type hints)
        signature = nullable_integers(
            infer_signature(rows(5), params={"runner": "ServingRunner"})
        )
        mlflow.pyfunc.save_model(
            str(folder),
            python_model=bundled,
            artifacts=bundled.extract_pipeline_artifacts(parameters),
            signature=signature,
            pip_requirements=[],
        )
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    return folder
