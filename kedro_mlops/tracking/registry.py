"""Champion/challenger promotion through MLflow registry aliases.

Every model a training run logs is registered and takes the ``challenger``
alias; it also takes ``champion`` when there is none yet, or when it beats the
current champion on the configured metric by more than the configured margin.
The deprecated registry stages are never used.

Example (against a tracking store holding a finished training run)::

    from mlflow import MlflowClient

    result = register_and_promote(
        MlflowClient(), run_id, RegistryConfig(model_name="churn_model")
    )
    result.summary()
    # 'churn_model v2 is challenger (test.roc_auc=0.8812) and now champion
    #  (was v1 at 0.8710)'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kedro_mlops.config import RegistryConfig

if TYPE_CHECKING:
    from mlflow import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"
TAG_PREFIX = "mlops.registry."
GAIN_TOLERANCE = 1e-9

logger = logging.getLogger(__name__)


class RegistryError(RuntimeError):
    """Raised when a model cannot be registered or compared."""


@dataclass(frozen=True)
class PromotionResult:
    """What happened to one newly registered model version."""

    model_name: str
    version: str
    metric: str
    value: float
    previous_champion: str | None
    previous_value: float | None
    promoted: bool

    def summary(self) -> str:
        """One line for logs and tags."""
        head = f"{self.model_name} v{self.version} is {CHALLENGER} ({self.metric}={self.value:.4f})"
        if self.previous_champion is None:
            return f"{head} and now {CHAMPION} (there was none)"
        if self.previous_value is None:
            return (
                f"{head}; {CHAMPION} stays v{self.previous_champion}, which has no "
                f"'{self.metric}' metric to compare with"
            )
        was = f"v{self.previous_champion} at {self.previous_value:.4f}"
        if self.promoted:
            return f"{head} and now {CHAMPION} (was {was})"
        return f"{head}; {CHAMPION} stays {was}"


def register_and_promote(
    client: MlflowClient, run_id: str, config: RegistryConfig
) -> PromotionResult | None:
    """Register the model logged by ``run_id`` and move the aliases.

    Args:
        client: an MLflow client on the tracking/registry store of the run.
        run_id: the finished training run.
        config: the ``registry`` section of ``mlops.yml`` (``model_name`` set).

    Returns:
        The promotion result, or ``None`` when the run logged no model (for
        example ``kedro run --pipelines train``, which has no bundled model).

    Raises:
        RegistryError: the run has no value for the configured metric.
    """
    import mlflow

    if not config.model_name:
        raise RegistryError("registry.model_name is not set in mlops.yml")
    run = client.get_run(run_id)
    models = client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}'",
    )
    if not models:
        return None
    value = run.data.metrics.get(config.metric)
    if value is None:
        logged = ", ".join(sorted(run.data.metrics)) or "none"
        raise RegistryError(
            f"Run {run_id} has no metric '{config.metric}' to compare models with "
            f"(metrics logged: {logged}). Set registry.metric in mlops.yml "
            "to one of the logged metrics."
        )
    logged_model = max(models, key=lambda m: m.creation_timestamp)  # the newest
    version = mlflow.register_model(
        f"models:/{logged_model.model_id}", config.model_name
    ).version
    client.set_registered_model_alias(config.model_name, CHALLENGER, version)

    champion = _champion(client, config.model_name)
    previous_value = (
        client.get_run(champion.run_id).data.metrics.get(config.metric)
        if champion is not None
        else None
    )
    if champion is None:
        promoted = True
    elif previous_value is None:
        promoted = False
    else:
        gain = (
            value - previous_value
            if config.greater_is_better
            else previous_value - value
        )
        # Metrics are floats: 0.81 - 0.80 is 0.010000000000000009. A gain within
        # GAIN_TOLERANCE of the margin is a tie, and a tie does not promote.
        promoted = gain - config.min_improvement > GAIN_TOLERANCE
    if promoted:
        client.set_registered_model_alias(config.model_name, CHAMPION, version)

    result = PromotionResult(
        model_name=config.model_name,
        version=str(version),
        metric=config.metric,
        value=value,
        previous_champion=None if champion is None else str(champion.version),
        previous_value=previous_value,
        promoted=promoted,
    )
    from mlflow.entities import RunTag

    tags = {
        "model_name": result.model_name,
        "version": result.version,
        "promoted": str(promoted).lower(),
        "summary": result.summary(),
    }
    client.log_batch(run_id, tags=[RunTag(TAG_PREFIX + k, v) for k, v in tags.items()])
    return result


def _champion(client: MlflowClient, model_name: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException as exc:
        if (
            exc.error_code == "RESOURCE_DOES_NOT_EXIST"
            or "not found" in str(exc).lower()
        ):
            return None
        raise
