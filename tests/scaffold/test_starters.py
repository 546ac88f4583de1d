"""The mlops starter: registered with Kedro, rendered without leftovers, text only."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kedro_mlops.scaffold.starters import starters, template_root

PIPELINES = ("ingest", "feature", "train", "evaluate", "infer")


def test_mlops_starter_points_at_a_cookiecutter_template():
    (spec,) = starters
    assert spec.alias == "mlops"
    template = Path(spec.template_path)
    assert (template / "cookiecutter.json").is_file()
    assert (template / "prompts.yml").is_file()
    assert (template / "{{ cookiecutter.repo_name }}" / ".gitignore").is_file()
    assert template.parent == template_root()


def test_kedro_starter_list_shows_mlops():
    kedro = Path(sys.executable).with_name("kedro")
    listing = subprocess.run(
        [str(kedro), "starter", "list"], capture_output=True, text=True, check=True
    )
    assert "kedro_mlops" in listing.stdout
    assert "mlops:" in listing.stdout


def test_rendered_project_has_dotfiles_and_no_placeholders(rendered_project):
    assert (rendered_project / ".gitignore").is_file()
    assert (
        rendered_project / "src" / "churn_model" / "pipelines" / "infer" / "nodes.py"
    ).is_file()
    leftovers = [
        str(path.relative_to(rendered_project))
        for path in rendered_project.rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".yml", ".toml", ".md"}
        and "cookiecutter" in path.read_text()
    ]
    assert leftovers == []


def test_every_pipeline_has_its_parameters_file(rendered_project):
    for name in PIPELINES:
        assert (
            rendered_project / "src/churn_model/pipelines" / name / "nodes.py"
        ).is_file()
        assert (
            rendered_project / "src/churn_model/pipelines" / name / "pipeline.py"
        ).is_file()
        assert (rendered_project / "conf/base" / f"parameters_{name}.yml").is_file()


@pytest.fixture
def rendered_pipelines(rendered_project, monkeypatch):
    """The rendered project's ``pipelines`` package, imported from its ``src``."""
    monkeypatch.syspath_prepend(str(rendered_project / "src"))
    yield importlib.import_module("churn_model.pipelines")
    for module in [m for m in sys.modules if m.partition(".")[0] == "churn_model"]:
        del sys.modules[module]


def test_each_pipeline_is_a_namespace_over_the_catalog_names(
    rendered_project, rendered_pipelines
):
    """`kedro viz` draws a namespace as a group; the names of the data stay as they are."""
    conf = rendered_project / "conf/base"
    catalog = yaml.safe_load((conf / "catalog.yml").read_text())
    parameters = {}
    for path in conf.glob("parameters*.yml"):
        parameters.update(yaml.safe_load(path.read_text()))
    for name in PIPELINES:
        module = importlib.import_module(f"{rendered_pipelines.__name__}.{name}")
        pipeline = module.create_pipeline()
        assert {node.namespace for node in pipeline.nodes} == {name}
        assert all(node.name.startswith(f"{name}.") for node in pipeline.nodes)
        read_and_written = pipeline.inputs() | pipeline.outputs()
        params = {d for d in read_and_written if d.startswith("params:")}
        assert read_and_written - params <= catalog.keys(), name
        assert {p[len("params:") :].split(".")[0] for p in params} <= parameters.keys()


#: The template's only binary files: the sample batches as Parquet, for the
#: `spark` environment (cookiecutter copies binary files as they are).
SAMPLE_PARQUET = {"batch_production.parquet", "batch_control.parquet"}


def test_template_holds_only_text_files():
    """Caches or pipeline outputs in the template would break rendering and ship
    in the wheel; the sample batches' Parquet copies are the one exception."""
    template = Path(starters[0].template_path)
    offenders = []
    for path in template.rglob("*"):
        if not path.is_file():
            continue
        parts = path.relative_to(template).parts
        if set(parts) & {
            "__pycache__",
            ".ruff_cache",
            ".pytest_cache",
            ".viz",
            "build",
        }:
            offenders.append(str(path))
            continue
        if parts[1:3] == ("data", "01_raw") and path.name in SAMPLE_PARQUET:
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            offenders.append(str(path))
    assert offenders == []


@pytest.mark.integration  # a real git + DVC repository
def test_git_and_dvc_agree_on_the_data_records_under_the_starters_gitignore(
    tmp_path, monkeypatch
):
    """DVC skips a folder it takes for git-ignored, with the .dvc records in it:
    `dvc push` would leave their data out while git commits the records."""
    import shutil

    import pandas as pd
    from dvc.repo import Repo

    from kedro_mlops.datasets import DVCDataset
    from tests.git_dvc import DVC, init_repo, sh

    (spec,) = starters
    project = init_repo(tmp_path / "project")
    template = Path(spec.template_path) / "{{ cookiecutter.repo_name }}"
    shutil.copyfile(template / ".gitignore", project / ".gitignore")
    monkeypatch.chdir(project)
    # given the raw data added with `dvc add`, and pipeline outputs saved by
    # DVCDataset in three other folders (one more folder with an untracked file)
    table = pd.DataFrame({"id": [1, 2], "value": [0.5, 1.5]})
    (project / "data/01_raw").mkdir(parents=True)
    table.to_csv(project / "data/01_raw/customers.csv", index=False)
    sh(DVC, "add", "-q", "data/01_raw/customers.csv", cwd=project)
    for folder in ("02_intermediate", "05_model_input", "08_reporting"):
        DVCDataset(
            filepath=f"data/{folder}/table.parquet", dataset="pandas.ParquetDataset"
        ).save(table)
    (project / "data/06_models").mkdir()
    (project / "data/06_models/model.pkl").write_bytes(b"not versioned")
    # when git lists what `git add -A` would commit, and DVC its records
    to_commit = set(
        sh("git", "ls-files", "--others", "--exclude-standard", cwd=project).split()
    )
    with Repo(str(project)) as repo:
        in_dvc = {stage.relpath for stage in repo.index.stages}
    # then both name the same .dvc records, and git takes no data file
    assert {p for p in to_commit if p.endswith(".dvc")} == in_dvc
    assert "data/05_model_input/table.parquet.dvc" in in_dvc
    assert len(in_dvc) == 4
    assert not [p for p in to_commit if p.endswith((".csv", ".parquet", ".pkl"))]
