"""The project's pipelines.

Pipelines are imported explicitly rather than discovered with
``find_pipelines``: the composed ``training`` pipeline then works with every
form of ``kedro run --pipeline(s) ...``.
"""

from kedro.pipeline import Pipeline
from kedro_mlops.serving import bundle_model

from {{ cookiecutter.python_package }}.pipelines import evaluate, feature, infer, ingest, train


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    * ``training`` (also the default): ingest, feature, train, evaluate. The
      model is logged to MLflow *together with* the ``infer`` pipeline, so the
      registered model scores raw rows exactly as batch inference does.
    * ``inference``: scores ``scoring_batch`` with the registry's champion.
    * ``monitoring``: the drift of the served model's captured traffic, window
      by window.
    * each modular pipeline by its own name.
    """
    stages = {
        "ingest": ingest.create_pipeline(),
        "feature": feature.create_pipeline(),
        "train": train.create_pipeline(),
        "evaluate": evaluate.create_pipeline(),
        "infer": infer.create_pipeline(),
    }
    training = bundle_model(
        training=stages["ingest"]
        + stages["feature"]
        + stages["train"]
        + stages["evaluate"],
        inference=stages["infer"],
        input_name="scoring_batch",
    )
    return {
        "__default__": training,
        "training": training,
        "inference": infer.create_batch_scoring_pipeline(),
        "monitoring": infer.create_monitoring_pipeline(),
        **stages,
    }
