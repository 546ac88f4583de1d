"""A tiny pyfunc model to log in test runs (the registry needs a logged model)."""

from __future__ import annotations

from typing import Any


def log_constant_model() -> Any:
    """Log a model that predicts 0.5 for every row into the active MLflow run;
    returns MLflow's ModelInfo."""
    import mlflow
    import mlflow.pyfunc

    class Constant(mlflow.pyfunc.PythonModel):
        # typed, or MLflow warns at every subclass (and its filter beats ours)
        def predict(
            self, context, model_input: list[float], params=None
        ) -> list[float]:
            return [0.5] * len(model_input)

    return mlflow.pyfunc.log_model(
        name="model", python_model=Constant(), pip_requirements=[]
    )
