"""Shared fixtures: run the CLI in-process as a user would, in a folder of our own."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pingen.cli import main


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


CliRunner = Callable[..., Result]


@pytest.fixture
def run_pingen(capsys: pytest.CaptureFixture[str]) -> CliRunner:
    """Run `pingen ARGS` in-process (optionally in `cwd`) and capture what it prints.

    An exception escaping `main` fails the test: users must never see a traceback.
    """

    def run(*args: str, cwd: Path | None = None) -> Result:
        capsys.readouterr()
        before = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(list(args))
        finally:
            os.chdir(before)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """An empty project folder, also the current folder during the test."""
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)
