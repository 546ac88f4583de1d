"""Put a run's data versions back into the workspace (``kedro mlops lineage --checkout``).

Each ``.dvc`` record is rewritten with the md5 and size the run recorded, then
DVC checks the bytes out of its cache (fetching them from the remote first when
they are not there). Nothing is changed when that would lose uncommitted work.
"""

from __future__ import annotations

from pathlib import Path

from kedro_mlops.versioning.lineage import DataVersion, Lineage, git_state, git_toplevel
from kedro_mlops.versioning.records import write_record


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
        changed = repo.status(targets=[str(r) for r in records]) if records else {}
        if changed:
            paths = ", ".join(sorted(changed))
            raise RestoreError(
                f"Data differs from its .dvc record ({paths}) and is not in DVC yet; "
                "restoring would lose it. Keep it first: `dvc add <file>` and commit "
                "the .dvc file, then run again."
            )
        for version in versions:
            record = root / version.dvc_file
            pending = write_record(
                record, Path(version.path).name, version.md5, version.size
            )
            pending.replace(record)
        targets = [str(root / v.dvc_file) for v in versions]
        if targets:
            from dvc.exceptions import CheckoutError

            try:
                repo.checkout(targets=targets, force=True)
            except CheckoutError:  # not in the local cache: bring it from the remote
                repo.fetch(targets=targets)
                repo.checkout(targets=targets, force=True)
    return versions
