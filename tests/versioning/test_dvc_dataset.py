"""DVCDataset against real git + DVC repositories (no mocks of DVC).

The tests that make a repository are marked ``integration``: each runs git and
the ``dvc`` command line. The others (configuration errors, DVC switched off,
no repository at all) stay in the fast suite.
"""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError

from kedro_mlops.datasets import DVCDataset
from tests.git_dvc import DVC, commit, dvc_status, init_repo, sh

CLEAN = "Data and pipelines are up to date."


def frame(n: int = 5, offset: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": range(offset, offset + n), "value": [i * 0.5 for i in range(n)]}
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    ("filepath", "wrapped", "data"),
    [
        ("data/x.csv", "pandas.CSVDataset", frame()),
        ("data/x.parquet", "pandas.ParquetDataset", frame()),
        (
            "data/model.pkl",
            "pickle.PickleDataset",
            {"weights": [0.1, 0.2], "bias": 1.5},
        ),
    ],
)
def test_round_trip_is_tracked_and_clean(repo, filepath, wrapped, data):
    dataset = DVCDataset(filepath=filepath, dataset=wrapped)
    dataset.save(data)
    loaded = dataset.load()
    if isinstance(data, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, data)
    else:
        assert loaded == data
    assert (repo / f"{filepath}.dvc").is_file()
    assert dvc_status(repo) == CLEAN
    # the data itself is ignored by git, its .dvc record is not
    ignored = sh("git", "check-ignore", filepath, cwd=repo).strip()
    assert ignored == filepath
    # no temporary file is left behind (the save's lock file stays, empty)
    assert not [p.name for p in (repo / "data").iterdir() if ".tmp" in p.name]
    scratch = repo / ".dvc" / "tmp" / "kedro-mlops"
    assert [p.suffix for p in scratch.iterdir()] == [".lock"]


@pytest.mark.integration
def test_older_revision_reads_exactly_what_dvc_recorded(repo):
    dataset = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset")
    dataset.save(frame(3))
    commit(repo, "v1", tag="v1")
    dataset.save(frame(4, offset=10))
    commit(repo, "v2")
    dataset.save(frame(2, offset=20))  # uncommitted workspace change
    v1 = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset", rev="v1")
    pd.testing.assert_frame_equal(v1.load(), frame(3))
    head = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset", rev="HEAD")
    pd.testing.assert_frame_equal(head.load(), frame(4, offset=10))
    pd.testing.assert_frame_equal(dataset.load(), frame(2, offset=20))
    assert v1.exists()


@pytest.mark.integration
def test_fresh_clone_with_empty_cache_reads_through_the_remote(repo, remote, tmp_path):
    # given data pushed on save and committed
    DVCDataset(
        filepath="data/x.parquet", dataset="pandas.ParquetDataset", push=True
    ).save(frame(6))
    commit(repo, "data", tag="v1")
    assert any(remote.rglob("*"))
    # when another machine clones the repository (no cache, no workspace data)
    clone = tmp_path / "clone"
    sh("git", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    assert not (clone / "data/x.parquet").exists()
    assert not (clone / ".dvc/cache").exists()
    # then a pinned revision and the workspace file both come from the remote
    pinned = DVCDataset(
        filepath=str(clone / "data/x.parquet"),
        dataset="pandas.ParquetDataset",
        rev="v1",
    )
    pd.testing.assert_frame_equal(pinned.load(), frame(6))
    workspace = DVCDataset(
        filepath=str(clone / "data/x.parquet"), dataset="pandas.ParquetDataset"
    )
    pd.testing.assert_frame_equal(workspace.load(), frame(6))
    assert (clone / "data/x.parquet").is_file()


@pytest.mark.integration
def test_push_after_save_lands_in_the_remote(repo, remote):
    dataset = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset", push=True)
    dataset.save(frame())
    md5 = dataset.recorded_md5()
    assert md5 is not None
    pushed = remote / "files" / "md5" / md5[:2] / md5[2:]
    assert pushed.read_bytes() == (repo / "data/x.csv").read_bytes()
    assert sh(DVC, "status", "-c", cwd=repo).strip() == (
        "Cache and remote 'storage' are in sync."
    )


@pytest.mark.integration
def test_push_to_an_unreachable_remote_is_a_clear_error_and_keeps_the_record(
    repo, tmp_path
):
    from kedro_mlops.versioning.records import file_md5, parse_record

    dataset = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset", push=True)
    # given no remote at all: the save is kept, and the error says how to add one
    with pytest.raises(
        DatasetError,
        match=r"'data/x.csv' was saved.*`push: true` and the project has no DVC "
        r"remote\. Add one \(`dvc remote add -d storage",
    ):
        dataset.save(frame())
    # given a remote folder that cannot be made (its parent is a file)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    sh(DVC, "remote", "add", "-d", "storage", str(blocker / "store"), cwd=repo)
    with pytest.raises(DatasetError) as caught:
        dataset.save(frame(3, offset=7))
    message = str(caught.value)
    assert message.startswith(
        "DVCDataset 'data/x.csv' was saved and its .dvc record written, but pushing "
        f"it to the DVC remote 'storage' ({blocker / 'store'}) failed: "
    )
    assert message.endswith("then push it with `dvc push data/x.csv.dvc`.")
    assert "\n" not in message
    # then the file is the new one, and its record names exactly those bytes
    pd.testing.assert_frame_equal(dataset.load(), frame(3, offset=7))
    recorded = parse_record((repo / "data/x.csv.dvc").read_text())
    data = repo / "data/x.csv"
    assert recorded == (file_md5(data), data.stat().st_size)
    assert dvc_status(repo) == CLEAN
    assert not [p.name for p in (repo / "data").iterdir() if ".tmp" in p.name]


def test_versioned_true_is_refused_with_an_explanation():
    catalog = DataCatalog.from_config(
        {
            "x": {
                "type": "kedro_mlops.datasets.DVCDataset",
                "filepath": "data/x.csv",
                "dataset": "pandas.CSVDataset",
                "versioned": True,
            }
        }
    )
    # Kedro builds catalog datasets on first use
    with pytest.raises(DatasetError, match=r"`versioned: true` is not supported.*rev:"):
        catalog.load("x")


def test_outside_a_dvc_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dataset = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset")
    with pytest.raises(
        DatasetError,
        match=r"'data/x.csv': not inside a DVC repository.*`git init && dvc init`",
    ):
        dataset.save(frame())
    assert not (tmp_path / "data/x.csv").exists()


def test_dvc_off_reads_and_writes_the_plain_file(tmp_path, monkeypatch):
    # given no repository at all (a container's data volume) and DVC switched off
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEDRO_MLOPS_DVC", "off")
    dataset = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset")
    # when the dataset is saved and loaded
    dataset.save(frame())
    pd.testing.assert_frame_equal(dataset.load(), frame())
    # then only the file is there: no record, no temporary file left
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["x.csv"]
    assert not dataset.tracked


def test_dvc_off_errors_name_the_switch_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEDRO_MLOPS_DVC", "off")
    missing = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset")
    with pytest.raises(DatasetError, match=r"no such file.*KEDRO_MLOPS_DVC=off.*mount"):
        missing.load()
    pinned = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset", rev="v1")
    with pytest.raises(DatasetError, match=r"revision 'v1'.*KEDRO_MLOPS_DVC=off"):
        pinned.load()


@pytest.mark.integration
def test_revision_that_does_not_exist(repo):
    dataset = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset", rev="v9")
    with pytest.raises(
        DatasetError, match=r"'data/x.csv'.*revision 'v9' does not exist.*git tag"
    ):
        dataset.load()


@pytest.mark.integration
def test_data_in_neither_cache_nor_remote_names_md5_and_fix(repo, remote, tmp_path):
    # given data committed but never pushed
    DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset").save(frame())
    commit(repo, "data", tag="v1")
    md5 = (repo / "data/x.csv.dvc").read_text().split("md5: ")[1].split()[0]
    clone = tmp_path / "clone"
    sh("git", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    # then reading it in a clone says which data is missing and how to fix it
    pinned = DVCDataset(
        filepath=str(clone / "data/x.csv"), dataset="pandas.CSVDataset", rev="v1"
    )
    with pytest.raises(
        DatasetError,
        match=rf"md5 {md5}.*neither the local DVC cache nor.*`dvc push .*x.csv.dvc`",
    ):
        pinned.load()
    workspace = DVCDataset(
        filepath=str(clone / "data/x.csv"), dataset="pandas.CSVDataset"
    )
    with pytest.raises(DatasetError, match=rf"md5 {md5}.*dvc push"):
        workspace.load()


@pytest.mark.integration
def test_file_tracked_by_git_instead_of_dvc(repo):
    (repo / "data").mkdir()
    frame().to_csv(repo / "data/x.csv", index=False)
    commit(repo, "csv in git")
    before = (repo / "data/x.csv").read_bytes()
    dataset = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset")
    with pytest.raises(
        DatasetError,
        match=r"data/x.csv is tracked by git, not DVC.*git rm --cached data/x.csv",
    ):
        dataset.save(frame(2))
    assert (repo / "data/x.csv").read_bytes() == before
    # reading history of a git-tracked file through DVCDataset is refused too
    pinned = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset", rev="HEAD")
    with pytest.raises(DatasetError, match="tracked by git, not DVC"):
        pinned.load()


@pytest.mark.integration
def test_output_of_a_dvc_yaml_stage(repo):
    (repo / "dvc.yaml").write_text(
        "stages:\n  make:\n    cmd: python make.py\n    outs:\n      - data/x.csv\n"
    )
    dataset = DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset")
    with pytest.raises(
        DatasetError, match=r"output of the stage 'make' in dvc.yaml.*dvc repro"
    ):
        dataset.save(frame())
    assert not (repo / "data/x.csv").exists()
    assert not (repo / "data/x.csv.dvc").exists()


def test_wrong_wrapped_configuration():
    with pytest.raises(DatasetError, match="set `filepath` on the DVCDataset itself"):
        DVCDataset(
            filepath="data/x.csv",
            dataset={"type": "pandas.CSVDataset", "filepath": "y.csv"},
        )
    with pytest.raises(DatasetError, match="needs a `type`"):
        DVCDataset(filepath="data/x.csv", dataset={"load_args": {}})


@pytest.mark.integration
def test_subdirectory_repository(tmp_path, monkeypatch):
    """A project inside a larger git repository: DVC in subdirectory mode."""
    outer = tmp_path / "mono"
    outer.mkdir()
    sh("git", "init", "-q", cwd=outer)
    project = outer / "project"
    project.mkdir()
    sh(DVC, "init", "-q", "--subdir", cwd=project)
    monkeypatch.chdir(project)
    DVCDataset(filepath="data/x.csv", dataset="pandas.CSVDataset").save(frame())
    assert dvc_status(project) == CLEAN


@pytest.mark.integration
def test_init_repo_helper_makes_a_dvc_repository(tmp_path):
    # guards the fixtures above: a real .dvc folder and a first commit
    path = init_repo(tmp_path / "r")
    assert (path / ".dvc" / "config").is_file()
    assert sh("git", "log", "--oneline", cwd=path).strip()
