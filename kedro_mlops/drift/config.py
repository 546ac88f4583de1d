"""Drift settings: a strict, frozen pydantic model with the defaults.

Self-contained so that it can be mounted as the ``drift:`` section of
``mlops.yml``. Unknown keys are errors; every field has a default, so an empty
mapping means "the documented defaults" (see docs/drift.md for why they are
what they are).

Example:
    >>> config = DriftConfig.model_validate(
    ...     {"columns": {"age": {"test": "psi", "threshold": 0.25}},
    ...      "ignore_columns": ["customer_id"], "on_drift": "fail"}
    ... )
    >>> config.columns["age"].test, config.thresholds.wasserstein, config.on_drift
    ('psi', 0.1, 'fail')
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from kedro_mlops.strict import StrictModel

from .errors import DriftInputError

#: The statistics a column can be judged by. ``ks`` and ``chi2`` are tests
#: (drift when the p-value is below the threshold); the others are distances
#: (drift when the distance is at or above the threshold).
TestName = Literal["ks", "chi2", "wasserstein", "jensenshannon", "psi"]
P_VALUE_TESTS: frozenset[str] = frozenset({"ks", "chi2"})
NUMERIC_TESTS: frozenset[str] = frozenset({"ks", "wasserstein", "jensenshannon", "psi"})
CATEGORICAL_TESTS: frozenset[str] = frozenset({"chi2", "jensenshannon", "psi"})


class Thresholds(StrictModel):
    """Default threshold of each statistic.

    Example:
        >>> Thresholds(ks=0.01).ks, Thresholds().psi
        (0.01, 0.2)
    """

    ks: float = Field(
        default=0.05, gt=0, lt=1, description="KS p-value below which a column drifts."
    )
    chi2: float = Field(
        default=0.05,
        gt=0,
        lt=1,
        description="Chi-square p-value below which a column drifts.",
    )
    wasserstein: float = Field(
        default=0.1,
        gt=0,
        description="Wasserstein distance, in reference standard deviations, "
        "at or above which a numeric column drifts.",
    )
    jensenshannon: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="Jensen-Shannon distance (natural log) at or above which a "
        "column drifts.",
    )
    psi: float = Field(
        default=0.2, gt=0, description="PSI at or above which a column drifts."
    )


class ColumnSettings(StrictModel):
    """Per-column override of the automatic choice.

    Example:
        >>> ColumnSettings(test="ks", threshold=0.01).threshold
        0.01
    """

    test: TestName | None = Field(
        default=None, description="Statistic that decides; none: the automatic rule."
    )
    threshold: float | None = Field(
        default=None,
        gt=0,
        description="Threshold for this column; none: the statistic's default.",
    )
    kind: Literal["numeric", "categorical"] | None = Field(
        default=None,
        description="Compare as numbers or as categories; none: from the dtype "
        "(datetime columns listed here are compared as numbers unless told).",
    )


class DriftConfig(StrictModel):
    """All drift settings (the ``drift:`` section of ``mlops.yml``).

    Example:
        >>> DriftConfig().share_threshold, DriftConfig().on_drift
        (0.5, 'warn')
    """

    thresholds: Thresholds = Thresholds()
    columns: dict[str, ColumnSettings] = Field(
        default_factory=dict, description="Per-column overrides, by column name."
    )
    ignore_columns: list[str] = Field(
        default_factory=list, description="Columns never compared (ids, targets)."
    )
    share_threshold: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="The dataset drifts when at least this share of the compared "
        "feature columns drift.",
    )
    prediction_column: str | None = Field(
        default=None,
        description="Model output column: compared like a feature, reported "
        "separately and not counted in the feature share.",
    )
    on_drift: Literal["fail", "warn", "flag"] = Field(
        default="warn",
        description="fail: raise; warn: log a warning; flag: only record it.",
    )
    max_categories: int = Field(
        default=1000,
        ge=2,
        description="Most frequent reference categories kept per column; rarer "
        "ones are grouped into one 'other' category.",
    )

    @model_validator(mode="after")
    def _no_contradictions(self) -> DriftConfig:
        both = sorted(set(self.columns) & set(self.ignore_columns))
        if both:
            raise ValueError(
                f"columns {both} are both configured under 'columns' and listed in "
                "'ignore_columns'; remove them from one of the two"
            )
        if self.prediction_column in self.ignore_columns:
            raise ValueError(
                f"prediction_column {self.prediction_column!r} is listed in "
                "'ignore_columns'; remove it from there or unset prediction_column"
            )
        return self


def check_test_fits(column: str, kind: str, settings: ColumnSettings | None) -> None:
    """Raise a clear error when a configured test does not apply to the column's kind.

    Example:
        >>> check_test_fits("age", "numeric", ColumnSettings(test="chi2"))
        Traceback (most recent call last):
        ...
        kedro_mlops.drift.errors.DriftInputError: Column 'age' is numeric but drift.columns.age.test is 'chi2'; use one of jensenshannon, ks, psi, wasserstein (or kind: categorical).
    """
    if settings is None:
        return
    allowed = NUMERIC_TESTS if kind == "numeric" else CATEGORICAL_TESTS
    if settings.test is not None and settings.test not in allowed:
        other = "categorical" if kind == "numeric" else "numeric"
        raise DriftInputError(
            f"Column '{column}' is {kind} but drift.columns.{column}.test is "
            f"'{settings.test}'; use one of {', '.join(sorted(allowed))} "
            f"(or kind: {other})."
        )
    if (
        settings.test in P_VALUE_TESTS
        and settings.threshold is not None
        and settings.threshold >= 1
    ):
        raise DriftInputError(
            f"drift.columns.{column}.threshold is {settings.threshold}, but "
            f"'{settings.test}' is judged by a p-value: use a level below 1 (say 0.01)."
        )
