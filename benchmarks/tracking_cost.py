"""What tracking costs a training run: a team server vs the embedded store vs none.

From a fresh environment built from the wheel, one starter project, and on this
machine a throwaway PostgreSQL cluster with ``mlflow server --serve-artifacts``
(one worker) on 127.0.0.1, as the tests start them (:mod:`harness.servers`).
Interleaved rounds of a training run (``kedro run``, wall and CPU seconds of the
command and its children) in four configuration environments of the project:

* ``untracked``: kedro-mlflow's ``disable_tracking`` for the pipeline;
* ``embedded``: the starter's own ``mlflow.db`` (conf/base);
* ``server``: ``conf-examples/remote-mlflow`` against a server without login;
* ``login``: the same against a server with ``--app-name basic-auth``, its user
  store in PostgreSQL, ``auth_cache_ttl_seconds = 60`` (docs/team-server.md);
* ``login-nocache``: that server with the credential cache off (MLflow's
  default), where every request checks the password's hash.

The servers' access logs give the number of HTTP requests per training run.

Usage: python benchmarks/tracking_cost.py [--runs N]
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

import yaml
from _common import build_wheel, cpu_timed, create_env, median, new_project, with_tools

from harness.servers import start_mlflow_server, start_postgres

EXAMPLE = Path(__file__).resolve().parents[1] / "conf-examples" / "remote-mlflow"
PASSWORD = "benchmark-db-password"


def _remote_env(project: Path, name: str, uri: str, user: str | None) -> None:
    conf = project / "conf" / name
    conf.mkdir()
    text = (EXAMPLE / "mlflow.yml").read_text()
    (conf / "mlflow.yml").write_text(text.replace("http://mlflow.internal:5000", uri))
    shutil.copy(EXAMPLE / "mlops.yml", conf / "mlops.yml")
    if user is not None:
        credentials = {
            "mlflow_credentials": {
                "MLFLOW_TRACKING_USERNAME": user,
                "MLFLOW_TRACKING_PASSWORD": "benchmark-user-password",
            }
        }
        (conf / "credentials.yml").write_text(yaml.safe_dump(credentials))


def _untracked_env(project: Path) -> None:
    conf = project / "conf" / "untracked"
    conf.mkdir()
    mlflow = yaml.safe_load((project / "conf/base/mlflow.yml").read_text())
    mlflow["tracking"]["disable_tracking"]["pipelines"] = ["__default__"]
    (conf / "mlflow.yml").write_text(yaml.safe_dump(mlflow))
    # nothing is logged, so nothing can be registered
    (conf / "mlops.yml").write_text("registry:\n  enabled: false\n")


REQUEST = re.compile(r'"(GET|POST|PUT|PATCH|DELETE) /(api|ajax-api)/')


def _requests(log: Path) -> int:
    """API requests in the server's access log so far."""
    return len(REQUEST.findall(log.read_text()))


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = create_env(work / "env", with_tools(build_wheel(work / "dist")))
        project = new_project(env, work / "projects")
        postgres = start_postgres(work / "postgres")
        servers = {}
        try:
            for name in ("server", "login", "login-nocache"):
                db = name.replace("-", "_")
                backend = postgres.create_database(db, "mlflow", PASSWORD)
                auth = None
                if name != "server":
                    auth = postgres.create_database(f"{db}_users", "mlflow", PASSWORD)
                servers[name] = start_mlflow_server(
                    work / name,
                    backend,
                    PASSWORD,
                    auth_database=auth,
                    auth_cache_ttl=0 if name == "login-nocache" else 60,
                )
                if auth is not None:
                    servers[name].add_user("member", "benchmark-user-password")
                _remote_env(
                    project,
                    name,
                    servers[name].uri,
                    None if auth is None else "member",
                )
            _untracked_env(project)
            envs = ["untracked", "embedded", *servers]
            # one warm-up run each: creates the stores, experiments, models
            for name in envs:
                env.run("kedro", "run", *_env_args(name), cwd=project)
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in envs}
            requests: dict[str, list[int]] = {name: [] for name in servers}
            for _ in range(runs):
                for name in envs:
                    before = _requests(servers[name].log) if name in servers else 0
                    times[name].append(
                        cpu_timed(env, "kedro", "run", *_env_args(name), cwd=project)
                    )
                    if name in servers:
                        requests[name].append(_requests(servers[name].log) - before)
        finally:
            for server in servers.values():
                server.stop()
            postgres.stop()
    base = median([wall for wall, _ in times["untracked"]])
    print(f"training run, median of {runs} (wall s, CPU s, + vs untracked, requests):")
    for name in envs:
        wall = median([w for w, _ in times[name]])
        cpu = median([c for _, c in times[name]])
        extra = f"{wall - base:+6.2f} s" if name != "untracked" else "       -"
        count = f"{int(median(requests[name]))} requests" if name in requests else ""
        print(f"  {name:<14} {wall:6.2f} s  {cpu:6.2f} s CPU  {extra}  {count}")


def _env_args(name: str) -> list[str]:
    return [] if name == "embedded" else ["--env", name]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    main(parser.parse_args().runs)
