"""What data and code made a run: DVC data versions, git commit, environment.

After every ``kedro run`` that MLflow tracks, kedro-mlops records in the run:

* for each ``DVCDataset`` the pipeline loads or saves: its path, md5, size, the
  git revision it was read at (``workspace`` when not pinned), whether the run
  read or wrote it, and its state: ``committed`` (a ``.dvc`` record with that
  md5 is in git at the run's commit), ``cached`` (in the DVC cache, but the
  record was not committed: restorable by md5), ``modified`` (a workspace edit
  never added to DVC: not restorable) or ``untracked`` (DVC switched off with
  ``KEDRO_MLOPS_DVC=off``, as in the Docker image: the md5 names the bytes, but
  DVC does not hold them);
* the git commit and whether the work tree had uncommitted changes;
* the Kedro environment and the pipeline names.

Everything is stored as run tags under ``mlops.lineage.`` (see :data:`TAG_PREFIX`)
and the data read is also logged as MLflow dataset inputs with the md5 as their
digest. Versions are read from the files themselves in the main process, so
every runner gives the same answer.

Example:
    >>> lineage = Lineage(
    ...     commit="4f2a9c1", dirty=False, env="local", pipelines=["training"],
    ...     data=[DataVersion("raw_customers", "data/01_raw/customers.csv",
    ...                       "0cc175b9c0f1b6a831c399e269772661", 460261)],
    ... )
    >>> Lineage.from_tags(lineage.tags()) == lineage
    True
    >>> lineage.restore_commands()[:2]
    ['git checkout 4f2a9c1 -- data/01_raw/customers.csv.dvc', 'dvc checkout data/01_raw/customers.csv.dvc']
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

TAG_PREFIX = "mlops.lineage."
WORKSPACE = "workspace"


@dataclass(frozen=True)
class DataVersion:
    """One DVC-backed dataset as a run used it."""

    name: str
    path: str  # relative to the git repository root, POSIX separators
    md5: str
    size: int
    rev: str = WORKSPACE
    role: str = "input"  # "input": the run read it; "output": the run wrote it
    state: str = "committed"  # "committed" | "cached" | "modified" | "untracked"

    @property
    def dvc_file(self) -> str:
        return f"{self.path}.dvc"


@dataclass(frozen=True)
class Lineage:
    """Code and data versions of one run."""

    commit: str | None
    dirty: bool | None
    env: str
    pipelines: list[str]
    data: list[DataVersion] = field(default_factory=list)

    def tags(self) -> dict[str, str]:
        """The run tags that record this lineage."""
        tags = {
            f"{TAG_PREFIX}git.commit": self.commit or "none",
            f"{TAG_PREFIX}git.dirty": _flag(self.dirty),
            f"{TAG_PREFIX}env": self.env,
            f"{TAG_PREFIX}pipelines": ",".join(self.pipelines),
        }
        for version in self.data:
            key = f"{TAG_PREFIX}data.{version.name}."
            tags |= {
                key + "path": version.path,
                key + "md5": version.md5,
                key + "size": str(version.size),
                key + "rev": version.rev,
                key + "role": version.role,
                key + "state": version.state,
            }
        return tags

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> Lineage:
        """Read a lineage back from a run's tags."""
        prefix = f"{TAG_PREFIX}data."
        fields: dict[str, dict[str, str]] = {}
        for key, value in tags.items():
            if key.startswith(prefix):
                name, _, attribute = key[len(prefix) :].rpartition(".")
                fields.setdefault(name, {})[attribute] = value
        data = [
            DataVersion(
                name=name,
                path=values["path"],
                md5=values["md5"],
                size=int(values["size"]),
                rev=values.get("rev", WORKSPACE),
                role=values.get("role", "input"),
                state=values.get("state", "committed"),
            )
            for name, values in sorted(fields.items())
        ]
        commit = tags.get(f"{TAG_PREFIX}git.commit")
        dirty = tags.get(f"{TAG_PREFIX}git.dirty")
        pipelines = tags.get(f"{TAG_PREFIX}pipelines", "")
        return cls(
            commit=None if commit in (None, "none") else commit,
            dirty=None if dirty in (None, "unknown") else dirty == "true",
            env=tags.get(f"{TAG_PREFIX}env", ""),
            pipelines=[p for p in pipelines.split(",") if p],
            data=data,
        )

    def restorable(self) -> list[DataVersion]:
        """Data versions whose bytes DVC holds (``committed`` or ``cached``)."""
        return [d for d in self.data if d.state in ("committed", "cached")]

    def restore_commands(self, pull: bool = False) -> list[str]:
        """Shell commands that put every committed data version back in place.

        ``dvc checkout`` takes the bytes from the local DVC cache; with
        ``pull``, ``dvc pull`` fetches them from the remote first. A ``cached``
        version has no git record to check out; ``kedro mlops lineage RUN_ID
        --checkout`` restores it from its md5.
        """
        committed = [d for d in self.data if d.state == "committed"]
        commands = [
            f"git checkout {self.commit if d.rev == WORKSPACE else d.rev} -- {d.dvc_file}"
            for d in committed
            if d.rev != WORKSPACE or self.commit
        ]
        dvc = "dvc pull" if pull else "dvc checkout"
        return commands + [f"{dvc} {d.dvc_file}" for d in committed]


def _flag(value: bool | None) -> str:
    return "unknown" if value is None else str(value).lower()


def git_state(folder: Path) -> tuple[str | None, bool | None]:
    """The commit checked out in ``folder`` and whether tracked files changed."""
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:  # no git at all, as in the Docker image
        return None, None
    if head.returncode != 0:
        return None, None
    status = subprocess.run(
        ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    return head.stdout.strip(), bool(status.stdout.strip())


def data_version(
    name: str, dataset: Any, role: str, git_root: Path
) -> DataVersion | None:
    """Read the version of a ``DVCDataset`` from its files (not from the object's state)."""
    from kedro_mlops.versioning.records import file_md5

    if not dataset.tracked:
        path = dataset.filepath.resolve()
        if not path.is_file():
            return None
        relative = (
            path.relative_to(git_root).as_posix()
            if path.is_relative_to(git_root)
            else dataset.filepath.as_posix()
        )
        return DataVersion(
            name,
            relative,
            file_md5(path),
            path.stat().st_size,
            WORKSPACE,
            role,
            "untracked",
        )
    root = dataset.repository_root()
    relative = dataset.filepath.resolve().relative_to(git_root).as_posix()
    if dataset.rev is not None:
        out = _committed_record(root, dataset.rev, relative)
        if out is None:
            return None
        return DataVersion(name, relative, out[0], out[1], dataset.rev, role)
    path = dataset.filepath.resolve()
    if not path.is_file():
        return None
    md5 = file_md5(path)
    if md5 != dataset.recorded_md5():
        state = "modified"
    elif (_committed_record(root, "HEAD", relative) or ("",))[0] == md5:
        state = "committed"
    else:
        state = "cached"
    return DataVersion(name, relative, md5, path.stat().st_size, WORKSPACE, role, state)


def _committed_record(root: Path, rev: str, relative: str) -> tuple[str, int] | None:
    """md5 and size of the ``.dvc`` record of ``relative`` in git at ``rev``."""
    from kedro_mlops.versioning.records import parse_record

    shown = subprocess.run(
        ["git", "-C", str(root), "show", f"{rev}:{relative}.dvc"],
        capture_output=True,
        text=True,
        check=False,
    )
    return parse_record(shown.stdout) if shown.returncode == 0 else None


def git_toplevel(folder: Path) -> Path:
    top = subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    return Path(top.stdout.strip()) if top.returncode == 0 else folder


def collect(
    pipeline: Any, catalog: Any, project_path: Path, env: str, pipelines: list[str]
) -> Lineage:
    """The lineage of a pipeline run: every DVCDataset it reads or writes."""
    from kedro_mlops.versioning.dataset import DVCDataset

    outputs = set(pipeline.all_outputs())
    git_roots: dict[Path, Path] = {}  # DVC repository -> its git root, asked once
    versions = []
    for name in sorted(pipeline.datasets()):
        dataset = catalog.get(name) if name in catalog else None
        if isinstance(dataset, DVCDataset):
            role = "output" if name in outputs else "input"
            if not dataset.tracked:
                version = data_version(name, dataset, role, project_path.resolve())
            else:
                root = dataset.repository_root()
                if root not in git_roots:
                    git_roots[root] = git_toplevel(root)
                version = data_version(name, dataset, role, git_roots[root])
            if version is not None:
                versions.append(version)
    commit, dirty = git_state(project_path)
    return Lineage(commit, dirty, env, pipelines, versions)


def log_lineage(client: Any, run_id: str, lineage: Lineage) -> None:
    """Write the lineage tags and the data inputs into a (possibly finished) run."""
    from mlflow.data.meta_dataset import MetaDataset

    # MLflow makes its artifact sources at import time, out of a type checker's sight
    from mlflow.data.sources import (  # type: ignore[attr-defined]
        LocalArtifactDatasetSource,
    )
    from mlflow.entities import DatasetInput, InputTag, RunTag

    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in lineage.tags().items()])
    inputs = [
        DatasetInput(
            # MetaDataset has no profile by design; its base declares one abstract
            dataset=MetaDataset(  # type: ignore[abstract]
                source=LocalArtifactDatasetSource(version.path),
                name=version.name,
                digest=version.md5,
            )._to_mlflow_entity(),
            tags=[InputTag(key="mlflow.data.context", value="training")],
        )
        for version in lineage.data
        if version.role == "input"
    ]
    if inputs:
        _log_inputs(client, run_id, inputs)


#: how often logging a run's data inputs is tried when another run logs the same
INPUT_ATTEMPTS = 5


def _log_inputs(client: Any, run_id: str, inputs: list[Any]) -> None:
    """``log_inputs``, tried again when another run logged the same data meanwhile.

    MLflow looks up each dataset (name and digest) of the experiment, then adds
    the missing ones: two runs logging the same new data at once both add it,
    and the second breaks the store's unique constraint. Tried again, it finds
    the first one's.
    """
    import time

    from mlflow.exceptions import MlflowException

    for attempt in range(1, INPUT_ATTEMPTS + 1):
        try:
            client.log_inputs(run_id, datasets=inputs)
            return
        except MlflowException as exc:
            message = str(exc).lower()
            collided = "unique constraint" in message or "duplicate" in message
            if not collided or attempt == INPUT_ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)


def record_run(
    client: Any,
    run_id: str,
    run_params: dict[str, Any],
    pipeline: Any,
    catalog: Any,
) -> Lineage:
    """Collect the lineage of a finished ``kedro run`` and write it into its run.

    ``run_params`` are Kedro's (``pipeline_names`` or the older
    ``pipeline_name``, ``env``, ``project_path``). Logs one line per data
    version, and a warning for a file edited but not added to DVC.
    """
    names = run_params.get("pipeline_names") or run_params.get("pipeline_name")
    if isinstance(names, str):
        names = [names]
    lineage = collect(
        pipeline,
        catalog,
        Path(run_params.get("project_path") or Path.cwd()),
        env=run_params.get("env") or "local",
        pipelines=list(names or ["__default__"]),
    )
    log_lineage(client, run_id, lineage)
    for version in lineage.data:
        logger.info(
            "Lineage: %s %s md5 %s (%s)",
            version.role,
            version.path,
            version.md5,
            version.state,
        )
        if version.state == "modified":
            logger.warning(
                "%s was edited but not added to DVC: this run can be traced but "
                "its data cannot be restored. Run `dvc add %s` and commit.",
                version.path,
                version.path,
            )
    return lineage
