"""A team on one tracking server: PostgreSQL, ``mlflow server --serve-artifacts
--app-name basic-auth``, two working copies of a starter project.

The project gets ``conf-examples/remote-mlflow`` in ``conf/remote/``, copied and
edited as that example's README says. Alice trains, scores, serves and reads a
run's lineage, all on the server; Bob, a teammate given access as
``docs/team-server.md`` says, clones the project, sees Alice's champion and
promotes a better model. Then the faults: wrong or placeholder credentials, a
missing grant, the server down, killed mid-run and restarted. At the end no
password appears in anything the runs logged.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness.envs import REPO, new_project
from tests.git_dvc import DVC, sh
from tests.starter.conftest import DATABASE_PASSWORD
from tests.starter.runs import NO_SEARCH, PLOTS, plots_and_models
from tests.starter.test_docker import _request, _split, serving

pytestmark = pytest.mark.integration

EXAMPLE = REPO / "conf-examples" / "remote-mlflow"
EXPERIMENT = "churn_model"
MODEL = "churn_model"  # the project's name: registered_model_name in globals.yml
USERS = {
    "alice": "alice-pass-41c7",
    "bob": "bob-pass-9d2e",
    "carol": "carol-pass-5f80",
    "dave": "dave-pass-0a3b",
}
#: A weaker model than the starter's defaults (test ROC AUC 0.77 vs 0.81).
WEAK = (
    "train.model.max_iter=10,train.model.learning_rate=0.02,train.tuning.enabled=false"
)
#: Everything the kedro commands printed, checked for secrets at the end.
OUTPUTS: list[str] = []


def _credentials(user: str) -> str:
    return yaml.safe_dump(
        {
            "mlflow_credentials": {
                "MLFLOW_TRACKING_USERNAME": user,
                "MLFLOW_TRACKING_PASSWORD": USERS.get(user, "not-the-password"),
            }
        }
    )


def _configure(project: Path, uri: str) -> None:
    """What the example's README asks of a user: copy three files, edit two."""
    conf = project / "conf" / "remote"
    conf.mkdir()
    for name in ("mlflow.yml", "credentials.yml", "mlops.yml"):
        shutil.copy(EXAMPLE / name, conf / name)
    mlflow_yml = conf / "mlflow.yml"
    text = mlflow_yml.read_text().replace("http://mlflow.internal:5000", uri)
    mlflow_yml.write_text(text.replace("name: churn_model", f"name: {EXPERIMENT}"))


def _kedro(env, project: Path, *args: str, check: bool = True, **extra: str):
    result = env.run("kedro", *args, cwd=project, check=check, extra_env=extra)
    OUTPUTS.append(result.stdout + result.stderr)
    return result


@pytest.fixture(scope="module")
def admin(team_server):
    """An MLflow client of the server, logged in as its admin."""
    from mlflow import MlflowClient

    with pytest.MonkeyPatch.context() as environ:
        environ.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        environ.setenv("MLFLOW_TRACKING_PASSWORD", team_server.admin_password)
        yield MlflowClient(team_server.uri)


@pytest.fixture(scope="module")
def project(installed, team_server, tmp_path_factory):
    """Alice's working copy: a new starter project with conf/remote/ and her
    account in its credentials.yml; a DVC directory remote for the raw data."""
    for user, password in USERS.items():
        team_server.add_user(user, password)
    project = new_project(installed, tmp_path_factory.mktemp("alice"), "churn-model")
    _configure(project, team_server.uri)
    remote = tmp_path_factory.mktemp("dvc-remote")
    sh(DVC, "remote", "add", "-d", "team", str(remote), cwd=project)
    sh(DVC, "push", "-q", cwd=project)
    # what goes to git: the configuration without credentials.yml
    sh(
        "git",
        "add",
        "conf/remote/mlflow.yml",
        "conf/remote/mlops.yml",
        ".dvc",
        cwd=project,
    )
    sh("git", "commit", "-qm", "Team tracking server and DVC remote", cwd=project)
    (project / "conf/remote/credentials.yml").write_text(_credentials("alice"))
    return project


def _runs(client, name: str | None = None):
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return []
    filters = f"attributes.run_name = '{name}'" if name else ""
    return client.search_runs(
        [experiment.experiment_id],
        filter_string=filters,
        order_by=["attributes.start_time DESC"],
        run_view_type=3,  # active and deleted
    )


def _nothing_local(project: Path) -> None:
    assert not (project / "mlflow.db").exists()
    assert not (project / "mlartifacts").exists()
    assert not (project / "mlruns").exists()


# ------------------------------------------------------------------ the team


def test_training_runs_registers_and_logs_everything_on_the_server(
    installed, project, admin, team_server
):
    _kedro(installed, project, "run", "--env", "remote", "--params", WEAK)
    (run,) = _runs(admin, "__default__")
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.user"] == "alice"
    assert run.data.params["train.model.max_iter"] == "10"
    assert 0.6 < run.data.metrics["test.roc_auc"] < 0.8
    assert plots_and_models(admin, run) == (PLOTS, 1)
    reference = admin.list_artifacts(run.info.run_id, "reference")
    assert [item.path for item in reference] == [
        "reference/calibration.pkl",
        "reference/reference_sample.parquet",
    ]
    tags = run.data.tags
    assert (
        tags["mlops.lineage.git.commit"]
        == sh("git", "rev-parse", "HEAD", cwd=project).strip()
    )
    assert tags["mlops.lineage.data.raw_customers.state"] == "committed"
    champion = admin.get_model_version_by_alias(MODEL, "champion")
    challenger = admin.get_model_version_by_alias(MODEL, "challenger")
    assert champion.run_id == challenger.run_id == run.info.run_id
    # with its model card, logged through the server, linked from the version
    card = {a.path for a in admin.list_artifacts(run.info.run_id, "model_card")}
    assert card == {"model_card/model_card.html", "model_card/model_card.md"}
    assert f"runs:/{run.info.run_id}/model_card/" in champion.description
    # artifacts went through the server to its artifacts destination
    experiment = admin.get_experiment(run.info.experiment_id)
    assert experiment.artifact_location.startswith("mlflow-artifacts:/")
    stored = team_server.log.parent / "artifacts"
    assert any(stored.rglob("MLmodel")) and any(stored.rglob("roc_curve.png"))
    _nothing_local(project)
    # the users are in PostgreSQL, not in a sqlite file beside the server
    assert not list(team_server.log.parent.glob("*.db"))
    users = team_server.postgres.psql("SELECT username FROM users", "mlflow_auth")
    assert set(users.split()) == {"admin", *USERS}


def test_inference_scores_with_the_servers_champion(installed, project, admin):
    _kedro(installed, project, "run", "--env", "remote", "--pipelines", "inference")
    (run,) = _runs(admin, "inference")
    assert run.info.status == "FINISHED"
    assert run.data.metrics["drift.column.contract.drifted"] == 1.0
    reports = {a.path for a in admin.list_artifacts(run.info.run_id, "drift")}
    assert "drift/drift_report.html" in reports
    assert (project / "data/07_model_output/predictions.csv").is_file()
    _nothing_local(project)


def test_lineage_reads_the_run_on_the_server(installed, project, admin):
    (run,) = _runs(admin, "__default__")
    result = _kedro(
        installed, project, "mlops", "lineage", run.info.run_id, "--env", "remote"
    )
    md5 = run.data.tags["mlops.lineage.data.raw_customers.md5"]
    assert md5 in result.stdout
    assert run.data.tags["mlops.lineage.git.commit"] in result.stdout
    _nothing_local(project)


def test_serving_the_servers_champion(installed, project, tmp_path):
    batch = pd.read_csv(project / "data/01_raw/batch_production.csv").head(5)
    expected = pd.read_csv(project / "data/07_model_output/predictions.csv").head(5)
    with serving(installed, project, tmp_path, args=("--env", "remote")) as running:
        status, body = _request(running["url"] + "/invocations", _split(batch))
        OUTPUTS.append(running["log"].read_text())
    assert status == 200, body
    served = pd.DataFrame(json.loads(body)["predictions"])
    pd.testing.assert_frame_equal(served, expected, rtol=1e-9, check_dtype=False)
    _nothing_local(project)


def test_a_teammate_clone_sees_the_champion_and_promotes_a_better_model(
    installed, project, admin, team_server, tmp_path
):
    # an admin gives Bob what docs/team-server.md says a member needs
    experiment = admin.get_experiment_by_name(EXPERIMENT)
    team_server.grant("bob", "experiment", experiment.experiment_id, "EDIT")
    team_server.grant("bob", "registered_model", MODEL, "EDIT")
    before = admin.get_model_version_by_alias(MODEL, "champion")
    # Bob's working copy: git clone, dvc pull, his account from the environment
    clone = tmp_path / "bob" / "churn-model"
    sh("git", "clone", "-q", str(project), str(clone), cwd=tmp_path)
    assert not (clone / "conf/remote/credentials.yml").exists()
    sh(DVC, "pull", "-q", cwd=clone)
    bob = {"MLFLOW_TRACKING_USERNAME": "bob", "MLFLOW_TRACKING_PASSWORD": USERS["bob"]}
    # the clone serves the same champion: the same predictions as Alice's batch
    batch = pd.read_csv(clone / "data/01_raw/batch_production.csv").head(5)
    expected = pd.read_csv(project / "data/07_model_output/predictions.csv").head(5)
    with serving(installed, clone, tmp_path, bob, args=("--env", "remote")) as running:
        status, body = _request(running["url"] + "/invocations", _split(batch))
        OUTPUTS.append(running["log"].read_text())
    assert status == 200, body
    served = pd.DataFrame(json.loads(body)["predictions"])
    pd.testing.assert_frame_equal(served, expected, rtol=1e-9, check_dtype=False)
    # and checks a batch for drift at once: the champion's drift reference is
    # the sample its training run logged on the server, not a local file
    assert not (clone / "data/02_intermediate/reference_sample.parquet").exists()
    _kedro(
        installed, clone, "run", "--env", "remote", "--pipelines", "inference", **bob
    )
    decision = json.loads(
        (clone / "data/08_reporting/retrain_decision.json").read_text()
    )
    assert sorted(decision["drifted_columns"]) == [
        "contract",
        "monthly_charges",
        "support_tickets",
    ]
    # Bob trains with the starter's parameters (without the search): better,
    # so champion
    result = _kedro(
        installed, clone, "run", "--env", "remote", "--params", NO_SEARCH, **bob
    )
    after = admin.get_model_version_by_alias(MODEL, "champion")
    assert int(after.version) == int(before.version) + 1
    new_run = admin.get_run(after.run_id)
    assert new_run.data.tags["mlflow.user"] == "bob"
    old_auc = admin.get_run(before.run_id).data.metrics["test.roc_auc"]
    assert new_run.data.metrics["test.roc_auc"] > old_auc + 0.005
    assert f"now champion (was v{before.version}" in result.stdout + result.stderr
    _nothing_local(clone)


# ---------------------------------------------------------------- credentials


def _refused(installed, project, admin, *args: str, **extra: str) -> str:
    """Run; it must fail before any run is opened on the server, in seconds."""
    count = len(_runs(admin))
    started = time.monotonic()
    result = _kedro(
        installed, project, "run", "--env", "remote", *args, check=False, **extra
    )
    assert result.returncode != 0
    assert time.monotonic() - started < 60
    assert len(_runs(admin)) == count
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return errors[0]


def test_a_wrong_password_stops_before_the_first_node(
    installed, project, admin, team_server
):
    conf = project / "conf/remote/credentials.yml"
    conf.write_text(_credentials("alice").replace(USERS["alice"], "wrong-password"))
    try:
        error = _refused(installed, project, admin)
    finally:
        conf.write_text(_credentials("alice"))
    assert error == (
        f"Error: The MLflow tracking server {team_server.uri} refused the login "
        "of user 'alice' (401). Set MLFLOW_TRACKING_USERNAME and "
        "MLFLOW_TRACKING_PASSWORD in conf/remote/credentials.yml (key "
        "'mlflow_credentials') or in the environment."
    )


def test_the_examples_placeholder_credentials_are_refused(installed, project, admin):
    conf = project / "conf/remote/credentials.yml"
    shutil.copy(EXAMPLE / "credentials.yml", conf)
    try:
        error = _refused(installed, project, admin)
    finally:
        conf.write_text(_credentials("alice"))
    assert "MLFLOW_TRACKING_PASSWORD, MLFLOW_TRACKING_USERNAME still hold" in error
    assert "placeholder value ('change-me...') in conf/remote/credentials.yml" in error


def test_a_member_without_the_model_grant_stops_before_the_first_node(
    installed, project, admin, team_server
):
    experiment = admin.get_experiment_by_name(EXPERIMENT)
    team_server.grant("carol", "experiment", experiment.experiment_id, "EDIT")
    carol = {
        "MLFLOW_TRACKING_USERNAME": "carol",
        "MLFLOW_TRACKING_PASSWORD": USERS["carol"],
    }
    conf = project / "conf/remote/credentials.yml"
    conf.unlink()  # her account comes from the environment
    try:
        error = _refused(installed, project, admin, **carol)
        # scoring needs no grant on the model: it runs
        _kedro(
            installed,
            project,
            "run",
            "--env",
            "remote",
            "--pipelines",
            "inference",
            **carol,
        )
    finally:
        conf.write_text(_credentials("alice"))
    assert error == (
        f"Error: User 'carol' has READ on registered model '{MODEL}' of the MLflow "
        f"tracking server {team_server.uri}; this run needs EDIT. Ask an admin "
        "of the server to grant EDIT on the registered model (docs/team-server.md, "
        "'Add a team member'). Nothing was run."
    )
    assert _runs(admin, "inference")[0].data.tags["mlflow.user"] == "carol"


def test_a_member_who_may_only_read_cannot_start_a_run(
    installed, project, admin, team_server
):
    experiment = admin.get_experiment_by_name(EXPERIMENT)
    dave = {
        "MLFLOW_TRACKING_USERNAME": "dave",
        "MLFLOW_TRACKING_PASSWORD": USERS["dave"],
    }
    conf = project / "conf/remote/credentials.yml"
    conf.unlink()
    try:
        error = _refused(installed, project, admin, "--pipelines", "inference", **dave)
    finally:
        conf.write_text(_credentials("alice"))
    assert error == (
        f"Error: User 'dave' has READ on experiment '{EXPERIMENT}' (id "
        f"{experiment.experiment_id}) of the MLflow tracking server {team_server.uri}; "
        "this run needs EDIT. Ask an admin of the server to grant EDIT on the "
        "experiment (docs/team-server.md, 'Add a team member'). Nothing was run."
    )


# -------------------------------------------------------------------- faults


def test_a_server_that_is_down_stops_the_run_at_once_and_a_restart_is_enough(
    installed, project, admin, team_server
):
    team_server.stop()
    try:
        started = time.monotonic()
        result = _kedro(installed, project, "run", "--env", "remote", check=False)
        elapsed = time.monotonic() - started
    finally:
        team_server.start()
    assert result.returncode != 0
    assert elapsed < 30
    assert (
        f"Error: The MLflow tracking server {team_server.uri} does not answer "
        "(connection refused)." in result.stderr
    )
    # restarted between training and inference: scoring works
    _kedro(installed, project, "run", "--env", "remote", "--pipelines", "inference")
    assert _runs(admin, "inference")[0].info.status == "FINISHED"


def test_a_server_killed_mid_run_fails_the_run_and_the_next_run_cleans_up(
    installed, project, admin, team_server
):
    model_input = project / "data/05_model_input/model_input.parquet"
    model_input.unlink(missing_ok=True)
    count = len(_runs(admin, "__default__"))
    log = project / "killed-run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                str(installed.bin / "kedro"),
                "run",
                "--env",
                "remote",
                "--params",
                NO_SEARCH,
            ],
            cwd=project,
            env=installed.environ(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # kill the server once the run is open and the first outputs are saved
        deadline = time.monotonic() + 120
        while not model_input.exists() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        assert model_input.exists(), log.read_text()[-3000:]
        (killed,) = _runs(admin, "__default__")[:1]
        assert len(_runs(admin, "__default__")) == count + 1
        team_server.stop(signal.SIGKILL)
        started = time.monotonic()
        code = process.wait(timeout=300)
        failed_after = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
        team_server.start()
    output = log.read_text()
    OUTPUTS.append(output)
    assert code != 0
    assert failed_after < 60
    assert (
        f"Error: The MLflow tracking server {team_server.uri} stopped answering "
        f"during the run (connection refused). Run {killed.info.run_id} stays "
        "RUNNING there; what the nodes saved is kept." in output
    )
    assert "Traceback" not in output and "╭" not in output  # no traceback
    assert "free for the inference pipeline" not in output
    # what the nodes saved before is intact
    assert len(pd.read_parquet(model_input)) > 1000
    # on the server the run is left RUNNING: its client could not close it
    assert admin.get_run(killed.info.run_id).info.status == "RUNNING"
    # the next run completes, and closes the interrupted one
    result = _kedro(installed, project, "run", "--env", "remote", "--params", NO_SEARCH)
    assert admin.get_run(killed.info.run_id).info.status == "KILLED"
    assert killed.info.run_id in result.stdout + result.stderr
    assert _runs(admin, "__default__")[0].info.status == "FINISHED"


# -------------------------------------------------------------------- secrets


def test_no_password_in_anything_the_runs_logged(project, admin, tmp_path):
    secrets = [
        *USERS.values(),
        DATABASE_PASSWORD,
        os.environ["MLFLOW_TRACKING_PASSWORD"],
    ]
    runs = _runs(admin)
    assert len(runs) >= 7
    seen = []
    for run in runs:
        seen += [*run.data.params.values(), *run.data.tags.values()]
        seen += list(run.data.params) + list(run.data.tags)
        folder = tmp_path / run.info.run_id
        folder.mkdir()
        admin.download_artifacts(run.info.run_id, "", str(folder))
        for path in folder.rglob("*"):
            if path.is_file():
                seen.append(path.read_bytes().decode("utf-8", "replace"))
    seen += OUTPUTS
    seen += [p.read_text() for p in project.rglob("*.log")]
    assert len(seen) > 100
    for secret in secrets:
        assert not [text for text in seen if secret in text], secret
