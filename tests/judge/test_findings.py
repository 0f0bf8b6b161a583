"""The one table of codes (pingen.judge.findings): the docs' code tables are generated from
it and current, every code's documentation exists, and a finding's severity is its code's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pingen.judge.findings import (
    CODES,
    NO_BACKUP,
    PINS_EXPIRE,
    TABLES,
    Code,
    Command,
    Severity,
    Status,
    status_of,
    with_tables,
)
from tests.support.docs import PAGES
from tests.support.paths import REPO


def test_every_generated_table_of_the_docs_is_current() -> None:
    """Edit pingen.judge.findings, then `python -m pingen.judge.findings docs/*.md`."""
    stale = [
        p.name
        for p in PAGES
        if with_tables(p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")
    ]
    assert stale == []
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    for command in TABLES:
        assert f"<!-- the {command} table: generated" in text, command


def test_a_stale_table_is_found_and_rewritten(tmp_path: Path) -> None:
    page = (REPO / "docs" / "judgement.md").read_text(encoding="utf-8")
    stale = page.replace("| `backup-live` | warning |", "| `backup-live` | fail |")
    assert stale != page and with_tables(stale) == page
    (tmp_path / "judgement.md").write_text(stale, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pingen.judge.findings", str(tmp_path / "judgement.md")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "tables regenerated" in result.stdout
    assert (tmp_path / "judgement.md").read_text(encoding="utf-8") == page


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", page.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("code", CODES, ids=lambda c: f"{c.command}:{c.name}")
def test_every_code_has_its_documentation(code: Code) -> None:
    name, _, anchor = code.doc.partition("#")
    page = REPO / "docs" / name
    assert anchor in _anchors(page)
    if code.command is not Command.BUILD:  # build reports by message, with no code
        assert f"`{code.name}`" in page.read_text(encoding="utf-8")


def test_a_code_is_declared_once_per_command() -> None:
    keys = [(code.command, code.name) for code in CODES]
    assert len(keys) == len(set(keys))


def test_a_finding_has_its_codes_severity_unless_certain() -> None:
    assert NO_BACKUP.finding("m").severity is Severity.WARNING
    assert PINS_EXPIRE.finding("m").severity is Severity.WARNING
    assert PINS_EXPIRE.finding("m", certain=True).severity is Severity.FAIL
    with pytest.raises(AssertionError):
        NO_BACKUP.finding("m", certain=True)  # no-backup never fails
    assert status_of([]) is Status.OK
    assert (
        status_of([NO_BACKUP.finding("m"), PINS_EXPIRE.finding("m", certain=True)]) is Status.FAIL
    )
