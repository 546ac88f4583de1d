"""Fixtures that build the wheel, install it into a fresh environment and
generate starter projects with the real `kedro new` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.envs import Env, build_wheel, create_env, with_tools


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Env:
    """The wheel (not an editable install) in a brand-new environment."""
    return create_env(
        tmp_path_factory.mktemp("venv") / "env", with_tools(wheel), "pytest"
    )
