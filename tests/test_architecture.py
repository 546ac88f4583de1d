"""The arrows of docs/architecture.md: which part of kedro_mlops may import which.

A new import between two parts fails here until it is added to ALLOWED and
to the page, so the arrows stay one way (the graph must stay acyclic).
"""

from __future__ import annotations

import ast
from graphlib import TopologicalSorter
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "kedro_mlops"

#: part -> the parts it may import (a part is a top-level module or folder)
ALLOWED: dict[str, set[str]] = {
    "strict": set(),
    "patches": set(),
    "locks": set(),
    "parameters": {"strict"},
    "drift": {"strict"},
    "config": {"strict", "drift"},
    "schema": {"strict", "config", "drift"},
    "tracking": {"config", "locks"},
    "serving": {"tracking", "patches", "schema", "docker"},
    "versioning": {"locks"},
    "datasets": {"versioning", "drift", "spark", "tracking"},
    "spark": {"schema", "patches"},
    "scaffold": {"versioning"},
    "docker": set(),
    "scheduling": {"strict"},
    "monitoring": {"config", "drift"},
    "quality": set(),
    "plugin": {
        "config",
        "docker",
        "drift",
        "locks",
        "monitoring",
        "parameters",
        "patches",
        "scaffold",
        "scheduling",
        "schema",
        "serving",
        "spark",
        "tracking",
        "versioning",
    },
    # old import paths, each a re-export of where its names live now
    "registry": {"tracking"},
    "estimators": {"serving"},
    "starters": {"scaffold"},
}


def _part(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "kedro_mlops" or len(parts) == 1:
        return None
    return parts[1]


def _imports(path: Path) -> set[str]:
    """The kedro_mlops modules that ``path`` imports (relative ones resolved)."""
    package = list(path.relative_to(REPO).parent.parts)  # what "." names
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
                if node.module is None:  # from . import x
                    found |= {".".join([*base, a.name]) for a in node.names}
            elif node.module == "kedro_mlops":  # from kedro_mlops import patches
                found |= {f"kedro_mlops.{alias.name}" for alias in node.names}
            elif node.module:
                found.add(node.module)
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        part = _part(module.removesuffix(".__init__"))
        if part is None:
            continue
        targets = {_part(m) for m in _imports(path)} - {None, part}
        graph.setdefault(part, set()).update(t for t in targets if t)
    return graph


def test_every_part_imports_only_what_the_arrows_allow():
    graph = _graph()
    assert set(graph) == set(ALLOWED), "a part was added or removed: update ALLOWED"
    extra = {part: sorted(graph[part] - ALLOWED[part]) for part in graph}
    assert {part: found for part, found in extra.items() if found} == {}


def test_the_arrows_have_no_cycle():
    # TopologicalSorter raises CycleError on a cycle
    order = list(TopologicalSorter(ALLOWED).static_order())
    assert order.index("strict") < order.index("config") < order.index("plugin")


def test_no_private_name_is_imported_across_modules():
    crossing = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (
                node.level or (node.module or "").startswith("kedro_mlops")
            ):
                crossing += [
                    f"{path.relative_to(REPO)}: {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and alias.name != "__all__"
                ]
    assert crossing == []
