"""The repository's own pins.yaml: its committed outputs are current, and the README
documents every key of the schema."""

from __future__ import annotations

import re
from pathlib import Path

from pingen import schema
from tests.conftest import CliRunner

REPO = Path(__file__).resolve().parent.parent


def test_committed_examples_are_current(run_pingen: CliRunner) -> None:
    result = run_pingen("build", "--check", cwd=REPO)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "6 output(s) up to date" in result.stderr


def test_readme_documents_every_key_and_output_option() -> None:
    readme = (REPO / "README.md").read_text()
    keys = set(schema.CONFIG.fields) | set(schema.DOMAIN.fields) | set(schema.PIN.fields)
    keys |= set(schema.TRUST.fields) | set(schema.OUTPUT_COMMON)
    keys |= {option for options in schema.OUTPUT_OPTIONS.values() for option in options}
    documented = [rf"`{re.escape(k)}[`:]|^\s*(- )?{re.escape(k)}:" for k in sorted(keys)]
    missing = [p for p in documented if not re.search(p, readme, re.MULTILINE)]
    assert missing == []
    assert all(f"`{t}`" in readme for t in schema.OUTPUT_TYPES)
    assert all(f"`{p}`" in readme for p in schema.PROVIDERS)
