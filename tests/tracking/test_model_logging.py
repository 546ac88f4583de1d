"""The bundled model's signature accepts missing values in integer columns."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from kedro_mlops.tracking.model_logging import (
    model_requirements,
    nullable_integers,
    resolve_auto_signature,
)


def _fit(data: pd.DataFrame) -> float:
    return float(data["age"].mean())


def _score(batch: pd.DataFrame, mean_age: float, threshold: dict) -> pd.DataFrame:
    return batch.assign(score=batch["age"] > mean_age)


def _pipeline(signature="auto"):
    return pipeline_ml_factory(
        training=Pipeline([Node(_fit, "train", "mean_age")]),
        inference=Pipeline(
            [Node(_score, ["batch", "mean_age", "params:infer"], "out")]
        ),
        input_name="batch",
        log_model_kwargs={"signature": signature},
    )


def _catalog(batch: pd.DataFrame) -> DataCatalog:
    return DataCatalog(
        datasets={
            "batch": MemoryDataset(batch),
            "params:infer": MemoryDataset({"threshold": 0.5}),
        }
    )


# MLflow's hint about integer columns and missing values: what this test is about
@pytest.mark.filterwarnings("ignore:Hint. Inferred schema contains integer column")
def test_integer_columns_accept_ints_and_missing_values_but_not_absence():
    from mlflow.exceptions import MlflowException
    from mlflow.models import infer_signature
    from mlflow.models.utils import _enforce_schema

    # given a signature inferred from a batch whose integer column is complete
    trained_on = pd.DataFrame({"age": [30, 40], "charges": [70.5, 20.0]})
    schema = nullable_integers(infer_signature(trained_on)).inputs
    # then MLflow accepts that column complete, with gaps, but not missing
    _enforce_schema(pd.DataFrame({"age": [50], "charges": [1.5]}), schema)
    _enforce_schema(pd.DataFrame({"age": [None, 3.0], "charges": [1.5, 2.5]}), schema)
    with pytest.raises(MlflowException, match="missing inputs \\['age'\\]"):
        _enforce_schema(pd.DataFrame({"charges": [1.5]}), schema)
    # while a double column keeps its type
    assert [spec["type"] for spec in schema.to_dict()] == ["any", "double"]


def test_auto_signature_is_inferred_with_nullable_integers_on_every_run():
    # given a pipeline_ml_factory pipeline asking for signature "auto"
    pipeline = _pipeline()
    batch = pd.DataFrame({"customer_id": ["a", "b"], "age": [30, 40]})
    # when the signature is resolved for a run
    assert resolve_auto_signature(pipeline, _catalog(batch))
    signature = pipeline.log_model_kwargs["signature"]
    # then the integer column accepts gaps, and only the runner is a request
    # parameter (a request cannot replace the pipeline's parameters)
    types = {spec["name"]: spec["type"] for spec in signature.inputs.to_dict()}
    assert types == {"customer_id": "string", "age": "any"}
    assert [(p.name, p.default) for p in signature.params.params] == [
        ("runner", "SequentialRunner")
    ]
    # and a later run infers again from that run's data
    other = pd.DataFrame({"customer_id": ["c"], "age": [50], "plan": ["x"]})
    assert resolve_auto_signature(pipeline, _catalog(other))
    assert "plan" in {
        s.name for s in pipeline.log_model_kwargs["signature"].inputs.inputs
    }


def test_the_bundled_runner_is_the_default_request_runner():
    from kedro_mlops.serving import ServingRunner

    pipeline = pipeline_ml_factory(
        training=Pipeline([Node(_fit, "train", "mean_age")]),
        inference=Pipeline(
            [Node(_score, ["batch", "mean_age", "params:infer"], "out")]
        ),
        input_name="batch",
        kpm_kwargs={"runner": ServingRunner()},
    )
    batch = pd.DataFrame({"age": [30, 40]})
    assert resolve_auto_signature(pipeline, _catalog(batch))
    (runner,) = pipeline.log_model_kwargs["signature"].params.params
    assert (runner.name, runner.default) == ("runner", "ServingRunner")


def test_explicit_signatures_and_plain_pipelines_are_left_alone():
    explicit = _pipeline(signature=None)
    assert not resolve_auto_signature(explicit, _catalog(pd.DataFrame({"age": [1]})))
    assert explicit.log_model_kwargs["signature"] is None
    assert not resolve_auto_signature(Pipeline([]), _catalog(pd.DataFrame()))


def test_model_requirements_are_pinned_to_this_environment():
    from importlib.metadata import version

    requirements = model_requirements()
    assert f"kedro=={version('kedro')}" in requirements
    assert f"scikit-learn=={version('scikit-learn')}" in requirements
    assert all("==" in r for r in requirements)
    assert not any(
        r.startswith("not-a-package") for r in model_requirements(("not-a-package",))
    )
