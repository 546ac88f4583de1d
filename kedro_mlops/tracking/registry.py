"""Champion/challenger promotion through MLflow registry aliases.

Every model a training run logs is registered and takes the ``challenger``
alias; it also takes ``champion`` when there is none yet, or when it beats the
current champion on the configured metric by more than the configured margin,
and passes the optional gate (``registry.rules``, ``registry.slices``:
:mod:`kedro_mlops.quality.gate`), whose first failing rule keeps the champion.
A model trained on fewer rows than ``registry.min_training_rows`` is refused:
it is not registered. The deprecated registry stages are never used. On a
sqlite store, one registration and comparison runs at a time (the store's lock
file): two training runs that finish together end with one champion, the
better one.

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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_mlops.config import TRAINING_ROWS_METRIC, RegistryConfig
from kedro_mlops.quality.gate import (
    SLICES_RULE,
    RuleOutcome,
    metric_rule,
    slice_rule,
)
from kedro_mlops.quality.slices import ARTIFACT as SLICES_ARTIFACT
from kedro_mlops.tracking.store import registry_lock

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
    """What happened to one newly registered model version, or why a model was
    refused (``refused`` set, ``version`` empty: nothing was registered)."""

    model_name: str
    version: str
    metric: str
    value: float | None
    previous_champion: str | None
    previous_value: float | None
    promoted: bool
    refused: str | None = None
    #: the gate's rules that were checked, in order (the last one decided
    #: when it failed); empty without a gate, or without a champion to beat
    gate: tuple[RuleOutcome, ...] = ()

    @property
    def decided_by(self) -> str:
        """The setting that decided: ``registry.min_training_rows``,
        ``registry.metric``, ``registry.rules[<metric>]`` or ``registry.slices``."""
        if self.refused is not None:
            return "registry.min_training_rows"
        failed = self.gate_failure
        if failed is None:
            return "registry.metric"
        if failed.rule == SLICES_RULE:
            return "registry.slices"
        return f"registry.rules[{failed.rule}]"

    @property
    def gate_failure(self) -> RuleOutcome | None:
        """The gate's rule that kept the champion, if one did."""
        return next((o for o in self.gate if not o.passed), None)

    def summary(self) -> str:
        """One line for logs and tags."""
        if self.refused is not None:
            return f"{self.model_name}: the new model is not registered: {self.refused}"
        value = "none" if self.value is None else f"{self.value:.4f}"
        head = (
            f"{self.model_name} v{self.version} is {CHALLENGER} ({self.metric}={value})"
        )
        if self.previous_champion is None:
            return f"{head} and now {CHAMPION} (there was none)"
        if self.previous_value is None:
            return (
                f"{head}; {CHAMPION} stays v{self.previous_champion}, which has no "
                f"'{self.metric}' metric to compare with"
            )
        return head + self._against(f"v{self.previous_champion}", self.previous_value)

    def _against(self, champion: str, value: float) -> str:
        """The summary's end, once both versions have a value."""
        was = f"{champion} at {value:.4f}"
        failed = self.gate_failure
        if failed is not None:
            return (
                f"; {CHAMPION} stays {was}: {self.decided_by} decided: {failed.reason}"
            )
        if self.promoted and self.gate:
            passed = ", ".join(o.rule for o in self.gate)
            return f" and now {CHAMPION} (was {was}; gate passed: {passed})"
        if self.promoted:
            return f" and now {CHAMPION} (was {was})"
        return f"; {CHAMPION} stays {was}"


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
        A model trained on fewer rows than ``config.min_training_rows`` (the
        run's ``training_rows`` metric) is refused: the result says why, and
        nothing is registered.

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
    refused = _refusal(run.data.metrics, config)
    if refused is not None:
        result = PromotionResult(
            model_name=config.model_name,
            version="",
            metric=config.metric,
            value=run.data.metrics.get(config.metric),
            previous_champion=None,
            previous_value=None,
            promoted=False,
            refused=refused,
        )
        _tag(client, run_id, result)
        return result
    value = run.data.metrics.get(config.metric)
    if value is None:
        logged = ", ".join(sorted(run.data.metrics)) or "none"
        raise RegistryError(
            f"Run {run_id} has no metric '{config.metric}' to compare models with "
            f"(metrics logged: {logged}). Set registry.metric in mlops.yml "
            "to one of the logged metrics."
        )
    _require_gate_metrics(run_id, run.data.metrics, config)
    logged_model = max(models, key=lambda m: m.creation_timestamp)  # the newest
    # One registration and comparison at a time: two runs finishing together
    # must not both read "no champion", or both beat the same old one.
    with registry_lock(mlflow.get_registry_uri()):
        result = _register_and_compare(
            client,
            f"models:/{logged_model.model_id}",
            value,
            config.model_name,
            config,
            run_id=run_id,
        )
    _tag(client, run_id, result)
    return result


def _register_and_compare(
    client: MlflowClient,
    model_uri: str,
    value: float,
    name: str,
    config: RegistryConfig,
    *,
    run_id: str,
) -> PromotionResult:
    import mlflow

    version = mlflow.register_model(model_uri, name).version
    client.set_registered_model_alias(name, CHALLENGER, version)

    champion = _champion(client, name)
    champion_metrics = (
        client.get_run(champion.run_id).data.metrics if champion is not None else {}
    )
    previous_value = champion_metrics.get(config.metric)
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
    gate: tuple[RuleOutcome, ...] = ()
    if promoted and champion is not None:
        gate = _gate(client, run_id, champion.run_id, champion_metrics, config)
        promoted = all(outcome.passed for outcome in gate)
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, version)

    return PromotionResult(
        model_name=name,
        version=str(version),
        metric=config.metric,
        value=value,
        previous_champion=None if champion is None else str(champion.version),
        previous_value=previous_value,
        promoted=promoted,
        gate=gate,
    )


def _gate(
    client: MlflowClient,
    run_id: str,
    champion_run_id: str,
    champion_metrics: Mapping[str, float],
    config: RegistryConfig,
) -> tuple[RuleOutcome, ...]:
    """The gate's rules in order, up to the first that fails."""
    if not config.rules and config.slices is None:
        return ()
    metrics = client.get_run(run_id).data.metrics
    outcomes = []
    for rule in config.rules:
        outcomes.append(metric_rule(rule, metrics, champion_metrics))
        if not outcomes[-1].passed:
            return tuple(outcomes)
    if config.slices is not None:
        outcomes.append(
            slice_rule(
                config.slices,
                _run_json(client, run_id, SLICES_ARTIFACT),
                _run_json(client, champion_run_id, SLICES_ARTIFACT),
            )
        )
    return tuple(outcomes)


def _run_json(client: MlflowClient, run_id: str, path: str) -> Any:
    """A JSON artifact of a run, or ``None`` when the run did not log it."""
    import tempfile
    from pathlib import Path

    from kedro_mlops.quality.card import RunFiles

    artifact_uri = client.get_run(run_id).info.artifact_uri
    with tempfile.TemporaryDirectory() as local:
        try:
            return RunFiles(str(artifact_uri), Path(local)).json(path)
        except ValueError as error:
            raise RegistryError(
                f"{path} of run {run_id} is not valid JSON ({error}); the "
                "promotion gate's registry.slices reads it. The champion alias "
                "did not move: fix what logs the file, or remove registry.slices."
            ) from None


def _gate_sources(config: RegistryConfig) -> dict[str, str]:
    """Each metric the gate reads, with the setting that names it."""
    sources = {rule.metric: "registry.rules" for rule in config.rules}
    if config.slices is not None:
        sources.setdefault("slices.flagged", "registry.slices")
    return sources


def _require_gate_metrics(
    run_id: str, metrics: Mapping[str, float], config: RegistryConfig
) -> None:
    missing = {
        name: source
        for name, source in _gate_sources(config).items()
        if name not in metrics
    }
    if missing:
        named = ", ".join(f"'{n}' ({s})" for n, s in missing.items())
        logged = ", ".join(sorted(metrics)) or "none"
        raise RegistryError(
            f"Run {run_id} has no metric {named} for the promotion gate of "
            f"mlops.yml (metrics logged: {logged}). Name a logged metric, or "
            "remove the rule."
        )


def check_gate_metrics(client: MlflowClient, config: RegistryConfig) -> None:
    """Before training: stop when the gate names a metric that the model's
    registered runs never logged.

    What a run logs is known from the runs of the versions that hold the
    ``champion`` and ``challenger`` aliases (the last models registered):
    a metric neither of them has is a misspelt name, or one the project's
    pipelines do not log. Before the first registration there is nothing to
    compare with; the new run's own metrics are checked when it registers.

    Raises:
        RegistryError: naming the rule, its metric, and the logged metrics.
    """
    sources = _gate_sources(config)
    if not sources or not config.model_name:
        return
    logged: set[str] = set()
    seen: dict[str, list[str]] = {}  # version -> its aliases
    for alias in (CHAMPION, CHALLENGER):
        version = _by_alias(client, config.model_name, alias)
        if version is not None and version.run_id:
            logged |= set(client.get_run(version.run_id).data.metrics)
            seen.setdefault(str(version.version), []).append(alias)
    missing = {n: s for n, s in sources.items() if n not in logged}
    if not seen or not missing:
        return
    named = ", ".join(f"'{n}' ({s})" for n, s in missing.items())
    versions = " and ".join(f"v{v} ({', '.join(a)})" for v, a in seen.items())
    raise RegistryError(
        f"The promotion gate in mlops.yml reads metric {named}, which the runs "
        f"of {config.model_name} {versions} never "
        f"logged (they logged: {', '.join(sorted(logged)) or 'none'}). Name a "
        "logged metric, or remove the rule."
    )


def _refusal(metrics: dict[str, float], config: RegistryConfig) -> str | None:
    """Why a run's model must not be registered, or ``None``."""
    rows = metrics.get(TRAINING_ROWS_METRIC)
    if rows is not None and rows < config.min_training_rows:
        return (
            f"it was trained on {rows:.0f} rows, fewer than "
            f"registry.min_training_rows ({config.min_training_rows}) in mlops.yml. "
            "Train on more data, or lower the setting."
        )
    return None


def _tag(client: MlflowClient, run_id: str, result: PromotionResult) -> None:
    from mlflow.entities import RunTag

    tags = {
        "model_name": result.model_name,
        "version": result.version,
        "promoted": str(result.promoted).lower(),
        "summary": result.summary(),
        "decided_by": result.decided_by,
    }
    if result.gate:
        tags["gate"] = "; ".join(
            f"{o.rule}: {'passed' if o.passed else 'failed'} ({o.reason})"
            for o in result.gate
        )
    if result.refused is not None:
        tags["refused"] = result.refused
    client.log_batch(
        run_id,
        tags=[RunTag(TAG_PREFIX + k, v) for k, v in tags.items() if v],
    )


#: The catalog types that load a registered model by name and alias.
REGISTRY_DATASETS = ("MlflowModelRegistryDataset", "SparkModelRegistryDataset")


def check_catalog_model_name(
    conf_catalog: Mapping[str, Any], model_name: str | None
) -> None:
    """Stop when a catalog dataset loads the champion (or the challenger) of
    another model than ``registry.model_name``: batch inference would score
    with a model that training does not register, with no other sign.

    Args:
        conf_catalog: the catalog's configuration, resolved.
        model_name: ``registry.model_name`` of ``mlops.yml``.

    Raises:
        RegistryError: naming both names and the files that hold them.

    Example:
        >>> entry = {"type": "kedro_mlflow.io.models.MlflowModelRegistryDataset",
        ...          "model_name": "churn_model", "alias": "champion"}
        >>> check_catalog_model_name({"champion_model": entry}, "churn_v2")
        Traceback (most recent call last):
        ...
        kedro_mlops.tracking.registry.RegistryError: The model has two names: registry.model_name is 'churn_v2' in mlops.yml, but the catalog dataset 'champion_model' loads the champion of 'churn_model' (catalog.yml). Give both the same name (the starter names it once, as registered_model_name in conf/base/globals.yml).
    """
    for dataset, entry in conf_catalog.items():
        if not isinstance(entry, Mapping) or "{" in dataset:  # a factory pattern
            continue
        kind = str(entry.get("type", "")).rsplit(".", 1)[-1]
        alias = entry.get("alias")
        loaded = entry.get("model_name")
        if kind in REGISTRY_DATASETS and alias in (CHAMPION, CHALLENGER):
            if loaded != model_name:
                raise RegistryError(
                    f"The model has two names: registry.model_name is "
                    f"'{model_name}' in mlops.yml, but the catalog dataset "
                    f"'{dataset}' loads the {alias} of '{loaded}' (catalog.yml). "
                    "Give both the same name (the starter names it once, as "
                    "registered_model_name in conf/base/globals.yml)."
                )


def _champion(client: MlflowClient, model_name: str):
    return _by_alias(client, model_name, CHAMPION)


def _by_alias(client: MlflowClient, model_name: str, alias: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        if (
            exc.error_code == "RESOURCE_DOES_NOT_EXIST"
            or "not found" in str(exc).lower()
        ):
            return None
        raise
