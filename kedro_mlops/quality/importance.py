"""Permutation importance of each raw input column, through the whole model.

Each column of the raw test rows is shuffled in turn and the rows go through
the fitted preprocessor and model again: the drop in ROC AUC is the column's
importance (scikit-learn's ``permutation_importance``). The table is logged
as ``quality/permutation_importance.csv`` (most important first) and drawn by
:func:`plot_importance`.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from pydantic import Field


class ImportanceParams(TypedDict):
    """``evaluate.importance`` of parameters_evaluate.yml."""

    n_repeats: Annotated[int, Field(ge=1)]  # shuffles per column
    max_rows: Annotated[int, Field(ge=10)]  # test rows used, a seeded sample
    random_state: int


class _Scored:
    """The preprocessor then the model, as one estimator of the raw columns."""

    def __init__(self, preprocessor: Any, model: Any) -> None:
        self.preprocessor = preprocessor
        self.model = model

    def fit(self, rows: Any, truth: Any = None) -> _Scored:  # never refitted
        return self

    def predict_proba(self, rows: Any) -> Any:
        return self.model.predict_proba(self.preprocessor.transform(rows))


def _roc_auc(estimator: _Scored, rows: Any, truth: Any) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(truth, estimator.predict_proba(rows)[:, 1]))


def permutation_importances(
    preprocessor: Any,
    model: Any,
    rows: Any,
    truth: Any,
    params: ImportanceParams,
) -> Any:
    """A DataFrame ``feature, importance_mean, importance_std``, most
    important first: the mean and spread of the ROC AUC lost when each
    column of ``rows`` (the model's raw input columns) is shuffled."""
    import numpy as np
    import pandas as pd
    from sklearn.inspection import permutation_importance
    from threadpoolctl import threadpool_limits

    truth = np.asarray(truth)
    if len(rows) > params["max_rows"]:
        picked = np.random.default_rng(params["random_state"]).choice(
            len(rows), params["max_rows"], replace=False
        )
        rows, truth = rows.iloc[np.sort(picked)], truth[np.sort(picked)]
    # one thread: dozens of small predictions, each of which would otherwise
    # start OpenMP's threads (measured on the starter, 2 busy cores: 1.0 s vs 4.5-10 s)
    with threadpool_limits(limits=1):
        result = permutation_importance(
            _Scored(preprocessor, model),
            rows,
            truth,
            scoring=_roc_auc,
            n_repeats=params["n_repeats"],
            random_state=params["random_state"],
            n_jobs=1,
        )
    table = pd.DataFrame(
        {
            "feature": list(rows.columns),
            "importance_mean": result.importances_mean,
            "importance_std": result.importances_std,
        }
    )
    return table.sort_values(
        "importance_mean", ascending=False, kind="stable"
    ).reset_index(drop=True)


def plot_importance(table: Any, figure_size: Any = (6, 5), dpi: int = 100) -> Any:
    """A horizontal bar chart of :func:`permutation_importances` (a Figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=figure_size, dpi=dpi)
    shown = table.iloc[::-1]  # the most important at the top
    axes.barh(shown["feature"], shown["importance_mean"], xerr=shown["importance_std"])
    axes.axvline(0, color="grey", linewidth=0.8)
    axes.set_xlabel("ROC AUC lost when the column is shuffled")
    axes.set_title("Permutation importance (test set)")
    figure.tight_layout()
    return figure
