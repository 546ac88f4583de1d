"""A team's tracking server on this machine: PostgreSQL and ``mlflow server``.

The tests and the benchmarks start the real components, on 127.0.0.1 only:

* :func:`start_postgres`: a throwaway PostgreSQL cluster (``initdb`` in a
  temporary folder, run as the ``postgres`` user when this process is root, as
  PostgreSQL refuses root), with a role and databases made by :meth:`Postgres.
  create_database`;
* :func:`start_mlflow_server`: ``mlflow server --serve-artifacts`` with a
  PostgreSQL backend store and, optionally, ``--app-name basic-auth`` whose
  user store is in PostgreSQL too. No password is on a command line: the
  database password is in ``PGPASSWORD`` (libpq reads it) and the backend
  store's URI in ``MLFLOW_BACKEND_STORE_URI``, as ``docs/team-server.md``
  shows.

Each ``start_*`` returns an object whose ``stop()`` ends the process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from harness.envs import free_port

#: Where Debian puts PostgreSQL's server programs (not on PATH).
DEBIAN_POSTGRES = Path("/usr/lib/postgresql")


def postgres_bin() -> Path:
    """The folder of ``initdb``/``pg_ctl``; a clear error when PostgreSQL is missing."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(DEBIAN_POSTGRES.glob("*/bin/initdb"), reverse=True)
    if versions:
        return versions[0].parent
    raise RuntimeError(
        "PostgreSQL is not installed: the team-server tests need its server "
        "programs (Debian: apt-get install postgresql; scripts/test.sh does it)."
    )


def _as_owner(command: list[str]) -> list[str]:
    """``command`` run as ``postgres`` when this process is root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class Postgres:
    """A running PostgreSQL cluster listening on 127.0.0.1:``port``."""

    data: Path
    port: int
    bin: Path
    log: Path

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            _as_owner(
                [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port)]
                + ["-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1"]
                + ["-tAc", sql]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(f"psql failed: {sql}\n{result.stderr}")
        return result.stdout.strip()

    def create_database(self, name: str, owner: str, password: str) -> str:
        """Database ``name`` owned by role ``owner``; its URI without the password."""
        exists = self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{owner}'")
        if not exists:
            self.psql(f"CREATE ROLE {owner} LOGIN PASSWORD '{password}'")
        self.psql(f"CREATE DATABASE {name} OWNER {owner}")
        return f"postgresql://{owner}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(
            _as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast"])
            + ["stop"],
            capture_output=True,
            check=False,
        )


def start_postgres(work: Path) -> Postgres:
    """A new cluster in ``work`` (trust for the local superuser, passwords for
    the other roles over TCP), started on a free port."""
    bin_dir = postgres_bin()
    work.mkdir(parents=True, exist_ok=True)
    data, log = work / "pgdata", work / "postgres.log"
    if os.geteuid() == 0:
        # the cluster's owner must reach its folder
        for folder in [work, *work.parents]:
            folder.chmod(folder.stat().st_mode | 0o711)
            if folder == Path(folder.anchor):
                break
        shutil.chown(work, "postgres")
    subprocess.run(
        _as_owner(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres"]
            + ["--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]
        ),
        capture_output=True,
        check=True,
    )
    # the superuser connects over TCP from this machine without a password
    hba = data / "pg_hba.conf"
    hba.write_text(
        "host all postgres 127.0.0.1/32 trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
        "local all all trust\n"
    )
    port = free_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {work} -c fsync=off"
    subprocess.run(
        _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log)])
        + ["-o", options, "-w", "-t", "60", "start"],
        capture_output=True,
        check=True,
    )
    return Postgres(data=data, port=port, bin=bin_dir, log=log)


@dataclass
class MlflowServer:
    """A running ``mlflow server``; ``uri`` is its http address."""

    uri: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    admin_password: str | None = None
    config: dict[str, str] = field(default_factory=dict)

    def start(self, timeout: float = 90.0) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.log.parent,  # where MLflow would put a sqlite user store
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited ({self.process.returncode}):\n"
                    + self.log.read_text()[-4000:]
                )
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"mlflow server did not answer within {timeout:g} s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """End the server and its workers (``SIGKILL`` for a crash)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        """A request to the server's REST API as its admin user."""
        import base64
        import json

        pair = base64.b64encode(f"admin:{self.admin_password}".encode()).decode()
        request = urllib.request.Request(
            f"{self.uri}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Basic {pair}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def add_user(self, username: str, password: str) -> None:
        """What an admin does for a new team member (docs/team-server.md)."""
        self.admin(
            "POST",
            "/api/2.0/mlflow/users/create",
            {"username": username, "password": password},
        )

    def grant(
        self, username: str, resource_type: str, resource_id: str, permission: str
    ) -> None:
        self.admin(
            "POST",
            "/api/3.0/mlflow/users/permissions/grant",
            {
                "username": username,
                "resource_type": resource_type,
                "resource_id": resource_id,
                "permission": permission,
            },
        )


def start_mlflow_server(
    work: Path,
    backend: str,
    database_password: str,
    *,
    auth_database: str | None = None,
    admin_password: str = "admin-password-for-tests",
    auth_cache_ttl: int = 60,
    port: int | None = None,
) -> MlflowServer:
    """``mlflow server`` on 127.0.0.1 with ``backend`` (a URI without password),
    artifacts served from ``work/artifacts``; with basic-auth when
    ``auth_database`` is given (its user store's URI)."""
    work.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    mlflow = Path(sys.executable).parent / "mlflow"
    command = [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--serve-artifacts", "--artifacts-destination", str(work / "artifacts")]
    command += ["--workers", "1"]
    env = {
        **os.environ,
        "MLFLOW_BACKEND_STORE_URI": backend,
        "PGPASSWORD": database_password,
    }
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME"):
        env.pop(name, None)
    env.pop("MLFLOW_TRACKING_PASSWORD", None)
    config: dict[str, str] = {}
    if auth_database is not None:
        config = {
            "default_permission": "READ",
            "database_uri": auth_database,
            "admin_username": "admin",
            "authorization_function": (
                "mlflow.server.auth:authenticate_request_basic_auth"
            ),
            "auth_cache_ttl_seconds": str(auth_cache_ttl),
        }
        ini = work / "basic_auth.ini"
        ini.write_text(
            "[mlflow]\n"
            + "".join(f"{key} = {value}\n" for key, value in config.items())
        )
        command += ["--app-name", "basic-auth"]
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(ini)
        env["MLFLOW_AUTH_ADMIN_PASSWORD"] = admin_password
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "secret-key-for-tests"
    server = MlflowServer(
        uri=f"http://127.0.0.1:{port}",
        command=command,
        env=env,
        log=work / "mlflow-server.log",
        admin_password=admin_password if auth_database else None,
        config=config,
    )
    server.start()
    return server
