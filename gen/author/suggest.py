"""The most durable pin set for what a host serves: `pingen suggest`.

Durable means it survives every future the survivability judgement knows: new leaf keys,
sibling intermediates, a key-type switch, next-generation roots, cross-sign paths and
(with a provider) another CA. That is the roots of every family the host can be served
from, named so that pins.yaml stays readable (`root: ISRG Root X1`), plus an offline
backup key that the operator makes with `pingen keygen`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pingen.config.yamltext import (
    BACKUP_KEY_FOLDER,
    backup_key_name,
    backup_pin_entry,
    comment,
    comments,
    default_expiry,
    hash_pin_entry,
    indented,
    key_line,
    key_value,
    named_pin_entry,
)
from pingen.judge.offline import backup_step_note
from pingen.judge.survive import PathFinder, judge_survivability
from pingen.model import Domain, Level, Pin, PinSet, PinSource
from pingen.pki.catalog import (
    display_name,
    lookup_root,
    mozilla_pins,
    mozilla_roots,
    name_source,
    named,
)
from pingen.pki.chain import signed_by
from pingen.pki.providers import PROVIDERS
from pingen.spki import KeyType, key_type_of

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.judge.findings import Finding
    from pingen.judge.survive import CandidatePath
    from pingen.pki.catalog import Catalog, Intermediate, NamedCert, Root
    from pingen.pki.providers import Provider


class NoSuggestion(ValueError):
    """pingen cannot tell which root the chain leads to."""


@dataclass(frozen=True)
class SuggestedPin:
    source: str  # the pins.yaml key: "root", "intermediate" or "sha256"
    value: str  # what follows it: a name that resolves to the key, or the hash
    sha256: str
    name: str
    reason: str
    level: Level = Level.ROOT
    key: KeyType | None = None  # written as `key:` when the pin is a bare hash

    def entry(self) -> list[str]:
        """The pin as a pins.yaml list item; a bare hash carries its name and level."""
        if self.source != "sha256":
            return named_pin_entry(self.source, self.value)
        return hash_pin_entry(self.sha256, self.name, self.level, self.key)


@dataclass(frozen=True)
class Suggestion:
    host: str
    served_by: str  # who issued the served chain, for a person
    provider: str | None
    pins: tuple[SuggestedPin, ...]
    remaining: tuple[Finding, ...]  # what the judgement still says of this set (ideally none)
    catalogued: bool = True  # False: the serving CA is not in the catalog; pins are its anchors
    warning: str | None = None  # the chain's CA is not one the provider names
    backup_note: str = ""  # why the backup step matters for these pins (pingen.judge.offline)


def suggest(
    host: str,
    served: Sequence[x509.Certificate],
    at: dt.datetime,
    catalog: Catalog,
    provider: str | None = None,
    *,
    verified: bool = False,
    expires: dt.date | None = None,
) -> Suggestion:
    """Durable pins for `host`, whose server sends `served` (leaf first).

    `verified`: `served` is a verified chain whose last certificate is a trust anchor
    the caller chose (`--ca-file`, `pingen init`); a CA outside the catalog is pinned
    at that anchor. The CA that serves today is always covered, and with a provider
    every other CA it names. The set is judged over its window, from `at` to
    `expires` (default: a year on, as `pingen init` writes).
    """

    if not served:
        raise NoSuggestion("the chain holds no certificate")
    chain = [named(cert, "chain") for cert in served]
    intermediate = issuing_intermediate(chain, catalog)
    serving = serving_operator(chain, intermediate, catalog)
    facts = PROVIDERS.get(provider or "")
    if expires is None:
        expires = default_expiry(at.date())
    window = (at.date(), expires)
    pins = _operator_pins(serving, catalog, window) if serving else []
    catalogued = bool(pins)
    if not catalogued:  # today's CA is not in the catalog: pin the roots its chain reaches
        pins = _chain_anchor_pins(chain, catalog, verified)
    for operator in facts.operators if facts else ():
        pins += _operator_pins(operator, catalog, window)
    pins = list({pin.sha256: pin for pin in pins}.values())
    served_by = _served_by(chain, intermediate, serving, catalog)
    remaining = _judge(host, pins, served, at, catalog, provider, verified, expires)
    warning = _provider_warning(facts, serving, served_by, catalog) if facts else None
    note = backup_step_note(host, [pin.sha256 for pin in pins], catalog)
    return Suggestion(
        host, served_by, provider, tuple(pins), tuple(remaining), catalogued, warning, note
    )


def serving_operator(
    chain: Sequence[NamedCert], intermediate: Intermediate | None, catalog: Catalog
) -> str | None:
    """The catalog operator whose CA issued the chain: the family of its intermediate,
    else the catalog root the chain holds or names as the issuer of its top."""
    if intermediate is not None:
        family = catalog.family(intermediate.family)
        if family is not None:
            return family.operator
    for cert in chain[1:]:
        root = catalog.root_of_pin(cert.pin)
        if root is not None:
            return root.operator
    top = chain[-1]
    for root in catalog.roots_named(top.issuer_name):
        if signed_by(top.cert, root.cert.cert):
            return root.operator
    return None


def _operator_pins(
    operator: str, catalog: Catalog, window: tuple[dt.date, dt.date]
) -> list[SuggestedPin]:
    """The operator's roots valid at some day of the window (a root made for the next
    generation counts before its chains are served)."""
    start, end = window
    return [
        _root_pin(root, catalog, max(root.cert.not_before, _midnight(start)))
        for root in catalog.roots_of(operator)
        if root.cert.not_before.date() <= end and start <= root.cert.not_after.date()
    ]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _provider_warning(
    facts: Provider, serving: str | None, served_by: str, catalog: Catalog
) -> str | None:
    if not facts.operators or serving in facts.operators:
        return None
    named_cas = ", ".join(_operator_name(op, catalog) for op in facts.operators)
    today = _operator_name(serving, catalog) if serving else served_by
    return (
        f"the chain's CA, {today}, is not one that provider {facts.name} names "
        f"({named_cas}): a wrong --provider, or the setup changed? The pins below "
        "cover both"
    )


def _operator_name(operator_id: str, catalog: Catalog) -> str:
    operator = catalog.operator(operator_id)
    return operator.name if operator else operator_id


def issuing_intermediate(chain: Sequence[NamedCert], catalog: Catalog) -> Intermediate | None:
    """The catalog intermediate whose key signed the leaf (the chain may omit it)."""
    leaf = chain[0]
    for intermediate in catalog.intermediates_named(leaf.issuer_name):
        for cert in intermediate.certs:
            if signed_by(leaf.cert, cert.cert):
                return intermediate
    if len(chain) > 1:
        return catalog.intermediate_of_pin(chain[1].pin)
    return None


def _root_pin(root: Root, catalog: Catalog, at: dt.datetime) -> SuggestedPin:

    finder = PathFinder(catalog, at)
    direct: list[str] = []
    crossed: dict[str, list[str]] = {}
    for family in catalog.families:
        if not family.active:
            continue
        for intermediate in family.intermediates:
            if not intermediate.usable_at(at):
                continue
            for path in finder.of_intermediate(intermediate):
                _note_path(path, root, intermediate.name, direct, crossed)
    source, value = _source(root.name, root.pin, catalog)
    return SuggestedPin(
        source,
        value,
        root.pin,
        root.name,
        _reason(root, catalog, direct, crossed),
        key=key_type_of(root.cert.cert.public_key()),
    )


def _source(name: str, pin: str, catalog: Catalog) -> tuple[str, str]:
    """(`root`, NAME) where the name resolves to this key, else (`sha256`, the hash)."""

    source = name_source(name, pin, catalog)
    return (source, name) if source else ("sha256", pin)


def _note_path(
    path: CandidatePath, root: Root, name: str, direct: list[str], crossed: dict[str, list[str]]
) -> None:
    if path.anchor.pin != root.pin:
        return
    if len(path.steps) == 2:
        direct.append(name)
    else:
        crossed.setdefault(path.steps[1].name, []).append(name)


def _reason(root: Root, catalog: Catalog, direct: list[str], crossed: dict[str, list[str]]) -> str:
    parts = []
    if direct:
        parts.append(f"anchors {_ranges(direct)} directly")
    for via, names in crossed.items():
        parts.append(f"{_ranges(names)} through the cross-sign of {via}")
    if not parts:
        parts.append(f"a root {_operator_name(root.operator, catalog)} may issue under")
    text = "; ".join(parts)
    if root.pending:
        text += (
            "; not in device trust stores yet: pinned now, chains still match once "
            "devices trust it directly"
        )
    return text


def _ranges(names: Sequence[str]) -> str:
    """ "R10, R11, R12" -> "R10-R12" where names share a prefix and count up."""

    groups: list[list[tuple[str, int, str]]] = []
    for name in dict.fromkeys(names):
        match = re.fullmatch(r"(.*?)(\d+)", name)
        if match is None:
            groups.append([(name, -1, name)])
            continue
        prefix, number = match.group(1), int(match.group(2))
        last = groups[-1][-1] if groups else None
        if last is not None and last[0] == prefix and last[1] == number - 1:
            groups[-1].append((prefix, number, name))
        else:
            groups.append([(prefix, number, name)])
    shown = [g[0][2] if len(g) == 1 else f"{g[0][2]}\u2013{g[-1][2]}" for g in groups]
    return ", ".join(shown)


def _chain_anchor_pins(
    chain: Sequence[NamedCert], catalog: Catalog, verified: bool
) -> list[SuggestedPin]:
    """For a CA the catalog does not describe: the roots the served chain reaches (a
    verified chain's own anchor, else certifi's Mozilla roots it holds or names)."""

    anchors = mozilla_pins()
    top = chain[-1]
    found = [top] if verified else [cert for cert in chain[1:] if cert.pin in anchors]
    if top.cert.subject != top.cert.issuer and not found:
        found = [
            root
            for root in mozilla_roots()
            if root.cert.subject == top.cert.issuer and signed_by(top.cert, root.cert)
        ]
    if not found:
        raise NoSuggestion(
            f"the chain ends at {top.name}, issued by {top.issuer_name}, which is neither in "
            "certifi's Mozilla store nor in the CA catalog; pass its root with --ca-file"
        )
    reason = (
        "a root the served chain reaches; pingen's catalog does not describe this CA, "
        "so its other roots and families are unknown"
    )
    level = Level.ROOT if len(chain) > 1 else Level.LEAF
    return [
        SuggestedPin(
            *_source(cert.name, cert.pin, catalog),
            cert.pin,
            cert.name,
            reason,
            level,
            key_type_of(cert.cert.public_key()),
        )
        for cert in found
    ]


def _served_by(
    chain: Sequence[NamedCert],
    intermediate: Intermediate | None,
    serving: str | None,
    catalog: Catalog,
) -> str:
    if intermediate is None:
        if serving is None:
            return f"{chain[0].issuer_name} (not in pingen's CA catalog)"
        return (
            f"{chain[0].issuer_name} (an intermediate pingen's CA catalog does not list), "
            f"{_operator_name(serving, catalog)}"
        )
    family = catalog.family(intermediate.family)
    operator = catalog.operator(family.operator) if family else None
    return f"{intermediate.name}, {intermediate.family}" + (
        f", {operator.name}" if operator else ""
    )


def _judge(
    host: str,
    pins: Sequence[SuggestedPin],
    served: Sequence[x509.Certificate],
    at: dt.datetime,
    catalog: Catalog,
    provider: str | None,
    verified: bool,
    expires: dt.date,
) -> list[Finding]:
    """What the survivability judgement says of the suggested set, on the served chain."""

    model_pins = tuple(Pin(p.sha256, PinSource(p.source), p.name, p.level) for p in pins)
    domain = Domain(host, False, True, PinSet(model_pins, expires), provider=provider)
    chain = list(served)
    top = chain[-1]
    if not verified and top.subject != top.issuer:
        # Judge the chain as a client completes it: up to the root it names, if known.
        try:
            root = lookup_root(_issuer_name(top), catalog)
        except LookupError:
            root = None
        if root is not None and signed_by(top, root):
            chain.append(root)
    return judge_survivability(domain, chain, at, catalog)


def _issuer_name(cert: x509.Certificate) -> str:

    return display_name(cert.issuer)


def render_yaml(suggestion: Suggestion, backup_name: str | None = None) -> str:
    """pins.yaml lines for the suggestion, each pin with its reason as a comment."""

    host = suggestion.host
    backup = backup_name or backup_key_name(host)  # the name `pingen init` suggests too
    lines = [comment(f"pingen suggest {host}: served by {suggestion.served_by}")]
    if suggestion.warning:
        lines.append(comment(f"warning: {suggestion.warning}"))
    facts = PROVIDERS.get(suggestion.provider or "")
    if facts is not None:
        lines.append(comment(f"provider {facts.name}: {facts.description}"))
    lines += [
        "# Roots survive new leaf keys, intermediate rotation, a key-type switch and new",
        "# roots; add the backup key below before you ship. Paste under `domains:`.",
        key_line(host),
    ]
    if suggestion.provider:
        lines.append("  " + key_value("provider", suggestion.provider))
    lines.append("  " + key_line("pins"))
    lines += pin_lines(suggestion, "    ")
    backup_step = (
        f"An offline backup key, {suggestion.backup_note}. It is the way out if you must "
        "leave these CAs. Make it with"
    )
    lines += indented(
        "    ",
        [
            *comments(backup_step, 80),
            comment(f"  pingen keygen {backup} --dir {BACKUP_KEY_FOLDER}"),
            comment("keep the private key off every server, then uncomment:"),
            *backup_pin_entry(backup),
        ],
    )
    lines += open_lines(suggestion, "")
    return "\n".join(lines) + "\n"


def pin_lines(suggestion: Suggestion, indent: str) -> list[str]:
    """Each suggested pin as a pins.yaml list item, its reason in a comment above it."""
    lines = []
    for pin in suggestion.pins:
        lines += indented(indent, [comment(pin.reason), *pin.entry()])
    return lines


def open_lines(suggestion: Suggestion, indent: str) -> list[str]:
    """What the judgement still says of the suggested set, as comments."""
    return [
        indent + comment(f"still open ({problem.code}): {problem.message}")
        for problem in suggestion.remaining
    ]
