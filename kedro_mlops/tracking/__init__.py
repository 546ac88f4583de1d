"""Tracking: where runs are stored, how a model is logged, and the registry flow.

* :mod:`~kedro_mlops.tracking.uri`: the ``${mlops.*}`` resolvers of
  ``mlflow.yml`` (the embedded store at the project root, or
  ``MLFLOW_TRACKING_URI``);
* :mod:`~kedro_mlops.tracking.model_logging`: the signature and pinned
  requirements of a bundled model;
* :mod:`~kedro_mlops.tracking.registry`: champion/challenger promotion with
  MLflow registry aliases.

Importing it is cheap: MLflow is imported inside the functions.

Example:
    >>> from kedro_mlops.tracking import CHAMPION, CHALLENGER
    >>> CHAMPION, CHALLENGER
    ('champion', 'challenger')
"""

from kedro_mlops.tracking.model_logging import model_requirements
from kedro_mlops.tracking.registry import (
    CHALLENGER,
    CHAMPION,
    PromotionResult,
    RegistryError,
    register_and_promote,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "PromotionResult",
    "RegistryError",
    "model_requirements",
    "register_and_promote",
]
