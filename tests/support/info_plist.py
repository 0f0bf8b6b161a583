"""Build an Info.plist with `pingen build` and read its NSPinnedDomains back."""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

import pytest

from pingen.cli import main
from tests.support.samples import LATER, PIN_A, PIN_B


def config_text(*hosts: str, include: bool = False, level: str = "leaf") -> str:
    """pins.yaml pinning `hosts` (two pins at `level`) into one ios-plist output, Info.plist."""
    # `build` loads it as of the real today: an expiry that is always ahead of it.
    lines = ["version: 1", "defaults:", f"  expires: {LATER}", "domains:"]
    for host in hosts:
        lines += [f"  {host}:"]
        if include:
            lines += ["    include_subdomains: true"]
        lines += [
            "    pins:",
            f"      - sha256: {PIN_A}",
            f"        level: {level}",
            f"      - sha256: {PIN_B}",
            f"        level: {level}",
            "        backup: true",
        ]
    lines += ["outputs:", "  - type: ios-plist", "    path: Info.plist", ""]
    return "\n".join(lines)


def build_plist(
    tmp_path: Path,
    text: str,
    plist: dict[str, Any] | bytes | None,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, dict[str, Any] | None]:
    """`pingen build` of `text` over `plist` (none: no Info.plist yet): (exit code,
    stderr, the Info.plist after)."""
    (tmp_path / "pins.yaml").write_text(text)
    target = tmp_path / "Info.plist"
    if plist is not None:
        target.write_bytes(plist if isinstance(plist, bytes) else plistlib.dumps(plist))
    code = main(["build", "-c", str(tmp_path / "pins.yaml")])
    err = capsys.readouterr().err
    result = plistlib.loads(target.read_bytes()) if target.exists() else None
    return code, err, result


def pinned_of(result: dict[str, Any] | None) -> dict[str, Any]:
    """NSPinnedDomains of an Info.plist that exists."""
    assert result is not None
    domains: dict[str, Any] = result["NSAppTransportSecurity"]["NSPinnedDomains"]
    return domains
