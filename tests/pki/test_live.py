"""`pingen pin host[:port]`: every key of a live chain, with levels (pingen.pki.live)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pingen.errors import ConfigError, NetworkError
from pingen.model import Address, Level, Trust
from pingen.pki.live import describe_host, parse_host_port
from tests.conftest import CliRunner
from tests.support.pki import CA, write_pem
from tests.support.servers import closed_port, stalling_server, tls_server


@pytest.mark.parametrize(
    ("source", "address"),
    [
        ("api.example.com", Address("api.example.com", 443)),
        ("API.example.com.:8443", Address("api.example.com", 8443)),
        ("127.0.0.1:4433", Address("127.0.0.1", 4433)),
        ("[::1]:4433", Address("::1", 4433)),
        ("[::1]", Address("::1", 443)),
        ("::1", Address("::1", 443)),
    ],
)
def test_parse_host_port(source: str, address: Address) -> None:
    assert parse_host_port(source) == address


@pytest.mark.parametrize("source", ["host:0", "host:99999", "host:https", "[::1", ":443"])
def test_parse_host_port_rejects(source: str) -> None:
    with pytest.raises(ConfigError):
        parse_host_port(source)


def test_served_and_verified_chain_with_levels(tmp_path: Path) -> None:
    folder = tmp_path
    root = CA.root("Live Root")
    inter = root.intermediate("Live CA")
    leaf = inter.issue_leaf("127.0.0.1")
    trust = Trust(ca_file=write_pem(folder / "roots.pem", root.cert))
    with tls_server(leaf.identity()) as (host, port):
        keys = describe_host(f"{host}:{port}", timeout=5, trust=trust)
    assert [(k.sha256, k.level, k.kind) for k in keys] == [
        (leaf.pin, Level.LEAF, "certificate"),
        (inter.pin, Level.INTERMEDIATE, "certificate"),
        (root.pin, Level.ROOT, "certificate (trust store)"),  # not sent: from the store
    ]
    assert keys[0].subject == "127.0.0.1"
    assert keys[0].not_after == leaf.cert.not_valid_after_utc


def test_sni_names_the_host_and_untrusted_chains_are_listed_as_served() -> None:
    inter = CA.root("Unknown Root").intermediate("Unknown CA")
    a, b = inter.issue_leaf("a.test"), inter.issue_leaf("b.test")
    with tls_server({"a.test": a.identity(), "b.test": b.identity()}, default="a.test") as (
        _,
        port,
    ):
        # "localhost" resolves to loopback; the leaf does not cover it, so the chain is
        # untrusted, but its keys are still listed as served
        keys = describe_host(f"localhost:{port}", timeout=5)
    assert [k.sha256 for k in keys] == [a.pin, inter.pin]
    assert {k.kind for k in keys} == {"certificate (untrusted chain)"}


def test_unreachable_host_is_a_network_error() -> None:
    with closed_port() as (host, port), pytest.raises(NetworkError, match="connection refused"):
        describe_host(f"{host}:{port}", timeout=2)


def test_pin_command_on_a_live_host(run_pingen: CliRunner) -> None:
    inter = CA.root("Cmd Root").intermediate("Cmd CA")
    leaf = inter.issue_leaf("127.0.0.1")
    with tls_server(leaf.identity(), host="::1") as (_, port):
        result = run_pingen("pin", f"[::1]:{port}")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{leaf.pin}  leaf")
    assert lines[1].startswith(f"{inter.pin}  intermediate")
    with closed_port() as (host, port):
        down = run_pingen("pin", f"{host}:{port}")
    assert down.exit_code == 3
    assert "connection refused" in down.stderr


def test_pin_dials_host_port_without_a_dot_and_host_equals_address(
    run_pingen: CliRunner, workdir: Path
) -> None:
    inter = CA.root("Sni Root").intermediate("Sni CA")
    a, b = inter.issue_leaf("a.test"), inter.issue_leaf("b.test")
    with tls_server({"a.test": a.identity(), "b.test": b.identity()}, default="a.test") as (
        _,
        port,
    ):
        # localhost:PORT is a host (it has a port), not a missing file
        local = run_pingen("pin", f"localhost:{port}")
        # b.test=ADDRESS: SNI b.test, dialled at the loopback address (as `pingen init`)
        named = run_pingen("pin", "--format", "json", f"b.test=127.0.0.1:{port}")
    assert local.exit_code == 0, local.stderr
    assert local.stdout.splitlines()[0].startswith(f"{a.pin}  leaf")
    assert named.exit_code == 0, named.stderr
    assert json.loads(named.stdout)[0]["sha256"] == b.pin


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("localhost", "localhost: no such file (for a host, give its port: localhost:443)"),
        ("bad host=127.0.0.1:1", "`bad host` contains white space"),
        ("b.test=127.0.0.1:0", "port '0' is not a number from 1 to 65535"),
    ],
)
def test_pin_bad_host_sources_exit_2(
    run_pingen: CliRunner, workdir: Path, source: str, message: str
) -> None:
    result = run_pingen("pin", source)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_pin_timeout(run_pingen: CliRunner) -> None:
    with stalling_server() as (host, port):
        started = time.monotonic()
        result = run_pingen("pin", "--timeout", "0.3", f"{host}:{port}")
    assert result.exit_code == 3
    assert "within 0.3 s" in result.stderr
    assert time.monotonic() - started < 5


def test_pin_ca_file_builds_the_chain_to_a_private_root(
    run_pingen: CliRunner, workdir: Path
) -> None:
    root = CA.root("Private Root")
    inter = root.intermediate("Private CA")
    leaf = inter.issue_leaf("api.private.test")
    write_pem(workdir / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        source = f"api.private.test={host}:{port}"
        trusted = run_pingen("pin", "--ca-file", "roots.pem", source)
        without = run_pingen("pin", source)  # certifi's roots do not know this CA
    assert trusted.exit_code == 0, trusted.stderr
    assert [line.split("  ")[:3] for line in trusted.stdout.splitlines()] == [
        [leaf.pin, "leaf", "certificate"],
        [inter.pin, "intermediate", "certificate"],
        # the root was not served: the chain was built to --ca-file's root
        [root.pin, "root", "certificate (trust store)"],
    ]
    assert without.exit_code == 0, without.stderr
    assert [line.split("  ")[0] for line in without.stdout.splitlines()] == [leaf.pin, inter.pin]
    assert "certificate (untrusted chain)" in without.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"",
            "roots.pem: --ca-file: holds no certificate it can read; give a PEM file of "
            "root certificates",
        ),
        (
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "--ca-file: holds no certificate it can read",
        ),
        (None, "'--ca-file': File 'roots.pem' does not exist"),
    ],
)
def test_pin_bad_ca_file_is_bad_input_before_dialling(
    run_pingen: CliRunner, workdir: Path, content: bytes | None, message: str
) -> None:
    if content is not None:
        (workdir / "roots.pem").write_bytes(content)
    with stalling_server() as (host, port):
        started = time.monotonic()
        result = run_pingen("pin", "--ca-file", "roots.pem", "--timeout", "5", f"{host}:{port}")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 2  # refused before dialling the stalling server
