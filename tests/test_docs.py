"""The documentation builds cleanly and its relative links point at real files."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

MARKDOWN_FILES = sorted(
    [
        REPO / "README.md",
        *(REPO / "docs").glob("*.md"),
        *(REPO / "conf-examples").glob("**/README.md"),
    ]
)

FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def relative_links(markdown: str) -> list[str]:
    """Targets of the inline links and images that point inside the repository."""
    text = INLINE_CODE.sub("", FENCED_BLOCK.sub("", markdown))
    targets = [match.group(1) for match in INLINE_LINK.finditer(text)]
    return [t for t in targets if not URL_SCHEME.match(t) and not t.startswith("#")]


def test_mkdocs_build_is_strict_clean(tmp_path):
    # given the repository's mkdocs.yml and the mkdocs of this interpreter
    mkdocs = Path(sys.executable).with_name("mkdocs")
    site = tmp_path / "site"
    # when the site is built in strict mode (warnings are errors)
    result = subprocess.run(
        [
            str(mkdocs),
            "build",
            "--strict",
            "--config-file",
            str(REPO / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    # then it succeeds and every page of the nav is there
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("getting-started", "starter", "registry", "configuration"):
        assert (site / page / "index.html").is_file()
    assert (site / "index.html").is_file()


def test_link_parser_skips_code_urls_and_anchors():
    markdown = (
        "[a](docs/a.md) [b](https://kedro.org) [c](#top) ![d](img/d.png)\n"
        "`[e](not/a/link.md)`\n"
        "```\n[f](not/a/link.md)\n```\n"
        '[g](../g.md#part "title")\n'
    )
    assert relative_links(markdown) == ["docs/a.md", "img/d.png", "../g.md#part"]


@pytest.mark.parametrize(
    "markdown_file", MARKDOWN_FILES, ids=lambda p: str(p.relative_to(REPO))
)
def test_relative_links_point_at_existing_files(markdown_file):
    # given the relative links of one markdown file
    links = relative_links(markdown_file.read_text(encoding="utf-8"))
    # when each is resolved from the file's folder (without its #anchor)
    missing = [
        link
        for link in links
        if not (markdown_file.parent / link.split("#", 1)[0]).exists()
    ]
    # then every target exists
    assert missing == [], f"{markdown_file.relative_to(REPO)}: broken links {missing}"


def test_readme_and_docs_index_have_links_to_check():
    # A parser that found nothing would make the test above pass vacuously.
    for name in ("README.md", "docs/index.md"):
        assert len(relative_links((REPO / name).read_text(encoding="utf-8"))) >= 4
