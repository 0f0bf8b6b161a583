"""ruff (lint and format) and mypy (strict) are clean; `pingen --help` imports no heavy module."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "gen", "tests", "benchmarks"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    """One formatting everywhere (`ruff format gen tests benchmarks` fixes it)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "gen", "tests", "benchmarks"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean(tmp_path: Path) -> None:
    """Strict over the package, the tests and the benchmarks, in one run (so the tests'
    calls into pingen are checked against its real signatures), exactly as a developer
    runs it: a plain `python -m mypy`, configured in pyproject.toml (which names the
    files, and reads gen/ as `pingen` through the link typecheck/pingen)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPY_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sources = [
        path for folder in ("gen", "tests", "benchmarks") for path in (REPO / folder).rglob("*.py")
    ]
    checked = re.search(r"no issues found in (\d+) source files", result.stdout)
    assert checked and int(checked[1]) == len(sources), result.stdout


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys; before = set(sys.modules); from pingen.cli import main; main(['--help']);"
        "heavy = {'cryptography', 'jinja2', 'yaml', 'asyncio', 'ssl', 'certifi', 'idna'};"
        "print(sorted(heavy & {m.split('.')[0] for m in set(sys.modules) - before}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
