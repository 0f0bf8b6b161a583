"""Rotation safety: will the apps in users' hands accept the certificate about to go live?

    plan = plan_from_files(chain_path, key_path, domains)
    reports = [judge(plan, config, at) for config in configs]

A `Plan` is what the server will present: the names its leaf covers and the chain it
sends (or, for a key with no certificate yet, the planned key and its issuers). For
each config (an app version), the chain is completed to a root of that config's
trust store — servers rarely send the root, but root pins match it — and every
configured domain the leaf covers must keep at least one pin in that chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from pingen.errors import first_line
from pingen.model import Config, Domain, Level, Pin, Trust
from pingen.pki.chain import (
    MAX_CHAIN_DEPTH,
    UntrustedChain,
    build_verified_chain,
    dns_names,
    levels,
    load_certificates,
    load_trust_store,
    signed_by,
)
from pingen.pki.sources import (
    SourceError,
    certificate_level,
    common_name,
    read_key_bytes,
    read_small_file,
)
from pingen.spki import pin_of_certificate

if TYPE_CHECKING:
    from pingen.pki.chain import TrustStore
    from pingen.pki.sources import KeyInfo


class GuardInputError(Exception):
    """A chain, key or domain that cannot be judged; the message says what to do."""


@dataclass(frozen=True)
class ChainKey:
    """One key of the chain the server would present."""

    level: Level
    sha256: str
    subject: str
    # the certificate the chain holds (None: the planned key, which has none yet);
    # left out of == so a key is its level, pin and subject
    cert: x509.Certificate | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Plan:
    """What the server will present after the switch."""

    names: tuple[str, ...]  # the DNS names the leaf covers (may start with `*.`)
    # The --chain file: leaf first. With a planned key it may instead start with the
    # issuing CA; a leaf there is the current certificate, whose key is replaced.
    served: tuple[x509.Certificate, ...]
    planned_key: KeyInfo | None = None  # --key: the leaf's key, no certificate yet
    planned_from: str | None = None  # the --key file, as given


class Outcome(StrEnum):
    SAFE = "safe"  # a pin of the domain is in the new chain
    BREAKS = "breaks"  # no pin matches: the app refuses the server
    EXPIRED = "expired"  # the pin set expired: the app no longer pins this domain
    UNTRUSTED = "untrusted"  # the new chain does not verify at all


@dataclass(frozen=True)
class DomainVerdict:
    domain: Domain
    outcome: Outcome
    matched: tuple[Pin, ...] = ()

    @property
    def unsafe(self) -> bool:
        return self.outcome in (Outcome.BREAKS, Outcome.UNTRUSTED)


@dataclass(frozen=True)
class ConfigReport:
    config: Config
    chain: tuple[ChainKey, ...]  # completed chain, leaf first ([] when untrusted)
    verdicts: tuple[DomainVerdict, ...]
    untrusted_reason: str | None = None

    @property
    def unsafe(self) -> bool:
        return any(v.unsafe for v in self.verdicts)


# -- reading the inputs -----------------------------------------------------------


def only_domain(configs: Sequence[Config]) -> tuple[str, ...]:
    """The host when the configs hold exactly one domain between them, else ()."""
    hosts = {domain.host for config in configs for domain in config.domains}
    return tuple(hosts) if len(hosts) == 1 else ()


def plan_from_files(
    chain_path: Path | None,
    key_path: Path | None,
    domains: Sequence[str],
    only_configured: Sequence[str] = (),
) -> Plan:
    """The plan from --chain, --key and --domain; GuardInputError on a bad file. A
    key that names no host (and no --domain, CSR or current chain names one) is for
    `only_configured`, the one domain the configs hold, when there is one."""
    served = tuple(read_chain(chain_path)) if chain_path is not None else ()
    if key_path is None:
        if not served:
            raise GuardInputError(
                "give --chain NEW.pem (the chain the server will send, "
                "leaf first), or --key for a planned key"
            )
        leaf = served[0]
        if is_ca(leaf):
            raise GuardInputError(
                f"{chain_path}: the first certificate is a CA ({subject_of(leaf)}), not a "
                "server certificate; pass the chain as the server sends it, leaf first "
                "(certbot: fullchain.pem, not chain.pem), or add --key for a planned key"
            )
        names = dns_names(leaf)
        if not names:
            raise GuardInputError(f"{chain_path}: the leaf certificate names no DNS host")
        return Plan(names=names, served=served)
    key, csr_names = read_planned_key(key_path)
    names = tuple(domains) or csr_names
    if served and not is_ca(served[0]):
        # A current chain: the planned certificate replaces its leaf, same names, same CA.
        names = names or dns_names(served[0])
    names = names or tuple(only_configured)
    if not names:
        raise GuardInputError(
            f"{key_path}: a key names no host; pass --domain D for each name the new "
            "certificate will cover, a CSR as --key, or the current chain as --chain"
        )
    return Plan(names=names, served=served, planned_key=key, planned_from=str(key_path))


def read_chain(path: Path) -> list[x509.Certificate]:

    data = _read(path)
    try:
        certificates = load_certificates(data)
    except ValueError as error:
        # Neither PEM nor DER: the DER parser's reason is its internals, not the user's.
        reason = f" ({first_line(error)})" if b"-----BEGIN" in data else ""
        raise GuardInputError(
            f"{path}: not a PEM or DER certificate chain{reason}; give PEM certificates, leaf first"
        ) from None
    if not certificates:
        raise GuardInputError(
            f"{path}: holds no certificate (a chain is PEM CERTIFICATE blocks, leaf first)"
        )
    return certificates


def read_planned_key(path: Path) -> tuple[KeyInfo, tuple[str, ...]]:
    """The key of a public key, private key, CSR or certificate file; a CSR's names."""

    data = _read(path)
    try:
        found = read_key_bytes(data)
    except SourceError as error:
        raise GuardInputError(f"{path}: {error}") from None
    if len(found) != 1:
        raise GuardInputError(
            f"{path}: holds {len(found) or 'no'} keys; --key takes one "
            "public key, private key or CSR"
        )
    key = found[0]
    names = _csr_names(data) if key.kind == "CSR" else ()
    return key, names


def _csr_names(data: bytes) -> tuple[str, ...]:

    csr = x509.load_pem_x509_csr(data) if b"-----BEGIN" in data else x509.load_der_x509_csr(data)
    return dns_names(csr)


def _read(path: Path) -> bytes:

    try:
        return read_small_file(path, "chain or key file")
    except SourceError as error:
        raise GuardInputError(str(error)) from None


# -- which configured domains the new certificate covers ---------------------------


def affected_domains(names: Sequence[str], domains: Sequence[Domain]) -> list[Domain]:
    """The configured domains whose pin set applies to a host the names cover.

    An exact name applies the most specific domain (the host itself, else the
    nearest parent with include_subdomains), as Android and TrustKit choose. A
    wildcard `*.base` covers every one-label host under `base`: configured hosts
    there, and `base` or a parent of it that includes subdomains.
    """
    affected: list[Domain] = []
    for name in (n.lower().rstrip(".") for n in names):
        if name.startswith("*."):
            base = name[2:]
            # configured hosts the wildcard covers, and for any other label the
            # nearest domain with include_subdomains at or above `base`
            matches = [d for d in domains if _one_label_under(d.host, base)]
            parents = [d for d in domains if d.include_subdomains and _within(base, d.host)]
            matches += [max(parents, key=lambda d: len(d.host))] if parents else []
        else:
            nearest = _most_specific(name, domains)
            matches = [nearest] if nearest else []
        affected += [d for d in matches if d not in affected]
    return affected


def _most_specific(host: str, domains: Sequence[Domain]) -> Domain | None:
    candidates = [
        d
        for d in domains
        if d.host == host or (d.include_subdomains and host.endswith("." + d.host))
    ]
    return max(candidates, key=lambda d: len(d.host), default=None)


def _one_label_under(host: str, base: str) -> bool:
    label, dot, rest = host.partition(".")
    return bool(dot) and rest == base and bool(label)


def _within(host: str, parent: str) -> bool:
    return host == parent or host.endswith("." + parent)


# -- completing the chain ------------------------------------------------------------


def completed_chain(plan: Plan, store: TrustStore, at: dt.datetime) -> list[ChainKey]:
    """The keys of the chain a client would build, leaf first, root last.

    Raises pingen.pki.chain.UntrustedChain when it does not lead to a trusted root.
    """

    if plan.planned_key is None:
        chain = build_verified_chain(plan.served, store, _a_covered_host(plan.names), at)
        return [_chain_key(level, cert) for level, cert in zip(levels(chain), chain, strict=True)]
    planned = ChainKey(Level.LEAF, plan.planned_key.sha256, f"planned key {plan.planned_from}")
    if not plan.served:
        return [planned]
    first, *pool = plan.served
    if is_ca(first):  # the issuing CA itself, then what lies above it
        cas = [first, *issuers_above(first, pool, store, at)]
    else:  # the current leaf: the planned certificate comes from the same issuer
        cas = issuers_above(first, pool, store, at)
    ca_levels = [Level.INTERMEDIATE] * (len(cas) - 1) + [Level.ROOT]
    return [planned] + [_chain_key(level, cert) for level, cert in zip(ca_levels, cas, strict=True)]


def _chain_key(level: Level, cert: x509.Certificate) -> ChainKey:

    return ChainKey(level, pin_of_certificate(cert), subject_of(cert), cert)


def _a_covered_host(names: Sequence[str]) -> str:
    """A host the leaf covers, to verify it for (a wildcard stands for any label)."""
    exact = [name for name in names if not name.startswith("*.")]
    return exact[0] if exact else "pingen-guard." + names[0][2:]


def issuers_above(
    start: x509.Certificate,
    pool: Sequence[x509.Certificate],
    store: TrustStore,
    at: dt.datetime,
) -> list[x509.Certificate]:
    """The CAs above `start` up to a root of the store, found by signature.

    For a key with no certificate yet there is no leaf for the Web PKI verifier
    (pingen.pki.chain) to start from; the CA part is checked here instead: each
    certificate signed by the next, each CA valid at `at`, ending at a root the store
    holds. Roots of the store are preferred, as clients prefer a trust anchor.
    """

    if is_ca(start):  # a leaf here is only being replaced; its dates do not matter
        _check_ca_validity(start, at)
    chain: list[x509.Certificate] = []
    current = start
    candidates = list(pool)
    while not store.holds(current):
        issuer = _issuer_of(current, list(store.roots)) or _issuer_of(current, candidates)
        if issuer is None or len(chain) >= MAX_CHAIN_DEPTH:
            raise UntrustedChain(
                f"no root in the trust store ({store.description}) issued "
                f"{subject_of(current)!r}: --chain must hold the CA that will issue the "
                "new certificate and the CAs above it"
            )
        _check_ca_validity(issuer, at)
        candidates = [cert for cert in candidates if cert != issuer]
        chain.append(issuer)
        current = issuer
    return chain


def _issuer_of(
    cert: x509.Certificate, candidates: Sequence[x509.Certificate]
) -> x509.Certificate | None:

    for candidate in candidates:
        if candidate.subject == cert.issuer and candidate != cert and signed_by(cert, candidate):
            return candidate
    return None


def _check_ca_validity(cert: x509.Certificate, at: dt.datetime) -> None:

    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise UntrustedChain(
            f"{subject_of(cert)!r} is valid only from {cert.not_valid_before_utc.date()} to "
            f"{cert.not_valid_after_utc.date()} (judged as of {at.date()})"
        )


# -- the judgement ------------------------------------------------------------------------


def judge(
    plan: Plan, config: Config, at: dt.datetime, stores: dict[Trust, TrustStore] | None = None
) -> ConfigReport:
    """For one config: does every affected domain keep a pin in the new chain?"""

    affected = affected_domains(plan.names, config.domains)
    if not affected:
        return ConfigReport(config, (), ())
    stores = {} if stores is None else stores
    if config.trust not in stores:
        stores[config.trust] = load_trust_store(config.trust)
    try:
        chain = tuple(completed_chain(plan, stores[config.trust], at))
    except UntrustedChain as error:
        # An untrusted chain fails in every app, pinned or not.
        verdicts = tuple(DomainVerdict(d, Outcome.UNTRUSTED) for d in affected)
        return ConfigReport(config, (), verdicts, untrusted_reason=error.reason)
    hashes = {key.sha256 for key in chain}
    verdicts = tuple(_verdict(domain, hashes, at) for domain in affected)
    return ConfigReport(config, chain, verdicts)


def _verdict(domain: Domain, hashes: set[str], at: dt.datetime) -> DomainVerdict:
    matched = tuple(pin for pin in domain.pins if pin.sha256 in hashes)
    if matched:
        return DomainVerdict(domain, Outcome.SAFE, matched)
    if domain.pin_set.expired(at.date()):
        return DomainVerdict(domain, Outcome.EXPIRED)
    return DomainVerdict(domain, Outcome.BREAKS)


# -- small certificate helpers ---------------------------------------------------------------


def is_ca(cert: x509.Certificate) -> bool:

    return certificate_level(cert) is not Level.LEAF


def subject_of(cert: x509.Certificate) -> str:

    return common_name(cert.subject)
