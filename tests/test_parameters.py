"""The run's parameters against the TypedDicts the starter's nodes declare:
the rendered starter's own pipelines and parameter files, read by Kedro's
config loader."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TypedDict

import pytest
from kedro.config import OmegaConfigLoader
from kedro.pipeline import Node, Pipeline
from pydantic import Field

from kedro_mlops.parameters import (
    ParametersError,
    check_parameters,
    declared_parameters,
    parameter_sources,
)


@pytest.fixture(scope="module")
def pipelines(rendered_project) -> Iterator[dict[str, Pipeline]]:
    """The starter's registered pipelines, imported from the rendered project."""
    source = str(rendered_project / "src")
    sys.path.insert(0, source)
    try:
        from churn_model.pipeline_registry import register_pipelines

        yield register_pipelines()
    finally:
        sys.path.remove(source)
        for name in [m for m in sys.modules if m.split(".")[0] == "churn_model"]:
            del sys.modules[name]


@pytest.fixture
def conf(rendered_project, tmp_path) -> Path:
    """A copy of the starter's conf folder, to break."""
    return Path(shutil.copytree(rendered_project / "conf", tmp_path / "conf"))


def _check(pipeline: Pipeline, conf: Path, runtime_params: dict | None = None) -> None:
    loader = OmegaConfigLoader(
        str(conf),
        base_env="base",
        default_run_env="local",
        runtime_params=runtime_params,
    )
    check_parameters(pipeline, loader["parameters"], parameter_sources(loader))


def _set(conf: Path, file: str, text: str, old: str) -> None:
    path = conf / file
    content = path.read_text()
    assert old in content
    path.write_text(content.replace(old, text))


def test_the_starters_parameters_pass_and_every_stage_declares_its_own(pipelines, conf):
    # every registered pipeline runs on the shipped parameters
    for pipeline in pipelines.values():
        _check(pipeline, conf)
    # and training reads every stage's parameters through a TypedDict
    declared = declared_parameters(pipelines["training"])
    assert sorted(declared) == [
        "evaluate",
        "evaluate.slices",
        "evaluate.threshold",
        "feature",
        "infer",
        "ingest",
        "train",
    ]
    assert [hint.__name__ for hint in declared["ingest"]] == ["IngestParams"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            (
                "parameters_ingest.yml",
                "reference_sample_size: 2000",
                "reference_sample_size: 0",
            ),
            "Invalid parameter in conf/base/parameters_ingest.yml: "
            "ingest.reference_sample_size: Input should be greater than 0 (got 0)",
        ),
        (
            ("parameters_ingest.yml", "test_size: 0.2", "test_size: 1.5"),
            "Invalid parameter in conf/base/parameters_ingest.yml: "
            "ingest.test_size: Input should be less than 1 (got 1.5)",
        ),
        (
            (
                "parameters_feature.yml",
                "numeric_imputation: median",
                "numeric_imputation: mode",
            ),
            "Invalid parameter in conf/base/parameters_feature.yml: "
            "feature.numeric_imputation: Input should be 'median' or 'mean' (got 'mode')",
        ),
        (
            ("parameters_train.yml", "random_state: 42", 'random_state: "42"'),
            "Invalid parameter in conf/base/parameters_train.yml: "
            "train.random_state: Input should be a valid integer (got '42')",
        ),
        (
            ("parameters_ingest.yml", "test_size: 0.2", "test_szie: 0.2"),
            "Invalid parameters:\n"
            "  - conf/base/parameters_ingest.yml: ingest.test_size: Field required\n"
            "  - conf/base/parameters_ingest.yml: ingest.test_szie: unknown key "
            "(allowed: random_state, reference_sample_size, test_size)",
        ),
        (
            (
                "parameters_evaluate.yml",
                "costs: null",
                "costs: {false_positive: -1, false_negative: 5}",
            ),
            "Invalid parameter in conf/base/parameters_evaluate.yml: "
            "evaluate.threshold.costs.false_positive: "
            "Input should be greater than or equal to 0 (got -1)",
        ),
        (
            ("parameters_evaluate.yml", "columns: null", "columns: [contract, plan]"),
            "Invalid parameter in conf/base/parameters_evaluate.yml: "
            "evaluate.slices.columns: 'plan' not a feature column of the schema "
            "(parameters.yml); use some of: contract, payment_method, "
            "internet_service, paperless_billing, region, age, tenure_months, "
            "monthly_charges, total_charges, support_tickets, avg_session_minutes, "
            "or null for all (got ['contract', 'plan'])",
        ),
        (
            ("parameters_evaluate.yml", "min_rows: 50", "min_rows: 0"),
            "Invalid parameter in conf/base/parameters_evaluate.yml: "
            "evaluate.slices.min_rows: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            (
                "parameters_train.yml",
                "max_leaf_nodes: {low: 8, high: 48}",
                "max_leaves: {low: 8, high: 48}",
            ),
            "Invalid parameter in conf/base/parameters_train.yml: train.tuning: "
            "tuning.search_space.max_leaves is not a parameter of "
            "HistGradientBoostingClassifier (its parameters: categorical_features, "
            "class_weight, early_stopping, interaction_cst, l2_regularization, "
            "learning_rate, loss, max_bins, max_depth, max_features, max_iter, "
            "max_leaf_nodes, min_samples_leaf, monotonic_cst, n_iter_no_change, "
            "random_state, scoring, tol, validation_fraction, verbose, warm_start)",
        ),
        (
            (
                "parameters_train.yml",
                "min_samples_leaf: {low: 10, high: 80}",
                "min_samples_leaf: {low: 80, high: 10}",
            ),
            "Invalid parameter in conf/base/parameters_train.yml: train.tuning: "
            "tuning.search_space.min_samples_leaf: the range is empty: "
            "low (80) is greater than high (10)",
        ),
        (
            (
                "parameters_train.yml",
                "max_leaf_nodes: {low: 8, high: 48}",
                "max_leaf_nodes: {choices: []}",
            ),
            "Invalid parameter in conf/base/parameters_train.yml: train.tuning: "
            "tuning.search_space.max_leaf_nodes.choices is empty: "
            "list at least one value",
        ),
        (
            (
                "parameters_train.yml",
                "trials: 10          # at most this many trials (0: no limit)\n"
                "    seconds: 60 ",
                "trials: 0\n    seconds: 0 ",
            ),
            "Invalid parameter in conf/base/parameters_train.yml: train.tuning: "
            "tuning has no budget: set trials (how many) or seconds (a time limit) "
            "above 0, or enabled: false to train the model as it is",
        ),
    ],
    ids=[
        "impossible-value",
        "out-of-range",
        "not-a-choice",
        "wrong-type",
        "typo",
        "negative-cost",
        "unknown-slice-column",
        "slice-min-rows",
        "tuning-unknown-parameter",
        "tuning-empty-range",
        "tuning-empty-choices",
        "tuning-no-budget",
    ],
)
def test_a_bad_parameter_names_its_file_key_and_what_it_must_be(
    pipelines, conf, edit, message
):
    file, old, new = edit
    _set(conf, f"base/{file}", new, old)
    with pytest.raises(ParametersError) as error:
        _check(pipelines["training"], conf)
    assert str(error.value) == message


def test_the_environment_and_the_command_line_are_named_where_they_set_it(
    pipelines, conf
):
    # given a value that conf/local overrides, and one that --params overrides
    (conf / "local/parameters_ingest.yml").write_text(
        "ingest:\n  test_size: 0\n  random_state: 1\n  reference_sample_size: 10\n"
    )
    # when the run's parameters are checked
    with pytest.raises(ParametersError) as error:
        _check(pipelines["training"], conf, {"infer": {"threshold": 2}})
    # then each problem names where its value came from
    assert str(error.value) == (
        "Invalid parameters:\n"
        "  - --params: infer.threshold: Input should be less than or equal to 1 (got 2)\n"
        "  - conf/local/parameters_ingest.yml: ingest.test_size: "
        "Input should be greater than 0 (got 0)"
    )


def test_only_the_parameters_of_the_pipeline_that_runs_are_checked(pipelines, conf):
    # a broken training parameter does not stop batch inference
    _set(conf, "base/parameters_train.yml", "random_state: no", "random_state: 42")
    _check(pipelines["inference"], conf)
    with pytest.raises(ParametersError, match="train.random_state"):
        _check(pipelines["training"], conf)


class _Inner(TypedDict):
    rate: Annotated[float, Field(gt=0)]


class _Outer(TypedDict):
    inner: _Inner
    layers: list[_Inner]


def _node(params: _Outer) -> None: ...


def test_nested_typeddicts_are_strict_too():
    pipeline = Pipeline([Node(_node, "params:outer", None)])
    bad = {"outer": {"inner": {"rate": 0, "x": 1}, "layers": [{"rate": "1"}]}}
    with pytest.raises(ParametersError) as error:
        check_parameters(pipeline, bad)
    assert str(error.value).splitlines()[1:] == [
        "  - the parameter files: outer.inner.rate: Input should be greater than 0 (got 0)",
        "  - the parameter files: outer.inner.x: unknown key (allowed: rate)",
        "  - the parameter files: outer.layers.0.rate: Input should be a valid number (got '1')",
    ]
    check_parameters(pipeline, {"outer": {"inner": {"rate": 1}, "layers": []}})
