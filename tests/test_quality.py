"""ruff (lint and format) and mypy (strict) are clean; `pingen --help` imports no heavy module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


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
    calls into pingen are checked against its real signatures).

    The code lives in gen/ but is the package `pingen` (package-dir mapping), and mypy
    cannot follow setuptools' editable install (an import hook: python/mypy#13392), so
    mypy is shown gen/ under that name through a link in a temporary folder.
    """
    (tmp_path / "pingen").symlink_to(REPO / "gen")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            str(tmp_path / "pingen"),
            "tests",
            "benchmarks",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"MYPYPATH": str(tmp_path), "PATH": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys; before = set(sys.modules); from pingen.cli import main; main(['--help']);"
        "heavy = {'cryptography', 'jinja2', 'yaml', 'asyncio', 'ssl', 'certifi', 'idna'};"
        "print(sorted(heavy & {m.split('.')[0] for m in set(sys.modules) - before}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
