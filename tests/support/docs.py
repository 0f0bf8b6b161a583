"""The user documentation as tests read it: README.md and the pages under docs/.

Tests that check a promise of the docs (a table lists every code, a script runs as
written) search all of it, so a section can move between pages without breaking them.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))


def docs_text() -> str:
    """README.md and every docs/ page, one after another."""
    return "\n\n".join(page.read_text(encoding="utf-8") for page in PAGES)


def page(name: str) -> Path:
    """The docs/ page `name` (e.g. "pins-yaml.md")."""
    return REPO / "docs" / name
