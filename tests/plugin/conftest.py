"""Fixtures of the plugin's tests."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def _package_log_level():
    """after_context_created raises kedro_mlops' log level: restore it."""
    package_logger = logging.getLogger("kedro_mlops")
    level = package_logger.level
    yield
    package_logger.setLevel(level)
