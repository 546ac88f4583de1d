"""Lineage: collected from real files, written into a real MLflow store, restored."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline

from kedro_mlops.datasets import DVCDataset
from kedro_mlops.versioning.lineage import (
    TAG_PREFIX,
    DataVersion,
    Lineage,
    collect,
    log_lineage,
)
from kedro_mlops.versioning.restore import RestoreError, restore
from tests.git_dvc import commit, dvc_status


def double(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(value=frame["value"] * 2)


@pytest.fixture
def project(repo):
    """A repository with a committed raw table and a pipeline raw -> doubled."""
    raw = DVCDataset(filepath="data/raw.csv", dataset="pandas.CSVDataset")
    raw.save(pd.DataFrame({"value": [1, 2, 3]}))
    commit(repo, "raw data", tag="v1")
    catalog = DataCatalog(
        datasets={
            "raw": raw,
            "doubled": DVCDataset(
                filepath="data/doubled.csv", dataset="pandas.CSVDataset"
            ),
        }
    )
    pipeline = Pipeline([Node(double, "raw", "doubled", name="double")])
    return repo, catalog, pipeline


def _run(catalog):
    catalog.save("doubled", double(catalog.load("raw")))


def _collect(project_tuple, env="local"):
    repo, catalog, pipeline = project_tuple
    return collect(pipeline, catalog, repo, env=env, pipelines=["training"])


@pytest.mark.integration  # a real git + DVC repository
def test_collect_reads_versions_and_git_state_from_files(project):
    repo, catalog, _ = project
    _run(catalog)
    # the first save of an output adds it to its folder's .gitignore: uncommitted
    assert _collect(project).dirty is True
    commit(repo, "outputs")
    # a new output version, saved (so cached) but its .dvc record not committed
    catalog.save("doubled", pd.DataFrame({"value": [0]}))
    lineage = _collect(project)
    by_name = {v.name: v for v in lineage.data}
    assert by_name["raw"].md5 in (repo / "data/raw.csv.dvc").read_text()
    assert (by_name["raw"].role, by_name["raw"].state) == ("input", "committed")
    assert (by_name["doubled"].role, by_name["doubled"].state) == ("output", "cached")
    assert by_name["raw"].path == "data/raw.csv"
    assert lineage.commit and len(lineage.commit) == 40
    assert lineage.dirty is True  # data/doubled.csv.dvc changed
    # an edit that is not added to DVC is traced with the md5 of the bytes read
    pd.DataFrame({"value": [9]}).to_csv(repo / "data/raw.csv", index=False)
    raw = {v.name: v for v in _collect(project).data}["raw"]
    assert raw.state == "modified" and raw.md5 != by_name["raw"].md5


@pytest.mark.integration  # a real git + DVC repository
def test_clean_work_tree_is_not_dirty(project):
    repo, catalog, _ = project
    _run(catalog)
    commit(repo, "outputs")
    lineage = _collect(project)
    assert lineage.dirty is False
    assert {v.state for v in lineage.data} == {"committed"}


def test_dvc_off_records_the_md5_of_the_bytes_as_untracked(tmp_path, monkeypatch):
    # given a folder with no git or DVC (a container) and DVC switched off
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEDRO_MLOPS_DVC", "off")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no git either
    raw = DVCDataset(filepath="data/raw.csv", dataset="pandas.CSVDataset")
    raw.save(pd.DataFrame({"value": [1, 2, 3]}))
    catalog = DataCatalog(datasets={"raw": raw})
    pipeline = Pipeline([Node(len, "raw", None, name="count")])
    # when the lineage is collected
    lineage = collect(pipeline, catalog, tmp_path, env="local", pipelines=["p"])
    # then the version names the bytes, and nothing claims DVC can restore them
    (version,) = lineage.data
    expected = hashlib.md5((tmp_path / "data/raw.csv").read_bytes()).hexdigest()
    assert (version.path, version.md5, version.state) == (
        "data/raw.csv",
        expected,
        "untracked",
    )
    assert (lineage.commit, lineage.dirty) == (None, None)
    assert lineage.restorable() == [] and lineage.restore_commands() == []


@pytest.mark.integration  # a real git + DVC repository
def test_pinned_revision_is_recorded_from_git(project):
    repo, _, _ = project
    pinned = DVCDataset(filepath="data/raw.csv", dataset="pandas.CSVDataset", rev="v1")
    catalog = DataCatalog(datasets={"raw_v1": pinned})
    pipeline = Pipeline([Node(len, "raw_v1", None, name="count")])
    (version,) = collect(pipeline, catalog, repo, env="prod", pipelines=["p"]).data
    assert (version.rev, version.state, version.role) == ("v1", "committed", "input")


def test_tags_and_dataset_inputs_land_in_the_run(tracking_uri):
    from mlflow import MlflowClient

    # given the lineage of a run that read `raw` and wrote `doubled`
    lineage = Lineage(
        commit="4f2a9c1",
        dirty=False,
        env="local",
        pipelines=["training"],
        data=[  # by name, as collect() lists them
            DataVersion(
                "doubled",
                "data/doubled.csv",
                "92eb5ffee6ae2fec3ad71c777531578f",
                14,
                role="output",
                state="cached",
            ),
            DataVersion("raw", "data/raw.csv", "0cc175b9c0f1b6a831c399e269772661", 12),
        ],
    )
    client = MlflowClient(tracking_uri)
    run_id = client.create_run(experiment_id="0").info.run_id
    client.set_terminated(run_id)
    # when it is written into the finished run, as the hook does
    log_lineage(client, run_id, lineage)
    # then the tags give it back, and only what the run read is a dataset input
    recorded = client.get_run(run_id)
    assert Lineage.from_tags(recorded.data.tags) == lineage
    assert recorded.data.tags[f"{TAG_PREFIX}data.doubled.state"] == "cached"
    (dataset_input,) = recorded.inputs.dataset_inputs
    assert dataset_input.dataset.name == "raw"
    assert dataset_input.dataset.digest == "0cc175b9c0f1b6a831c399e269772661"


@pytest.mark.integration  # a real git + DVC repository
def test_restore_brings_the_bytes_back_and_refuses_to_lose_work(project):
    repo, catalog, _ = project
    _run(catalog)
    commit(repo, "outputs")
    first = _collect(project)
    original = (repo / "data/raw.csv").read_bytes()
    # a new raw version, edited but not yet added to DVC: restoring would lose it
    pd.DataFrame({"value": [7, 8]}).to_csv(repo / "data/raw.csv", index=False)
    with pytest.raises(RestoreError, match="not in DVC yet.*dvc add"):
        restore(first, repo)
    # added to DVC but not committed: uncommitted changes to tracked files
    catalog.save("raw", pd.DataFrame({"value": [7, 8]}))
    with pytest.raises(RestoreError, match="uncommitted changes"):
        restore(first, repo)
    commit(repo, "new raw data")
    restored = restore(first, repo)
    assert {v.name for v in restored} == {"raw", "doubled"}
    assert (repo / "data/raw.csv").read_bytes() == original
    assert dvc_status(repo) == "Data and pipelines are up to date."


@pytest.mark.integration  # a real git + DVC repository
def test_restore_of_missing_files_needs_no_dvc_add_and_says_when_data_is_nowhere(
    project,
):
    import shutil

    repo, catalog, _ = project
    _run(catalog)
    commit(repo, "outputs")
    first = _collect(project)
    original = (repo / "data/raw.csv").read_bytes()
    # a fresh clone without `dvc pull`: the data files are simply not there
    (repo / "data/raw.csv").unlink()
    (repo / "data/doubled.csv").unlink()
    restore(first, repo)
    assert (repo / "data/raw.csv").read_bytes() == original
    # the cache gone too, and no remote: a clear error, and the records unchanged
    (repo / "data/raw.csv").unlink()
    shutil.rmtree(repo / ".dvc" / "cache")
    catalog.save("raw", pd.DataFrame({"value": [5]}))
    commit(repo, "another raw version")
    records = {p: p.read_bytes() for p in repo.glob("data/*.dvc")}
    shutil.rmtree(repo / ".dvc" / "cache")
    with pytest.raises(
        RestoreError,
        match=r"not in the local DVC cache, and no DVC remote is configured.*"
        r"`dvc remote add -d storage .*Nothing was changed",
    ):
        restore(first, repo)
    assert {p: p.read_bytes() for p in repo.glob("data/*.dvc")} == records


@pytest.mark.integration  # real git + DVC repositories and a directory remote
def test_restore_in_a_fresh_clone_fetches_from_the_remote(project, remote, tmp_path):
    from kedro_mlops.versioning.restore import CACHE, REMOTE, locate, way_back
    from tests.git_dvc import DVC, sh

    repo, catalog, _ = project
    _run(catalog)
    commit(repo, "outputs")
    first = _collect(project)
    made = {n: (repo / n).read_bytes() for n in ("data/raw.csv", "data/doubled.csv")}
    sh(DVC, "push", "-q", cwd=repo)
    # then a later version of both, committed and pushed too
    catalog.save("raw", pd.DataFrame({"value": [4, 5]}))
    _run(catalog)
    commit(repo, "new raw data")
    sh(DVC, "push", "-q", cwd=repo)
    clone = tmp_path / "clone"
    sh("git", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    # the clone has the later records, no data: the remote has the first run's
    assert {w.place for w in locate(first, clone)} == {REMOTE}
    lines: list[str] = []
    restored = restore(first, clone, progress=lines.append)
    assert {v.name for v in restored} == {"raw", "doubled"}
    for name, content in made.items():
        assert (clone / name).read_bytes() == content
    size = sum(v.size for v in first.data)
    assert lines == [
        f"Fetching 2 data version(s) ({size} bytes) from the DVC remote 'storage' "
        f"({remote}): data/doubled.csv, data/raw.csv",
        "Fetched 2 data version(s) into the local DVC cache.",
        "Checking out 2 data version(s) from the DVC cache.",
    ]
    assert {w.place for w in locate(first, clone)} == {CACHE}
    assert dvc_status(clone) == "Data and pipelines are up to date."
    # the records now name the run's versions; the branch's come back with a pull
    changed = sh("git", "status", "--porcelain", cwd=clone).split()
    assert changed == ["M", "data/doubled.csv.dvc", "M", "data/raw.csv.dvc"]
    command, never_committed = way_back(clone, restored)
    assert command == (
        "git checkout HEAD -- data/doubled.csv.dvc data/raw.csv.dvc "
        "&& dvc pull data/doubled.csv.dvc data/raw.csv.dvc"
    )
    assert never_committed == []


@pytest.mark.integration  # real git + DVC repositories and a directory remote
def test_restore_of_data_no_remote_holds_leaves_a_clone_as_it_was(
    project, remote, tmp_path
):
    from kedro_mlops.versioning.restore import locate
    from tests.git_dvc import DVC, sh

    repo, catalog, _ = project
    _run(catalog)  # the output's record is not committed, nothing is pushed
    first = _collect(project)
    clone = tmp_path / "clone"
    sh("git", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    records = {p: p.read_bytes() for p in clone.glob("data/*.dvc")}
    with pytest.raises(RestoreError) as caught:
        restore(first, clone)
    message = str(caught.value)
    assert message.startswith("The run's data cannot be restored: data/doubled.csv")
    assert (
        f"are in neither the local DVC cache nor the DVC remote 'storage' ({remote})"
        in message
    )
    assert message.endswith(
        "(`dvc push`), or point this clone at the remote that "
        "has it, then run again. Nothing was changed."
    )
    # no record written for the output, none changed, no data file
    assert {p: p.read_bytes() for p in clone.glob("data/*.dvc")} == records
    assert not (clone / "data/doubled.csv.dvc").exists()
    assert sh("git", "status", "--porcelain", "--untracked-files=all", cwd=clone) == ""
    # a folder remote that is not mounted here is said to be missing, not empty
    unmounted = tmp_path / "unmounted"
    sh(DVC, "remote", "modify", "--local", "storage", "url", str(unmounted), cwd=clone)
    (where,) = {w.describe() for w in locate(first, clone)}
    assert where == (
        f"not in the local DVC cache, and the DVC remote 'storage' ({unmounted}) is "
        "a folder that does not exist (not mounted?)"
    )


def test_restore_commands_only_cover_committed_versions():
    lineage = Lineage(
        commit="abc",
        dirty=True,
        env="local",
        pipelines=["training"],
        data=[
            DataVersion("raw", "data/raw.csv", "m1", 1),
            DataVersion("old", "data/old.csv", "m2", 2, rev="v1"),
            DataVersion("out", "data/out.csv", "m3", 3, role="output", state="cached"),
            DataVersion("edit", "data/edit.csv", "m4", 4, state="modified"),
        ],
    )
    assert lineage.restore_commands() == [
        "git checkout abc -- data/raw.csv.dvc",
        "git checkout v1 -- data/old.csv.dvc",
        "dvc checkout data/raw.csv.dvc",
        "dvc checkout data/old.csv.dvc",
    ]
    assert [v.name for v in lineage.restorable()] == ["raw", "old", "out"]
    assert set(Lineage.from_tags(lineage.tags()).data) == set(lineage.data)


class _CollidingClient:
    """A real client whose first ``log_inputs`` fails as MLflow's does when another
    run added the same dataset between its lookup and its insert."""

    def __init__(self, client, error: str) -> None:
        self.client, self.error, self.calls = client, error, 0

    def log_batch(self, *args, **kwargs):
        return self.client.log_batch(*args, **kwargs)

    def log_inputs(self, *args, **kwargs):
        from mlflow.exceptions import MlflowException

        self.calls += 1
        if self.calls == 1:
            raise MlflowException(self.error, error_code="INTERNAL_ERROR")
        return self.client.log_inputs(*args, **kwargs)


RAW_READ = Lineage(
    commit="4f2a9c1",
    dirty=False,
    env="local",
    pipelines=["training"],
    data=[DataVersion("raw", "data/raw.csv", "0cc175b9c0f1b6a831c399e269772661", 12)],
)


def test_inputs_another_run_logged_at_the_same_moment_are_logged_again(tracking_uri):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    run_id = client.create_run(experiment_id="0").info.run_id
    colliding = _CollidingClient(
        client,
        "(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id, "
        "datasets.name, datasets.digest",
    )
    log_lineage(colliding, run_id, RAW_READ)
    assert colliding.calls == 2
    (dataset_input,) = client.get_run(run_id).inputs.dataset_inputs
    assert dataset_input.dataset.name == "raw"


def test_other_errors_logging_inputs_are_not_retried(tracking_uri):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri)
    run_id = client.create_run(experiment_id="0").info.run_id
    failing = _CollidingClient(client, "the store is read-only")
    with pytest.raises(MlflowException, match="read-only"):
        log_lineage(failing, run_id, RAW_READ)
    assert failing.calls == 1
