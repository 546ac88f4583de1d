"""How a model bundled with its inference pipeline is logged: signature and requirements.

**Signatures that accept missing values in integer columns.**

kedro-mlflow's ``signature: "auto"`` infers the signature of a model bundled by
``pipeline_ml_factory`` from the inference input as loaded at training time. A
column without missing values there is recorded as ``long``, and MLflow then
refuses a later batch with one missing value in it ("Incompatible input types").
Recording it as ``double`` does not help: MLflow refuses int64 input for a
``double`` column (the conversion can lose precision). kedro-mlops infers the
same signature and records integer columns as ``any``: MLflow still checks that
every column is there, and the model's own validation checks the values.

**Pinned requirements.** :func:`model_requirements` lists the distributions a
bundled model needs, pinned to this environment's versions, so that MLflow does
not infer them at every training run.

Example:
    >>> from mlflow.models import ModelSignature
    >>> from mlflow.types.schema import ColSpec, Schema
    >>> inferred = ModelSignature(Schema([ColSpec("long", "age"), ColSpec("double", "charges")]))
    >>> signature = nullable_integers(inferred)
    >>> [(spec["name"], spec["type"]) for spec in signature.inputs.to_dict()]
    [('age', 'any'), ('charges', 'double')]
"""

from __future__ import annotations

import warnings
from typing import Any

AUTO = "auto"
_MARK = "_kedro_mlops_auto_signature"


def nullable_integers(signature: Any) -> Any:
    """Return ``signature`` with its integer input columns typed ``any``."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, DataType, Schema

    inputs = signature.inputs
    if inputs is None or not inputs.has_input_names() or inputs.is_tensor_spec():
        return signature
    columns = [
        ColSpec(AnyType(), spec.name, spec.required)
        if spec.type in (DataType.long, DataType.integer)
        else spec
        for spec in inputs.inputs
    ]
    return ModelSignature(
        inputs=Schema(columns), outputs=signature.outputs, params=signature.params
    )


def resolve_auto_signature(pipeline: Any, catalog: Any) -> bool:
    """Replace a ``pipeline_ml_factory`` pipeline's ``signature: "auto"``.

    Infers the signature as kedro-mlflow does from the inference input, with one
    request parameter, ``runner`` (default: the bundled runner's class), then
    applies :func:`nullable_integers`. The pipeline remembers that it asked for "auto",
    so every run infers again from the data of that run.

    Returns:
        Whether the pipeline's signature was set.
    """
    kwargs = getattr(pipeline, "log_model_kwargs", None)
    if not isinstance(kwargs, dict):
        return False
    if kwargs.get("signature") != AUTO and not getattr(pipeline, _MARK, False):
        return False
    from mlflow.models import infer_signature

    # Only the runner can be chosen per request. kedro-mlflow would also expose
    # every parameter of the inference pipeline, which lets a request replace
    # the validation schema or the decision threshold the model was registered
    # with. The default is the bundled runner, so that kedro-mlflow uses it.
    runner = getattr(pipeline, "kpm_kwargs", {}).get("runner")
    params = {"runner": type(runner).__name__ if runner else "SequentialRunner"}
    with warnings.catch_warnings():
        # MLflow's hint about integer columns and missing values: handled below.
        warnings.filterwarnings("ignore", message=".*integer column")
        signature = infer_signature(
            model_input=catalog.load(pipeline.input_name), params=params
        )
    kwargs["signature"] = nullable_integers(signature)
    setattr(pipeline, _MARK, True)
    return True


#: Distributions a model bundled by ``pipeline_ml_factory`` needs at load time.
MODEL_DISTRIBUTIONS = (
    "mlflow",
    "kedro",
    "kedro-datasets",
    "kedro-mlflow",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "cloudpickle",
)


def model_requirements(extra: tuple[str, ...] = ()) -> list[str]:
    """Pinned pip requirements for a logged model, read from this environment.

    Passing them to ``log_model`` spares MLflow from inferring them, which
    costs seconds per training run. Distributions that are not installed are
    left out.

    Example:
        >>> any(r.startswith("kedro==") for r in model_requirements())
        True
    """
    from importlib.metadata import PackageNotFoundError, version

    pinned = []
    for name in (*MODEL_DISTRIBUTIONS, *extra):
        try:
            pinned.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return pinned
