"""The image's precompile step: what it compiles, what it reads, how it fails.

The step itself runs in the build rehearsal (tests/starter/test_docker.py),
where a real training run then loads the installed modules from its bytecode.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import kedro
import pytest

from kedro_mlops.docker import precompile


def test_compiled_modules_are_loaded_from_their_bytecode(tmp_path):
    # given a package in a site folder, and a module outside it
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("")
    (site / "pkg" / "mod.py").write_text("VALUE = 41 + 1\n")
    (tmp_path / "elsewhere.py").write_text("VALUE = 0\n")
    sources = [
        site / "pkg" / "__init__.py",
        site / "pkg" / "mod.py",
        tmp_path / "elsewhere.py",
        Path(sys.executable),  # not Python source
    ]
    # when they are compiled for the site folder
    files, size = precompile.compile_sources(sources, [site])
    # then only the site folder's modules got bytecode
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.pyc"))
    assert files == 2 and len(written) == 2
    assert all(p.parts[:2] in {("site", "pkg")} for p in written)
    assert size == sum((tmp_path / p).stat().st_size for p in written)
    # and Python, which may not write any, uses it instead of compiling
    verbose = subprocess.run(
        [sys.executable, "-v", "-c", "import pkg.mod; assert pkg.mod.VALUE == 42"],
        env={**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    cached = importlib.util.cache_from_source(str(site / "pkg" / "mod.py"))
    assert f"# code object from {cached!r}" in verbose
    assert f"# code object from {site / 'pkg' / 'mod.py'}\n" not in verbose


@pytest.mark.parametrize("reproducible", [False, True], ids=["timestamp", "hash"])
def test_up_to_date_bytecode_is_not_written_again(tmp_path, monkeypatch, reproducible):
    # (SOURCE_DATE_EPOCH makes py_compile check the source's hash, not its time)
    if reproducible:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    site = tmp_path / "site"
    (site / "vendored").mkdir(parents=True)
    module, vendored = site / "mod.py", site / "vendored" / "other.py"
    module.write_text("VALUE = 1\n")
    vendored.write_text("VALUE = 2\n")
    # a module under an excluded folder is left out
    assert precompile.compile_sources(
        [module, vendored], [site], [vendored.parent]
    ) == (
        1,
        Path(importlib.util.cache_from_source(str(module))).stat().st_size,
    )
    assert not (vendored.parent / "__pycache__").exists()
    # bytecode that Python would use is kept as it is
    assert precompile.compile_sources([module], [site]) == (0, 0)
    # a changed source is compiled again
    module.write_text("VALUE = 41 + 1\n")
    assert precompile.compile_sources([module], [site])[0] == 1
    assert precompile.compile_sources([module], [site]) == (0, 0)


def test_catalog_types_of_every_environment_and_wrapped_datasets(tmp_path):
    conf = tmp_path / "conf"
    (conf / "base" / "catalog").mkdir(parents=True)
    (conf / "prod").mkdir()
    (conf / "base" / "catalog.yml").write_text(
        "raw:\n"
        "  type: kedro_mlops.datasets.DVCDataset\n"
        "  dataset: pandas.CSVDataset\n"  # a wrapper names its dataset
        "'{name}_plot':\n"  # a dataset factory
        "  type: kedro_mlflow.io.artifacts.MlflowArtifactDataset\n"
        "  dataset:\n"
        "    type: matplotlib.MatplotlibDataset\n"
        "    filepath: data/{name}.png\n"
        "chosen:\n"
        "  type: ${globals:dataset_type}\n"  # known only when the run starts
    )
    (conf / "base" / "catalog" / "features.yaml").write_text(
        "features:\n  type: pandas.ParquetDataset\n"
    )
    (conf / "prod" / "catalog_scoring.yml").write_text(
        "scores:\n  type: pandas.SQLTableDataset\n"
    )
    (conf / "base" / "parameters.yml").write_text("model:\n  type: gradient_boosting\n")
    assert precompile.catalog_types(conf) == [
        "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
        "kedro_mlops.datasets.DVCDataset",
        "matplotlib.MatplotlibDataset",
        "pandas.CSVDataset",
        "pandas.ParquetDataset",
        "pandas.SQLTableDataset",
    ]


def test_outside_a_project_the_step_says_where_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert precompile.main([]) == 1
    error = capsys.readouterr().err
    assert f"There is no {tmp_path.resolve() / 'pyproject.toml'}" in error
    assert "in the project folder of the image (its WORKDIR)" in error
    assert "after `COPY pyproject.toml ./`" in error


def test_a_pyproject_without_kedro_metadata_is_refused(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    with pytest.raises(precompile.PrecompileError, match=r"no '\[tool\.kedro\]'"):
        precompile.package_name(tmp_path)
    (tmp_path / "src" / "churn_model").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "churn_model"\nproject_name = "churn"\n'
        f'kedro_init_version = "{kedro.__version__}"\n'
    )
    # (in a fresh interpreter: setting up a project configures Kedro for good)
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from kedro_mlops.docker import precompile; "
            "print(precompile.package_name(sys.argv[1]))",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.splitlines()[-1] == "churn_model"  # after Kedro's log line


def test_every_module_named_for_the_runs_exists():
    # the lists follow the dependencies' layout: a rename must show here
    missing = [
        name
        for name in precompile.RUN_MODULES
        + precompile.RUN_SCRIPTS
        + precompile.RUN_FOLDERS
        if importlib.util.find_spec(name) is None
    ]
    assert missing == []
