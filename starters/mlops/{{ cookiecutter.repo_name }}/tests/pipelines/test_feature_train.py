import pytest

from {{ cookiecutter.python_package }}.pipelines.feature.nodes import (
    build_model_input,
    fit_preprocessor,
)
from {{ cookiecutter.python_package }}.pipelines.train.nodes import train_model


@pytest.fixture
def train(raw_slice):
    """Training rows: a slice of the labelled table."""
    return raw_slice


def test_preprocessor_learns_from_the_training_rows_only(train, schema, params):
    preprocessor = fit_preprocessor(train, schema, params["feature"])
    imputer = preprocessor.named_transformers_["numeric"].steps[0][1]
    first_numeric = next(iter(schema["numeric"]))
    assert imputer.statistics_[0] == pytest.approx(
        getattr(train[first_numeric], params["feature"]["numeric_imputation"])()
    )


def test_model_input_has_no_missing_values_and_a_binary_target(train, schema, params):
    preprocessor = fit_preprocessor(train, schema, params["feature"])
    model_input = build_model_input(train, preprocessor, schema)
    assert not model_input.isna().any().any()
    assert set(model_input[schema["target"]["column"]]) == {0, 1}


def test_unseen_category_is_encoded_not_rejected(train, schema, params):
    preprocessor = fit_preprocessor(train, schema, params["feature"])
    row = train.head(1).copy()
    for column in schema["categorical"]:
        row[column] = "never-seen-in-training"
    assert len(preprocessor.transform(row)) == 1


def test_trained_model_ranks_better_than_chance(train, schema, params):
    preprocessor = fit_preprocessor(train, schema, params["feature"])
    model_input = build_model_input(train, preprocessor, schema)
    model = train_model(model_input, schema["target"], params["train"])
    label = model_input[schema["target"]["column"]]
    probability = model.predict_proba(model_input.drop(columns=[label.name]))[:, 1]
    assert probability[label == 1].mean() > probability[label == 0].mean()
    assert ((probability >= 0) & (probability <= 1)).all()
