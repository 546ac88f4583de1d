"""The Docker image's health check: ``python -m kedro_mlops.docker.health``.

While ``kedro mlops serve`` runs, it has written the port it serves on to
:data:`MARKER` (the server removes it when it stops: :func:`remove_marker`);
the check is then healthy when the model server answers ``GET /ping`` with 200. Training and batch inference serve nothing and are
healthy while they run. Only the standard library is imported: the check runs
every 30 seconds.
"""

from __future__ import annotations

import sys
import tempfile
import urllib.request
from pathlib import Path

MARKER = Path(tempfile.gettempdir()) / "kedro-mlops-serving.port"


def remove_marker(port: str | int | None) -> bool:
    """Remove :data:`MARKER` if it names ``port``: the server on it stopped.

    A marker of another port (another server) is left alone. Returns whether
    it was removed.
    """
    if port is None:
        return False
    try:
        if MARKER.read_text().strip() != str(port):
            return False
        MARKER.unlink()
    except FileNotFoundError:  # removed already (another worker of the server)
        return False
    return True


def check(timeout: float = 4.0) -> tuple[bool, str]:
    """(healthy, why)."""
    if not MARKER.exists():
        return True, "not serving: nothing to check"
    port = MARKER.read_text().strip()
    url = f"http://127.0.0.1:{port}/ping"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return response.status == 200, f"{url} answered {response.status}"
    except OSError as exc:
        return False, f"{url} did not answer: {exc}"


if __name__ == "__main__":
    healthy, why = check()
    print(why)  # noqa: T201 - a command-line entry point
    sys.exit(0 if healthy else 1)
