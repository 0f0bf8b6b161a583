"""Shared fixtures: run the CLI in-process as a user would, in a folder of our own."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pingen.cli import main

# Fixtures that tests in several folders share live in tests/support; these modules hold some.
pytest_plugins = ["tests.support.catalogs"]


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


CliRunner = Callable[..., Result]


_real_getaddrinfo = socket.getaddrinfo


def _loopback_only_getaddrinfo(
    host: bytes | str | None,
    *args: Any,
    **kwargs: Any,  # as socket.getaddrinfo takes them
) -> object:
    """Tests never leave this machine, not even for a DNS query: IP literals and
    `localhost` resolve as usual, every other name fails as on a machine with no
    resolver (which is also how tests check "a name that does not resolve")."""
    if host is None:  # a passive (listening) address
        return _real_getaddrinfo(host, *args, **kwargs)
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(name.strip("[]").split("%")[0])
    except ValueError:
        if name.lower() not in ("localhost", "localhost."):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def no_dns_beyond_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only_getaddrinfo)


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
