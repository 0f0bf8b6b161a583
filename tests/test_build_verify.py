"""`pingen build --verify`: dial every domain first; write nothing unless all pass."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import CliRunner
from tests.support.pki import CA
from tests.support.projects import verify_project
from tests.support.servers import closed_port, stalling_server, tls_server


def test_writes_when_every_domain_matches(run_pingen: CliRunner, workdir: Path) -> None:
    root = CA.root("Build Verify Root")
    leaf = root.intermediate("Build Verify CA").issue_leaf("api.example.test")
    with tls_server(leaf.identity()) as address:
        verify_project(workdir, root, address, root.pin)
        result = run_pingen("build", "--verify")
    assert result.exit_code == 0, result.stderr
    assert (workdir / "out/pins.txt").read_text().endswith("\napi.example.test\n")
    assert "api.example.test" in result.stderr and "ok" in result.stderr


def test_refuses_to_write_when_a_domain_fails(run_pingen: CliRunner, workdir: Path) -> None:
    root = CA.root("Build Verify Root")
    leaf = root.intermediate("Build Verify CA").issue_leaf("api.example.test")
    with tls_server(leaf.renewed(new_key=True).identity()) as address:
        verify_project(workdir, root, address, leaf.pin)  # pinned the leaf key it no longer serves
        result = run_pingen("build", "--verify")
    assert result.exit_code == 1
    assert "no-live-match" in result.stderr and "nothing was written" in result.stderr
    assert not (workdir / "out").exists()


def test_refuses_to_write_when_a_domain_cannot_be_checked(
    run_pingen: CliRunner, workdir: Path
) -> None:
    root = CA.root("Build Verify Root")
    with closed_port() as address:
        verify_project(workdir, root, address, root.pin)
        result = run_pingen("build", "--verify")
    assert result.exit_code == 3
    assert "unreachable" in result.stderr and "nothing was written" in result.stderr
    assert not (workdir / "out").exists()


def test_timeout_bounds_a_stalled_server(run_pingen: CliRunner, workdir: Path) -> None:
    root = CA.root("Build Verify Root")
    with stalling_server() as address:
        verify_project(workdir, root, address, root.pin)
        started = time.monotonic()
        result = run_pingen("build", "--verify", "--timeout", "0.3")
    assert result.exit_code == 3
    assert "within 0.3 s" in result.stderr and "nothing was written" in result.stderr
    assert time.monotonic() - started < 5
    assert not (workdir / "out").exists()
