"""The profile: kinds of columns, skipped columns, and settings that do not fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.drift import DriftInputError, detect_drift


def test_boolean_columns():
    rng = np.random.default_rng(17)
    reference = pd.DataFrame({"flag": rng.random(2_000) < 0.3})
    same = detect_drift(reference, pd.DataFrame({"flag": rng.random(2_000) < 0.3}))
    moved = detect_drift(reference, pd.DataFrame({"flag": rng.random(2_000) < 0.6}))
    assert same.column("flag").kind == "boolean"
    assert (same.drifted_columns, moved.drifted_columns) == ([], ["flag"])
    # booleans with missing values (object dtype) are still booleans
    with_missing = pd.DataFrame({"flag": [True, None, False] * 100}, dtype=object)
    assert detect_drift(reference, with_missing).column("flag").status == "compared"


def test_datetime_columns_are_ignored_unless_configured():
    reference = pd.DataFrame(
        {
            "x": np.arange(300.0),
            "when": pd.date_range("2024-01-01", periods=300, freq="h"),
        }
    )
    current = reference.assign(when=reference["when"] + pd.Timedelta(days=365))
    report = detect_drift(reference, current)
    assert "datetime" in report.skipped["when"] and report.drifted_columns == []
    configured = detect_drift(reference, current, {"columns": {"when": {}}})
    when = configured.column("when")
    assert (when.kind, when.drifted) == ("numeric", True)
    assert when.distribution.labels[0].startswith("2024-")


def test_configuration_errors_name_the_column():
    reference = pd.DataFrame({"age": [1.0, 2.0], "plan": ["a", "b"]})
    with pytest.raises(DriftInputError, match="'age' is numeric.*'chi2'"):
        detect_drift(reference, reference, {"columns": {"age": {"test": "chi2"}}})
    with pytest.raises(DriftInputError, match=r"\['agee'\]"):
        detect_drift(reference, reference, {"columns": {"agee": {}}})
    with pytest.raises(DriftInputError, match="p-value"):
        detect_drift(
            reference, reference, {"columns": {"age": {"test": "ks", "threshold": 5}}}
        )
    with pytest.raises(DriftInputError, match="holds text"):
        detect_drift(reference, reference, {"columns": {"plan": {"kind": "numeric"}}})
    # a numeric column can be compared as categories
    as_categories = detect_drift(
        reference, reference, {"columns": {"age": {"kind": "categorical"}}}
    )
    assert as_categories.column("age").kind == "categorical"
