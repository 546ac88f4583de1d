"""The ``mlops.yml`` configuration: strict pydantic models with the defaults.

Every project environment may carry a ``conf/<env>/mlops.yml``; a missing file
means "all defaults". Unknown keys are errors, so a typo never passes silently.

Example:
    >>> config = MlopsConfig.model_validate({"registry": {"metric": "test.f1"}})
    >>> config.registry.metric, config.registry.greater_is_better
    ('test.f1', True)
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, field_validator

from kedro_mlops.drift.config import DriftConfig
from kedro_mlops.strict import StrictModel, describe_errors

CONFIG_KEY = "mlops"
CONFIG_PATTERNS = ["mlops*", "mlops*/**", "**/mlops*"]
#: The MLflow metric that holds the rows of the validated training table
#: (logged by the plugin when ``validate_training_table`` has run).
TRAINING_ROWS_METRIC = "training_rows"


class MlopsConfigError(ValueError):
    """Raised when ``mlops.yml`` does not match the expected schema."""


class GateRule(StrictModel):
    """One more condition for a new model to take ``champion``: its ``metric``
    may be worse than the champion's by at most ``max_loss``.

    Example:
        >>> GateRule(metric="test.brier_score", greater_is_better=False).max_loss
        0.0
    """

    metric: str = Field(
        min_length=1,
        description="MLflow metric key of the training run (e.g. test.brier_score).",
    )
    greater_is_better: bool = Field(
        default=True, description="false for a loss or an error (test.brier_score)."
    )
    max_loss: float = Field(
        default=0.0,
        ge=0.0,
        description="How much worse than the champion's value it may be.",
    )


class SliceGate(StrictModel):
    """No slice the new model's run flags (``quality/slices.json``) may be
    worse than the champion's same slice by more than ``max_loss``."""

    max_loss: float = Field(
        default=0.0,
        ge=0.0,
        description="How much worse than the champion's same slice a flagged slice may be.",
    )
    greater_is_better: bool = Field(
        default=True,
        description="The direction of the slices' metric (slices.json's 'metric').",
    )


class RegistryConfig(StrictModel):
    """Champion/challenger promotion through MLflow registry aliases.

    Every model that a training run logs is registered under ``model_name`` and
    gets the ``challenger`` alias. It also takes the ``champion`` alias when
    there is no champion yet, or when its ``metric`` beats the champion's by
    more than ``min_improvement``. A model trained on fewer than
    ``min_training_rows`` rows is not registered at all. The optional gate
    (``rules``, ``slices``) holds back a model that wins on ``metric`` but
    loses elsewhere.
    """

    enabled: bool = True
    model_name: str | None = Field(
        default=None,
        description="Registered model name; defaults to the project's package name.",
    )
    metric: str = Field(
        default="test.roc_auc",
        description="MLflow metric key that decides the promotion.",
    )
    greater_is_better: bool = True
    min_improvement: float = Field(
        default=0.0,
        ge=0.0,
        description="How much the challenger must beat the champion by (strictly).",
    )
    min_training_rows: int = Field(
        default=100,
        ge=0,
        description=(
            "Fewest rows of the validated training table for a model to be "
            "registered; 0 turns the check off."
        ),
    )
    rules: list[GateRule] = Field(
        default_factory=list,
        description=(
            "More metrics the new model must not lose on against the champion, "
            "checked in order once it beats the champion on metric."
        ),
    )
    slices: SliceGate | None = Field(
        default=None,
        description=(
            "Flagged slices (quality/slices.json) compared with the champion's "
            "same slices; null: not compared."
        ),
    )

    def gate_metrics(self) -> list[str]:
        """The metrics the gate reads from a run (``slices.flagged`` says that
        the run logged its slices)."""
        names = [rule.metric for rule in self.rules]
        return names + (["slices.flagged"] if self.slices is not None else [])


class CaptureConfig(StrictModel):
    """``kedro mlops serve``: keep every scored request, with its predictions.

    The rows go to Parquet files under ``path`` (hourly folders), written by a
    background thread of each server process; requests never wait for them.
    """

    enabled: bool = False
    path: str = Field(
        default="data/09_monitoring/captured",
        min_length=1,
        description=(
            "Folder of the captured files: relative to the project root, or any "
            "fsspec URL (s3://bucket/captured, memory://captured)."
        ),
    )
    max_queue_rows: int = Field(
        default=100_000,
        gt=0,
        description=(
            "Rows held in memory per server process; a request that does not "
            "fit is dropped (and counted)."
        ),
    )
    flush_seconds: float = Field(
        default=5.0, gt=0, description="Write what waits at least this often."
    )
    file_rows: int = Field(
        default=50_000, gt=0, description="Write a file as soon as this many rows wait."
    )


class ServingConfig(StrictModel):
    """``kedro mlops serve``: what one request may be, and request capture.

    A request larger than ``max_request_mb`` is refused with HTTP 413 before it
    is read; ``kedro mlops serve --max-request-mb`` overrides it.
    """

    max_request_mb: float = Field(
        default=16.0,
        gt=0,
        description="Largest request body the model server reads, in MB (10^6 bytes).",
    )
    capture: CaptureConfig = CaptureConfig()


class MonitoringConfig(StrictModel):
    """The ``monitoring`` pipeline: drift of the served model's captured traffic.

    The captured requests are grouped into windows of ``window_hours`` hours
    (aligned on UTC midnight); each run looks at the last ``windows`` complete
    windows. A window with fewer than ``min_rows`` rows is listed but not
    compared. The HTML report's trend shows the last ``trend_windows`` windows
    and the ``trend_columns`` most drifted columns.

    Example:
        >>> MonitoringConfig(window_hours=6).windows
        24
    """

    window_hours: int = Field(
        default=1,
        ge=1,
        le=24,
        description="Hours per window; must divide 24 so that windows start at fixed hours.",
    )
    windows: int = Field(
        default=24, ge=1, le=10_000, description="Complete windows each run looks at."
    )
    min_rows: int = Field(
        default=100,
        ge=1,
        description="Fewest rows for a window to be compared with the reference.",
    )
    trend_windows: int = Field(
        default=24, ge=2, description="Windows shown in the report's trend."
    )
    trend_columns: int = Field(
        default=5, ge=1, description="Columns shown in the report's trend."
    )

    @field_validator("window_hours")
    @classmethod
    def _divides_a_day(cls, hours: int) -> int:
        if 24 % hours:
            raise ValueError(
                "must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24), so that every day's "
                "windows start at the same hours"
            )
        return hours


class MlopsConfig(StrictModel):
    """The whole ``mlops.yml`` file."""

    registry: RegistryConfig = RegistryConfig()
    drift: DriftConfig = DriftConfig()
    serving: ServingConfig = ServingConfig()
    monitoring: MonitoringConfig = MonitoringConfig()


def parse_config(raw: dict[str, Any] | None, source: str = "mlops.yml") -> MlopsConfig:
    """Validate a loaded ``mlops.yml`` mapping, with errors that name the key.

    Args:
        raw: the mapping read from the YAML file(s); ``None`` means defaults.
        source: where the mapping came from, for error messages.

    Raises:
        MlopsConfigError: a key is unknown or a value has the wrong type.

    Example:
        >>> parse_config({"registry": {"metrc": "f1"}})
        Traceback (most recent call last):
        ...
        kedro_mlops.config.MlopsConfigError: Invalid mlops.yml:
          - registry.metrc: unknown key (allowed: enabled, greater_is_better, metric, min_improvement, min_training_rows, model_name, rules, slices)
    """
    try:
        return MlopsConfig.model_validate(raw or {})
    except ValidationError as exc:
        lines = describe_errors(exc, MlopsConfig)
        raise MlopsConfigError(
            f"Invalid {source}:\n" + "\n".join(f"  - {line}" for line in lines)
        ) from None


def load_config(
    config_loader: Any, source: str = "mlops.yml", package_name: str | None = None
) -> MlopsConfig:
    """Read ``mlops.yml`` through a Kedro config loader and validate it.

    A project without the file gets the defaults. An environment's file is
    merged key by key over ``conf/base/mlops.yml`` (a "soft" merge, where Kedro
    would replace whole top-level sections), so ``conf/prod/mlops.yml`` may hold
    just ``registry: {min_improvement: 0.01}``. Without a
    ``registry.model_name``, the model is named after ``package_name``.
    """
    from kedro.config import MissingConfigException

    patterns = config_loader.config_patterns
    if CONFIG_KEY not in patterns:
        patterns[CONFIG_KEY] = list(CONFIG_PATTERNS)
    strategies = getattr(config_loader, "merge_strategy", None)
    if isinstance(strategies, dict):
        strategies.setdefault(CONFIG_KEY, "soft")
    try:
        raw = config_loader[CONFIG_KEY]
    except MissingConfigException:
        raw = {}
    config = parse_config(raw, source)
    if config.registry.model_name is None and package_name:
        registry = config.registry.model_copy(update={"model_name": package_name})
        config = config.model_copy(update={"registry": registry})
    return config


def project_config(context: Any) -> MlopsConfig:
    """``mlops.yml`` of the project a Kedro context belongs to.

    What the plugin's hooks and the ``kedro mlops`` commands read, so that they
    agree on every setting, the registered model's name first (the project's
    package name when ``registry.model_name`` is not set).
    """
    package_name = getattr(context, "_package_name", None)
    if not package_name:
        from kedro.framework.project import PACKAGE_NAME

        package_name = PACKAGE_NAME
    return load_config(
        context.config_loader,
        source=f"mlops.yml (conf/base merged with conf/{context.env or 'local'})",
        package_name=package_name,
    )
