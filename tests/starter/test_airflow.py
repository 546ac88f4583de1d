"""The starter's pipelines scheduled by Airflow, with DAGs from `kedro airflow create`
and kedro-mlops' template (airflow_dag.j2).

Airflow runs in an environment of its own (a fresh uv venv, Airflow 3 with the
Docker and Kubernetes providers), standalone: a sqlite metadata database under
a temporary AIRFLOW_HOME, no webserver, no scheduler. `airflow dags test` runs
a DAG in one process, its tasks for real:

* the first shape (tasks run `kedro run` in the installed project): the
  training DAG trains and registers the model; the inference DAG scores the
  drifted production batch, its decision task reads the decision the run
  published, and the training DAG gets a DagRun; on the control batch (no
  drift) the trigger is skipped;
* the second shape (tasks run the production image): no Docker daemon or
  cluster here, so the DAGs are imported in a DagBag and their tasks, commands
  and dependencies checked.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.envs import Env, create_env, new_project
from tests.starter.runs import search_off_in_conf_local

pytestmark = pytest.mark.integration

#: Airflow 3 (kedro-airflow 0.11 writes for it) and the providers of the image
#: shape; installed without a constraints file, so pinned here.
AIRFLOW = [
    "apache-airflow==3.3.2",
    "apache-airflow-providers-docker==4.6.1",
    "apache-airflow-providers-cncf-kubernetes==10.25.0",
]
MODEL = "churn_model"
DECISION = "data/08_reporting/retrain_decision.json"


@dataclass
class Airflow:
    """Airflow's own environment and home (metadata db, logs)."""

    env: Env
    home: Path

    def run(self, *args: str, dags: Path, check: bool = True):
        return self.env.run(
            "airflow",
            *args,
            cwd=self.home,
            check=check,
            extra_env={
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            },
        )

    def query(self, sql: str, *args: str) -> list[tuple]:
        with sqlite3.connect(self.home / "airflow.db") as db:
            return db.execute(sql, args).fetchall()

    def task_states(self, dag_id: str) -> dict[str, str | None]:
        """The task states of the DAG's run made by `airflow dags test`."""
        (run_id,) = self.query(
            "SELECT run_id FROM dag_run WHERE dag_id = ? AND run_type = 'manual'",
            dag_id,
        )
        rows = self.query(
            "SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id = ?",
            dag_id,
            run_id[0],
        )
        return dict(rows)

    def xcom(self, dag_id: str, task_id: str, key: str = "return_value"):
        (value,) = self.query(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = ?",
            dag_id,
            task_id,
            key,
        )
        return json.loads(value[0])


@pytest.fixture(scope="module")
def airflow(tmp_path_factory) -> Airflow:
    root = tmp_path_factory.mktemp("airflow")
    found = Airflow(create_env(root / "env", *AIRFLOW), root / "home")
    found.home.mkdir()
    found.run("db", "migrate", dags=root / "no-dags")
    return found


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory) -> Path:
    return new_project(installed, tmp_path_factory.mktemp("projects"))


def _create(installed: Env, project: Path, dags: Path, *options: str) -> None:
    installed.run(
        "kedro", "airflow", "create", "--pipelines", "training,inference",
        "--jinja-file", "airflow_dag.j2", "--target-dir", str(dags), *options,
        cwd=project,
    )  # fmt: skip


@pytest.fixture(scope="module")
def scheduled(installed, project, airflow, tmp_path_factory) -> Path:
    """DAGs of the installed project, run by `airflow dags test`: training,
    inference on the drifted batch, inference on the control batch."""
    dags = tmp_path_factory.mktemp("dags")
    # the training task's `kedro run` reads conf/local: the shipped model is
    # trained there without the search over its parameters (not checked here)
    search_off_in_conf_local(project)
    # the tasks run this environment's kedro in the project's folder
    here = f"project_path={project},run_command={installed.bin / 'kedro'} run"
    _create(installed, project, dags, "--params", here)
    # the control batch, through an environment of its own (so DAG ids of their own)
    (project / "conf" / "control").mkdir()
    control = f"{here},run_params.scoring_file=data/01_raw/batch_control.csv"
    _create(installed, project, dags, "--env", "control", "--params", control)
    assert sorted(p.name for p in dags.glob("*.py")) == [
        "churn_model_control_inference_dag.py",
        "churn_model_control_training_dag.py",
        "churn_model_inference_dag.py",
        "churn_model_training_dag.py",
    ]
    for dag_id in (
        "churn_model_training",
        "churn_model_inference",
        "churn_model_control_inference",
    ):
        airflow.run("dags", "test", dag_id, dags=dags)
    return project


@pytest.fixture(scope="module")
def client(scheduled):
    from mlflow import MlflowClient

    return MlflowClient(f"sqlite:///{scheduled / 'mlflow.db'}")


def _runs(client, filter_string: str):
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(
        experiments, filter_string, order_by=["attributes.start_time ASC"]
    )


def test_the_training_dag_trains_and_registers_the_model(airflow, client):
    assert airflow.task_states("churn_model_training") == {"training": "success"}
    (run,) = _runs(client, "attributes.run_name = 'training'")
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlops.lineage.pipelines"] == "training"
    assert run.data.metrics["test.roc_auc"] > 0.75
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert champion.run_id == run.info.run_id
    assert run.data.tags["mlops.registry.version"] == str(champion.version)


def test_drift_in_the_inference_dag_triggers_the_training_dag(
    airflow, client, scheduled
):
    assert airflow.task_states("churn_model_inference") == {
        "inference": "success",
        "retrain_decision": "success",
        "trigger_training": "success",
    }
    # the task published the decision its run wrote, and it said retrain
    published = json.loads(airflow.xcom("churn_model_inference", "inference"))
    assert published["retrain"] is True
    assert set(published["drifted_columns"]) == {
        "monthly_charges",
        "contract",
        "support_tickets",
    }
    assert airflow.xcom("churn_model_inference", "retrain_decision") is True
    # so the training DAG got a run, the one the trigger task recorded
    triggered = airflow.xcom(
        "churn_model_inference", "trigger_training", "trigger_run_id"
    )
    rows = airflow.query(
        "SELECT run_id, run_type, state, conf FROM dag_run "
        "WHERE dag_id = 'churn_model_training' AND run_type = 'operator_triggered'"
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (triggered, "operator_triggered", "queued")
    ]
    assert json.loads(rows[0][3])["triggered_by"] == "churn_model_inference"
    # and the inference run is in MLflow with the drift metrics
    first, _control = _runs(client, "attributes.run_name = 'inference'")
    assert first.info.status == "FINISHED"
    assert first.data.metrics["drift.column.contract.drifted"] == 1.0
    assert first.data.metrics["drift.column.age.drifted"] == 0.0


def test_no_drift_in_the_inference_dag_triggers_nothing(airflow, client):
    assert airflow.task_states("churn_model_control_inference") == {
        "inference": "success",
        "retrain_decision": "success",
        "trigger_training": "skipped",
    }
    published = json.loads(airflow.xcom("churn_model_control_inference", "inference"))
    assert published["retrain"] is False and published["drifted_columns"] == []
    assert airflow.query(
        "SELECT count(*) FROM dag_run WHERE dag_id = 'churn_model_control_training'"
    ) == [(0,)]
    _first, control = _runs(client, "attributes.run_name = 'inference'")
    assert control.info.status == "FINISHED"
    assert control.data.metrics["drift.column.contract.drifted"] == 0.0


#: Imports a DAG folder as Airflow's DAG processor does, and prints its DAGs.
DAGBAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
dags = {}
for dag_id, dag in bag.dags.items():
    tasks = {}
    for task in dag.tasks:
        found = {"type": type(task).__name__, "downstream": sorted(task.downstream_task_ids)}
        for name in ("image", "command", "entrypoint", "cmds", "arguments",
                     "environment", "namespace", "docker_url", "do_xcom_push",
                     "trigger_dag_id"):
            if hasattr(task, name):
                found[name] = getattr(task, name)
        if hasattr(task, "mounts"):
            found["mounts"] = [[m["Source"], m["Target"], m["Type"]] for m in task.mounts]
        if hasattr(task, "volumes"):
            claims = {v.name: v.persistent_volume_claim.claim_name for v in task.volumes}
            found["volumes"] = [[claims[m.name], m.mount_path] for m in task.volume_mounts]
            found["env_vars"] = task.env_vars  # a mapping until rendered
        tasks[task.task_id] = found
    dags[dag_id] = {"schedule": dag.schedule, "tasks": tasks}
print(json.dumps({"errors": bag.import_errors, "dags": dags}))
"""

IMAGE_SETTINGS = {
    "docker": """\
default:
  runs_in: docker
  image: registry.example.com/churn-model:1.4
  environment: {MLFLOW_TRACKING_URI: "https://mlflow.example.com"}
  volumes: {/srv/churn/data: /home/kedro/app/data, churn-conf: /home/kedro/app/conf/docker}
training:
  schedule: "@weekly"
inference:
  schedule: "@daily"
  retrain_pipeline: training
""",
    "kubernetes": """\
default:
  runs_in: kubernetes
  image: registry.example.com/churn-model:1.4
  kubernetes_namespace: ml
  environment: {MLFLOW_TRACKING_URI: "https://mlflow.example.com"}
  volumes: {churn-data: /home/kedro/app/data}
training:
  schedule: "@weekly"
inference:
  schedule: "0 3 * * *"
  retrain_pipeline: training
""",
}


def test_image_dags_import_with_the_images_commands(
    installed, project, airflow, tmp_path
):
    bags = {}
    for shape, settings in IMAGE_SETTINGS.items():
        (project / "conf" / shape).mkdir()
        (project / "conf" / shape / "airflow.yml").write_text(settings)
        dags = tmp_path / shape
        _create(installed, project, dags, "--env", shape)
        script = tmp_path / "dagbag.py"
        script.write_text(DAGBAG)
        output = airflow.env.run(
            "python", str(script), str(dags), cwd=tmp_path,
            extra_env={"AIRFLOW_HOME": str(airflow.home)},
        ).stdout  # fmt: skip
        bags[shape] = json.loads(output.strip().splitlines()[-1])
    docker, kubernetes = bags["docker"], bags["kubernetes"]
    assert docker["errors"] == {} and kubernetes["errors"] == {}

    # docker: the image's entry point (kedro) for training; for inference a
    # shell that runs kedro, then prints the decision as the last log line
    training = docker["dags"]["churn_model_docker_training"]
    assert training["schedule"] == "@weekly"
    assert training["tasks"] == {
        "training": {
            "type": "DockerOperator",
            "downstream": [],
            "image": "registry.example.com/churn-model:1.4",
            "command": ["run", "--pipelines", "training", "--env", "docker"],
            "entrypoint": None,
            "environment": {"MLFLOW_TRACKING_URI": "https://mlflow.example.com"},
            "docker_url": "unix://var/run/docker.sock",
            "do_xcom_push": False,
            "mounts": [
                ["/srv/churn/data", "/home/kedro/app/data", "bind"],
                ["churn-conf", "/home/kedro/app/conf/docker", "volume"],
            ],
        }
    }
    inference = docker["dags"]["churn_model_docker_inference"]["tasks"]
    assert inference["inference"]["entrypoint"] == ["/bin/sh", "-c"]
    assert inference["inference"]["command"] == [
        f"kedro run --pipelines inference --env docker && tr -d '\\n' < {DECISION}"
    ]
    assert inference["inference"]["do_xcom_push"] is True
    assert inference["inference"]["downstream"] == ["retrain_decision"]
    assert inference["retrain_decision"]["downstream"] == ["trigger_training"]
    assert inference["trigger_training"]["type"] == "TriggerDagRunOperator"
    assert inference["trigger_training"]["trigger_dag_id"] == (
        "churn_model_docker_training"
    )

    # kubernetes: the same, the decision copied to KubernetesPodOperator's XCom file
    training = kubernetes["dags"]["churn_model_kubernetes_training"]["tasks"]
    assert training["training"]["type"] == "KubernetesPodOperator"
    assert training["training"]["cmds"] == []
    assert training["training"]["arguments"] == [
        "run", "--pipelines", "training", "--env", "kubernetes",
    ]  # fmt: skip
    assert training["training"]["namespace"] == "ml"
    assert training["training"]["volumes"] == [["churn-data", "/home/kedro/app/data"]]
    assert training["training"]["env_vars"] == {
        "MLFLOW_TRACKING_URI": "https://mlflow.example.com"
    }
    inference_dag = kubernetes["dags"]["churn_model_kubernetes_inference"]
    assert inference_dag["schedule"] == "0 3 * * *"
    inference = inference_dag["tasks"]
    assert inference["inference"]["cmds"] == ["/bin/sh", "-c"]
    assert inference["inference"]["arguments"] == [
        "kedro run --pipelines inference --env kubernetes"
        f" && tr -d '\\n' < {DECISION} > /airflow/xcom/return.json"
    ]
    assert inference["inference"]["do_xcom_push"] is True
    assert inference["trigger_training"]["trigger_dag_id"] == (
        "churn_model_kubernetes_training"
    )
