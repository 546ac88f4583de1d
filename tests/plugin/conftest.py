"""Fixtures of the plugin's tests."""

from __future__ import annotations

import logging
import signal
import sys

import pytest


@pytest.fixture(autouse=True)
def _package_log_level():
    """after_context_created raises kedro_mlops' log level: restore it."""
    package_logger = logging.getLogger("kedro_mlops")
    level = package_logger.level
    yield
    package_logger.setLevel(level)


@pytest.fixture(autouse=True)
def _process_handlers():
    """before_pipeline_run intercepts SIGINT/SIGTERM and after_context_created
    wraps sys.excepthook for the process: put back pytest's."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    excepthook = sys.excepthook
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)
    sys.excepthook = excepthook
