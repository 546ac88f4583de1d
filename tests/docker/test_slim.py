"""slim: what it removes from an environment, and what it keeps."""

from __future__ import annotations

from pathlib import Path

from kedro_mlops.docker.slim import slim


def _touch(root: Path, *paths: str) -> None:
    for relative in paths:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def test_test_suites_stubs_and_every_bytecode_cache_go_template_tests_stay(tmp_path):
    # given an environment with packages and a project template inside one
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    template = "kedro_mlops/_starters/mlops/project"
    _touch(
        site,
        "numpy/core.py",
        "numpy/tests/test_core.py",
        "numpy/__pycache__/core.cpython-311.pyc",
        "numpy/core.pyi",
        f"{template}/tests/test_run.py",
        f"{template}/src/pkg/nodes.py",
        f"{template}/src/pkg/__pycache__/nodes.cpython-311.pyc",
    )
    # when it is slimmed
    removed, freed = slim(tmp_path)
    # then the packages' tests, stubs and caches are gone, and so is the
    # template's bytecode, while the template's own tests stay
    left = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.*"))
    assert left == [
        f"{template}/src/pkg/nodes.py",
        f"{template}/tests/test_run.py",
        "numpy/core.py",
    ]
    assert (removed, freed) == (4, 4)
