"""docs/bad-input.md: every row names a test that exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "bad-input.md"
ROW = re.compile(r"^\|(?P<input>[^|]+)\|(?P<seen>.+)\|\s*`(?P<test>[^`]+)`\s*\|\s*$")


def rows() -> list[dict[str, str]]:
    found = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match and not set(match["input"].strip()) <= {"-"}:
            found.append({k: v.strip() for k, v in match.groupdict().items()})
    return found


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test")
    }


def test_every_row_names_a_test_that_exists():
    missing = []
    for row in rows():
        path, _, name = row["test"].partition("::")
        file = REPO / path
        if not file.is_file() or name.split("[")[0] not in defined_tests(file):
            missing.append(row["test"])
    assert len(rows()) >= 35, (
        "fewer cases than the page promises: is its format unchanged?"
    )
    assert missing == []
