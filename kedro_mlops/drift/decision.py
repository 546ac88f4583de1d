"""The decisions: per column by its deciding statistic, per dataset by a share.

A column drifts when its deciding statistic (chosen by
:mod:`kedro_mlops.drift.selection`, or configured) passes its threshold; a
column that cannot be compared (changed dtype, no values on one side) is a
verdict of its own. The dataset drifts when at least ``share_threshold`` of the
compared feature columns drift; the prediction column is judged alike but
reported apart. Columns are ordered by :func:`severity`, drifted first.
:func:`detect_drift` decides on two frames, :func:`compare_summaries` on
summaries of data processed in chunks.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"x": rng.normal(size=500)})
    >>> current = pd.DataFrame({"x": rng.normal(0.5, 1, size=500)})
    >>> report = detect_drift(reference, current)
    >>> report.columns[0].test, report.columns[0].drifted
    ('ks', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .config import P_VALUE_TESTS, DriftConfig, TestName
from .engines import reference_profile, summary_of
from .errors import DriftInputError
from .evidence import categorical_evidence, numeric_evidence
from .profile import ColumnProfile, DriftProfile
from .report import ColumnDrift, ColumnStatus, DriftReport
from .selection import select_test
from .summaries import ColumnSummary, DatasetSummary

_SEVERE = 1e6  # severity of a column that cannot be compared at all


def _as_config(config: DriftConfig | Mapping[str, Any] | None) -> DriftConfig:
    if config is None:
        return DriftConfig()
    if isinstance(config, DriftConfig):
        return config
    return DriftConfig.model_validate(dict(config))


def detect_drift(
    reference: Any,
    current: Any,
    config: DriftConfig | Mapping[str, Any] | None = None,
) -> DriftReport:
    """Compare ``current`` with ``reference`` column by column and decide.

    Equivalent to summarising the current data as one chunk
    (:func:`kedro_mlops.drift.summarize`) and calling :func:`compare_summaries`.

    Args:
        reference: the reference data (for instance a sample of the training
            data): a pandas or Spark DataFrame, or a Parquet file or folder
            (a path or a pyarrow dataset, read in record batches).
        current: the data to check, of any of those kinds.
        config: a :class:`DriftConfig` or a mapping validated into one.

    Raises:
        DriftInputError: empty data, a reference column missing from the
            current data, or settings that do not fit a column.

    Example:
        >>> import pandas as pd
        >>> reference = pd.DataFrame({"plan": ["a", "b"] * 100})
        >>> detect_drift(reference, pd.DataFrame({"plan": ["a"] * 200})).drifted_columns
        ['plan']
    """
    config = _as_config(config)
    profile, reference_summary = reference_profile(reference, config)
    if isinstance(current, pd.DataFrame):
        _check_not_empty(len(current))  # before counting anything
    current_summary = summary_of(current, profile, "current data")
    return compare_summaries(profile, reference_summary, current_summary)


def _check_not_empty(rows: int) -> None:
    if rows == 0:
        raise DriftInputError(
            "The current data has no rows: there is nothing to compare with the "
            "reference. Check the upstream step that produced it."
        )


def compare_summaries(
    profile: DriftProfile, reference: DatasetSummary, current: DatasetSummary
) -> DriftReport:
    """Decide drift from the (merged) summaries of the reference and the current data.

    Example:
        >>> import pandas as pd
        >>> from kedro_mlops.drift import build_profile, summarize, merge_summaries
        >>> reference = pd.DataFrame({"x": range(100)})
        >>> profile = build_profile(reference)
        >>> chunks = [pd.DataFrame({"x": range(i, i + 50)}) for i in (0, 50)]
        >>> current = merge_summaries(summarize(c, profile) for c in chunks)
        >>> compare_summaries(profile, summarize(reference, profile), current).dataset_drift
        False
    """
    config = profile.config
    for summary, role in ((reference, "reference"), (current, "current")):
        if summary.profile_id != profile.id:
            raise ValueError(
                f"The {role} summary was made with another drift profile; "
                "summarise both with the profile passed here."
            )
    _check_not_empty(current.n_rows)
    features: list[ColumnDrift] = []
    prediction: ColumnDrift | None = None
    for name, column in profile.columns.items():
        verdict = _judge_column(
            column,
            reference.columns[name],
            current.columns[name],
            config,
            is_prediction=name == config.prediction_column,
        )
        if verdict.role == "prediction":
            prediction = verdict
        else:
            features.append(verdict)
    if not features and prediction is None:
        raise DriftInputError(
            "No column left to compare: every column is ignored or skipped "
            f"({profile.skipped}). Remove some from drift.ignore_columns."
        )
    features.sort(key=lambda c: (not c.drifted, -c.severity, c.column))
    drifted = sum(c.drifted for c in features)
    share = drifted / len(features) if features else 0.0
    return DriftReport(
        dataset_drift=bool(features) and share >= config.share_threshold,
        drift_share=share,
        share_threshold=config.share_threshold,
        columns=features,
        prediction=prediction,
        skipped=dict(profile.skipped),
        new_columns=list(current.extra_columns),
        rows_reference=reference.n_rows,
        rows_current=current.n_rows,
        config=config,
    )


def _judge_column(
    column: ColumnProfile,
    reference: ColumnSummary,
    current: ColumnSummary,
    config: DriftConfig,
    is_prediction: bool,
) -> ColumnDrift:
    base: dict[str, Any] = {
        "column": column.name,
        "kind": column.kind,
        "role": "prediction" if is_prediction else "feature",
    }
    changed = current.changed_dtype or reference.changed_dtype
    if changed:
        return ColumnDrift(
            **base,
            status="dtype_changed",
            drifted=True,
            severity=_SEVERE,
            message=(
                f"dtype changed from {column.dtype} to {changed}: the values cannot "
                f"be compared. Cast '{column.name}' back to {column.dtype} in the "
                "current data, or list it under drift.ignore_columns."
            ),
        )
    ref: Any = reference.numeric if column.kind == "numeric" else reference.categorical
    cur: Any = current.numeric if column.kind == "numeric" else current.categorical
    base |= {
        "n_reference": ref.n,
        "n_current": cur.n,
        "missing_share_reference": ref.n_missing / max(reference.n_rows, 1),
        "missing_share_current": cur.n_missing / max(current.n_rows, 1),
    }
    if column.kind == "numeric":
        base |= {
            "infinite_reference": ref.n_infinite,
            "infinite_current": cur.n_infinite,
        }
    else:
        base |= {
            "unseen_count": cur.unseen,
            "unseen_examples": cur.unseen_examples,
        }
    if ref.n == 0 or cur.n == 0:
        outcomes: dict[tuple[bool, bool], tuple[ColumnStatus, bool, str]] = {
            (True, True): ("all_missing", False, "no values in either data set"),
            (True, False): (
                "all_missing_reference",
                True,
                "no values in the reference, values in the current data",
            ),
            (False, True): (
                "all_missing_current",
                True,
                "every value is missing in the current data",
            ),
        }
        empty = outcomes[(ref.n == 0, cur.n == 0)]
        return ColumnDrift(
            **base,
            status=empty[0],
            drifted=empty[1],
            severity=_SEVERE if empty[1] else 0.0,
            message=empty[2],
        )
    settings = config.columns.get(column.name)
    chosen = settings.test if settings else None
    test: TestName
    if column.kind == "numeric":
        test = chosen or select_test("numeric", ref.n, cur.n, config)
        statistics, distribution, note = numeric_evidence(
            column, ref, cur, with_ks_p_value=test == "ks"
        )
    else:
        statistics, distribution, n_cells, note = categorical_evidence(column, ref, cur)
        test = chosen or select_test("categorical", ref.n, cur.n, config, n_cells)
    threshold = (settings.threshold if settings else None) or getattr(
        config.thresholds, test
    )
    score = {
        "ks": statistics.ks_p_value,
        "chi2": statistics.chi2_p_value,
        "wasserstein": statistics.wasserstein,
        "jensenshannon": statistics.jensenshannon,
        "psi": statistics.psi,
    }[test]
    assert score is not None
    drifted = score < threshold if test in P_VALUE_TESTS else score >= threshold
    return ColumnDrift(
        **base,
        test=test,
        automatic=not (settings and settings.test),
        score=score,
        threshold=threshold,
        drifted=bool(drifted),
        severity=severity(test, score, threshold),
        statistics=statistics,
        distribution=distribution,
        message=note,
    )


def severity(test: str, score: float, threshold: float) -> float:
    """How far past its threshold a score is: 1 at the threshold, larger is worse.

    For p-value tests it is ``log(p) / log(threshold)``, for distances
    ``score / threshold``; both are finite (p-values are floored at 1e-300,
    distances capped at 1e6 thresholds).

    Example:
        >>> severity("ks", 0.0025, 0.05), severity("psi", 0.4, 0.2)
        (2.0, 2.0)
    """
    if test in ("ks", "chi2"):
        return round(math.log(max(score, 1e-300)) / math.log(threshold), 12)
    if math.isnan(score):
        return 0.0
    return min(score / threshold, 1e6)
