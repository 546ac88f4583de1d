"""strip: which shared libraries it strips, which it leaves whole, and how it fails.

The whole step runs in the build rehearsal (tests/starter/test_docker.py), where
training, batch inference and the model server then run on the stripped
environment.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
from yaml import _yaml

from kedro_mlops.docker import slim, strip


def _site(root: Path) -> Path:
    site = root / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    return site


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _loads(library: Path, code: str = "") -> subprocess.CompletedProcess:
    """Load ``library`` in a fresh interpreter (the loader's verdict), then run ``code``."""
    return subprocess.run(
        [sys.executable, "-c", f"import ctypes, sys; ctypes.CDLL(sys.argv[1]); {code}"]
        + [str(library)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_extension_module_is_stripped_and_still_works(tmp_path):
    # given PyYAML's C extension in an environment, hard-linked from a cache
    # as installers link their cached files
    site = _site(tmp_path)
    original = Path(_yaml.__file__)
    library = site / original.name
    shutil.copy2(original, library)
    cached = tmp_path / "cache" / "_yaml.so"
    cached.parent.mkdir()
    os.link(library, cached)
    before, mode = _digest(cached), library.stat().st_mode
    # when the environment's libraries are stripped
    stripped, freed, kept = strip.strip_libraries(tmp_path)
    # then it lost most of its bytes, its mode kept, the cached file untouched
    assert (stripped, kept) == (1, [])
    assert freed == original.stat().st_size - library.stat().st_size > 1_000_000
    assert library.stat().st_mode == mode
    assert _digest(cached) == before
    assert not list(site.glob(".*"))  # no stripped copy left behind
    # and Python imports it and calls into it as before
    version = subprocess.run(
        [sys.executable, "-c", "import _yaml; print(_yaml.get_version_string())"],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == _yaml.get_version_string()
    # and a second pass has nothing left to strip
    assert strip.strip_libraries(tmp_path) == (0, 0, [])


def test_a_library_that_stripping_would_break_is_left_whole(tmp_path):
    # given NumPy's vendored gfortran (auditwheel edited it with patchelf) and
    # the library it needs, as the wheel installs them
    site = _site(tmp_path)
    vendored = Path(numpy.__file__).parent.parent / "numpy.libs"
    folder = site / "numpy.libs"
    folder.mkdir()
    for pattern in ("libgfortran-*.so*", "libquadmath-*.so*"):
        (found,) = vendored.glob(pattern)
        shutil.copy2(found, folder / found.name)
    (gfortran,) = folder.glob("libgfortran-*")
    before = _digest(gfortran)
    # (plain `strip` makes a copy that the loader refuses)
    naive = tmp_path / "naive" / gfortran.name
    naive.parent.mkdir()
    (quadmath,) = folder.glob("libquadmath-*")
    shutil.copy2(quadmath, naive.parent)
    subprocess.run(
        ["strip", "--strip-unneeded", "-o", str(naive), str(gfortran)], check=True
    )
    refused = _loads(naive)
    assert refused.returncode != 0
    assert "not page-aligned" in refused.stderr
    # when the environment's libraries are stripped
    stripped, freed, kept = strip.strip_libraries(tmp_path)
    # then gfortran keeps its bytes, named with the reason, and still loads
    assert (f"numpy.libs/{gfortran.name}", strip.CHANGED) in kept
    assert _digest(gfortran) == before
    loaded = _loads(gfortran)
    assert loaded.returncode == 0, loaded.stderr
    assert not list(folder.glob(".*"))


def test_a_file_strip_cannot_read_is_reported_and_kept(tmp_path):
    site = _site(tmp_path)
    broken = site / "pkg" / "_broken.cpython-311-x86_64-linux-gnu.so"
    broken.parent.mkdir()
    broken.write_bytes(b"\x7fELF" + b"\x00" * 60)  # the magic, and no ELF behind it
    (site / "pkg" / "linker-script.so").write_text("INPUT(-lfoo)\n")  # not ELF
    stripped, freed, kept = strip.strip_libraries(tmp_path)
    assert (stripped, freed) == (0, 0)
    ((path, reason),) = kept
    assert path == "pkg/_broken.cpython-311-x86_64-linux-gnu.so"
    assert reason.startswith("strip said: ")
    assert broken.read_bytes() == b"\x7fELF" + b"\x00" * 60
    assert sorted(p.name for p in broken.parent.iterdir()) == [
        "_broken.cpython-311-x86_64-linux-gnu.so",
        "linker-script.so",
    ]


def test_without_strip_the_step_says_what_to_install_and_changes_nothing(
    tmp_path, monkeypatch, capsys
):
    site = _site(tmp_path)
    (site / "pkg" / "tests").mkdir(parents=True)
    (site / "pkg" / "tests" / "test_x.py").write_text("assert True")
    monkeypatch.setenv("PATH", str(tmp_path / "no-binutils"))
    with pytest.raises(strip.StripError, match="no `strip` program on PATH"):
        strip.strip_libraries(tmp_path)
    assert slim.main([str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "apt-get install --no-install-recommends binutils" in error
    assert "--no-strip" in error
    assert (site / "pkg" / "tests" / "test_x.py").exists()  # nothing removed
    # and --no-strip slims without it
    assert slim.main(["--no-strip", str(tmp_path)]) == 0
    assert "removed 1 files" in capsys.readouterr().out
    assert not (site / "pkg" / "tests").exists()
