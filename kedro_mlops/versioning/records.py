"""The files DVC keeps beside a data file, read and written without DVC's API.

A ``.dvc`` record names the md5 and size of the data file it tracks. Reading
one, and writing a new one atomically, needs only YAML; the md5 is that of the
file's bytes (DVC 3). ``KEDRO_MLOPS_DVC=off`` switches DVC off for every
``DVCDataset`` (a container has no DVC repository).

Example:
    >>> parse_record("outs: [{md5: 0cc175b9c0f1b6a831c399e269772661, size: 1, path: a}]")
    ('0cc175b9c0f1b6a831c399e269772661', 1)
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from kedro.io.core import DatasetError

DVC_DIR = ".dvc"
SWITCH = "KEDRO_MLOPS_DVC"


def require_dvc(path: Any) -> None:
    """Raise a clear error when DVC (an optional dependency) is not installed."""
    import importlib.util

    if importlib.util.find_spec("dvc") is None:
        raise DatasetError(
            f"DVCDataset '{path}' needs DVC, which is not installed here: "
            "`pip install 'kedro-mlops[tools]'` (or `pip install dvc`). Where no "
            f"versioning is wanted (a container), set {SWITCH}=off instead."
        )


OFF = {"off", "0", "false", "no"}


def dvc_enabled() -> bool:
    """False when ``KEDRO_MLOPS_DVC`` is ``off`` (or ``0``, ``false``, ``no``)."""
    return os.environ.get(SWITCH, "on").strip().lower() not in OFF


def file_md5(path: Path) -> str:
    """The md5 DVC 3 records for a file: that of its bytes."""
    import hashlib

    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_record(text: str) -> tuple[str, int] | None:
    """md5 and size of the (first) output of a ``.dvc`` record; None if unreadable."""
    import yaml

    try:
        out = yaml.safe_load(text)["outs"][0]
        return str(out["md5"]), int(out["size"])
    except (KeyError, IndexError, TypeError, ValueError, yaml.YAMLError):
        return None


def write_record(
    record: Path, name: str, md5: str, size: int, pending: Path | None = None
) -> Path:
    """Write the new ``.dvc`` content to ``pending`` (by default a hidden file
    beside ``record``), flushed to disk; return it, for a rename into place.

    Keeps any other key of an existing record (``remote``, ``desc``, ...).
    """
    import yaml

    content: dict[str, Any] = {}
    if record.exists():
        content = yaml.safe_load(record.read_text()) or {}
    outs = content.get("outs") or [{}]
    out = {
        key: value
        for key, value in outs[0].items()
        if key not in {"md5", "size", "hash", "path"}
    }
    content["outs"] = [{"md5": md5, "size": size, "hash": "md5", "path": name, **out}]
    if pending is None:
        pending = record.with_name(f".{record.name}.{uuid.uuid4().hex[:12]}.tmp")
    with open(pending, "w", encoding="utf-8") as handle:
        yaml.safe_dump(content, handle, sort_keys=False)
        handle.flush()
        os.fsync(handle.fileno())
    return pending
