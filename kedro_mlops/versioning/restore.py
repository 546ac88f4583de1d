"""Put a run's data versions back into the workspace (``kedro mlops lineage --checkout``).

First every version is looked for (:func:`locate`): in the local DVC cache,
else in the DVC remote (the one its ``.dvc`` record names, or the default
one). When one is nowhere, nothing is changed. Otherwise each ``.dvc`` record
is rewritten with the md5 and size the run recorded, the versions only the
remote holds are fetched (``Repo.fetch`` of just those records), and DVC checks
the bytes out of its cache. Should the fetch fail, the records are put back as
they were. Nothing is changed either when that would lose uncommitted work.

Example:
    >>> version = DataVersion("model_input", "data/model_input.parquet", "0" * 32, 10)
    >>> Whereabouts(version, CACHE).describe()
    'in the local DVC cache'
    >>> Whereabouts(version, REMOTE, "storage", "/mnt/dvc").describe()
    "in the DVC remote 'storage' (/mnt/dvc), not in the local cache"
"""

from __future__ import annotations

import logging
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_mlops.versioning.lineage import DataVersion, Lineage, git_state, git_toplevel
from kedro_mlops.versioning.records import DVC_DIR, file_md5, write_record

#: What ``dvc status`` says of a data file with nothing in the workspace to lose.
_NOTHING_TO_LOSE = {"deleted", "not in cache"}

#: Where the bytes of a data version are (:attr:`Whereabouts.place`).
CACHE, REMOTE, NOWHERE = "cache", "remote", "nowhere"


class RestoreError(RuntimeError):
    """Raised when data versions cannot be restored safely."""


@dataclass(frozen=True)
class Whereabouts:
    """Where the bytes of one data version are: the local cache, a remote, nowhere."""

    version: DataVersion
    place: str  # CACHE | REMOTE | NOWHERE
    remote: str | None = None  # the remote's name, when one was asked
    url: str | None = None  # its URL, as configured
    problem: str | None = None  # why no remote could be asked

    def describe(self) -> str:
        remote = f"the DVC remote '{self.remote}' ({self.url})"
        if self.place == CACHE:
            return "in the local DVC cache"
        if self.place == REMOTE:
            return f"in {remote}, not in the local cache"
        if self.problem:
            return f"not in the local DVC cache, and {self.problem}"
        return f"in neither the local DVC cache nor {remote}"


def locate(lineage: Lineage, project_path: Path) -> list[Whereabouts]:
    """Where the bytes of each restorable version of ``lineage`` are.

    Asks the remote only for versions the local cache lacks.

    Raises:
        RestoreError: ``project_path`` is not in a DVC repository, or DVC is
            not installed.
    """
    versions = lineage.restorable()
    if not versions:
        return []
    with _repository(project_path) as repo:
        return _locate(repo, git_toplevel(project_path), versions)


def restore(
    lineage: Lineage,
    project_path: Path,
    progress: Callable[[str], None] | None = None,
) -> list[DataVersion]:
    """Put every restorable data version of ``lineage`` back into the workspace.

    Versions missing from the local cache are fetched from the DVC remote;
    ``progress`` gets one line per step. Refuses, changing nothing, when
    git-tracked files have uncommitted changes, when a data file to restore
    holds bytes that DVC does not keep (they would be lost), or when a version
    is in neither the cache nor a remote.

    Raises:
        RestoreError: what is wrong, and how to fix it.
    """
    say = progress or _silent
    _, dirty = git_state(project_path)
    if dirty:
        raise RestoreError(
            "The work tree has uncommitted changes; restoring would mix them with "
            "the run's data. Commit or stash them (`git stash`), then run again."
        )
    root = git_toplevel(project_path)
    versions = lineage.restorable()
    if not versions:
        return []
    with _repository(project_path) as repo:
        _refuse_losing_work(repo, root, versions)
        places = _locate(repo, root, versions)
        nowhere = [p for p in places if p.place == NOWHERE]
        if nowhere:
            raise RestoreError(_nowhere_message(nowhere))
        before = {
            record: record.read_bytes() if record.exists() else None
            for record in _records(root, versions)
        }
        try:
            _write_records(root, versions)
            _fetch(repo, root, [p for p in places if p.place == REMOTE], say)
            say(f"Checking out {len(versions)} data version(s) from the DVC cache.")
            _checkout(repo, root, versions)
        except BaseException:  # Ctrl-C too: the records as they were
            _put_back(before)
            raise
    return versions


def _silent(line: str) -> None:
    """No progress output."""


@contextmanager
def _repository(project_path: Path) -> Iterator[Any]:
    import importlib.util

    if importlib.util.find_spec("dvc") is None:
        raise RestoreError(
            "DVC is not installed here: `pip install 'kedro-mlops[tools]'` (or "
            "`pip install dvc`)."
        )
    folder = Path(project_path).resolve()
    if not any((f / DVC_DIR).is_dir() for f in (folder, *folder.parents)):
        raise RestoreError(
            f"{project_path} is not in a DVC repository (no {DVC_DIR}/ folder): run "
            "this in a clone of the project that made the run."
        )
    from dvc.repo import Repo

    with Repo(str(folder), _wait_for_lock=True) as repo:
        yield repo


def _records(root: Path, versions: list[DataVersion]) -> list[Path]:
    return [root / v.dvc_file for v in versions]


# ---- nothing to lose ------------------------------------------------------------------


def _refuse_losing_work(repo: Any, root: Path, versions: list[DataVersion]) -> None:
    """Raise when restoring would overwrite bytes that DVC does not keep."""
    records = [r for r in _records(root, versions) if r.exists()]
    status = repo.status(targets=[str(r) for r in records]) if records else {}
    at_risk = set(_edited(status))
    cache = repo.cache.local
    for version in versions:  # a data file without a record: DVC never saw it
        data = root / version.path
        if (root / version.dvc_file).exists() or not data.is_file():
            continue
        md5 = file_md5(data)
        if md5 != version.md5 and not cache.exists(md5):
            at_risk.add(version.path)
    if at_risk:
        raise RestoreError(
            f"Data differs from its .dvc record ({', '.join(sorted(at_risk))}) and is "
            "not in DVC yet; restoring would lose it. Keep it first: `dvc add <file>` "
            "and commit the .dvc file, then run again."
        )


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


# ---- where the bytes are --------------------------------------------------------------


def _locate(repo: Any, root: Path, versions: list[DataVersion]) -> list[Whereabouts]:
    cache = repo.cache.local
    remotes: dict[str | None, _Remote] = {}
    places = []
    for version in versions:
        if cache.exists(version.md5):
            places.append(Whereabouts(version, CACHE))
            continue
        name = _record_remote(root / version.dvc_file)
        if name not in remotes:
            remotes[name] = _Remote.open(repo, name)
        places.append(remotes[name].look_for(version))
    return places


def _record_remote(record: Path) -> str | None:
    """The remote a ``.dvc`` record names for its output (``remote:``), if any."""
    import yaml

    try:
        out = (yaml.safe_load(record.read_text()) or {})["outs"][0]
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return None
    name = out.get("remote") if isinstance(out, dict) else None
    return str(name) if name else None


class _Remote:
    """A DVC remote, asked which objects it holds."""

    def __init__(
        self, name: str | None, url: str | None, odb: Any, problem: str | None
    ):
        self.name, self.url, self.odb, self.problem = name, url, odb, problem

    @classmethod
    def open(cls, repo: Any, name: str | None) -> _Remote:
        name = name or repo.config["core"].get("remote")
        if not name:
            return cls(None, None, None, _NO_REMOTE)
        url = str((repo.config["remote"].get(name) or {}).get("url", "?"))
        odb, problem = _remote_odb(repo, name, url)
        return cls(name, url, odb, problem)

    def look_for(self, version: DataVersion) -> Whereabouts:
        if self.odb is None:
            return Whereabouts(version, NOWHERE, self.name, self.url, self.problem)
        try:
            found = self.odb.exists(version.md5)
        except Exception as error:  # network, credentials: the remote's own words
            problem = (
                f"the DVC remote '{self.name}' ({self.url}) cannot be reached: "
                f"{_first_line(error)}"
            )
            return Whereabouts(version, NOWHERE, self.name, self.url, problem)
        place = REMOTE if found else NOWHERE
        return Whereabouts(version, place, self.name, self.url)


_NO_REMOTE = "no DVC remote is configured"


def _remote_odb(repo: Any, name: str, url: str) -> tuple[Any, str | None]:
    """The remote's object store; or None, and why it cannot be asked."""
    from dvc.config import NoRemoteError, RemoteNotFoundError
    from dvc.exceptions import DvcException

    remote = f"the DVC remote '{name}' ({url})"
    try:
        odb = repo.cloud.get_remote_odb(name)
    except (NoRemoteError, RemoteNotFoundError):
        return None, f"no DVC remote '{name}' is configured (`dvc remote list`)"
    except ImportError:  # s3://, gs://, ... without their plugin
        scheme = url.partition(":")[0]
        return (
            None,
            f'{remote} needs DVC\'s {scheme} support: `pip install "dvc[{scheme}]"`',
        )
    except DvcException as error:
        return None, f"{remote} is misconfigured: {_first_line(error)}"
    if odb.fs.protocol == "local" and not os.path.isdir(_local_root(odb)):
        return None, f"{remote} is a folder that does not exist (not mounted?)"
    try:  # asking for one object hides why it could not be asked: ask once here
        odb.fs.exists(odb.path)
    except Exception as error:  # credentials, network: the remote's own words
        return None, f"{remote} cannot be reached: {_first_line(error)}"
    return odb, None


def _local_root(odb: Any) -> str:
    """The folder of a directory remote (its objects are in ``files/md5`` below it)."""
    return str(Path(odb.path).parents[1])


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _nowhere_message(nowhere: list[Whereabouts]) -> str:
    """One sentence per place the data was missing from, then the fix."""
    groups: dict[str, list[DataVersion]] = {}
    for place in nowhere:
        groups.setdefault(place.describe(), []).append(place.version)
    found = "; ".join(
        ", ".join(f"{v.path} (md5 {v.md5})" for v in versions)
        + (" is " if len(versions) == 1 else " are ")
        + where
        for where, versions in groups.items()
    )
    problems = {p.problem for p in nowhere}
    if _NO_REMOTE in problems:
        fix = (
            "Add the remote that has it: "
            "`dvc remote add -d storage <folder or s3://bucket/path>`."
        )
    elif problems != {None}:
        fix = "Fix the remote (`dvc remote list`, its credentials), then run again."
    else:
        fix = (
            "Push it from the clone or machine that made the run (`dvc push`), or "
            "point this clone at the remote that has it, then run again."
        )
    return f"The run's data cannot be restored: {found}. {fix} Nothing was changed."


# ---- changing the workspace -----------------------------------------------------------


def _write_records(root: Path, versions: list[DataVersion]) -> None:
    for version in versions:
        record = root / version.dvc_file
        record.parent.mkdir(parents=True, exist_ok=True)
        pending = write_record(
            record, Path(version.path).name, version.md5, version.size
        )
        pending.replace(record)


def _put_back(before: dict[Path, bytes | None]) -> None:
    """The ``.dvc`` records as they were (a record that was not there is removed)."""
    for record, content in before.items():
        if content is None:
            record.unlink(missing_ok=True)
            continue
        pending = record.with_name(f".{record.name}.{uuid.uuid4().hex[:12]}.tmp")
        pending.write_bytes(content)
        pending.replace(record)


def _fetch(
    repo: Any, root: Path, places: list[Whereabouts], say: Callable[[str], None]
) -> None:
    """Fetch the versions only a remote holds into the local cache."""
    by_remote: dict[str | None, list[Whereabouts]] = {}
    for place in places:
        by_remote.setdefault(place.remote, []).append(place)
    cache = repo.cache.local
    for name, group in by_remote.items():
        size = sum(p.version.size for p in group)
        say(
            f"Fetching {len(group)} data version(s) ({size} bytes) from the DVC "
            f"remote '{name}' ({group[0].url}): "
            + ", ".join(p.version.path for p in group)
        )
        targets = [str(root / p.version.dvc_file) for p in group]
        with _dvc_log() as logged:
            try:
                repo.fetch(targets=targets, remote=name)
                cause = None
            except Exception as error:  # the records are put back by the caller
                cause = _first_line(error)
        missing = [p for p in group if not cache.exists(p.version.md5)]
        if missing:
            reason = cause or (logged[0] if logged else "it did not send them")
            raise RestoreError(
                f"Fetching from the DVC remote '{name}' ({group[0].url}) failed for "
                + ", ".join(p.version.path for p in missing)
                + f": {reason}. The .dvc records were put back as they were; check "
                "the remote (`dvc remote list`, its credentials) and run again."
            )
        say(f"Fetched {len(group)} data version(s) into the local DVC cache.")


@contextmanager
def _dvc_log() -> Iterator[list[str]]:
    """DVC's log lines (warnings and errors) collected instead of printed."""
    logger = logging.getLogger("dvc")
    lines: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage().strip()
            if message:
                lines.append(message.splitlines()[0])

    handler = _Collect(logging.WARNING)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _checkout(repo: Any, root: Path, versions: list[DataVersion]) -> None:
    from dvc.exceptions import DvcException

    targets = [str(root / v.dvc_file) for v in versions]
    try:
        with _dvc_log():
            repo.checkout(targets=targets, force=True)
    except DvcException as error:
        raise RestoreError(
            f"DVC could not check the run's data out of its cache: "
            f"{_first_line(error)}. The .dvc records were put back as they were; "
            "`dvc checkout` brings the workspace in line with them."
        ) from error


def way_back(
    project_path: Path, versions: list[DataVersion]
) -> tuple[str | None, list[str]]:
    """The command that returns to the branch's data after a restore, and the
    records it cannot cover (git never tracked them: no version to return to).

    ``dvc checkout`` when the branch's versions are in the local cache, else
    ``dvc pull`` (a fresh clone that never pulled them).
    """
    from kedro_mlops.versioning.records import parse_record

    root = git_toplevel(project_path)
    records = [v.dvc_file for v in versions]
    in_git = tracked_by_git(root, records)
    committed = [r for r in records if r in in_git]
    if not committed:
        return None, records
    pull = False
    with _repository(project_path) as repo:
        for record in committed:
            shown = subprocess.run(
                ["git", "show", f"HEAD:{record}"],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            )
            out = parse_record(shown.stdout) if shown.returncode == 0 else None
            pull = pull or out is None or not repo.cache.local.exists(out[0])
    listed = " ".join(committed)
    dvc = "dvc pull" if pull else "dvc checkout"
    command = f"git checkout HEAD -- {listed} && {dvc} {listed}"
    return command, [r for r in records if r not in in_git]


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
    return set(listed.stdout.splitlines())
