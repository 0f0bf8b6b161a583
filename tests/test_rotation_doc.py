"""The certbot deploy hook in the README's rotation playbook, run as certbot runs it.

certbot calls a deploy hook with RENEWED_LINEAGE=/etc/letsencrypt/live/NAME, whose
*.pem are symbolic links into archive/. Here the lineage is laid out the same way in a
temporary folder, and the hook's reload command only records that it ran.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.docs import docs_text
from tests.support.pki import CA, Leaf, key_pem, pem_of

HOST = "api.example.test"

pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")


def hook_script() -> str:
    text = docs_text()
    match = re.search(r"<!-- pingen-guard-hook:[^>]*-->\n```sh\n(.*?)```", text, re.DOTALL)
    assert match, "the docs lost their marked deploy-hook script"
    return match.group(1)


def make_lineage(live: Path, archive: Path, leaf: Leaf, version: int) -> None:
    """certbot's layout: live/NAME/*.pem -> ../../archive/NAME/*N.pem."""
    archive.mkdir(parents=True, exist_ok=True)
    live.mkdir(parents=True, exist_ok=True)
    (archive / f"fullchain{version}.pem").write_bytes(pem_of(leaf.chain()))
    (archive / f"privkey{version}.pem").write_bytes(key_pem(leaf.key))
    for name in ("fullchain", "privkey"):
        link = live / f"{name}.pem"
        if link.is_symlink():
            link.unlink()
        link.symlink_to(os.path.relpath(archive / f"{name}{version}.pem", live))


def write_pins(folder: Path, root: CA, pins: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "roots.pem").write_bytes(root.pem)
    lines = "".join(f"      - sha256: {pin}\n" for pin in pins)
    path = folder / "pins.yaml"
    path.write_text(
        "version: 1\ndefaults:\n  expires: never\ntrust:\n  ca_file: roots.pem\n"
        f"domains:\n  {HOST}:\n    pins:\n{lines}"
    )
    return path


def run_hook(tmp: Path, lineage: Path, configs: list[Path]) -> subprocess.CompletedProcess[str]:
    script = tmp / "50-pingen-guard"
    script.write_text(hook_script())
    script.chmod(0o755)
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "pingen"  # the pingen of this interpreter, as installed
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pingen "$@"\n')
    wrapper.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "RENEWED_LINEAGE": str(lineage),
        "PINGEN_CONFIGS": " ".join(str(c) for c in configs),
        "SERVED_DIR": str(tmp / "served"),
        "RELOAD_COMMAND": f"touch {tmp / 'reloaded'}",
        "HOME": str(tmp),
    }
    return subprocess.run(
        [str(script)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def served_key(tmp: Path) -> bytes:
    return (tmp / "served" / "NAME" / "current" / "privkey.pem").read_bytes()


def test_deploy_hook_serves_a_safe_renewal_and_refuses_an_unsafe_one(tmp_path: Path) -> None:
    root = CA.root("Hook Root")
    inter = root.intermediate("Hook CA")
    first = inter.issue_leaf(HOST)
    live, archive = tmp_path / "live" / "NAME", tmp_path / "archive" / "NAME"
    old_app = write_pins(tmp_path / "app-1", root, [first.pin, "B" * 42 + "A="])
    new_app = write_pins(tmp_path / "app-2", root, [first.pin, root.pin])

    # the first run (by hand) puts the current certificate in service
    make_lineage(live, archive, first, 1)
    installed = run_hook(tmp_path, live, [old_app, new_app])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert served_key(tmp_path) == key_pem(first.key)
    assert (tmp_path / "reloaded").exists()

    # a renewal that keeps the key: guard passes, the hook switches and reloads
    (tmp_path / "reloaded").unlink()
    kept = first.renewed(new_key=False)
    make_lineage(live, archive, kept, 2)
    switched = run_hook(tmp_path, live, [old_app, new_app])
    assert switched.returncode == 0, switched.stdout + switched.stderr
    served_chain = (tmp_path / "served" / "NAME" / "current" / "fullchain.pem").read_bytes()
    assert served_chain == pem_of(kept.chain())
    assert (tmp_path / "reloaded").exists()

    # certbot's default, a new key: app-1 pins neither it nor the root -> refused
    (tmp_path / "reloaded").unlink()
    current = (tmp_path / "served" / "NAME" / "current").resolve()
    rekeyed = first.renewed(new_key=True)
    make_lineage(live, archive, rekeyed, 3)
    refused = run_hook(tmp_path, live, [old_app, new_app])
    assert refused.returncode == 1
    assert "NOT deploying the renewed certificate of NAME" in refused.stderr
    assert "app-1/pins.yaml" in refused.stderr and "UNSAFE" in refused.stderr
    assert not (tmp_path / "reloaded").exists()  # the server was not reloaded
    assert (tmp_path / "served" / "NAME" / "current").resolve() == current
    assert served_key(tmp_path) == key_pem(first.key)  # still the pinned key
    assert stat_mode(current / "privkey.pem") == 0o600


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_deploy_hook_refuses_when_a_config_is_missing(tmp_path: Path) -> None:
    root = CA.root("Hook Root")
    leaf = root.intermediate("Hook CA").issue_leaf(HOST)
    live, archive = tmp_path / "live" / "NAME", tmp_path / "archive" / "NAME"
    make_lineage(live, archive, leaf, 1)
    result = run_hook(tmp_path, live, [tmp_path / "gone" / "pins.yaml"])
    assert result.returncode == 1
    assert "no such file" in result.stderr
    assert not (tmp_path / "served").exists()
    assert not (tmp_path / "reloaded").exists()
