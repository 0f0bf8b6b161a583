"""Fetching served chains from real loopback TLS servers, and every network fault."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from pingen.model import Address
from pingen.pki.fetch import Target, fetch_chains
from tests.support.pki import CA, Leaf
from tests.support.servers import (
    HostPort,
    closed_port,
    garbage_server,
    handshake_failure_server,
    resetting_server,
    stalling_server,
    tls_server,
)


@pytest.fixture(scope="module")
def leaves() -> dict[str, Leaf]:
    inter = CA.root("Fetch Test Root").intermediate("Fetch Test CA")
    return {
        "a.test": inter.issue_leaf("a.test"),
        "b.test": inter.issue_leaf("b.test", key_type="rsa-2048"),
    }


def test_served_chain_as_sent_and_chosen_by_sni(leaves: dict[str, Leaf]) -> None:
    identities = {name: leaf.identity() for name, leaf in leaves.items()}
    with tls_server(identities, default="a.test") as (host, port):
        results = fetch_chains(
            [Target(name, Address(host, port)) for name in ("b.test", "a.test")], timeout=5
        )
    assert [r.host for r in results] == ["b.test", "a.test"]  # the order asked for
    for result in results:
        assert result.error is None
        assert result.address == f"127.0.0.1:{port}"
        assert result.certificates() == leaves[result.host].chain()  # leaf + intermediate


def test_ipv6_connect_address(leaves: dict[str, Leaf]) -> None:
    with tls_server(leaves["a.test"].identity(), host="::1") as (host, port):
        (result,) = fetch_chains([Target("a.test", Address(host, port))], timeout=5)
    assert result.error is None
    assert result.address == f"[::1]:{port}"
    assert result.certificates()[0] == leaves["a.test"].cert


def test_an_untrusted_chain_is_still_taken(leaves: dict[str, Leaf]) -> None:
    self_signed = CA.root("Self Signed").issue_leaf("self.test")
    with tls_server(self_signed.identity()) as (host, port):
        (result,) = fetch_chains([Target("self.test", Address(host, port))], timeout=5)
    assert result.certificates() == [self_signed.cert]


@pytest.mark.parametrize(
    ("server", "reason"),
    [
        (resetting_server, "reset the connection during the TLS handshake"),
        (garbage_server, "answered with something that is not TLS"),
        (handshake_failure_server, "refused the TLS handshake (alert: handshake failure)"),
        (closed_port, "connection refused by 127.0.0.1:"),
    ],
)
def test_faults_are_reasons_not_exceptions(
    server: Callable[[], AbstractContextManager[HostPort]], reason: str
) -> None:
    with server() as (host, port):
        (result,) = fetch_chains([Target("f.test", Address(host, port))], timeout=5)
    assert result.served == ()
    assert result.error is not None and reason in result.error


def test_server_that_closes_during_the_handshake() -> None:
    with garbage_server(data=b"") as (host, port):
        (result,) = fetch_chains([Target("eof.test", Address(host, port))], timeout=5)
    assert result.error == "the server closed the connection during the TLS handshake"


def test_connect_by_name_resolves_in_a_thread(leaves: dict[str, Leaf]) -> None:
    with tls_server(leaves["a.test"].identity()) as (_, port):
        (result,) = fetch_chains([Target("a.test", Address("localhost", port))], timeout=5)
    assert result.error is None
    assert result.address == f"localhost:{port}"


def test_unresolvable_connect_name() -> None:
    (result,) = fetch_chains([Target("n.test", Address("no-such-host.invalid", 443))], timeout=5)
    assert result.error is not None
    assert result.error.startswith("cannot resolve no-such-host.invalid")


def test_stalled_servers_cost_their_timeout_once_and_block_no_one(
    leaves: dict[str, Leaf],
) -> None:
    timeout = 0.5
    with stalling_server() as stall, tls_server(leaves["a.test"].identity()) as good:
        targets = [Target(f"s{i}.test", Address(*stall)) for i in range(4)]
        targets += [Target("a.test", Address(*good)) for _ in range(8)]
        started = time.monotonic()
        results = fetch_chains(targets, timeout=timeout, concurrency=4)
        elapsed = time.monotonic() - started
    stalled, served = results[:4], results[4:]
    assert all(
        r.error and f"did not complete a TLS handshake within {timeout:g} s" in r.error
        for r in stalled
    )
    assert all(r.error is None for r in served)
    # 4 stalls on 4 slots run side by side: about one timeout, not four
    assert elapsed < timeout * 2.5


def test_concurrency_bounds_open_connections(leaves: dict[str, Leaf]) -> None:
    # 6 stalls through 2 slots take 3 rounds of the timeout: the bound holds
    timeout = 0.3
    with stalling_server() as stall:
        started = time.monotonic()
        results = fetch_chains(
            [Target("s.test", Address(*stall))] * 6, timeout=timeout, concurrency=2
        )
        elapsed = time.monotonic() - started
    assert all(r.error for r in results)
    assert timeout * 3 <= elapsed < timeout * 3 + 1.5


def test_progress_reports_every_domain(leaves: dict[str, Leaf]) -> None:
    seen: list[str] = []
    with tls_server(leaves["a.test"].identity()) as (host, port), closed_port() as closed:
        fetch_chains(
            [Target("a.test", Address(host, port)), Target("c.test", Address(*closed))],
            timeout=5,
            progress=lambda r: seen.append(r.host),
        )
    assert sorted(seen) == ["a.test", "c.test"]


def test_fetching_needs_no_asyncio() -> None:
    """The dialler is one selector loop: asyncio (~15 ms to import, and a third of the
    client's CPU per handshake) stays out of `verify`."""
    code = "import sys, pingen.pki.fetch; print('asyncio' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
