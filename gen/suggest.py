"""The most durable pin set for what a host serves: `pingen suggest`.

Durable means it survives every future the survivability judgement knows: new leaf keys,
sibling intermediates, a key-type switch, next-generation roots, cross-sign paths and
(with a provider) another CA. That is the roots of every family the host can be served
from, named so that pins.yaml stays readable (`root: ISRG Root X1`), plus an offline
backup key that the operator makes with `pingen keygen`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pingen.chain import signed_by

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.catalog import Catalog, Intermediate, NamedCert, Root
    from pingen.survive import CandidatePath
    from pingen.verdict import Problem


class NoSuggestion(ValueError):
    """pingen cannot tell which root the chain leads to."""


@dataclass(frozen=True)
class SuggestedPin:
    line: str  # the pin as pins.yaml writes it: "root: ISRG Root X1" or "sha256: ..."
    sha256: str
    name: str
    reason: str


@dataclass(frozen=True)
class Suggestion:
    host: str
    served_by: str  # who issued the served chain, for a person
    provider: str | None
    pins: tuple[SuggestedPin, ...]
    remaining: tuple[Problem, ...]  # what the judgement still says of this set (ideally none)


def suggest(
    host: str,
    served: Sequence[x509.Certificate],
    at: dt.datetime,
    catalog: Catalog,
    provider: str | None = None,
) -> Suggestion:
    """Durable pins for `host`, whose server sends `served` (leaf first)."""
    from pingen.catalog import named
    from pingen.providers import PROVIDERS

    if not served:
        raise NoSuggestion("the chain holds no certificate")
    chain = [named(cert, "chain") for cert in served]
    intermediate = issuing_intermediate(chain, catalog)
    family = catalog.family(intermediate.family) if intermediate else None
    operators = [family.operator] if family else []
    facts = PROVIDERS.get(provider or "")
    if facts is not None:
        operators.extend(facts.operators)
    operators = list(dict.fromkeys(operators))
    roots = [root for op in operators for root in catalog.roots_of(op) if root.cert.valid_at(at)]
    pins = [_root_pin(root, catalog, at) for root in roots]
    if not pins:
        pins = _chain_anchor_pins(chain, catalog)
    pins = list({pin.sha256: pin for pin in pins}.values())
    served_by = _served_by(chain, intermediate, catalog)
    remaining = _judge(host, pins, served, at, catalog, provider)
    return Suggestion(host, served_by, provider, tuple(pins), tuple(remaining))


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
    from pingen.survive import PathFinder, pin_line

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
    return SuggestedPin(pin_line(root.name, root.pin, catalog), root.pin, root.name,
                        _reason(root, catalog, direct, crossed))


def _note_path(path: CandidatePath, root: Root, name: str, direct: list[str],
               crossed: dict[str, list[str]]) -> None:
    if path.anchor.pin != root.pin:
        return
    if len(path.steps) == 2:
        direct.append(name)
    else:
        crossed.setdefault(path.steps[1].name, []).append(name)


def _reason(root: Root, catalog: Catalog, direct: list[str],
            crossed: dict[str, list[str]]) -> str:
    parts = []
    if direct:
        parts.append(f"anchors {_ranges(direct)} directly")
    for via, names in crossed.items():
        parts.append(f"{_ranges(names)} through the cross-sign of {via}")
    operator = catalog.operator(root.operator)
    who = operator.name if operator else root.operator
    if not parts:
        parts.append(f"a root {who} may issue under")
    text = "; ".join(parts)
    if root.pending:
        text += ("; not in device trust stores yet: pinned now, chains still match once "
                 "devices trust it directly")
    return text


def _ranges(names: Sequence[str]) -> str:
    """"R10, R11, R12" -> "R10-R12" where names share a prefix and count up."""
    import re

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


def _chain_anchor_pins(chain: Sequence[NamedCert], catalog: Catalog) -> list[SuggestedPin]:
    """For a CA the catalog does not describe: the roots the served chain reaches."""
    from pingen.catalog import mozilla_pins, mozilla_roots
    from pingen.survive import pin_line

    anchors = mozilla_pins()
    found = [cert for cert in chain[1:] if cert.pin in anchors]
    top = chain[-1]
    if top.cert.subject != top.cert.issuer and not found:
        found = [root for root in mozilla_roots()
                 if root.cert.subject == top.cert.issuer and signed_by(top.cert, root.cert)]
    if not found:
        raise NoSuggestion(
            f"the chain ends at {top.name}, issued by {top.issuer_name}, which is neither in "
            "certifi's Mozilla store nor in the CA catalog; pin that root with `file:`"
        )
    reason = ("a root the served chain reaches; pingen's catalog does not describe this CA, "
              "so its other roots and families are unknown")
    return [SuggestedPin(pin_line(cert.name, cert.pin, catalog), cert.pin, cert.name, reason)
            for cert in found]


def _served_by(chain: Sequence[NamedCert], intermediate: Intermediate | None,
               catalog: Catalog) -> str:
    if intermediate is None:
        return f"{chain[0].issuer_name} (not in pingen's CA catalog)"
    family = catalog.family(intermediate.family)
    operator = catalog.operator(family.operator) if family else None
    return f"{intermediate.name}, {intermediate.family}" + (
        f", {operator.name}" if operator else ""
    )


def _judge(host: str, pins: Sequence[SuggestedPin], served: Sequence[x509.Certificate],
           at: dt.datetime, catalog: Catalog, provider: str | None) -> list[Problem]:
    """What the survivability judgement says of the suggested set, on the served chain."""
    from pingen.catalog import lookup_root
    from pingen.model import Domain, Level, Pin, PinSet, PinSource
    from pingen.survive import judge_survivability

    model_pins = tuple(Pin(p.sha256, PinSource.ROOT, p.name, Level.ROOT) for p in pins)
    domain = Domain(host, False, True, PinSet(model_pins, None), provider=provider)
    chain = list(served)
    top = chain[-1]
    if top.subject != top.issuer:
        # Judge the chain as a client completes it: up to the root it names, if known.
        try:
            root = lookup_root(_issuer_name(top), catalog)
        except LookupError:
            root = None
        if root is not None and signed_by(top, root):
            chain.append(root)
    return judge_survivability(domain, chain, at, catalog)


def _issuer_name(cert: x509.Certificate) -> str:
    from pingen.catalog import display_name

    return display_name(cert.issuer)


def render_yaml(suggestion: Suggestion, backup_name: str | None = None) -> str:
    """pins.yaml lines for the suggestion, each pin with its reason as a comment."""
    from pingen.init import backup_key_name
    from pingen.providers import PROVIDERS

    host = suggestion.host
    backup = backup_name or backup_key_name(host)  # the name `pingen init` suggests too
    lines = [
        f"# pingen suggest {host}: served by {suggestion.served_by}",
    ]
    facts = PROVIDERS.get(suggestion.provider or "")
    if facts is not None:
        lines.append(f"# provider {facts.name}: {facts.description}")
    lines += [
        "# Roots survive new leaf keys, intermediate rotation, a key-type switch and new",
        "# roots; add the backup key below before you ship. Paste under `domains:`.",
        f"{host}:",
    ]
    if suggestion.provider:
        lines.append(f"  provider: {suggestion.provider}")
    lines.append("  pins:")
    for pin in suggestion.pins:
        lines.append(f"    # {pin.reason}")
        lines.append(f"    - {pin.line}")
    lines += [
        "    # An offline backup key: the way out if you must leave these CAs. Make it with",
        f"    #   pingen keygen {backup} --dir keys",
        "    # keep the private key off every server, then uncomment:",
        f"    # - file: keys/{backup}.pub.pem",
        "    #   label: offline backup key",
        "    #   backup: true",
    ]
    for problem in suggestion.remaining:
        lines.append(f"# still open ({problem.code}): {problem.message}")
    return "\n".join(lines) + "\n"
