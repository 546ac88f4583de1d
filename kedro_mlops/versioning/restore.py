"""Put a run's data versions back into the workspace (``kedro mlops lineage --checkout``).

Each ``.dvc`` record is rewritten with the md5 and size the run recorded, then
DVC checks the bytes out of its cache (fetching them from the remote first when
they are not there). Nothing is changed when that would lose uncommitted work.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from kedro_mlops.versioning.lineage import DataVersion, Lineage, git_state, git_toplevel
from kedro_mlops.versioning.records import write_record

#: What ``dvc status`` says of a data file with nothing in the workspace to lose.
_NOTHING_TO_LOSE = {"deleted", "not in cache"}


class RestoreError(RuntimeError):
    """Raised when data versions cannot be restored safely."""


def restore(lineage: Lineage, project_path: Path) -> list[DataVersion]:
    """Put every restorable data version of ``lineage`` back into the workspace.

    Each ``.dvc`` record is rewritten with the recorded md5 and size, then
    ``dvc checkout`` brings the bytes from the cache (or ``dvc pull`` first).
    Refuses, changing nothing, when git-tracked files have uncommitted changes
    or when a data file to restore differs from its ``.dvc`` record (it would be
    lost).

    Raises:
        RestoreError: what is uncommitted, and how to keep it.
    """
    from dvc.repo import Repo

    _, dirty = git_state(project_path)
    if dirty:
        raise RestoreError(
            "The work tree has uncommitted changes; restoring would mix them with "
            "the run's data. Commit or stash them (`git stash`), then run again."
        )
    root = git_toplevel(project_path)
    versions = lineage.restorable()
    with Repo(str(project_path), _wait_for_lock=True) as repo:
        records = [root / v.dvc_file for v in versions if (root / v.dvc_file).exists()]
        status = repo.status(targets=[str(r) for r in records]) if records else {}
        at_risk = _edited(status)
        if at_risk:
            raise RestoreError(
                f"Data differs from its .dvc record ({', '.join(at_risk)}) and is not "
                "in DVC yet; restoring would lose it. Keep it first: `dvc add <file>` "
                "and commit the .dvc file, then run again."
            )
        before = {
            r: r.read_bytes() if r.exists() else None for r in _records(root, versions)
        }
        try:
            _checkout(repo, root, versions)
        except Exception:
            for record, content in before.items():  # the records as they were
                if content is None:
                    record.unlink(missing_ok=True)
                else:
                    record.write_bytes(content)
            raise
    return versions


def _records(root: Path, versions: list[DataVersion]) -> list[Path]:
    return [root / v.dvc_file for v in versions]


def _edited(status: dict) -> list[str]:
    """The data files ``dvc status`` finds edited in the workspace."""
    edited = set()
    for entries in status.values():
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            for path, state in (entry.get("changed outs") or {}).items():
                if state not in _NOTHING_TO_LOSE:
                    edited.add(path)
    return sorted(edited)


def _checkout(repo: object, root: Path, versions: list[DataVersion]) -> None:
    from dvc.exceptions import CheckoutError, DvcException

    for version in versions:
        record = root / version.dvc_file
        pending = write_record(
            record, Path(version.path).name, version.md5, version.size
        )
        pending.replace(record)
    targets = [str(root / v.dvc_file) for v in versions]
    if not targets:
        return
    try:
        repo.checkout(targets=targets, force=True)  # type: ignore[attr-defined]
        return
    except CheckoutError:  # not in the local cache: bring it from the remote
        pass
    try:
        repo.fetch(targets=targets)  # type: ignore[attr-defined]
        repo.checkout(targets=targets, force=True)  # type: ignore[attr-defined]
    except DvcException as error:
        missing = ", ".join(v.path for v in versions)
        raise RestoreError(
            f"The run's data ({missing}) is neither in the DVC cache nor in a DVC "
            "remote this project can reach. Push it where it was made (`dvc push`), "
            "or configure the remote that has it (`dvc remote add`), then run again. "
            "Nothing was changed."
        ) from error


def tracked_by_git(root: Path, paths: list[str]) -> set[str]:
    """Which of ``paths`` (relative to the git root ``root``) git tracks."""
    if not paths:
        return set()
    listed = subprocess.run(
        ["git", "ls-files", "--", *paths],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return set(listed.stdout.split())
