"""``airflow.yml`` for kedro-mlops' DAG template, checked before kedro-airflow renders it.

kedro-airflow's ``kedro airflow create`` reads the project's ``airflow*``
configuration: a ``default`` section for every DAG, then one section per
pipeline, then ``--params``; it hands the merged mapping to the template
(``--jinja-file``) and renders whatever it gets. So a section named after a
pipeline the project does not have is ignored, a misspelt setting silently
becomes the template's default, and ``--pipelines`` with an unknown name ends
with ``NoneType: None``. The plugin's CLI hook calls :func:`check_create` first;
each problem becomes one line naming the section, the key and the fix.

The template's settings are the fields of :class:`AirflowSettings`: the DAG
settings of kedro-airflow's own template (same names, defaults that suit one
task per pipeline run), plus where the task runs (``runs_in``) and the
retraining trigger (``retrain_pipeline``).

Example:
    >>> create = parse_create_args(
    ...     ["airflow", "create", "-p", "inference", "--jinja-file", "dag.j2",
    ...      "--params", "project_path=/srv/churn,retries=3"])
    >>> create.pipelines, create.params
    (['inference'], {'project_path': '/srv/churn', 'retries': 3})
    >>> config = {"inference": {"retrain_pipeline": "trainig"}}
    >>> for line in check_create(create, config, ["inference", "training"], ours=True):
    ...     print(line)
    inference.retrain_pipeline: no pipeline named 'trainig' in this project; its pipelines: inference, training
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kedro_mlops.strict import StrictModel, describe_errors

#: The first line of kedro-mlops' template carries this text.
TEMPLATE_MARKER = "kedro-mlops airflow template"
#: The section every DAG reads before its pipeline's own.
DEFAULT_SECTION = "default"
#: kedro-airflow's name of the pipeline that ``--pipelines`` defaults to.
DEFAULT_PIPELINE = "__default__"
#: Airflow's named schedules.
PRESETS = (
    "@once",
    "@continuous",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
    "@annually",
)
#: The settings of kedro-airflow's own template (it also reads
#: ``schedule_interval``, Airflow 2's name of ``schedule``).
KEDRO_AIRFLOW_SETTINGS = frozenset(
    {
        "start_date",
        "max_active_runs",
        "schedule",
        "schedule_interval",
        "catchup",
        "owner",
        "depends_on_past",
        "email_on_failure",
        "email_on_retry",
        "retries",
        "retry_delay",
    }
)


class AirflowSettings(StrictModel):
    """The settings of one DAG: ``default``, its pipeline's section, ``--params``.

    Types are strict (a quoted ``"3"`` is not a number, ``"yes"`` not a
    boolean): each value is written into the DAG file as it is.

    Example:
        >>> AirflowSettings(project_path="/srv/churn").run_command
        'kedro run'
        >>> try:
        ...     AirflowSettings(runs_in="docker", retries="3")
        ... except ValidationError as exc:
        ...     for line in describe_errors(exc, AirflowSettings, at="training"):
        ...         print(line)
        training.retries: Input should be a valid integer (got '3')
    """

    model_config = ConfigDict(strict=True)

    # --- where the task runs
    runs_in: Literal["project", "docker", "kubernetes"] = Field(
        default="project",
        description="project: `kedro run` in the project's folder on the Airflow "
        "worker; docker or kubernetes: the project's production image.",
    )
    project_path: str | None = Field(
        default=None, description="runs_in project: the project's folder on the worker."
    )
    run_command: str = Field(
        default="kedro run",
        description="runs_in project: what starts a run, e.g. /srv/churn/.venv/bin/"
        "kedro run, or the packaged project's entry point (churn-model).",
    )
    image: str | None = Field(
        default=None, description="runs_in docker or kubernetes: the image."
    )
    volumes: dict[str, str] = Field(
        default_factory=dict,
        description="Mounted into the container: host path or volume name "
        "(docker), persistent volume claim (kubernetes) -> path in the container.",
    )
    docker_url: str = "unix://var/run/docker.sock"
    kubernetes_namespace: str = "default"
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables of the run (MLFLOW_TRACKING_URI, "
        "KEDRO_ENV...); Airflow renders them, so {{ var.value.x }} works.",
    )
    run_params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="`kedro run --params` of the task."
    )
    # --- retraining
    retrain_pipeline: str | None = Field(
        default=None,
        description="Trigger this pipeline's DAG when the run's retrain decision "
        "says so (the starter: inference -> training).",
    )
    decision_file: str = Field(
        default="data/08_reporting/retrain_decision.json",
        description="The retrain decision the run writes, relative to the "
        "project's folder (or the image's working directory).",
    )
    # --- the DAG (the names of kedro-airflow's own template)
    schedule: str | None = None
    start_date: list[int] = Field(default_factory=lambda: [2024, 1, 1])
    catchup: bool = False
    max_active_runs: int = Field(default=1, ge=1)
    owner: str = "airflow"
    depends_on_past: bool = False
    email_on_failure: bool = False
    email_on_retry: bool = False
    retries: int = Field(default=1, ge=0)
    retry_delay: float = Field(default=5, ge=0, description="Minutes.")
    tags: list[str] = Field(default_factory=list)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None or value in PRESETS or len(value.split()) == 5:
            return value
        raise ValueError(
            "not a schedule: a cron expression of 5 fields ('0 3 * * *') or one "
            f"of {', '.join(PRESETS)}; leave it out (null) for a DAG run by hand"
        )

    @field_validator("run_params")
    @classmethod
    def _run_params(
        cls, value: dict[str, str | int | float | bool]
    ) -> dict[str, str | int | float | bool]:
        for key, item in value.items():
            if "," in f"{key}={item}":
                raise ValueError(
                    f"{key}: `kedro run --params` splits at commas, so a key or "
                    "value cannot hold one; put the value in parameters.yml"
                )
        return value

    @field_validator("start_date")
    @classmethod
    def _start_date(cls, value: list[int]) -> list[int]:
        try:
            if len(value) != 3:
                raise ValueError
            datetime.date(*value)
        except ValueError:
            raise ValueError(
                "not a date: [year, month, day], e.g. [2024, 1, 1]"
            ) from None
        return value

    @model_validator(mode="after")
    def _where(self) -> AirflowSettings:
        if self.runs_in == "project" and not self.project_path:
            raise ValueError(
                "project_path is not set: the project's folder on the Airflow "
                "workers, where the task runs `kedro run` (runs_in: project). Set "
                "it in airflow.yml, or pass --params project_path=/path/to/project"
            )
        if self.runs_in != "project" and not self.image:
            raise ValueError(
                "image is not set: the production image that runs the task "
                f"(runs_in: {self.runs_in}), e.g. image: "
                "registry.example.com/churn-model:1.4"
            )
        return self


@dataclass
class AirflowCreate:
    """What a ``kedro airflow create`` command line asks for."""

    pipelines: list[str] = field(default_factory=lambda: [DEFAULT_PIPELINE])
    convert_all: bool = False
    env: str = "local"
    jinja_file: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    grouping: list[str] = field(default_factory=list)  # --tags, --group-by given


_VALUED = {
    "-p": "pipelines",
    "--pipelines": "pipelines",
    "-e": "env",
    "--env": "env",
    "-j": "jinja_file",
    "--jinja-file": "jinja_file",
    "--params": "params",
    "-g": "--group-by",
    "--group-by": "--group-by",
    "--tags": "--tags",
    "-t": "",
    "--target-dir": "",
    "--conf-source": "",
}


def parse_create_args(command_args: list[str]) -> AirflowCreate | None:
    """The options of ``kedro airflow create``; None for any other command.

    >>> parse_create_args(["airflow", "create", "--all", "-e=prod"]).env
    'prod'
    >>> parse_create_args(["run", "--pipelines", "x"]) is None
    True
    """
    if command_args[:2] != ["airflow", "create"]:
        return None
    create = AirflowCreate()
    args = iter(command_args[2:])
    for arg in args:
        option, equals, value = arg.partition("=")
        if option == "--all":
            create.convert_all = True
            continue
        if option not in _VALUED:
            continue
        value = value if equals else next(args, "")
        name = _VALUED[option]
        if name == "pipelines":
            create.pipelines = [n.strip() for n in value.split(",") if n.strip()]
        elif name == "params":
            create.params = split_params(value)
        elif name.startswith("--"):
            if value:
                create.grouping.append(name)
        elif name:
            setattr(create, name, value)
    return create


def split_params(value: str) -> dict[str, Any]:
    """``--params`` as kedro-airflow reads it: ``key=value`` pairs separated by
    commas, values typed as YAML, dotted keys nested.

    >>> split_params("retries=2, run_params.scoring_file=data/b.csv")
    {'retries': 2, 'run_params': {'scoring_file': 'data/b.csv'}}
    """
    from omegaconf import OmegaConf

    pairs = [item.strip() for item in value.split(",") if item.strip()]
    if any("=" not in pair or not pair.partition("=")[0].strip() for pair in pairs):
        return {}  # kedro-airflow's own option check says what is wrong
    dotlist = [
        f"{key.strip()}={val}" for key, _, val in (p.partition("=") for p in pairs)
    ]
    return OmegaConf.to_container(OmegaConf.from_dotlist(dotlist))  # type: ignore[return-value]


def is_ours(template_text: str) -> bool:
    """Whether a template is kedro-mlops' (its first line says so)."""
    return TEMPLATE_MARKER in template_text.partition("\n")[0]


def check_create(
    create: AirflowCreate,
    config: Mapping[str, Any],
    pipelines: Collection[str],
    *,
    ours: bool,
) -> list[str]:
    """The problems of a ``kedro airflow create`` command and its ``airflow.yml``.

    ``config`` is the loaded ``airflow*`` configuration, ``pipelines`` the
    project's registered pipeline names, ``ours`` whether ``--jinja-file`` is
    kedro-mlops' template. Returns one line per problem (empty: all good).
    """
    known = sorted(pipelines)
    listed = ", ".join(known)
    problems = []
    for name in create.pipelines if not create.convert_all else []:
        if name not in pipelines:
            problems.append(
                f"--pipelines: no pipeline named '{name}' in this project; its "
                f"pipelines: {listed}"
            )
    for section in config:
        if section != DEFAULT_SECTION and section not in pipelines:
            problems.append(
                f"{section}: a section named after no pipeline of this project (its "
                f"pipelines: {listed}); the sections are `{DEFAULT_SECTION}` (every "
                "DAG) and pipeline names"
            )
    if not ours:
        return problems + _ours_needed(create, config)
    if create.grouping:
        problems.append(
            f"{' and '.join(create.grouping)}: kedro-mlops' template runs the whole "
            "pipeline in one task, whatever the nodes' tags or groups; leave the "
            "option out (or run a pipeline made of those nodes)"
        )
    names = sorted(pipelines) if create.convert_all else create.pipelines
    for name in names:
        if name not in pipelines:
            continue
        merged = {
            **_section(config, DEFAULT_SECTION),
            **_section(config, name),
            **create.params,
        }
        try:
            settings = AirflowSettings.model_validate(merged)
        except ValidationError as exc:
            problems += describe_errors(exc, AirflowSettings, at=name)
            continue
        retrain = settings.retrain_pipeline
        if retrain is not None and retrain not in pipelines:
            problems.append(
                f"{name}.retrain_pipeline: no pipeline named '{retrain}' in this "
                f"project; its pipelines: {listed}"
            )
        elif retrain == name:
            problems.append(
                f"{name}.retrain_pipeline: the DAG would trigger itself; name the "
                "training pipeline"
            )
    return problems


def _section(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    found = config.get(name)
    return dict(found) if isinstance(found, Mapping) else {}


def _ours_needed(create: AirflowCreate, config: Mapping[str, Any]) -> list[str]:
    """kedro-mlops' settings given to another template, which ignores them."""
    given = set(create.params)
    for section in config.values():
        if isinstance(section, Mapping):
            given |= set(section)
    ours = sorted((given & set(AirflowSettings.model_fields)) - KEDRO_AIRFLOW_SETTINGS)
    if not ours:
        return []
    return [
        f"{', '.join(ours)}: settings of kedro-mlops' template, which this command "
        "does not use: add --jinja-file airflow_dag.j2 (kedro-airflow's default "
        "template runs each node in a task of its own, and each task opens an "
        "MLflow run of its own)"
    ]


def load_config(conf_source: str, env: str) -> dict[str, Any]:
    """The ``airflow*`` configuration as kedro-airflow loads it: the project's
    config loader (``settings.py``), ``conf/base`` then ``conf/<env>``; empty
    when there is none."""
    from kedro.config import MissingConfigException
    from kedro.framework.project import settings

    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=conf_source, env=env, **settings.CONFIG_LOADER_ARGS
    )
    patterns = getattr(loader, "config_patterns", None)
    if isinstance(patterns, dict):
        patterns.setdefault("airflow", ["airflow*", "airflow/**"])
    try:
        return dict(loader["airflow"])
    except MissingConfigException:
        return {}
