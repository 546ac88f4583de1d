"""Permutation importance of the raw input columns, through preprocessor and model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from kedro_mlops.quality.importance import permutation_importances, plot_importance


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
