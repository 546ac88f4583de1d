"""The credentials a run would send to a tracking server, checked before it starts.

The login and the permissions are checked against a real server with basic-auth
in tests/starter/test_team_server.py; these are the parts that need no server.
"""

from __future__ import annotations

import pytest

from kedro_mlops.tracking.access import (
    PASSWORD,
    USERNAME,
    TrackingAccessError,
    check_placeholders,
    effective_credentials,
)


def test_credentials_yml_overrides_the_environment():
    environ = {USERNAME: "from-env", PASSWORD: "env-pass", "HOME": "/root"}
    found = effective_credentials({USERNAME: "alice"}, environ)
    assert found == {USERNAME: "alice", PASSWORD: "env-pass"}


def test_placeholders_in_credentials_yml_are_named_with_the_file(monkeypatch):
    monkeypatch.delenv(USERNAME, raising=False)
    monkeypatch.delenv(PASSWORD, raising=False)
    source = "conf/remote/credentials.yml (key 'mlflow_credentials')"
    with pytest.raises(TrackingAccessError) as caught:
        check_placeholders({USERNAME: "change-me-username", PASSWORD: "s3cret"}, source)
    assert str(caught.value) == (
        "MLFLOW_TRACKING_USERNAME still holds the example's placeholder value "
        "('change-me...') in conf/remote/credentials.yml (key 'mlflow_credentials'). "
        "Replace it with your account on the tracking server, or delete the entries "
        "if the server asks for no login."
    )
    assert "s3cret" not in str(caught.value)


def test_placeholders_in_the_environment_are_named_as_such(monkeypatch):
    monkeypatch.setenv(PASSWORD, "change-me-password")
    with pytest.raises(TrackingAccessError, match=r"in the environment \("):
        check_placeholders({}, "the environment")


def test_real_credentials_pass(monkeypatch):
    monkeypatch.delenv(USERNAME, raising=False)
    monkeypatch.delenv(PASSWORD, raising=False)
    check_placeholders({USERNAME: "alice", PASSWORD: "x7"}, "conf")  # no error
