"""airflow.yml for kedro-mlops' DAG template: what `kedro airflow create` is
stopped for, and the command line it is read from."""

from __future__ import annotations

import pytest

from kedro_mlops.scaffold import template
from kedro_mlops.scheduling.airflow_settings import (
    AirflowCreate,
    check_create,
    is_ours,
    parse_create_args,
)

PIPELINES = ["__default__", "training", "inference", "ingest"]
HERE = {"project_path": "/srv/churn-model"}


def _create(*pipelines: str, **params) -> AirflowCreate:
    return AirflowCreate(pipelines=list(pipelines), params=params)


def test_the_starters_settings_pass():
    config = {
        "default": {"runs_in": "project", "start_date": [2024, 1, 1], **HERE},
        "training": {"schedule": "@weekly"},
        "inference": {"schedule": "@daily", "retrain_pipeline": "training"},
    }
    assert (
        check_create(_create("training", "inference"), config, PIPELINES, ours=True)
        == []
    )


def test_a_section_named_after_no_pipeline_is_named_with_the_pipelines():
    config = {"default": HERE, "trainig": {"schedule": "@weekly"}}
    assert check_create(_create("training"), config, PIPELINES, ours=True) == [
        "trainig: a section named after no pipeline of this project (its "
        "pipelines: __default__, inference, ingest, training); the sections are "
        "`default` (every DAG) and pipeline names"
    ]


def test_an_unknown_pipeline_on_the_command_line_is_named():
    problems = check_create(_create("training", "scoring"), {}, PIPELINES, ours=False)
    assert problems == [
        "--pipelines: no pipeline named 'scoring' in this project; its pipelines: "
        "__default__, inference, ingest, training"
    ]


def test_a_missing_project_path_or_image_says_where_to_set_it():
    problems = check_create(_create("training"), {}, PIPELINES, ours=True)
    assert problems == [
        "training: project_path is not set: the project's folder on the Airflow "
        "workers, where the task runs `kedro run` (runs_in: project). Set it in "
        "airflow.yml, or pass --params project_path=/path/to/project"
    ]
    config = {"default": {"runs_in": "kubernetes"}}
    (problem,) = check_create(_create("training"), config, PIPELINES, ours=True)
    assert problem.startswith("training: image is not set: the production image")


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"schedul": "@daily"},
            "inference.schedul: unknown key (allowed: catchup, decision_file, ",
        ),
        (
            {"schedule": "@weakly"},
            "inference.schedule: not a schedule: a cron expression of 5 fields",
        ),
        ({"start_date": [2024, 2, 30]}, "inference.start_date: not a date: [year, "),
        ({"retries": "3"}, "inference.retries: Input should be a valid integer"),
        ({"catchup": "no"}, "inference.catchup: Input should be a valid boolean"),
        ({"runs_in": "ecs"}, "inference.runs_in: Input should be 'project', 'docker'"),
        (
            {"retrain_pipeline": "trainig"},
            "inference.retrain_pipeline: no pipeline named 'trainig' in this "
            "project; its pipelines: __default__, inference, ingest, training",
        ),
        (
            {"retrain_pipeline": "inference"},
            "inference.retrain_pipeline: the DAG would trigger itself",
        ),
    ],
)
def test_a_wrong_setting_is_named_with_its_pipeline(settings, expected):
    config = {"default": HERE, "inference": settings}
    (problem,) = check_create(_create("inference"), config, PIPELINES, ours=True)
    assert problem.startswith(expected)


def test_params_are_checked_over_the_sections():
    config = {"default": HERE, "training": {"retries": 2}}
    create = parse_create_args(
        ["airflow", "create", "--pipelines=training", "--params", "retries=many"]
    )
    assert create is not None
    (problem,) = check_create(create, config, PIPELINES, ours=True)
    assert problem.startswith("training.retries: Input should be a valid integer")


def test_kedro_mlops_settings_without_its_template_are_refused():
    config = {"default": HERE, "inference": {"retrain_pipeline": "training"}}
    (problem,) = check_create(_create("inference"), config, PIPELINES, ours=False)
    assert problem.startswith(
        "project_path, retrain_pipeline: settings of kedro-mlops' template, which "
        "this command does not use: add --jinja-file airflow_dag.j2"
    )
    # kedro-airflow's own settings are its template's business
    plain = {"default": {"schedule": "@daily", "retries": 2}}
    assert check_create(_create("inference"), plain, PIPELINES, ours=False) == []


def test_node_grouping_options_are_refused_with_the_template():
    create = parse_create_args(
        ["airflow", "create", "-p", "training", "--tags", "fit", "-g", "memory"]
    )
    assert create is not None and create.grouping == ["--tags", "--group-by"]
    (problem,) = check_create(create, {"default": HERE}, PIPELINES, ours=True)
    assert problem.startswith(
        "--tags and --group-by: kedro-mlops' template runs the whole pipeline"
    )


def test_all_checks_every_registered_pipeline():
    create = parse_create_args(["airflow", "create", "--all", "--params", "retries=-1"])
    assert create is not None and create.convert_all
    problems = check_create(create, {"default": HERE}, PIPELINES, ours=True)
    assert [p.split(".")[0] for p in problems] == sorted(PIPELINES)


def test_the_command_line_is_read_as_kedro_airflow_reads_it():
    create = parse_create_args(
        [
            "airflow", "create", "-p", "training, inference", "-e", "prod",
            "-t", "dags", "--conf-source=conf.zip", "-j", "airflow_dag.j2",
            "--params", "run_params.scoring_file=data/b.csv,catchup=true",
        ]
    )  # fmt: skip
    assert create == AirflowCreate(
        pipelines=["training", "inference"],
        env="prod",
        jinja_file="airflow_dag.j2",
        params={"run_params": {"scoring_file": "data/b.csv"}, "catchup": True},
    )
    assert parse_create_args(["airflow", "create"]) == AirflowCreate()
    assert parse_create_args(["run", "--pipelines", "training"]) is None


def test_the_shipped_template_is_recognised():
    assert is_ours(template("airflow_dag.j2"))
    assert not is_ours("from airflow.sdk import dag\n# kedro-mlops airflow template\n")


def test_a_run_param_with_a_comma_is_refused():
    config = {"default": {**HERE, "run_params": {"columns": "a,b"}}}
    (problem,) = check_create(_create("training"), config, PIPELINES, ours=True)
    assert problem == (
        "training.run_params: columns: `kedro run --params` splits at commas, so "
        "a key or value cannot hold one; put the value in parameters.yml"
    )
