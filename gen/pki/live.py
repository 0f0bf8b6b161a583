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
import ipaddress
from typing import TYPE_CHECKING

from pingen.errors import ConfigError, NetworkError
from pingen.model import Address, Level, Trust
from pingen.pki.fetch import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Callable

    from cryptography import x509

    from pingen.pki.sources import KeyInfo


def parse_host_port(source: str) -> Address:
    """`host`, `host:port`, `[v6]` or `[v6]:port` (a bare IPv6 address also works)."""
    from pingen.hosts import parse_address

    text = source.strip()
    if text.count(":") > 1 and not text.startswith("["):
        text = f"[{text}]"  # a bare IPv6 address, which cannot carry a port
    try:
        address = parse_address(text)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None
    return Address(address.host.lower().rstrip("."), address.port)


def parse_target(source: str) -> tuple[str, Address]:
    """`host[:port]` (SNI = host) or `host=address[:port]` (SNI host, dialled at
    address, as `pingen init` takes it): the TLS server name and where to dial."""
    from pingen.hosts import normalize_host

    name, sep, where = source.partition("=")
    if not sep:
        address = parse_host_port(source)
        return address.host, address
    try:
        host = normalize_host(name)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None
    return host, parse_host_port(where)


def describe_host(
    source: str,
    timeout: float = DEFAULT_TIMEOUT,
    trust: Trust | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[KeyInfo]:
    """Dial `source` (see parse_target) and describe every certificate of its chain;
    `warn` hears why, when the chain does not verify."""
    from pingen.pki.chain import UntrustedChain, build_verified_chain, load_trust_store

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
    from pingen.pki.fetch import Target, fetch_chains

    (fetched,) = fetch_chains([Target(host, address)], timeout=timeout, concurrency=1)
    if fetched.error is not None:
        raise NetworkError(f"{shown_as}: {fetched.error}")
    return fetched.certificates()


def _verify_name(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _verified(verified: list[x509.Certificate], served: list[x509.Certificate]) -> list[KeyInfo]:
    from pingen.pki.chain import levels

    infos = [
        _info(cert, level, "certificate" if cert in served else "certificate (trust store)")
        for cert, level in zip(verified, levels(verified), strict=True)
    ]
    extras = [cert for cert in served if cert not in verified]
    infos += [_info(cert, None, "certificate (served, not on the path)") for cert in extras]
    return infos


def _untrusted(served: list[x509.Certificate]) -> list[KeyInfo]:
    from pingen.pki.chain import served_levels

    return [
        _info(cert, level, "certificate (untrusted chain)")
        for cert, level in zip(served, served_levels(served), strict=True)
    ]


def _info(cert: x509.Certificate, level: Level | None, kind: str) -> KeyInfo:
    from dataclasses import replace

    from pingen.pki.sources import certificate_info

    info = certificate_info(cert)
    return replace(info, kind=kind, level=level or info.level)
