"""Strip the shared libraries of an installed environment of what loading them never reads.

:func:`strip_libraries` runs ``strip --strip-unneeded`` (GNU binutils) on every
ELF shared library under the environment's ``site-packages`` (``*.so`` and
``*.so.<version>``): symbol tables beyond the dynamic one, debugging
information and comments go; the code and data that the loader maps stay.
:mod:`kedro_mlops.docker.slim` calls it (``--no-strip`` turns it off); the
Docker image's build stage installs binutils for it, since the slim Python
images have none.

A library is only replaced by its stripped copy when the copy maps the same
bytes at the same addresses (:func:`loaded_image`): each program header but
its file offset is unchanged, each loadable segment holds the same bytes (the
ELF header's and the program headers' fields that say where sections and
segments sit in the file aside), and each segment's file offset still agrees
with its address modulo its alignment, as the loader requires. ``strip``
breaks that rule on libraries that ``patchelf`` edited (auditwheel does, to
the libraries it vendors into ``<package>.libs``): NumPy's and SciPy's OpenBLAS
and gfortran would no longer load ("ELF load command address/offset not
page-aligned"). Such a library, and one that ``strip`` refuses or warns about,
keeps its original bytes and is reported.

The stripped copy is written beside the library and moved over it, so a
library hard-linked elsewhere (an installer's cache) is never changed there,
and an interrupted step leaves every library whole.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> loaded_image(Path(tempfile.mkdtemp()) / "missing.so") is None
    True
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

PT_LOAD = 1
#: ELF class (32 or 64 bits) -> where its header and program headers keep what
#: this module reads: the size of an address or offset, e_phoff's position,
#: e_phentsize's (e_phnum follows), the fields strip rewrites (e_shoff, then
#: e_shnum and e_shstrndx) as (position, size), a program header's format, and
#: the index of p_offset in it
_LAYOUT = {
    1: ("I", 28, 42, ((32, 4), (48, 4)), "IIIIIIII", 1),  # ELFCLASS32
    2: ("Q", 32, 54, ((40, 8), (60, 4)), "IIQQQQQQ", 2),  # ELFCLASS64
}
FIX = (
    "Install GNU binutils where the environment is built (Debian: "
    "`apt-get install --no-install-recommends binutils`, as the project's "
    "Dockerfile does in its build stage), or pass --no-strip to keep the "
    "libraries as they are."
)


CHANGED = (
    "stripping would change what the loader maps (segments resized, moved or "
    "misaligned, as in libraries that patchelf edited)"
)


class StripError(RuntimeError):
    """The libraries cannot be stripped here: no ``strip`` program."""


def strip_libraries(
    environment: Path, program: str = "strip"
) -> tuple[int, int, list[tuple[str, str]]]:
    """Strip the shared libraries of the environment's ``site-packages``.

    Returns:
        (libraries stripped, bytes freed, the libraries left as they were:
        (path in ``site-packages``, why)).

    Raises:
        StripError: ``program`` is not on ``PATH``.
    """
    found = shutil.which(program)
    if found is None:
        raise StripError(f"There is no `{program}` program on PATH. {FIX}")
    stripped = freed = 0
    kept = []
    for site in sorted(Path(environment).glob("lib/python*/site-packages")):
        for path in sorted(site.rglob("*.so*")):
            if not _shared_library(path):
                continue
            try:
                saved = strip_library(path, found)
            except OSError as exc:
                saved = str(exc)
            if isinstance(saved, str):
                kept.append((path.relative_to(site).as_posix(), saved))
            elif saved:
                stripped += 1
                freed += saved
    return stripped, freed, kept


def strip_library(path: Path, program: str = "strip") -> int | str:
    """Strip one library in place, if the loader would map the same image.

    Returns the bytes freed (0: nothing to strip), or why the library was
    left as it was.
    """
    copy = path.with_name(f".{path.name}.stripped")
    try:
        result = subprocess.run(
            [program, "--strip-unneeded", "-o", str(copy), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        said = " ".join(result.stderr.split())
        if result.returncode != 0 or said:
            return f"strip said: {said or f'exit status {result.returncode}'}"
        size, new_size = path.stat().st_size, copy.stat().st_size
        if new_size >= size:
            return 0
        mapped = loaded_image(path)
        if mapped is None:
            return "its program headers cannot be read"
        if loaded_image(copy) != mapped:
            return CHANGED
        shutil.copymode(path, copy)
        os.replace(copy, path)  # a new file: other hard links keep the original
        return size - new_size
    finally:
        copy.unlink(missing_ok=True)


def loaded_image(path: Path) -> list[tuple] | None:
    """What the loader maps from an ELF file, independent of where in the file
    it sits: each program header without its file offset, and each loadable
    segment's bytes with the fields that locate sections and segments blanked.
    A segment whose offset disagrees with its address modulo its alignment is
    marked, since the loader refuses it. ``None`` for a file that is not ELF.
    """
    try:
        with path.open("rb") as file:
            header = file.read(64)
            if header[:4] != b"\x7fELF" or header[4] not in _LAYOUT:
                return None
            order = "<" if header[5] == 1 else ">"
            elf_class = header[4]
            word, phoff_at, phentsize_at, blanks, entry, at = _LAYOUT[elf_class]
            (phoff,) = struct.unpack_from(order + word, header, phoff_at)
            phentsize, phnum = struct.unpack_from(order + "HH", header, phentsize_at)
            file.seek(phoff)
            table = file.read(phentsize * phnum)
            width = struct.calcsize(word)
            blanked = [*blanks] + [
                (phoff + i * phentsize + struct.calcsize("=" + entry[:at]), width)
                for i in range(phnum)
            ]  # each program header's p_offset
            image: list[tuple] = []
            for i in range(phnum):
                fields = list(struct.unpack_from(order + entry, table, i * phentsize))
                kind, offset, address, size, alignment = _program_header(
                    elf_class, fields
                )
                fields[at] = None  # where it sits in the file may change
                aligned = alignment <= 1 or (address - offset) % alignment == 0
                content = b""
                if kind == PT_LOAD:
                    content = _segment(file, offset, size, blanked)
                image.append((tuple(fields), aligned, content))
            return image
    except (OSError, struct.error):
        return None


def _segment(file, offset: int, size: int, blanked: list[tuple[int, int]]) -> bytes:
    """The digest of a segment's bytes, with the ``blanked`` (position, size)
    ranges zeroed."""
    file.seek(offset)
    data = bytearray(file.read(size))
    for start, length in blanked:
        low, high = max(start, offset), min(start + length, offset + size)
        if low < high:
            data[low - offset : high - offset] = bytes(high - low)
    return hashlib.sha256(data).digest()


def _program_header(elf_class: int, fields: list) -> tuple[int, int, int, int, int]:
    """(type, file offset, address, size in the file, alignment)."""
    if elf_class == 2:  # type, flags, offset, vaddr, paddr, filesz, memsz, align
        return fields[0], fields[2], fields[3], fields[5], fields[7]
    # type, offset, vaddr, paddr, filesz, memsz, flags, align
    return fields[0], fields[1], fields[2], fields[4], fields[7]


def _shared_library(path: Path) -> bool:
    """A regular ELF file named like a shared library (``x.so``, ``x.so.1.2``)."""
    name = path.name
    if not (name.endswith(".so") or ".so." in name) or name.startswith("."):
        return False
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as file:
        return file.read(4) == b"\x7fELF"
