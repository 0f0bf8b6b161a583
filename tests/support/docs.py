"""The user documentation as tests read it: README.md and the pages under docs/.

Tests that check a promise of the docs (a table lists every code, a script runs as
written) search all of it, so a section can move between pages without breaking them.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.paths import REPO

PAGES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))


def docs_text() -> str:
    """README.md and every docs/ page, one after another."""
    return "\n\n".join(page.read_text(encoding="utf-8") for page in PAGES)


def page(name: str) -> Path:
    """The docs/ page `name` (e.g. "pins-yaml.md")."""
    return REPO / "docs" / name


def fenced_blocks(language: str) -> list[tuple[str, int, str]]:
    """Every ```LANGUAGE block of the docs: (page, line of its fence, body), the page
    relative to the repository, so a failure points at the line to fix."""
    found = []
    for doc in PAGES:
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(rf"^```{re.escape(language)}\n(.*?)^```", text, re.S | re.M):
            line = text[: match.start()].count("\n") + 1
            found.append((doc.relative_to(REPO).as_posix(), line, match.group(1)))
    return found
