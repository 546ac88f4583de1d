"""Just enough of a Dockerfile parser to rehearse the runtime stage's steps."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]


def parse(path: Path) -> list[Stage]:
    """The stages of a Dockerfile, each with its (KEYWORD, arguments) in order."""
    lines, pending = [], ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    stages: list[Stage] = []
    for line in lines:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def env_values(stage: Stage) -> dict[str, str]:
    """The ``ENV KEY=VALUE ...`` settings of a stage."""
    values = {}
    for args in stage.all("ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            values[key] = value
    return values


def local_copies(stage: Stage) -> list[tuple[str, str]]:
    """(source in the build context, destination) of each COPY from the context."""
    copies = []
    for args in stage.all("COPY"):
        words = [w for w in shlex.split(args) if not w.startswith("--")]
        if any(w.startswith("--from") for w in shlex.split(args)):
            continue
        *sources, destination = words
        copies += [(source, destination) for source in sources]
    return copies


def created_folders(stage: Stage) -> list[str]:
    """Folders the stage's RUN lines create with ``mkdir -p``, relative to its WORKDIR."""
    (workdir,) = stage.all("WORKDIR")
    folders = []
    for args in stage.all("RUN"):
        words = shlex.split(args.replace(";", " ; "))
        for i, word in enumerate(words[:-1]):
            if word == "mkdir" and words[i + 1] == "-p":
                for path in words[i + 2 :]:
                    if not path.startswith("/"):
                        break
                    if path.startswith(workdir.rstrip("/") + "/"):
                        folders.append(path[len(workdir.rstrip("/")) + 1 :])
    return folders


def workdir_runs(stage: Stage) -> list[str]:
    """The shell commands of the RUN lines that come after the stage's WORKDIR."""
    keywords = [key for key, _ in stage.instructions]
    after = stage.instructions[keywords.index("WORKDIR") :]
    return [args for key, args in after if key == "RUN"]


def arg_defaults(stage: Stage) -> dict[str, str]:
    """The ``ARG NAME[=default]`` declarations of a stage (no default: empty)."""
    values = {}
    for args in stage.all("ARG"):
        name, _, default = args.partition("=")
        values[name.strip()] = default.strip()
    return values


def module_command(stage: Stage, module: str) -> list[str]:
    """The words of the shell command, among the stage's RUN lines (each split at
    ``&&``), that runs ``python -m <module>``."""
    for args in stage.all("RUN"):
        for command in args.split("&&"):
            words = shlex.split(command)
            if module in words and "-m" in words:
                return words
    raise LookupError(f"no RUN line of the {stage.name} stage runs -m {module}")
