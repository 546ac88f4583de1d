"""``DVCDataset``: any Kedro dataset whose file is versioned by DVC.

Example ``catalog.yml``:

.. code-block:: yaml

    raw_customers:                      # the workspace file, DVC-tracked on save
      type: kedro_mlops.datasets.DVCDataset
      filepath: data/01_raw/customers.csv
      dataset: pandas.CSVDataset

    customers_v1:                       # exactly the bytes DVC recorded at tag v1
      type: kedro_mlops.datasets.DVCDataset
      filepath: data/01_raw/customers.csv
      dataset:
        type: pandas.CSVDataset
        load_args: {sep: ","}
      rev: v1

    model_input:                        # tracked and pushed to a DVC remote
      type: kedro_mlops.datasets.DVCDataset
      filepath: data/05_model_input/model_input.parquet
      dataset: pandas.ParquetDataset
      remote: storage
      push: true

Where there is no DVC repository by design (a Docker container gets
``data/`` as a volume, with no ``.git`` and no ``.dvc``), the environment
variable ``KEDRO_MLOPS_DVC=off`` makes every DVCDataset read and write its file
like the wrapped dataset (saves still go through a temporary file and a
rename); lineage then records the md5 of the bytes with the state
``untracked``. The Docker image sets it.

Loading without ``rev`` costs what the wrapped dataset costs (a missing
workspace file is pulled from the remote first). Saving writes a temporary file
in ``.dvc/tmp/kedro-mlops/`` (which git ignores and DVC never tracks), puts it
in the DVC cache, writes the new ``.dvc`` record there too, and only then
renames both into place, the data first. One save of a dataset runs at a time
(a lock file in the same folder). A process killed during a save leaves the
previous file and record, or the new ones; killed between the two renames, it
leaves the new record waiting, and the next load or save of the dataset moves
it into place. That next load or save also deletes the temporary files of
killed saves. Where ``.dvc/tmp`` is on another file system than the data, the
temporary files are hidden files beside the data
(``.<name>.<token>.tmp<suffix>``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from kedro.io.core import AbstractDataset, DatasetError

from kedro_mlops.locks import file_lock
from kedro_mlops.versioning.records import (
    DVC_DIR,
    SWITCH,
    dvc_enabled,
    file_md5,
    parse_record,
    require_dvc,
    write_record,
)


class DVCDataset(AbstractDataset[Any, Any]):
    """Wrap a file-based Kedro dataset so that DVC versions its file.

    Args:
        filepath: the data file, relative to the project (or absolute); it must
            lie inside a DVC repository.
        dataset: the wrapped dataset: a type (``pandas.ParquetDataset``) or a
            mapping with ``type`` and the dataset's own arguments, without
            ``filepath``.
        rev: a git revision (tag, branch or commit) to read the file as DVC
            recorded it there. A dataset pinned to a revision cannot be saved.
        remote: the DVC remote to pull from and push to (default: the
            repository's default remote).
        push: push the file to the remote after each save.
        metadata: free-form metadata, ignored by Kedro.
        version: reserved by Kedro for ``versioned: true``, which is refused:
            DVC is the versioning here.

    Example:
        >>> from kedro_mlops.datasets import DVCDataset
        >>> dataset = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset")
        >>> dataset._describe()["dataset"]
        'pandas.CSVDataset'
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        filepath: str,
        dataset: str | type[AbstractDataset] | dict[str, Any],
        rev: str | None = None,
        remote: str | None = None,
        push: bool = False,
        metadata: dict[str, Any] | None = None,
        version: Any = None,
    ) -> None:
        self._path = Path(filepath)
        if version is not None:
            raise DatasetError(
                f"DVCDataset '{filepath}': Kedro's `versioned: true` is not supported, "
                "because DVC versions this file. Remove `versioned: true` from the "
                "catalog entry; to read an older version, pin a git revision with "
                "`rev: <tag, branch or commit>`."
            )
        config = dict(dataset) if isinstance(dataset, dict) else {"type": dataset}
        if "type" not in config:
            raise DatasetError(
                f"DVCDataset '{filepath}': `dataset` needs a `type`, for example "
                "`dataset: pandas.CSVDataset`."
            )
        if "filepath" in config:
            raise DatasetError(
                f"DVCDataset '{filepath}': set `filepath` on the DVCDataset itself, "
                "not inside `dataset`."
            )
        self._dataset_config = config
        self._rev = None if rev is None else str(rev)
        self._remote = remote
        self._push = push
        self.metadata = metadata
        self._workspace = self._wrapped(self._path)

    # ---- Kedro's dataset contract -------------------------------------------------

    def load(self) -> Any:
        if not dvc_enabled():
            return self._load_untracked()
        if self._rev is not None:
            return self._load_at_revision()
        self._settle_before_load()
        if not self._path.exists() and self.dvc_file.exists():
            self._pull()
        return self._workspace.load()

    def save(self, data: Any) -> None:
        if self._rev is not None:
            raise DatasetError(
                f"DVCDataset '{self._path}' is pinned to revision '{self._rev}' and "
                "cannot be saved: history is read-only. Remove `rev` to write the "
                "workspace file."
            )
        root = None  # no DVC repository: the file is written as it is
        if dvc_enabled():
            root = self.repository_root()
            require_dvc(self._path)
        target = self._path.resolve()
        if root is not None:
            self._refuse_git_tracked(root, target)
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = self._scratch(root, target, create=True)
        with file_lock(scratch.lock, waiting=f"another save of {self._path}"):
            self._settle(scratch, target)
            token = uuid.uuid4().hex[:12]
            temporary = scratch.data(token, target.suffix)
            try:
                self._wrapped(temporary).save(data)
                if root is None:
                    os.replace(temporary, target)
                else:
                    self._commit(root, target, temporary, scratch.record(token))
            finally:
                temporary.unlink(missing_ok=True)
        if self._push and root is not None:
            self._push_to_remote(root)

    def _exists(self) -> bool:
        if self._rev is None:
            return self._path.exists() or self.dvc_file.exists()
        filesystem, relative = self._filesystem_at_revision()
        return bool(filesystem.exists(relative))

    def _describe(self) -> dict[str, Any]:
        dataset_type = self._dataset_config["type"]
        if isinstance(dataset_type, type):
            dataset_type = f"{dataset_type.__module__}.{dataset_type.__qualname__}"
        return {
            "filepath": str(self._path),
            "dataset": dataset_type,
            "rev": self._rev,
            "remote": self._remote,
            "push": self._push,
        }

    # ---- public helpers ---------------------------------------------------------

    @property
    def filepath(self) -> Path:
        """The data file (as configured)."""
        return self._path

    @property
    def dvc_file(self) -> Path:
        """The ``.dvc`` file that records the data file's hash."""
        return self._path.with_name(self._path.name + ".dvc")

    @property
    def rev(self) -> str | None:
        """The pinned git revision, if any."""
        return self._rev

    @property
    def tracked(self) -> bool:
        """Whether DVC versions the file (see ``KEDRO_MLOPS_DVC``)."""
        return dvc_enabled()

    # ---- internals --------------------------------------------------------------

    def _load_untracked(self) -> Any:
        if self._rev is not None:
            raise DatasetError(
                f"DVCDataset '{self._path}' is pinned to revision '{self._rev}', which "
                f"needs DVC, but {SWITCH}=off. Unset {SWITCH} in a clone of the "
                "repository, or remove `rev` to read the file as it is."
            )
        if not self._path.exists():
            raise DatasetError(
                f"DVCDataset '{self._path}': no such file, and DVC is off "
                f"({SWITCH}=off), so it cannot be pulled. Provide the file (in a "
                "container: mount the project's data folder, e.g. "
                '`-v "$PWD/data:/home/kedro/app/data"`).'
            )
        return self._workspace.load()

    def _wrapped(self, path: Path) -> AbstractDataset:
        return AbstractDataset.from_config(
            f"DVCDataset({self._path})", {**self._dataset_config, "filepath": str(path)}
        )

    def repository_root(self) -> Path:
        """The DVC repository that holds the file (the nearest ``.dvc/`` above it)."""
        start = self._path.resolve().parent
        for folder in (start, *start.parents):
            if (folder / DVC_DIR).is_dir():
                return folder
        raise DatasetError(
            f"DVCDataset '{self._path}': not inside a DVC repository (no {DVC_DIR}/ "
            f"folder in {start} or above). Run `git init && dvc init` at the project "
            "root, or use the wrapped dataset type without DVCDataset."
        )

    def _relative(self, root: Path) -> str:
        return self._path.resolve().relative_to(root).as_posix()

    def _refuse_git_tracked(self, root: Path, target: Path) -> None:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--error-unmatch", "--", str(target)],
            capture_output=True,
            check=False,
        )
        if listed.returncode == 0:
            relative = target.relative_to(root).as_posix()
            raise DatasetError(
                f"DVCDataset '{self._path}': {relative} is tracked by git, not DVC. "
                f"Stop tracking it in git with `git rm --cached {relative}` and "
                "commit, then save again: DVC will track it."
            )

    def _commit(self, root: Path, target: Path, temporary: Path, pending: Path) -> None:
        """Cache the new file, write its ``.dvc`` record to ``pending``, then
        rename both into place, the data first.

        A process killed between the two renames leaves the new file with the
        old record, and the new record in ``pending``: the next load or save of
        the dataset finishes the job (:meth:`_settle`).
        """
        from dvc.repo import Repo

        with Repo(str(root), _wait_for_lock=True) as repo:
            self._refuse_stage_output(repo, target)
            cache = repo.cache.local
            md5 = file_md5(temporary)
            size = temporary.stat().st_size
            record = target.with_name(target.name + ".dvc")
            with repo.lock:
                cache.add(str(temporary), cache.fs, md5)
                write_record(record, target.name, md5, size, pending)
                try:
                    repo.scm.ignore(str(target))
                    os.replace(temporary, target)
                    os.replace(pending, record)
                finally:
                    pending.unlink(missing_ok=True)

    # ---- what a killed save leaves ----------------------------------------------

    def _scratch(self, root: Path | None, target: Path, create: bool) -> _Scratch:
        """Where saves of this dataset write their temporary files and lock.

        In a DVC repository: ``.dvc/tmp/kedro-mlops/``, which git ignores and DVC
        never tracks, when it is on the data's file system (a rename cannot
        cross file systems); else hidden files beside the data. Without DVC:
        beside the data, with the lock in the system's temporary folder.
        """
        if root is None:
            digest = _short_md5(target.as_posix())
            user = os.getuid() if hasattr(os, "getuid") else "user"
            folder = Path(tempfile.gettempdir()) / f"kedro-mlops-{user}"
            return _Scratch(
                target.parent,
                f".{target.name}",
                folder / f"{target.name}-{digest}.lock",
            )
        private = root / DVC_DIR / "tmp" / SCRATCH_DIR
        if create:
            private.mkdir(parents=True, exist_ok=True)
        key = f"{target.name}-{_short_md5(target.relative_to(root).as_posix())}"
        lock = private / f"{key}.lock"
        try:
            same_device = private.stat().st_dev == target.parent.stat().st_dev
        except OSError:  # nothing saved yet: no folder to compare
            same_device = True
        if same_device:
            return _Scratch(private, key, lock)
        return _Scratch(target.parent, f".{target.name}", lock)

    def _leftovers(self, scratch: _Scratch, target: Path) -> list[Path]:
        """Temporary files of this dataset's earlier saves (and of older versions
        of kedro-mlops, which wrote them beside the data)."""
        found = _matching(scratch.folder, scratch.pattern(target.suffix))
        if scratch.folder != target.parent:
            found += _matching(
                target.parent, _Scratch.beside(target).pattern(target.suffix)
            )
        found += _matching(target.parent, _legacy_record_pattern(target))
        return sorted(set(found))

    def _settle(self, scratch: _Scratch, target: Path) -> None:
        """Finish or remove what killed saves left (the caller holds the lock).

        A new ``.dvc`` record left waiting is moved into place when the data
        file is the one it records (the save was killed between its two
        renames); every other leftover is deleted.
        """
        record = target.with_name(target.name + ".dvc")
        legacy = _legacy_record_pattern(target)
        for path in self._leftovers(scratch, target):
            waiting = path.name.endswith(".record.tmp") or legacy.fullmatch(path.name)
            if waiting and self._completes(path, target):
                os.replace(path, record)
            elif path.is_dir():  # a wrapped dataset that writes a folder
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    @staticmethod
    def _completes(pending: Path, target: Path) -> bool:
        """Whether ``pending`` records ``target`` as it is, and the record does not."""
        try:
            waiting = parse_record(pending.read_text())
        except OSError:
            return False
        try:
            current = parse_record(target.with_name(target.name + ".dvc").read_text())
        except OSError:  # no record yet: the first save was killed
            current = None
        if waiting is None or waiting == current or not target.is_file():
            return False
        return waiting[0] == file_md5(target)

    def _settle_before_load(self) -> None:
        """Settle what a killed save left before reading, if it left anything."""
        root = None
        if dvc_enabled():
            try:
                root = self.repository_root()
            except DatasetError:
                return  # not in a DVC repository: nothing was saved through DVC
        target = self._path.resolve()
        scratch = self._scratch(root, target, create=False)
        if not self._leftovers(scratch, target):
            return
        with file_lock(scratch.lock, waiting=f"a save of {self._path}"):
            self._settle(scratch, target)

    def _refuse_stage_output(self, repo: Any, target: Path) -> None:
        from dvc.exceptions import OutputNotFoundError
        from dvc.stage import PipelineStage

        try:
            outputs = repo.find_outs_by_path(str(target))
        except OutputNotFoundError:
            return
        for output in outputs:
            if isinstance(output.stage, PipelineStage):
                raise DatasetError(
                    f"DVCDataset '{self._path}': {target.name} is an output of the "
                    f"stage '{output.stage.addressing}' in dvc.yaml, so DVC tracks it "
                    "through that pipeline. Produce it with `dvc repro`, or use the "
                    "wrapped dataset type without DVCDataset for it."
                )

    def recorded_md5(self) -> str | None:
        """The md5 the workspace ``.dvc`` record holds, if there is a readable one."""
        try:
            record = parse_record(self.dvc_file.read_text())
        except OSError:
            return None
        return None if record is None else record[0]

    def _missing_data_error(self, md5: str | None, where: str) -> DatasetError:
        remote = (
            f"the remote '{self._remote}'" if self._remote else "the default remote"
        )
        return DatasetError(
            f"DVCDataset '{self._path}': the data {where} (md5 {md5 or 'unknown'}) is "
            f"in neither the local DVC cache nor {remote}. Push it from the clone or "
            f"machine where it was produced: `dvc push {self.dvc_file.as_posix()}`."
        )

    def _pull(self) -> None:
        require_dvc(self._path)
        from dvc.repo import Repo

        root = self.repository_root()
        try:
            with Repo(str(root), _wait_for_lock=True) as repo:
                repo.pull(targets=[str(self.dvc_file.resolve())], remote=self._remote)
        except Exception as exc:
            raise self._missing_data_error(
                self.recorded_md5(), "of the missing workspace file"
            ) from exc

    def _push_to_remote(self, root: Path) -> None:
        """Push the saved file; a failure leaves the file and its record in step."""
        from dvc.repo import Repo

        record = self.dvc_file.as_posix()
        remote = "the default DVC remote"
        try:
            with Repo(str(root), _wait_for_lock=True) as repo:
                name = self._remote or repo.config["core"].get("remote")
                if not name:
                    raise DatasetError(
                        f"DVCDataset '{self._path}' was saved and its .dvc record "
                        "written, but it has `push: true` and the project has no DVC "
                        "remote. Add one (`dvc remote add -d storage <folder or "
                        f"s3://bucket/path>`), then `dvc push {record}`."
                    )
                url = (repo.config["remote"].get(name) or {}).get("url")
                remote = f"the DVC remote '{name}'" + (f" ({url})" if url else "")
                repo.push(targets=[str(self.dvc_file.resolve())], remote=self._remote)
        except DatasetError:
            raise
        except Exception as exc:
            cause = (str(exc).strip() or type(exc).__name__).splitlines()[0]
            raise DatasetError(
                f"DVCDataset '{self._path}' was saved and its .dvc record written, "
                f"but pushing it to {remote} failed: {cause}. Check the remote "
                f"(`dvc remote list`), then push it with `dvc push {record}`."
            ) from exc

    def _filesystem_at_revision(self) -> tuple[Any, str]:
        require_dvc(self._path)
        from dvc.fs import DVCFileSystem
        from dvc.scm import RevError

        root = self.repository_root()
        try:
            filesystem = DVCFileSystem(
                repo=str(root), rev=self._rev, remote=self._remote
            )
            filesystem.repo  # noqa: B018 - resolves the revision now
        except RevError as exc:
            raise DatasetError(
                f"DVCDataset '{self._path}': the git revision '{self._rev}' does not "
                f"exist in {root}. Check the name with `git tag` or "
                "`git log --oneline`."
            ) from exc
        return filesystem, self._relative(root)

    def _load_at_revision(self) -> Any:
        filesystem, relative = self._filesystem_at_revision()
        try:
            info = filesystem.info(relative)
        except FileNotFoundError as exc:
            raise DatasetError(
                f"DVCDataset '{self._path}': {relative} does not exist at revision "
                f"'{self._rev}' (neither as a file nor as a .dvc record)."
            ) from exc
        dvc_info = info.get("dvc_info")
        if not dvc_info:
            raise DatasetError(
                f"DVCDataset '{self._path}': at revision '{self._rev}', {relative} is "
                "tracked by git, not DVC. Read it with the wrapped dataset type, or "
                f"track it with DVC (`git rm --cached {relative} && dvc add {relative}`)."
            )
        with tempfile.TemporaryDirectory(prefix="kedro-mlops-dvc-") as folder:
            local = Path(folder) / self._path.name
            try:
                filesystem.get_file(relative, str(local))
            except Exception as exc:
                raise self._missing_data_error(
                    dvc_info.get("md5"), f"at revision '{self._rev}'"
                ) from exc
            return self._wrapped(local).load()


#: the folder of ``.dvc/tmp`` where saves write their temporary files
SCRATCH_DIR = "kedro-mlops"


class _Scratch:
    """The temporary files of one dataset's saves: ``<key>.<token>.tmp<suffix>``
    (the data) and ``<key>.<token>.record.tmp`` (its new ``.dvc`` record) in
    ``folder``, and the lock that one save at a time holds."""

    def __init__(self, folder: Path, key: str, lock: Path) -> None:
        self.folder, self.key, self.lock = folder, key, lock

    @classmethod
    def beside(cls, target: Path) -> _Scratch:
        """Hidden files beside the data (the lock is not used from here)."""
        return cls(target.parent, f".{target.name}", target.parent / ".lock")

    def data(self, token: str, suffix: str) -> Path:
        return self.folder / f"{self.key}.{token}.tmp{suffix}"

    def record(self, token: str) -> Path:
        return self.folder / f"{self.key}.{token}.record.tmp"

    def pattern(self, suffix: str) -> re.Pattern[str]:
        token = r"\.[0-9a-f]{12}\."
        return re.compile(
            f"{re.escape(self.key)}{token}(?:tmp{re.escape(suffix)}|record\\.tmp)"
        )


def _legacy_record_pattern(target: Path) -> re.Pattern[str]:
    """``.<name>.dvc.<token>.tmp``: a record left by kedro-mlops 0.1."""
    return re.compile(re.escape(f".{target.name}.dvc.") + r"[0-9a-f]{12}\.tmp")


def _matching(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return [Path(e.path) for e in entries if pattern.fullmatch(e.name)]
    except FileNotFoundError:
        return []


def _short_md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:10]
