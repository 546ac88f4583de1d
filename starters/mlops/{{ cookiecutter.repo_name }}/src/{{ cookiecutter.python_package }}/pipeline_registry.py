"""The project's pipelines.

Pipelines are imported explicitly rather than discovered with
``find_pipelines``: the composed ``training`` pipeline then works with every
form of ``kedro run --pipeline(s) ...``.
"""

from pathlib import Path

from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory
from kedro_mlops.registry import model_requirements
from kedro_mlops.serving import ServingRunner

from {{ cookiecutter.python_package }}.pipelines import evaluate, feature, infer, ingest, train


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    * ``training`` (also the default): ingest, feature, train, evaluate. The
      model is logged to MLflow *together with* the ``infer`` pipeline, so the
      registered model scores raw rows exactly as batch inference does.
    * ``inference``: scores ``scoring_batch`` with the registry's champion.
    * each modular pipeline by its own name.
    """
    stages = {
        "ingest": ingest.create_pipeline(),
        "feature": feature.create_pipeline(),
        "train": train.create_pipeline(),
        "evaluate": evaluate.create_pipeline(),
        "infer": infer.create_pipeline(),
    }
    training = pipeline_ml_factory(
        training=stages["ingest"]
        + stages["feature"]
        + stages["train"]
        + stages["evaluate"],
        inference=stages["infer"],
        input_name="scoring_batch",
        # Runs the bundled pipeline per request without Kedro's run logging, and
        # turns a rejected input into an HTTP 400 with the node's message.
        kpm_kwargs={"runner": ServingRunner()},
        log_model_kwargs={
            "name": "model",
            "signature": "auto",
            # Listing the requirements spares MLflow seconds of inferring them.
            "pip_requirements": model_requirements(),
            # Bundle this package: the model's nodes import it, and it then
            # loads (and serves) where the project is not installed.
            "code_paths": [str(Path(__file__).resolve().parent)],
        },
    )
    return {
        "__default__": training,
        "training": training,
        "inference": infer.create_batch_scoring_pipeline(),
        **stages,
    }
