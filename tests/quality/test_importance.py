"""Permutation importance of the raw input columns, through preprocessor and model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from kedro_mlops.quality import importance
from kedro_mlops.quality.importance import (
    ShapUnavailableError,
    permutation_importances,
    plot_importance,
    plot_shap,
    shap_importances,
)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    rows = pd.DataFrame(
        {
            "signal": rng.normal(size=600),
            "noise": rng.normal(size=600),
            "group": rng.choice(["a", "b"], 600),
        }
    )
    truth = (
        rows["signal"] + 0.5 * (rows["group"] == "a") + rng.normal(0, 0.5, 600) > 0
    ).astype(int)
    preprocessor = ColumnTransformer(
        [
            ("n", StandardScaler(), ["signal", "noise"]),
            ("c", OneHotEncoder(), ["group"]),
        ]
    ).fit(rows)
    model = LogisticRegression().fit(preprocessor.transform(rows), truth)
    return rows, truth.to_numpy(), preprocessor, model


def test_each_raw_column_gets_the_roc_auc_it_loses_when_shuffled(fitted):
    rows, truth, preprocessor, model = fitted
    params = {"n_repeats": 2, "max_rows": 1000, "random_state": 0}
    table = permutation_importances(preprocessor, model, rows, truth, params)
    assert list(table.columns) == ["feature", "importance_mean", "importance_std"]
    # most important first
    assert list(table["feature"]) == ["signal", "group", "noise"]
    # recomputed by hand with the same shuffles scikit-learn makes
    baseline = roc_auc_score(
        truth, model.predict_proba(preprocessor.transform(rows))[:, 1]
    )
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max + 1)
    losses = {}
    # scikit-learn draws one seed, then shuffles each column from it
    for column in rows.columns:
        shuffler = np.random.RandomState(seed)
        drops = []
        shuffled = rows.copy()
        order = np.arange(len(rows))
        for _ in range(2):  # each repeat shuffles the shuffled column again
            shuffler.shuffle(order)
            shuffled[column] = shuffled[column].to_numpy()[order]
            score = roc_auc_score(
                truth, model.predict_proba(preprocessor.transform(shuffled))[:, 1]
            )
            drops.append(baseline - score)
        losses[column] = np.mean(drops)
    for row in table.itertuples():
        assert row.importance_mean == pytest.approx(losses[row.feature])
    assert losses["noise"] == pytest.approx(0, abs=0.01)


def test_at_most_max_rows_are_used(fitted):
    rows, truth, preprocessor, model = fitted
    seen = []
    real = preprocessor.transform

    class Counting:
        def transform(self, frame):
            seen.append(len(frame))
            return real(frame)

    params = {"n_repeats": 1, "max_rows": 100, "random_state": 0}
    permutation_importances(Counting(), model, rows, truth, params)
    assert set(seen) == {100}


def test_the_plot_has_one_bar_per_column(fitted, tmp_path):
    rows, truth, preprocessor, model = fitted
    params = {"n_repeats": 1, "max_rows": 1000, "random_state": 0}
    table = permutation_importances(preprocessor, model, rows, truth, params)
    figure = plot_importance(table, (4, 3), 50)
    figure.savefig(tmp_path / "importance.png")
    assert len(figure.axes[0].patches) == 3


# ---- SHAP values ----------------------------------------------------------------


@pytest.fixture(scope="module")
def boosted():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(2)
    rows = pd.DataFrame(
        {
            "signal": rng.normal(size=800),
            "noise": rng.normal(size=800),
            "group": rng.choice(["a", "b", "c"], 800),
        }
    )
    truth = (
        rows["signal"] + 1.0 * (rows["group"] == "a") + rng.normal(0, 0.5, 800) > 0
    ).astype(int)
    preprocessor = ColumnTransformer(
        [
            ("n", StandardScaler(), ["signal", "noise"]),
            ("c", OneHotEncoder(sparse_output=False), ["group"]),
        ],
        verbose_feature_names_out=False,
    ).fit(rows)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(
        preprocessor.transform(rows), truth
    )
    return rows, preprocessor, model


def test_shap_values_are_summed_per_raw_column_and_add_up_to_the_model(boosted):
    import shap

    rows, preprocessor, model = boosted
    params = {"n_repeats": 1, "max_rows": 10_000, "random_state": 0}
    table = shap_importances(preprocessor, model, rows, params)
    assert list(table.columns) == ["feature", "mean_abs_shap"]
    assert set(table["feature"]) == {"signal", "noise", "group"}  # group_a.. summed
    assert table["mean_abs_shap"].is_monotonic_decreasing
    assert table["feature"].iloc[-1] == "noise"
    # independently: shap on the model's inputs; the values add up to its log-odds
    features = preprocessor.transform(rows)
    explainer = shap.TreeExplainer(model)
    values = explainer.shap_values(features)
    np.testing.assert_allclose(
        values.sum(axis=1) + explainer.expected_value,
        model.decision_function(features),
        atol=1e-6,
    )
    names = list(preprocessor.get_feature_names_out())
    group = [i for i, n in enumerate(names) if n.startswith("group_")]
    assert len(group) == 3
    by_name = dict(zip(table["feature"], table["mean_abs_shap"], strict=True))
    assert by_name["group"] == pytest.approx(np.abs(values[:, group].sum(1)).mean())
    assert by_name["signal"] == pytest.approx(
        np.abs(values[:, names.index("signal")]).mean()
    )


def test_shap_without_the_package_or_for_a_model_it_cannot_explain_says_so(
    boosted, fitted, monkeypatch, caplog
):
    rows, preprocessor, model = boosted
    params = {"n_repeats": 1, "max_rows": 100, "random_state": 0}
    raw, _, linear_preprocessor, linear = fitted
    with caplog.at_level("WARNING", logger="kedro_mlops.quality.importance"):
        empty = shap_importances(linear_preprocessor, linear, raw, params)
    assert empty.empty and list(empty.columns) == ["feature", "mean_abs_shap"]
    assert "TreeExplainer cannot explain LogisticRegression" in caplog.text
    assert not plot_shap(empty).axes[0].patches  # says so in words instead
    monkeypatch.setattr(importance, "shap_available", lambda: False)
    with pytest.raises(
        ShapUnavailableError,
        match=r"^SHAP values need the shap package: pip install 'kedro-mlops\[shap\]'$",
    ):
        shap_importances(preprocessor, model, rows, params)


def test_the_shap_plot_has_one_bar_per_raw_column(boosted):
    rows, preprocessor, model = boosted
    params = {"n_repeats": 1, "max_rows": 200, "random_state": 0}
    figure = plot_shap(shap_importances(preprocessor, model, rows, params))
    assert len(figure.axes[0].patches) == 3
