"""Drift settings that follow the schema: which column is the model's output,
and which ones (the id and the target) are never compared.

Example:
    >>> schema = {
    ...     "id_column": "account_id",
    ...     "target": {"column": "cancelled", "positive_class": True},
    ...     "numeric": {"seats": {}},
    ... }
    >>> settings = drift_settings({"on_drift": "flag"}, schema)
    >>> settings.prediction_column, settings.ignore_columns, settings.on_drift
    ('cancelled_probability', ['account_id', 'cancelled'], 'flag')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

# Module level, not lazily: Kedro reads a node function's type hints.
from kedro_mlops.config import MlopsConfigError
from kedro_mlops.drift.config import DriftConfig
from kedro_mlops.strict import describe_errors

from .model import parse_schema


def drift_settings(
    drift: DriftConfig | Mapping[str, Any] | None,
    schema: Mapping[str, Any],  # or a TableSchema; one type for Kedro (validate.py)
) -> DriftConfig:
    """``drift`` (the ``drift:`` section of ``mlops.yml``) with the schema's
    columns: the prediction column is ``<target>_probability``, and the id and
    target columns are added to ``ignore_columns``.

    Args:
        drift: the drift settings (in a Kedro pipeline: ``mlops_drift_config``).
        schema: the ``schema`` block of ``parameters.yml`` or a parsed one.

    Raises:
        SchemaConfigError: the schema is wrong.
        MlopsConfigError: ``drift.prediction_column`` names another column than
            the schema's, or the result contradicts the other drift settings.
    """
    parsed = parse_schema(schema)
    if drift is None:
        drift = DriftConfig()
    elif not isinstance(drift, DriftConfig):
        drift = DriftConfig.model_validate(drift)
    predicted = parsed.probability_column
    if drift.prediction_column not in (None, predicted):
        raise MlopsConfigError(
            f"drift.prediction_column is '{drift.prediction_column}' in mlops.yml, but "
            f"the predictions of the schema's target are '{predicted}'. Remove "
            "prediction_column from mlops.yml: it follows schema.target.column in "
            "parameters.yml."
        )
    ignored = [parsed.id_column, parsed.target.column]
    settings = drift.model_dump()
    settings["prediction_column"] = predicted
    settings["ignore_columns"] = [
        *drift.ignore_columns,
        *(c for c in ignored if c not in drift.ignore_columns),
    ]
    try:
        return DriftConfig.model_validate(settings)
    except ValidationError as exc:
        lines = describe_errors(exc, DriftConfig)
        raise MlopsConfigError(
            "The drift settings of mlops.yml do not fit the schema's columns:\n"
            + "\n".join(f"  - {line}" for line in lines)
        ) from None
