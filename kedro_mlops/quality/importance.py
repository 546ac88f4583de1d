"""Permutation importance of each raw input column, through the whole model,
and SHAP values per raw column when the optional ``shap`` extra is installed.

Each column of the raw test rows is shuffled in turn and the rows go through
the fitted preprocessor and model again: the drop in ROC AUC is the column's
importance (scikit-learn's ``permutation_importance``). The table is logged
as ``quality/permutation_importance.csv`` (most important first) and drawn by
:func:`plot_importance`. With shap installed, :func:`shap_importances` gives
each raw column's mean absolute SHAP value (``quality/shap_importance.csv``,
drawn by :func:`plot_shap`).
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


# ---- SHAP values (the optional ``shap`` extra) ----------------------------------


class ShapUnavailableError(RuntimeError):
    """SHAP values were asked for and cannot be made here."""


def shap_available() -> bool:
    """Whether the ``shap`` package is installed (``pip install 'kedro-mlops[shap]'``)."""
    import importlib.util

    return importlib.util.find_spec("shap") is not None


def shap_importances(
    preprocessor: Any,
    model: Any,
    rows: Any,
    params: ImportanceParams,
) -> Any:
    """A DataFrame ``feature, mean_abs_shap``, largest first: the mean absolute
    SHAP value of each raw input column of ``rows``, from shap's
    ``TreeExplainer`` on the model's inputs (in log-odds for a gradient-boosted
    classifier). A column the preprocessor turns into several model inputs
    (one-hot levels) gets the sum of their SHAP values, row by row: SHAP
    values add up, so this is the column's own contribution.

    At most ``params["max_rows"]`` rows are explained (a seeded sample). A
    model TreeExplainer cannot explain (a calibrated or a linear one) gets an
    empty table and a warning that names it.

    Raises:
        ShapUnavailableError: shap is not installed.
    """
    if not shap_available():
        raise ShapUnavailableError(
            "SHAP values need the shap package: pip install 'kedro-mlops[shap]'"
        )
    import numpy as np
    import pandas as pd
    import shap

    if len(rows) > params["max_rows"]:
        picked = np.random.default_rng(params["random_state"]).choice(
            len(rows), params["max_rows"], replace=False
        )
        rows = rows.iloc[np.sort(picked)]
    features = preprocessor.transform(rows)
    names = [str(n) for n in preprocessor.get_feature_names_out()]
    try:
        values = shap.TreeExplainer(model).shap_values(np.asarray(features, float))
    except Exception as exc:  # shap's own message names the model type
        import logging

        logging.getLogger(__name__).warning(
            "No SHAP values: shap's TreeExplainer cannot explain %s (%s); the "
            "table is empty. Permutation importance works for any model.",
            type(model).__name__,
            str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )
        return pd.DataFrame({"feature": [], "mean_abs_shap": []})
    values = np.asarray(values)
    if values.ndim == 3:  # one slice per class: the positive class's
        values = values[..., -1]
    owner = _raw_columns(names, [str(c) for c in rows.columns])
    per_column = pd.DataFrame(values, columns=names).T.groupby(owner, sort=False).sum()
    table = pd.DataFrame(
        {
            "feature": per_column.index,
            "mean_abs_shap": per_column.abs().mean(axis=1).to_numpy(),
        }
    )
    return table.sort_values(
        "mean_abs_shap", ascending=False, kind="stable"
    ).reset_index(drop=True)


def _raw_columns(features: list[str], columns: list[str]) -> list[str]:
    """The raw column each model input comes from: itself, or the longest raw
    column name it starts with followed by ``_`` (one-hot levels); else itself."""
    owners = []
    for feature in features:
        if feature in columns:
            owners.append(feature)
            continue
        prefixes = [c for c in columns if feature.startswith(f"{c}_")]
        owners.append(max(prefixes, key=len) if prefixes else feature)
    return owners


def plot_shap(table: Any, figure_size: Any = (6, 5), dpi: int = 100) -> Any:
    """A horizontal bar chart of :func:`shap_importances` (a Figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=figure_size, dpi=dpi)
    if table.empty:
        axes.text(0.5, 0.5, "No SHAP values for this model", ha="center")
        axes.set_axis_off()
        return figure
    shown = table.iloc[::-1]
    axes.barh(shown["feature"], shown["mean_abs_shap"])
    axes.set_xlabel("mean |SHAP value| (log-odds)")
    axes.set_title("SHAP values per input column (test set)")
    figure.tight_layout()
    return figure
