"""Strip an installed environment of what running it never needs.

``python -m kedro_mlops.docker.slim /opt/venv`` deletes, under the
environment's ``site-packages``:

* the test suites that packages ship (``tests``/``test`` folders of NumPy,
  pandas, SciPy, pyarrow...), bytecode caches, C/C++ headers, Cython sources
  and type stubs (``.pyi``, read by type checkers, never by Python). Template
  folders (Kedro's and kedro-mlops' project templates, whose ``tests`` folders
  belong to a generated project) keep all but their bytecode caches;
* files that a Kedro run and the model server never load
  (:data:`UNUSED`), each checked by tracing the libraries that training, batch
  inference and serving map: the MLflow web UI's static files (the UI is the
  tracking server's business), pyarrow's Flight RPC libraries (Parquet does not
  link them), the second and third copies of pyarrow's Python libraries (the
  loader opens ``libarrow_python.so.<major>``; wheels cannot hold symbolic
  links), test-only extension modules, and fontTools' compiled accelerators
  (the same modules stay as pure Python beside them; Matplotlib uses fontTools
  only to embed fonts in PDF and PostScript files).

Then it strips the environment's shared libraries of symbols and debugging
information that loading them never reads (:mod:`kedro_mlops.docker.strip`,
which needs GNU binutils' ``strip``; ``--no-strip`` skips it).

It prints what it freed, and the libraries it left unstripped. The Docker
image's build stage runs it right after installing the project's wheel (the
runtime stage later writes back the bytecode of the modules the runs import:
:mod:`kedro_mlops.docker.precompile`); the tests' build rehearsal trains,
scores and serves in an environment prepared this way.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> site = root / "lib" / "python3.11" / "site-packages"
    >>> (site / "pkg" / "tests").mkdir(parents=True)
    >>> _ = (site / "pkg" / "tests" / "test_x.py").write_text("assert True")
    >>> _ = (site / "pkg" / "core.py").write_text("VALUE = 1")
    >>> slim(root)[0]
    1
    >>> sorted(p.name for p in (site / "pkg").iterdir())
    ['core.py']
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path

from kedro_mlops.docker.strip import FIX, strip_libraries

FOLDERS = {"tests", "test", "__pycache__"}
SUFFIXES = {".pyx", ".pxd", ".pxi", ".h", ".hpp", ".c", ".cc", ".cpp", ".pyi"}
KEEP_UNDER = {"templates", "_starters"}  # project templates keep their tests
UNUSED = (
    "mlflow/server/js",  # the MLflow UI's web assets
    "pyarrow/libarrow_flight.so*",  # Arrow Flight RPC, and its Python binding
    "pyarrow/libarrow_python_flight.so*",
    "pyarrow/_flight.*.so",
    "pyarrow/libarrow*.so",  # copies of lib*.so.<major>, which the loader opens
    "pyarrow/libparquet*.so",
    "pyarrow/lib*.so.*.*",
    "pyarrow/_pyarrow_cpp_tests.*.so",  # extension modules for test suites
    "numpy/_core/_simd.*.so",
    "fontTools/**/*.so",  # Cython builds of modules that are also there as .py
)


def slim(environment: Path) -> tuple[int, int]:
    """Delete the unneeded files; return (files removed, bytes freed)."""
    removed = freed = 0
    for site in sorted(Path(environment).glob("lib/python*/site-packages")):
        doomed = [path for pattern in UNUSED for path in site.glob(pattern)]
        for path in sorted(site.rglob("*"), key=lambda p: len(p.parts)):
            kept = KEEP_UNDER.intersection(path.relative_to(site).parts[:-1])
            if kept and path.name != "__pycache__":  # bytecode goes everywhere
                continue
            if (path.is_dir() and path.name in FOLDERS) or (
                path.is_file() and path.suffix in SUFFIXES
            ):
                doomed.append(path)
        for path in doomed:
            files, size = _remove(path)
            removed += files
            freed += size
    return removed, freed


def _remove(path: Path) -> tuple[int, int]:
    """Delete a file or a folder (if still there); return (files, bytes)."""
    if not path.exists():  # inside a folder removed before it
        return 0, 0
    if path.is_file():
        size = path.stat().st_size
        path.unlink()
        return 1, size
    files = [f for f in path.rglob("*") if f.is_file()]
    size = sum(f.stat().st_size for f in files)
    shutil.rmtree(path)
    return len(files), size


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m kedro_mlops.docker.slim",
        description="Remove what running the environment never needs; strip its "
        "shared libraries.",
    )
    parser.add_argument("environment", type=Path, metavar="ENVIRONMENT_DIR")
    parser.add_argument(
        "--no-strip", action="store_true", help="keep the shared libraries as they are"
    )
    args = parser.parse_args(argv)
    if not args.environment.is_dir():
        parser.error(f"{args.environment} is not a folder")
    if not args.no_strip and shutil.which("strip") is None:  # before any change
        sys.stderr.write(
            "kedro-mlops: cannot strip the shared libraries: there is no `strip` "
            f"program on PATH. {FIX}\n"
        )
        return 1
    removed, freed = slim(args.environment)
    sys.stdout.write(
        f"kedro-mlops: removed {removed} files ({freed / 1e6:.1f} MB) "
        "not needed at run time\n"
    )
    if args.no_strip:
        return 0
    stripped, saved, kept = strip_libraries(args.environment)
    sys.stdout.write(
        f"kedro-mlops: stripped {stripped} shared libraries ({saved / 1e6:.1f} MB)\n"
    )
    for line in _kept_lines(kept):
        sys.stderr.write(f"kedro-mlops: {line}\n")
    return 0


def _kept_lines(kept: list[tuple[str, str]]) -> list[str]:
    """One line per reason: the libraries left unstripped (by package when many).

    Example:
        >>> kept = [(f"numpy.libs/{n}.so", "it moves") for n in "abc"]
        >>> _kept_lines(kept + [("PIL/d.so", "it moves"), ("x/e.so", "strip said: bad")])
        ... # doctest: +NORMALIZE_WHITESPACE
        ['left 4 shared libraries unstripped: PIL (1), numpy.libs (3); it moves',
         'left 1 shared library unstripped: x/e.so; strip said: bad']
    """
    by_reason: dict[str, list[str]] = {}
    for path, reason in kept:
        by_reason.setdefault(reason, []).append(path)
    lines = []
    for reason, paths in by_reason.items():
        listed = ", ".join(paths)
        if len(paths) > 3:
            packages = Counter(path.split("/", 1)[0] for path in paths)
            listed = ", ".join(f"{name} ({n})" for name, n in sorted(packages.items()))
        noun = "library" if len(paths) == 1 else "libraries"
        lines.append(f"left {len(paths)} shared {noun} unstripped: {listed}; {reason}")
    return lines


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
