"""Who the tracking server takes a run from, checked before the first node.

Against a server that requires a login (``mlflow server --app-name
basic-auth``), MLflow finds a wrong password at its first request, inside
kedro-mlflow, as a several-hundred-line traceback; and a user who may log runs
but not register models finds out after the whole training, when the registry
step gets a 403. Before kedro-mlflow opens the experiment,
:func:`check_login` asks the server who the credentials are; before the run
starts, :func:`check_permissions` asks it what that user may do with the
experiment and, for a run that registers a model, with the registered model.

The credentials are the ones MLflow will send: ``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD`` (or ``MLFLOW_TRACKING_TOKEN``) from the
environment, overridden by the entries of ``conf/<env>/credentials.yml`` that
``mlflow.yml``'s ``server.credentials`` names (kedro-mlflow exports those). A
value that is still a placeholder of the configuration examples is refused
wherever it comes from: a server without a login would otherwise accept it and
tag every run with ``mlflow.user = change-me-username``.

Only the standard library is imported: the checks are three small requests.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: What every placeholder value of ``conf-examples/`` contains.
PLACEHOLDER = "change-me"
USERNAME, PASSWORD, TOKEN = (
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
)
#: The permissions that let a user write runs, or register model versions.
WRITE_PERMISSIONS = ("EDIT", "MANAGE")
TIMEOUT = 10.0


class TrackingAccessError(PermissionError):
    """The tracking server will not take this run from these credentials."""


@dataclass(frozen=True)
class Login:
    """The server's answer to the credentials: who they are, or no login at all."""

    uri: str
    username: str | None  # None: the server asks for no login
    is_admin: bool
    headers: Mapping[str, str]


def effective_credentials(
    conf_credentials: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The MLflow variables as they will be once kedro-mlflow has exported
    ``conf_credentials`` (the entries named by ``server.credentials``)."""
    environ = os.environ if environ is None else environ
    found = {
        name: environ[name] for name in (USERNAME, PASSWORD, TOKEN) if name in environ
    }
    found.update({str(key): str(value) for key, value in conf_credentials.items()})
    return found


def check_placeholders(conf_credentials: Mapping[str, Any], source: str) -> None:
    """Refuse credentials that still hold a placeholder of the examples."""
    values = effective_credentials(conf_credentials)
    left = sorted(k for k, v in values.items() if PLACEHOLDER in str(v))
    if not left:
        return
    where = (
        source
        if any(k in conf_credentials for k in left)
        else "the environment (" + ", ".join(left) + ")"
    )
    raise TrackingAccessError(
        f"{', '.join(left)} still hold{'s' if len(left) == 1 else ''} the example's "
        f"placeholder value ('{PLACEHOLDER}...') in {where}. Replace "
        f"{'it' if len(left) == 1 else 'them'} with your account on the tracking "
        "server, or delete the entries if the server asks for no login."
    )


def _headers(credentials: Mapping[str, str]) -> dict[str, str]:
    if credentials.get(TOKEN):
        return {"Authorization": f"Bearer {credentials[TOKEN]}"}
    if credentials.get(USERNAME) or credentials.get(PASSWORD):
        pair = f"{credentials.get(USERNAME, '')}:{credentials.get(PASSWORD, '')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return {}


def _get(uri: str, path: str, headers: Mapping[str, str], **params: str) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    request = urllib.request.Request(
        f"{uri.rstrip('/')}{path}{query}", headers=dict(headers)
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.loads(response.read() or b"{}")


def check_login(uri: str, credentials: Mapping[str, str], source: str) -> Login:
    """Ask the server at ``uri`` who ``credentials`` are.

    Raises :class:`TrackingAccessError` when it refuses them (or asks for a
    login and none is given). A server without a login answers 404 here.
    """
    headers = _headers(credentials)
    try:
        user = _get(uri, "/api/2.0/mlflow/users/current", headers)["user"]
    except urllib.error.HTTPError as error:
        if error.code == 401:
            who = credentials.get(USERNAME)
            given = (
                f"refused the login of user '{who}'"
                if who
                else "asks for a login and none is set"
            )
            raise TrackingAccessError(
                f"The MLflow tracking server {uri} {given} (401). Set "
                f"{USERNAME} and {PASSWORD} in {source} or in the environment."
            ) from None
        return Login(uri, None, False, headers)  # no login app: nothing to check
    except (OSError, ValueError, KeyError, TypeError):
        return Login(uri, None, False, headers)  # MLflow reports it if it matters
    return Login(uri, str(user["username"]), bool(user.get("is_admin")), headers)


def _permission(login: Login, resource_type: str, resource_id: str) -> str | None:
    try:
        answer = _get(
            login.uri,
            "/api/3.0/mlflow/users/permissions/get",
            login.headers,
            username=login.username or "",
            resource_type=resource_type,
            resource_id=resource_id,
        )
    except (OSError, ValueError):
        return None  # a server without this API: MLflow's own errors will say it
    return str(answer.get("permission") or "") or None


def _registered_model_exists(login: Login, name: str) -> bool:
    try:
        _get(
            login.uri, "/api/2.0/mlflow/registered-models/get", login.headers, name=name
        )
    except urllib.error.HTTPError as error:
        return error.code != 404
    except (OSError, ValueError):
        return True
    return True


def _experiment_label(login: Login, experiment_id: str) -> str:
    try:
        answer = _get(
            login.uri,
            "/api/2.0/mlflow/experiments/get",
            login.headers,
            experiment_id=experiment_id,
        )
        return f"experiment '{answer['experiment']['name']}' (id {experiment_id})"
    except (OSError, ValueError, KeyError, TypeError):
        return f"experiment {experiment_id}"


def check_permissions(
    login: Login, experiment_id: str | None, model_name: str | None
) -> None:
    """Raise :class:`TrackingAccessError` when ``login``'s user may not write
    runs into ``experiment_id``, or (``model_name`` given: the run registers a
    model) may not add versions to that registered model."""
    if login.username is None or login.is_admin:
        return
    needs = []
    if experiment_id is not None:
        needs.append(("experiment", experiment_id))
    if model_name and _registered_model_exists(login, model_name):
        needs.append(("registered_model", model_name))
    for resource_type, resource_id in needs:
        permission = _permission(login, resource_type, resource_id)
        if permission is None or permission in WRITE_PERMISSIONS:
            continue
        label = (
            _experiment_label(login, resource_id)
            if resource_type == "experiment"
            else f"registered model '{resource_id}'"
        )
        raise TrackingAccessError(
            f"User '{login.username}' has {permission} on {label} of the MLflow "
            f"tracking server {login.uri}; this run needs EDIT. Ask an admin of "
            f"the server to grant EDIT on the {resource_type.replace('_', ' ')} "
            "(docs/team-server.md, 'Add a team member'). Nothing was run."
        )


def conf_credentials(context: Any) -> tuple[dict[str, Any], str]:
    """The entries of ``credentials.yml`` that kedro-mlflow will export (the key
    ``server.credentials`` of ``mlflow.yml`` names them), and where they are."""
    loader = context.config_loader
    try:
        key = ((loader["mlflow"] or {}).get("server") or {}).get("credentials")
    except Exception:  # kedro-mlflow reports an unreadable mlflow.yml itself
        key = None
    if not key:
        return {}, "the environment"
    source = f"conf/{context.env or 'local'}/credentials.yml (key '{key}')"
    try:
        entries = (loader["credentials"] or {}).get(key) or {}
    except Exception:  # no credentials file: kedro-mlflow exports nothing
        entries = {}
    return dict(entries), source
