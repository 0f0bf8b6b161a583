"""`pingen pin host[:port]`: every key of the chain a host serves, with its level.

    describe_host("api.example.com")            # -> [KeyInfo(leaf), KeyInfo(...), ...]
    describe_host("[::1]:8443", timeout=5, trust=Trust(ca_file=...))   # pin --ca-file
    describe_host("api.example.com=127.0.0.1:8443")   # SNI api.example.com, dialled there

The verified chain comes first, leaf to root (a root the server did not send is taken
from the trust store, kind "certificate (trust store)"); certificates the server sent
that are not on the verified path follow, kind "certificate (served, not on the
path)". When the chain does not verify, the served chain is listed as sent, kind
"certificate (untrusted chain)", so self-signed test servers can still be pinned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING

from pingen import hosts
from pingen.errors import ConfigError, NetworkError
from pingen.model import Address, Level, Trust
from pingen.pki.chain import (
    UntrustedChain,
    build_verified_chain,
    levels,
    load_trust_store,
    served_levels,
)
from pingen.pki.fetch import DEFAULT_TIMEOUT, Target, fetch_chains
from pingen.pki.sources import certificate_info

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography import x509

    from pingen.pki.sources import KeyInfo


def parse_host_port(source: str) -> Address:
    """`host`, `host:port`, `[v6]` or `[v6]:port` (a bare IPv6 address also works):
    pingen.hosts.parse_dial_address, or exit 2 naming `source`."""
    try:
        return hosts.parse_dial_address(source)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None


def parse_target(source: str) -> tuple[str, Address]:
    """The TLS server name and where to dial (pingen.hosts.parse_target), or exit 2."""
    try:
        return hosts.parse_target(source)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def describe_host(
    source: str,
    timeout: float = DEFAULT_TIMEOUT,
    trust: Trust | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[KeyInfo]:
    """Dial `source` (see parse_target) and describe every certificate of its chain;
    `warn` hears why, when the chain does not verify."""

    host, address = parse_target(source)
    served = served_chain(host, address, timeout, shown_as=source)
    store = load_trust_store(trust or Trust(), named="--ca-file")  # only pin --ca-file sets one
    try:
        verified = build_verified_chain(served, store, _verify_name(host), dt.datetime.now(dt.UTC))
    except UntrustedChain as error:
        if warn is not None:
            warn(
                f"{source}: the chain does not verify ({error.reason}); its certificates "
                "are listed as served, marked (untrusted chain)"
            )
        return _untrusted(served)
    return _verified(verified, served)


def served_chain(
    host: str, address: Address, timeout: float, *, shown_as: str
) -> list[x509.Certificate]:
    """The chain `address` serves for `host` (SNI), leaf first; NetworkError, whose
    message starts with `shown_as`, when it serves none."""

    (fetched,) = fetch_chains([Target(host, address)], timeout=timeout, concurrency=1)
    if fetched.error is not None:
        raise NetworkError(f"{shown_as}: {fetched.error}")
    return fetched.certificates()


def _verify_name(host: str) -> str:
    ip = hosts.ip_address(host)
    return host if ip is None else str(ip)


def _verified(verified: list[x509.Certificate], served: list[x509.Certificate]) -> list[KeyInfo]:

    infos = [
        _info(cert, level, "certificate" if cert in served else "certificate (trust store)")
        for cert, level in zip(verified, levels(verified), strict=True)
    ]
    extras = [cert for cert in served if cert not in verified]
    infos += [_info(cert, None, "certificate (served, not on the path)") for cert in extras]
    return infos


def _untrusted(served: list[x509.Certificate]) -> list[KeyInfo]:

    return [
        _info(cert, level, "certificate (untrusted chain)")
        for cert, level in zip(served, served_levels(served), strict=True)
    ]


def _info(cert: x509.Certificate, level: Level | None, kind: str) -> KeyInfo:

    info = certificate_info(cert)
    return replace(info, kind=kind, level=level or info.level)
