"""The typed drift report: JSON (and back) and MLflow metrics.

A report is data, so that it can be stored, compared and read back;
:mod:`kedro_mlops.drift.html` renders it as a page.

Example:
    >>> import pandas as pd
    >>> from kedro_mlops.drift import detect_drift
    >>> reference = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 50})
    >>> report = detect_drift(reference, reference + 10)
    >>> report.dataset_drift, report.drifted_columns
    (True, ['x'])
    >>> DriftReport.from_json(report.to_json()) == report
    True
    >>> report.to_mlflow_metrics()["drift.dataset.share"]
    1.0
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .config import DriftConfig, TestName

ColumnStatus = Literal[
    "compared",
    "dtype_changed",
    "all_missing",
    "all_missing_reference",
    "all_missing_current",
]


class _Model(BaseModel):
    # Non-finite floats (a constant reference that changed has an infinite
    # normalised distance) are written as the strings "Infinity"/"NaN".
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="strings")


class ColumnStatistics(_Model):
    """Every statistic computed for a column (``None`` where it does not apply).

    Example:
        >>> ColumnStatistics(ks_statistic=0.2, ks_p_value=0.01).wasserstein is None
        True
    """

    ks_statistic: float | None = None
    ks_p_value: float | None = Field(
        default=None,
        description="Computed when KS decides the column, or when both samples "
        "have at most 10,000 values (then it is scipy's exact one).",
    )
    ks_error_bound: float | None = Field(
        default=None,
        description="How much the KS statistic may exceed the one computed from "
        "the summary (0: exact).",
    )
    wasserstein: float | None = Field(
        default=None, description="In reference standard deviations."
    )
    wasserstein_error_bound: float | None = None
    psi: float | None = None
    jensenshannon: float | None = None
    chi2_statistic: float | None = None
    chi2_p_value: float | None = None


class Distribution(_Model):
    """Reference and current shares per bin (numeric) or category, for display.

    Example:
        >>> Distribution(kind="categories", labels=["a"], reference=[1.0], current=[1.0]).kind
        'categories'
    """

    kind: Literal["histogram", "categories"]
    labels: list[str]
    reference: list[float]
    current: list[float]


class ColumnDrift(_Model):
    """The verdict on one column, with the evidence.

    ``score`` is what was compared with ``threshold``: a p-value (drift when
    below) for ``ks``/``chi2``, a distance (drift when at or above) otherwise.
    ``severity`` orders columns: 1 is exactly at the threshold, larger is worse.

    Example:
        >>> column = ColumnDrift(column="x", kind="numeric", test="ks", score=0.01,
        ...                      threshold=0.05, drifted=True, severity=1.54)
        >>> column.drifted, column.missing_share_change
        (True, 0.0)
    """

    column: str
    kind: Literal["numeric", "categorical", "boolean"]
    role: Literal["feature", "prediction"] = "feature"
    status: ColumnStatus = "compared"
    test: TestName | None = None
    automatic: bool = Field(
        default=True, description="The test was chosen by the automatic rule."
    )
    score: float | None = None
    threshold: float | None = None
    drifted: bool
    severity: float = 0.0
    n_reference: int = Field(default=0, description="Values compared (not missing).")
    n_current: int = 0
    missing_share_reference: float = 0.0
    missing_share_current: float = 0.0
    infinite_reference: int = 0
    infinite_current: int = 0
    unseen_count: int = Field(
        default=0, description="Current values of categories absent from the reference."
    )
    unseen_examples: dict[str, int] = Field(default_factory=dict)
    statistics: ColumnStatistics = ColumnStatistics()
    distribution: Distribution | None = None
    message: str | None = None

    @property
    def missing_share_change(self) -> float:
        """Current minus reference share of missing values."""
        return self.missing_share_current - self.missing_share_reference


class DriftReport(_Model):
    """The whole drift check: dataset decision, per-column verdicts, settings.

    Example:
        >>> report = DriftReport(dataset_drift=False, drift_share=0.0,
        ...                      share_threshold=0.5, columns=[], rows_reference=1,
        ...                      rows_current=1)
        >>> report.drift_detected
        False
    """

    dataset_drift: bool
    drift_share: float = Field(
        description="Share of compared feature columns that drift."
    )
    share_threshold: float
    columns: list[ColumnDrift] = Field(
        description="Feature columns, most severe first."
    )
    prediction: ColumnDrift | None = None
    skipped: dict[str, str] = Field(
        default_factory=dict, description="Columns not compared, with the reason."
    )
    new_columns: list[str] = Field(
        default_factory=list,
        description="Columns of the current data absent from the reference.",
    )
    rows_reference: int
    rows_current: int
    config: DriftConfig = DriftConfig()

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the drifted feature columns, most severe first."""
        return [c.column for c in self.columns if c.drifted]

    @property
    def drift_detected(self) -> bool:
        """Dataset drift, or drift of the prediction column."""
        return self.dataset_drift or bool(self.prediction and self.prediction.drifted)

    def column(self, name: str) -> ColumnDrift:
        """The verdict on one column (feature or prediction), by name.

        Raises:
            KeyError: the column was not compared.

        Example:
            >>> DriftReport(dataset_drift=False, drift_share=0.0, share_threshold=0.5,
            ...             columns=[], rows_reference=1, rows_current=1).column("x")
            Traceback (most recent call last):
            ...
            KeyError: "column 'x' was not compared; compared: []"
        """
        for column in [*self.columns, *([self.prediction] if self.prediction else [])]:
            if column.column == name:
                return column
        compared = [c.column for c in self.columns]
        raise KeyError(f"column {name!r} was not compared; compared: {compared}")

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON (non-finite numbers as the strings "Infinity"/"NaN").

        Example:
            >>> DriftReport(dataset_drift=False, drift_share=0.0, share_threshold=0.5,
            ...             columns=[], rows_reference=1, rows_current=1,
            ...             ).to_json(indent=None)[:40]
            '{"dataset_drift":false,"drift_share":0.0'
        """
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> DriftReport:
        """Read a report written by :meth:`to_json`.

        Example:
            >>> report = DriftReport(dataset_drift=False, drift_share=0.0,
            ...                      share_threshold=0.5, columns=[],
            ...                      rows_reference=1, rows_current=1)
            >>> DriftReport.from_json(report.to_json()) == report
            True
        """
        return cls.model_validate_json(text)

    def to_mlflow_metrics(self, prefix: str = "drift") -> dict[str, float]:
        """Flatten to MLflow metrics: dataset share and decision, per-column score and decision.

        Keys are ``<prefix>.dataset.share``, ``<prefix>.dataset.drifted``,
        ``<prefix>.dataset.drifted_columns`` and, per column,
        ``<prefix>.column.<name>.score`` / ``.drifted`` /
        ``.missing_share_change`` (``<prefix>.prediction.<name>...`` for the
        prediction column). Column names are reduced to characters MLflow accepts
        in every store (letters, digits, ``_``, ``-``); a clash gets a numbered
        suffix. Decisions are 0.0 or 1.0.

        Example:
            >>> report = DriftReport(dataset_drift=True, drift_share=1.0,
            ...                      share_threshold=0.5, rows_reference=1, rows_current=1,
            ...                      columns=[ColumnDrift(column="price (€)", kind="numeric",
            ...                      test="ks", score=0.001, threshold=0.05, drifted=True)])
            >>> sorted(report.to_mlflow_metrics())[:2]
            ['drift.column.price.drifted', 'drift.column.price.missing_share_change']
        """
        metrics = {
            f"{prefix}.dataset.share": float(self.drift_share),
            f"{prefix}.dataset.drifted": float(self.dataset_drift),
            f"{prefix}.dataset.drifted_columns": float(len(self.drifted_columns)),
        }
        used: set[str] = set()
        entries = [("column", c) for c in self.columns]
        if self.prediction is not None:
            entries.append(("prediction", self.prediction))
        for group, column in entries:
            name = _metric_name(column.column, used)
            base = f"{prefix}.{group}.{name}"
            if column.score is not None:
                metrics[f"{base}.score"] = float(column.score)
            metrics[f"{base}.drifted"] = float(column.drifted)
            metrics[f"{base}.missing_share_change"] = float(column.missing_share_change)
        return metrics


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _metric_name(column: str, used: set[str]) -> str:
    base = _UNSAFE.sub("_", column).strip("_")[:200] or "column"
    name, suffix = base, 2
    while name in used:
        name, suffix = f"{base}_{suffix}", suffix + 1
    used.add(name)
    return name
