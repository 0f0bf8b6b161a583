"""The judgement that needs no network: what the pins and `provider:` alone tell.

    judge_offline(config, at) -> OfflineJudgement   # build (and so pre-commit)
    backup_gap(domain, catalog) -> BackupGap | None # build, verify and diff agree on it

`build` refuses (exit 2, at the pin or the domain) what is certain to break: a leaf pin
on a provider that makes a new key at every renewal, and a domain with no backup whose
pins all belong to one CA operator of the catalog (the opt-out is `allow_no_backup`).
It warns about what may break: no pin marked backup among keys the catalog does not
know, an expiry within 30 days, and the futures the CA catalog predicts without a live
chain. A backup is a pin marked `backup: true`, or pins of two CA operators of the
catalog (a second CA's root survives the loss of the first CA).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pingen.errors import ConfigError, Diagnostic
from pingen.judge.findings import (
    BACKUP_UNMARKED,
    BUILD_EXPIRES_SOON,
    CATALOG_FUTURE,
    EXPIRES_SOON_DAYS,
    LEAF_PIN_REKEYED,
    ONE_OPERATOR,
    Finding,
    Severity,
)
from pingen.judge.futures import Window, futures
from pingen.model import Domain, Level, Pin, PinSet, PinSource
from pingen.pki.catalog import load_catalog
from pingen.pki.providers import PROVIDERS

if TYPE_CHECKING:
    from pingen.model import Config, Domain, Pin
    from pingen.pki.catalog import Catalog, Operator
    from pingen.pki.providers import Provider

ROOTS_NAMED_AT_MOST = 8  # more roots than this: name the CAs and point at `suggest`


@dataclass(frozen=True)
class OfflineJudgement:
    findings: tuple[Finding, ...]  # of build's codes (pingen.judge.findings), at their place

    @property
    def errors(self) -> tuple[ConfigError, ...]:
        """Exit 2: certain to break."""
        return tuple(
            ConfigError(f.message, f.location)
            for f in self.findings
            if f.severity is Severity.ERROR
        )

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """May break; `build --strict` exits 1 on them."""
        return tuple(
            Diagnostic(f.message, f.location)
            for f in self.findings
            if f.severity is not Severity.ERROR
        )


def judge_offline(config: Config, at: dt.datetime) -> OfflineJudgement:
    """Every domain of `config`, judged as of `at` on its pins and provider alone."""

    catalog = load_catalog(config.trust.catalog)
    findings: list[Finding] = []
    for domain in config.domains:
        where = domain.location
        gap = backup_gap(domain, catalog)
        if gap is not None and gap.operator is not None:
            findings.append(
                ONE_OPERATOR.finding(no_backup_message(domain, gap, catalog), location=where)
            )
        elif gap is not None:
            findings.append(BACKUP_UNMARKED.finding(unknown_backup_message(domain), location=where))
        findings.extend(rekeyed_leaf_pins(domain, catalog))
        soon = expires_soon(domain, at.date())
        if soon is not None:
            findings.append(BUILD_EXPIRES_SOON.finding(soon, location=where))
        findings.extend(catalog_futures(domain, at, catalog))
    return OfflineJudgement(tuple(findings))


# -- a leaf pin on a provider that re-keys ------------------------------------------------


def rekeyed_leaf_pins(domain: Domain, catalog: Catalog) -> list[Finding]:
    """Live leaf pins where the platform makes a new key at every renewal: the next
    renewal (any day: the platform picks it) serves a key no app pins. A leaf pin
    marked `backup` is a key held offline, which the operator can deploy by uploading
    a certificate of their own, so it stays allowed."""

    provider = PROVIDERS.get(domain.provider or "")
    if provider is None or not provider.refuses_leaf_pins:
        return []
    return [
        LEAF_PIN_REKEYED.finding(
            _rekeyed_leaf_message(domain, pin, provider, catalog), location=pin.location
        )
        for pin in domain.pins
        if pin.level is Level.LEAF and not pin.backup
    ]


def _rekeyed_leaf_message(domain: Domain, pin: Pin, provider: Provider, catalog: Catalog) -> str:
    return (
        f"{pin_name(pin)} is a leaf pin, but {domain.host} has `provider: {provider.name}`: "
        f"{provider.description}. The next renewal (the platform picks the day) serves a "
        f"key no app pins, and the apps refuse {domain.host}. Pin the CA instead: "
        f"{pin_the_ca(domain.host, provider, catalog)}; keep a leaf key only as an "
        "offline `backup: true` pin"
    )


def pin_the_ca(host: str, provider: Provider, catalog: Catalog) -> str:
    """The advice for a provider that re-keys: the roots of every CA it may issue from."""
    roots = [root for op in provider.operators for root in catalog.roots_of(op)]
    suggest = f"`pingen suggest {host} --provider {provider.name}` prints them"
    if not roots:
        return f"the roots of the CA that issues for {host} ({suggest})"
    if len(roots) > ROOTS_NAMED_AT_MOST:
        cas = _names([_operator_name(op, catalog) for op in provider.operators])
        return f"the roots of every CA it may issue from, {cas} ({suggest})"
    return ", ".join(f"`root: {root.name}`" for root in roots) + f" ({suggest})"


# -- no backup ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupGap:
    """A domain without a backup: no pin marked `backup: true`, not two CA operators."""

    operator: str | None  # the one catalog operator its pins belong to; None: none known
    operator_name: str | None  # that operator's name, for people
    unknown: tuple[Pin, ...]  # pins whose key the catalog does not know


def backup_gap(domain: Domain, catalog: Catalog) -> BackupGap | None:
    """None when the domain has a backup, or opted out with `allow_no_backup: true`.

    Pins of a CA the catalog does not know, bare hashes of unknown keys and leaf keys do
    not count as a second CA: pingen cannot tell that they are one.
    """
    if domain.allow_no_backup or any(pin.backup for pin in domain.pins):
        return None
    operators = {pin.sha256: operator_of_pin(pin.sha256, catalog) for pin in domain.pins}
    known = set(operators.values()) - {None}
    if len(known) > 1:
        return None
    unknown = tuple(pin for pin in domain.pins if operators[pin.sha256] is None)
    operator = next(iter(known)) if known else None
    name = _operator_name(operator, catalog) if operator is not None else None
    return BackupGap(operator, name, unknown)


def operator_of_pin(sha256: str, catalog: Catalog) -> str | None:
    """The catalog operator whose root or intermediate holds this key."""
    root = catalog.root_of_pin(sha256)
    if root is not None:
        return root.operator
    intermediate = catalog.intermediate_of_pin(sha256)
    if intermediate is not None:
        family = catalog.family(intermediate.family)
        return family.operator if family is not None else None
    return None


def no_backup_message(domain: Domain, gap: BackupGap, catalog: Catalog) -> str:
    assert gap.operator is not None
    who = gap.operator_name
    others = (
        (
            f" ({_names([pin_name(p) for p in gap.unknown])}: not a key of a CA pingen's "
            "catalog knows, so not a second CA)"
        )
        if gap.unknown
        else ""
    )
    return (
        f"{domain.host} has no backup: no pin is marked `backup: true`, and every pin of a "
        f"known CA belongs to {who}{others}. If {who} stops issuing for {domain.host} (a CA "
        "switch, a distrust, a lost or compromised key), no key the apps accept is ready and "
        f"they refuse {domain.host} until an app update. Add a backup pin: "
        f"{_backup_advice(domain, gap.operator, catalog)} — or set `allow_no_backup: true` "
        "on the domain to accept that risk"
    )


def unknown_backup_message(domain: Domain) -> str:
    """No pin is marked backup, and the catalog knows none of the keys: one may be a key
    held offline or a second CA, but nothing says so."""
    return (
        f"{domain.host}: no pin is marked `backup: true`, and pingen's CA catalog knows none "
        "of its keys, so nothing shows a way out if the live key or its CA must be replaced. "
        "Mark the pin that is a key held offline or a second CA's root `backup: true` (or add "
        "one: `pingen keygen NAME`), or set `allow_no_backup: true` to accept the risk"
    )


def _backup_advice(domain: Domain, operator: str, catalog: Catalog) -> str:
    key = (
        "an offline key (`pingen keygen NAME`, pinned with `backup: true`; deployable as "
        "an uploaded certificate of your own)"
    )
    second = next(
        (
            root
            for op in catalog.operators
            if op.id != operator
            for root in catalog.roots_of(op.id)
            if not root.pending
        ),
        None,
    )
    if second is None:
        return key
    return (
        f"{key}, or the root of a second CA you could move to, e.g. "
        f"`root: {second.name}` with `backup: true`"
    )


def backup_step_note(host: str, hashes: Sequence[str], catalog: Catalog) -> str:
    """Why the backup step `init` and `suggest` print matters for pins `hashes` (none
    marked backup): what `build` says of them until it is done."""

    pins = tuple(Pin(sha256, PinSource.SHA256) for sha256 in hashes)
    gap = backup_gap(Domain(host, False, True, PinSet(pins, None)), catalog)
    if gap is None:
        return "recommended: the pins above span two CAs, and a key of your own outlives both"
    if gap.operator_name is not None:
        return (
            f"required: every pin above belongs to {gap.operator_name}, and `pingen "
            "build` refuses this domain without a backup"
        )
    return (
        "required: `pingen build` warns (and `--strict` fails) until a pin is marked `backup: true`"
    )


# -- expiry -------------------------------------------------------------------------------


def expires_soon(domain: Domain, today: dt.date) -> str | None:
    """The warning for a pin set that ends within 30 days of `today` (None: later)."""
    if domain.expires is None:
        return None
    days = (domain.expires - today).days
    if days > EXPIRES_SOON_DAYS:
        return None
    return (
        f"{domain.host}: the pin set expires on {domain.expires}, in {days} day(s): after it "
        "the apps stop pinning. Set a later `expires` and ship an app update before then"
    )


# -- futures the catalog predicts ---------------------------------------------------------


def catalog_futures(domain: Domain, at: dt.datetime, catalog: Catalog) -> list[Finding]:
    """The futures the CA catalog predicts over the set's window from the pins and the
    provider alone (pingen.judge.futures, with no served chain), each a warning at the domain.
    `build` cannot see which CA serves today, so even a future `verify` would call a
    fail is a warning here; its message says so."""

    found = futures(
        domain.pin_set,
        domain.provider,
        Window.of(at, domain.expires),
        catalog,
        None,
        host=domain.host,
    )
    certain = " (certain: verify fails on it)"
    return [
        CATALOG_FUTURE.finding(
            f"{domain.host}: {finding.code}"
            f"{certain if finding.severity is Severity.FAIL else ''}: "
            f"{finding.message}",
            location=domain.location,
        )
        for finding in found
    ]


# -- text ---------------------------------------------------------------------------------


def pin_name(pin: Pin) -> str:
    return f"pin '{pin.label}' ({pin.sha256})" if pin.label else f"pin {pin.sha256}"


def _operator_name(operator_id: str, catalog: Catalog) -> str:
    operator: Operator | None = catalog.operator(operator_id)
    return operator.name if operator is not None else operator_id


def _names(names: list[str]) -> str:
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
