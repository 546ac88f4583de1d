"""The Docker build context, computed from ``.dockerignore`` as Docker computes it.

Docker (moby's ``patternmatcher``, used by BuildKit and the classic builder)
reads one pattern per line: blank lines and ``#`` comments are skipped, a
leading ``!`` makes an exception, every pattern is cleaned like a path
(``filepath.Clean``) with leading and trailing slashes dropped, and then
matched against the whole relative path:

* ``*`` matches any run of characters except ``/``, ``?`` one such character,
  ``[...]`` a character class, ``\\`` escapes the next character;
* ``**`` matches any number of directories, zero included (``**/x`` matches
  ``x`` at the root);
* a path is excluded when the last pattern that matches the path *or one of its
  parent directories* is not an exception.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path


def _clean(pattern: str) -> str:
    cleaned = posixpath.normpath(pattern)
    return cleaned.lstrip("/") if cleaned != "/" else ""


def _regex(pattern: str) -> re.Pattern[str]:  # noqa: PLR0912 - one branch per token kind
    out, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                if pattern[i + 1 : i + 2] == "/":
                    i += 1  # "**/" is "**"
                if i + 1 >= len(pattern):
                    out += ".*"
                else:
                    out += "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(ch)
            else:
                out += pattern[i : end + 1]
                i = end
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + "$")


def read_patterns(dockerignore: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception, regex) for each pattern of the file, in order."""
    patterns = []
    for raw in dockerignore.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        cleaned = _clean(line[1:].strip() if exception else line)
        if cleaned and cleaned != ".":
            patterns.append((exception, _regex(cleaned)))
    return patterns


def excluded(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker leaves ``relative`` (a ``/``-separated path) out."""
    parents = relative.split("/")[:-1]
    matched = False
    for exception, regex in patterns:
        if exception and not matched:
            continue
        hit = bool(regex.match(relative)) or any(
            regex.match("/".join(parents[: i + 1])) for i in range(len(parents))
        )
        if hit:
            matched = not exception
    return matched


def build_context(root: Path) -> list[str]:
    """Every file of ``root`` that the build can COPY, as sorted relative paths."""
    dockerignore = root / ".dockerignore"
    patterns = read_patterns(dockerignore) if dockerignore.exists() else []
    files = []
    for folder, _, names in os.walk(root):
        for name in names:
            relative = (Path(folder) / name).relative_to(root).as_posix()
            if not excluded(relative, patterns):
                files.append(relative)
    return sorted(files)
