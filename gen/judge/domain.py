"""Judge one domain's pin set against the chain it is served with (docs/judgement.md, "What `pingen
verify` judges").

    judge_chain(domain, served, store, at, address, catalog) -> DomainReport  # live, --chain
    judge_unreachable(domain, address, reason, at) -> DomainReport

The served chain is verified here (pingen.pki.chain); the pins are matched against the
verified chain, whose root usually comes from the trust store. The survivability
codes of the CA catalog come from `pingen.judge.survive.judge_survivability`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import Encoding

from pingen.judge.findings import (
    BACKUP_LIVE,
    EXPIRES_SOON,
    EXPIRES_SOON_DAYS,
    KEY_MISMATCH,
    LEAF_ONLY,
    NO_BACKUP,
    NO_LIVE_MATCH,
    TRUSTKIT_UNHASHABLE,
    UNREACHABLE,
    UNTRUSTED_CHAIN,
    URLSESSION_UNHASHABLE,
    Finding,
    Status,
    status_of,
)
from pingen.judge.offline import backup_gap
from pingen.judge.survive import judge_survivability
from pingen.model import Domain, Level, Pin
from pingen.pki.catalog import display_name, load_catalog
from pingen.pki.chain import UntrustedChain, build_verified_chain, levels, served_levels
from pingen.spki import KeyType, key_type_of, pin_of_certificate

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.judge.offline import BackupGap
    from pingen.pki.chain import TrustStore


@dataclass(frozen=True)
class ChainEntry:
    level: Level
    subject: str  # RFC 4514
    issuer: str
    not_after: dt.datetime  # UTC
    sha256: str
    name: str  # the common name (or O/OU), for people
    key: KeyType | None = None  # the certificate's key type

    def as_json(self) -> dict[str, str]:  # docs/judgement.md's shape: `key` stays internal
        return {
            "level": self.level.value,
            "subject": self.subject,
            "issuer": self.issuer,
            "not_after": self.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sha256": self.sha256,
        }


EntryJson = Callable[[ChainEntry], object]


@dataclass(frozen=True)
class Match:
    sha256: str
    label: str | None
    level: Level  # where in the chain the key sits
    backup: bool

    def as_json(self) -> dict[str, str | None]:
        return {"sha256": self.sha256, "label": self.label, "level": self.level.value}


@dataclass(frozen=True)
class DomainReport:
    domain: str
    address: str
    chain: tuple[ChainEntry, ...]  # verified chain; the served one when untrusted
    matched: tuple[Match, ...]
    problems: tuple[Finding, ...]

    @cached_property  # asked once per status when a report of many domains is summed up
    def status(self) -> Status:
        return status_of(self.problems)

    def as_json(self, entry_json: EntryJson = ChainEntry.as_json) -> dict[str, object]:
        """`entry_json`: how a chain entry is written (pingen.report.verify writes the
        entry of a CA certificate that many domains share once)."""
        return {
            "domain": self.domain,
            "address": self.address,
            "status": self.status.value,
            "chain": [entry_json(entry) for entry in self.chain],
            "matched": [match.as_json() for match in self.matched],
            "problems": [
                {"code": p.code, "severity": p.severity.value, "message": p.message}
                for p in self.problems
            ],
        }


def judge_chain(
    domain: Domain,
    served: Sequence[x509.Certificate],
    store: TrustStore,
    at: dt.datetime,
    address: str,
    catalog: Path | None = None,
    *,
    trustkit_ios: bool = False,
    urlsession: bool = False,
) -> DomainReport:
    """`catalog`: the config's `trust.catalog` (None: the one shipped with pingen);
    `trustkit_ios`: the config has an output TrustKit (iOS) enforces; `urlsession`: it has
    a `urlsession` output (Swift that hashes only the key types it has headers for)."""

    try:
        verified = build_verified_chain(served, store, domain.host, at)
    except UntrustedChain as error:
        chain = describe_chain(served, served_levels(served))
        problems = [_untrusted(error.reason), *_expiry_problems(domain, at)]
        return DomainReport(
            domain.host, address, chain, match_pins(domain.pins, chain), tuple(problems)
        )
    chain = describe_verified(verified)
    matched = match_pins(domain.pins, chain)
    problems = [
        *pin_problems(
            domain,
            chain,
            matched,
            at,
            _backup_gap(domain, catalog),
            # only a set that matches nothing is checked for certificate hashes
            None if matched else certificate_hashes(verified, chain),
        ),
        *_expiry_problems(domain, at),
        *_survivability(domain, verified, at, catalog),
        *_key_mismatches(domain, chain),
        *(_trustkit_problems(domain, chain, matched) if trustkit_ios else []),
        *(_urlsession_problems(chain, matched) if urlsession else []),
    ]
    return DomainReport(domain.host, address, chain, matched, tuple(problems))


def judge_unreachable(domain: Domain, address: str, reason: str, at: dt.datetime) -> DomainReport:
    where = "" if address in reason else f" (dialled {address})"
    problem = UNREACHABLE.finding(
        f"{reason}{where}. Nothing was judged; check the host (or its `connect:` address) "
        "and run again, with a longer --timeout if the server is slow",
    )
    return DomainReport(domain.host, address, (), (), (problem, *_expiry_problems(domain, at)))


def describe_chain(
    certs: Sequence[x509.Certificate], chain_levels: Sequence[Level]
) -> tuple[ChainEntry, ...]:
    return tuple(_describe(cert, level) for cert, level in zip(certs, chain_levels, strict=True))


def describe_verified(verified: Sequence[x509.Certificate]) -> tuple[ChainEntry, ...]:
    """`describe_chain` of a verified chain (pingen.pki.chain.build_verified_chain). Its
    CA certificates are described once per run; the leaf, new for every domain, takes its
    issuer's text from the certificate after it: the verifier chains names byte for byte
    (another string type or case is another name to it), so that is the same text as
    reading the leaf's issuer field, for a fraction of the work."""
    if len(verified) < 2:
        return describe_chain(verified, levels(verified))
    issuers = describe_chain(verified[1:], levels(verified)[1:])
    return (_entry(verified[0], Level.LEAF, issuers[0].subject), *issuers)


@lru_cache(maxsize=4096)
def _describe(cert: x509.Certificate, level: Level) -> ChainEntry:
    # Hundreds of domains share a few CA certificates: describe each once.
    return _entry(cert, level, _rfc4514(cert.issuer))


def _entry(cert: x509.Certificate, level: Level, issuer: str) -> ChainEntry:
    subject = cert.subject  # each read of the field parses it again
    return ChainEntry(
        level=level,
        subject=subject.rfc4514_string(),
        issuer=issuer,
        not_after=cert.not_valid_after_utc,
        sha256=pin_of_certificate(cert),
        name=display_name(subject),
        key=key_type_of(cert.public_key()),
    )


@lru_cache(maxsize=1024)
def _rfc4514(name: x509.Name) -> str:
    return name.rfc4514_string()


def match_pins(pins: Sequence[Pin], chain: Sequence[ChainEntry]) -> tuple[Match, ...]:
    """Every pin whose key is in the chain, at the level of the first certificate holding it."""
    level_of: dict[str, Level] = {}
    for entry in chain:
        level_of.setdefault(entry.sha256, entry.level)
    return tuple(
        Match(pin.sha256, pin.label, level_of[pin.sha256], pin.backup)
        for pin in pins
        if pin.sha256 in level_of
    )


def certificate_hashes(
    certs: Sequence[x509.Certificate], chain: Sequence[ChainEntry]
) -> dict[str, ChainEntry]:
    """base64 SHA-256 of each whole certificate (what browsers and openssl show as its
    fingerprint): pinned by mistake, it never matches, as apps hash the public key."""

    return {
        base64.b64encode(hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()).decode(
            "ascii"
        ): entry
        for cert, entry in zip(certs, chain, strict=True)
    }


def pin_problems(
    domain: Domain,
    chain: Sequence[ChainEntry],
    matched: Sequence[Match],
    at: dt.datetime,
    gap: BackupGap | None = None,
    certificate_pins: Mapping[str, ChainEntry] | None = None,
) -> list[Finding]:
    """`gap`: the domain has no backup as `build` counts it (pingen.judge.offline.backup_gap).
    `certificate_pins`: the chain's certificate hashes (see certificate_hashes)."""
    if not matched:
        return [_no_live_match(domain, chain, certificate_pins or {})]
    problems = [_backup_live(match) for match in matched if match.backup]
    if len(matched) == len(domain.pins):
        problems.append(_no_backup(domain))
    elif gap is not None:
        problems.append(_no_backup_offline(domain, gap))
    if all(match.level is Level.LEAF for match in matched):
        problem = _leaf_only(domain, chain[0], matched)
        if problem is not None:
            problems.append(problem)
    return problems


def _pin_name(label: str | None, sha256: str) -> str:
    return f"'{label}' ({sha256})" if label else sha256


def _untrusted(reason: str) -> Finding:
    return UNTRUSTED_CHAIN.finding(
        f"the served chain does not verify: {reason}. Apps would refuse this server "
        "whatever the pins; fix the server's certificate chain (or `trust.ca_file`) first",
    )


def _no_live_match(
    domain: Domain, chain: Sequence[ChainEntry], certificate_pins: Mapping[str, ChainEntry]
) -> Finding:
    keys = "; ".join(f"{e.level.value} {e.name} {e.sha256}" for e in chain)
    ca = next((e for e in reversed(chain) if e.level is Level.ROOT), chain[-1])
    mistaken = [
        (pin, certificate_pins[pin.sha256]) for pin in domain.pins if pin.sha256 in certificate_pins
    ]
    hint = "".join(
        f". {_pin_name(pin.label, pin.sha256)} is the SHA-256 of the whole {entry.level.value} "
        f"certificate ({entry.name}), its fingerprint, not of its public key: pin "
        f"`sha256: {entry.sha256}` instead (`pingen pin` prints it)"
        for pin, entry in mistaken
    )
    return NO_LIVE_MATCH.finding(
        f"none of the {len(domain.pins)} pins matches a key of the live chain ({keys}): "
        f"shipping this set bricks the app today. Pin a key that is served, e.g. the "
        f"{ca.level.value} `sha256: {ca.sha256}` ({ca.name}), and keep a backup pin{hint}",
    )


def _backup_live(match: Match) -> Finding:
    return BACKUP_LIVE.finding(
        f"pin {_pin_name(match.label, match.sha256)} is marked `backup` but is served now "
        f"as the {match.level.value} key: a backup must be a key held offline for the next "
        "rotation. Remove `backup: true` and add a real backup (`pingen keygen NAME`)",
    )


def _no_backup(domain: Domain) -> Finding:
    return NO_BACKUP.finding(
        f"all {len(domain.pins)} pins are keys of the live chain, so one key change breaks "
        "the app. Add a backup pin that is not served: a key held offline "
        "(`pingen keygen NAME`) or the root of a second CA",
    )


def _no_backup_offline(domain: Domain, gap: BackupGap) -> Finding:
    """Some pins are not served, but none is a backup as `build` and `diff` count one: a
    key marked `backup: true`, or a second CA's root. A second pin of the serving CA
    is lost with that CA."""
    who = (
        f"every pin of a known CA belongs to {gap.operator_name}"
        if gap.operator_name
        else "pingen's CA catalog knows none of these keys"
    )
    return NO_BACKUP.finding(
        f"no pin is marked `backup: true` and {who}, so the pins not served today are no "
        "proven way out if the live key or its CA must be replaced. Add a backup pin: a key "
        "held offline (`pingen keygen NAME`) or the root of a second CA, with `backup: true`",
    )


def _leaf_only(domain: Domain, leaf: ChainEntry, matched: Sequence[Match]) -> Finding | None:
    leaf_expiry = leaf.not_after.date()
    if domain.expires is not None and leaf_expiry >= domain.expires:
        return None  # the pin set ends first: the leaf key outlives it
    until = "never expires" if domain.expires is None else f"expires {domain.expires}"
    pins = ", ".join(_pin_name(m.label, m.sha256) for m in matched)
    return LEAF_ONLY.finding(
        f"only the leaf key matches ({pins}); the leaf certificate expires on "
        f"{leaf_expiry.isoformat()} but the pin set {until}: unless the server keeps its "
        "key at renewal, the app breaks then. Pin the issuing intermediate or the root too",
    )


def _key_mismatches(domain: Domain, chain: Sequence[ChainEntry]) -> list[Finding]:
    """A `key:` the live key of the same hash contradicts: TrustKit's checks at build
    relied on it."""
    live = {entry.sha256: entry.key for entry in chain if entry.key is not None}
    return [
        KEY_MISMATCH.finding(
            f"pin {_pin_name(pin.label, pin.sha256)} says `key: {pin.key.name}`, but the live "
            f"key with that hash is {live[pin.sha256]}: write `key: {live[pin.sha256].name}` "
            "(build judges what TrustKit can hash from it)",
        )
        for pin in domain.pins
        if pin.key is not None
        and pin.sha256 in live
        and _same_type(pin.key) != _same_type(live[pin.sha256])
    ]


def _same_type(key: KeyType) -> tuple[str, int | None, str | None]:
    """A key type without the RSA exponent, which `key:` cannot state."""
    return key.algorithm, key.bits, key.curve


def _trustkit_problems(
    domain: Domain, chain: Sequence[ChainEntry], matched: Sequence[Match]
) -> list[Finding]:
    """What TrustKit's own pin check (pingen.render.trustkit_rules.check_chain) does with this
    chain, where it differs from pingen's matching."""
    from pingen.render import trustkit_rules

    keys = [entry.key for entry in chain if entry.key is not None]
    if len(keys) != len(chain):
        return []
    check = trustkit_rules.check_chain(
        [(entry.sha256, key) for entry, key in zip(chain, keys, strict=True)],
        (pin.sha256 for pin in domain.pins),
    )
    if check.stopped_at is not None:
        entry, key = chain[check.stopped_at], keys[check.stopped_at]
        return [
            TRUSTKIT_UNHASHABLE.finding(
                f"TrustKit (the iOS side of this config's trustkit/json outputs) checks the chain "
                f"from the root down and cannot hash the {key} key of the {entry.level.value} "
                f"{entry.name} before it reaches a pinned key: it stops there and blocks the "
                "connection, even with `enforce: false`. Pin a key above it in the chain, or "
                "serve a certificate with an RSA-2048/3072/4096 or EC P-256/P-384 key",
            )
        ]
    if check.matched is None and matched:
        names = ", ".join(_pin_name(m.label, m.sha256) for m in matched)
        return [
            TRUSTKIT_UNHASHABLE.finding(
                f"TrustKit (the iOS side of this config's trustkit/json outputs) matches none of "
                f"the pins verify matches ({names}): it hashes RSA keys under a header written "
                "for the exponent 65537, and these keys have another one. Pin another key of "
                "the chain",
            )
        ]
    return []


def _urlsession_problems(chain: Sequence[ChainEntry], matched: Sequence[Match]) -> list[Finding]:
    """The urlsession output's Swift skips a certificate whose key type it has no SPKI header
    for (pingen.render.urlsession.SPKI_HEADERS): when every key verify matches is such a
    key, the app matches none and refuses the server."""
    from pingen.render.urlsession import hashes

    keys = {entry.sha256: entry.key for entry in chain}
    unhashable = [m for m in matched if not hashes(keys.get(m.sha256))]
    if not matched or len(unhashable) < len(matched):
        return []
    names = ", ".join(f"{_pin_name(m.label, m.sha256)} ({keys[m.sha256]})" for m in matched)
    return [
        URLSESSION_UNHASHABLE.finding(
            f"the urlsession output's Swift cannot hash the keys verify matches ({names}): it "
            "hashes RSA 2048/3072/4096 with exponent 65537 and EC P-256/P-384/P-521 only, so the "
            "app refuses this chain. Pin another key of the chain, or serve one of those types",
        )
    ]


def _expiry_problems(domain: Domain, at: dt.datetime) -> list[Finding]:
    if domain.expires is None:
        return []
    days = (domain.expires - at.date()).days
    if days > EXPIRES_SOON_DAYS:
        return []
    if days < 0:
        when = f"expired on {domain.expires} ({-days} days ago): apps no longer pin this domain"
    else:
        when = f"expires on {domain.expires}, in {days} days: after it apps stop pinning"
    return [
        EXPIRES_SOON.finding(
            f"the pin set {when}. Set a later `expires` and ship an app update before then",
        )
    ]


def _backup_gap(domain: Domain, catalog: Path | None) -> BackupGap | None:

    return backup_gap(domain, load_catalog(catalog))


def _survivability(
    domain: Domain, verified: Sequence[x509.Certificate], at: dt.datetime, catalog: Path | None
) -> list[Finding]:
    """The CA catalog's codes: will the pin set survive renewals, rotations, new roots?"""

    return judge_survivability(domain, list(verified), at, load_catalog(catalog))
