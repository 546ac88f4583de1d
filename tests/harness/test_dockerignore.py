"""The build-context helper against Docker's documented .dockerignore rules."""

from __future__ import annotations

import pytest

from harness.dockerignore import build_context, excluded, read_patterns


def _patterns(tmp_path, text):
    (tmp_path / ".dockerignore").write_text(text)
    return read_patterns(tmp_path / ".dockerignore")


@pytest.mark.parametrize(
    ("rules", "path", "left_out"),
    [
        ("*/temp*", "somedir/temporary.txt", True),  # Docker's documented examples
        ("*/temp*", "temp", False),
        ("*/*/temp*", "somedir/subdir/temporary.txt", True),
        ("temp?", "tempa", True),
        ("temp?", "tempab", False),
        ("**/*.go", "a/b/c.go", True),
        ("**/*.go", "c.go", True),  # ** matches zero directories
        ("*.md\n!README*.md\nREADME-secret.md", "README.md", False),
        ("*.md\n!README*.md\nREADME-secret.md", "README-secret.md", True),
        ("*.md\n!README*.md\nREADME-secret.md", "other.md", True),
        ("data", "data/01_raw/x.csv", True),  # a parent directory matches
        ("/data/", "data/x.csv", True),  # leading and trailing slashes are dropped
        ("*\n!src/", "src/pkg/mod.py", False),
        ("*\n!src/", "notes.txt", True),
        ("conf/*\n!conf/base/", "conf/local/credentials.yml", True),
        ("conf/*\n!conf/base/", "conf/base/catalog.yml", False),
        ("# a comment\n\nx", "# a comment", False),
    ],
)
def test_documented_rules(tmp_path, rules, path, left_out):
    assert excluded(path, _patterns(tmp_path, rules)) is left_out


def test_context_lists_files_that_remain(tmp_path):
    for name in ("Dockerfile", "src/a.py", "data/x.csv", ".git/HEAD"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / ".dockerignore").write_text("data\n.git\n")
    assert build_context(tmp_path) == [".dockerignore", "Dockerfile", "src/a.py"]
