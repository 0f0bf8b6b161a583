"""Survivability: will a pin set still match after the next renewal, rotation or new root?

`verify` answers "does a pin match the chain served now". This module judges the
futures a CA catalog makes predictable, each as a set of validation paths that a
client could build; a pin set survives a future when every path holds one of its pins:

- renewal with a new leaf key (who rotates keys: the domain's `provider:`),
- issuance from a sibling intermediate of the same CA and key type,
- a switch of key type (RSA <-> ECDSA), which swaps the intermediate family,
- devices trusting a next-generation root directly (the chain then stops there),
- other anchors a client can reach through cross-signs,
- another CA the provider may issue from.

Each failing future becomes one Problem whose message names the pins to add.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pingen.verdict import Problem, ProblemSeverity

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.catalog import Catalog, Family, Intermediate, NamedCert, Root
    from pingen.model import Domain
    from pingen.providers import Provider

LEAF_KEY_ROTATES = "leaf-key-rotates"
INTERMEDIATE_SIBLINGS = "intermediate-siblings"
KEY_TYPE_SWITCH = "key-type-switch"
NEXT_ROOT = "next-root"
ALTERNATE_PATH = "alternate-path"
CA_SWITCH = "ca-switch"  # not in PRODUCT.md's table: a provider that may issue from another CA

TRUSTED = "trusted"
PENDING = "pending"
EXTERNAL = "external"  # issuer of a cross-sign that is in neither store (older devices)


@dataclass(frozen=True)
class Step:
    name: str
    pin: str | None  # None: an external anchor whose key pingen does not hold


@dataclass(frozen=True)
class CandidatePath:
    """Intermediate first, anchor last (the leaf is not part of it)."""

    steps: tuple[Step, ...]
    status: str  # of the anchor: trusted, pending or external

    @property
    def pins(self) -> frozenset[str]:
        return frozenset(step.pin for step in self.steps if step.pin)

    @property
    def anchor(self) -> Step:
        return self.steps[-1]

    @property
    def fix(self) -> Step:
        """The pin that covers this path best: its anchor, or the last key pingen knows."""
        return next(step for step in reversed(self.steps) if step.pin)

    def __str__(self) -> str:
        return " ← ".join(step.name for step in self.steps)


@dataclass
class _Buckets:
    """Failing paths of the futures, sorted by the code that reports them."""

    siblings: dict[str, list[CandidatePath]] = field(default_factory=dict)
    key_type: dict[str, list[CandidatePath]] = field(default_factory=dict)
    other_key_type: str = ""
    next_root: list[CandidatePath] = field(default_factory=list)
    alternate: list[CandidatePath] = field(default_factory=list)


# -- paths from the catalog ------------------------------------------------------------


class PathFinder:
    def __init__(self, catalog: Catalog, at: dt.datetime) -> None:
        self.catalog = catalog
        self.at = at

    def of_intermediate(self, intermediate: Intermediate) -> list[CandidatePath]:
        first = Step(intermediate.name, intermediate.pin)
        paths: list[CandidatePath] = []
        for cert in intermediate.certs:
            if not cert.valid_at(self.at):
                continue
            root = self.catalog.root(cert.issuer_name)
            if root is not None:
                paths.extend(self.upward((first,), root, frozenset()))
        return _unique(paths)

    def of_root(self, root: Root) -> list[CandidatePath]:
        return self.upward((), root, frozenset())

    def upward(
        self, prefix: tuple[Step, ...], root: Root, seen: frozenset[str]
    ) -> list[CandidatePath]:
        steps = (*prefix, Step(root.name, root.pin))
        paths = [CandidatePath(steps, PENDING if root.pending else TRUSTED)]
        for cross in self.catalog.cross_signs_of(root.name):
            if not cross.usable_at(self.at) or cross.issuer in seen:
                continue
            issuer = self.catalog.root(cross.issuer)
            if issuer is not None:
                paths.extend(self.upward(steps, issuer, seen | {root.name}))
            else:
                paths.append(_external(steps, cross.issuer))
        return paths


def _external(steps: tuple[Step, ...], name: str) -> CandidatePath:
    from pingen.catalog import mozilla_roots_named

    known = mozilla_roots_named(name)
    if known:
        return CandidatePath((*steps, Step(name, known[0].pin)), TRUSTED)
    return CandidatePath((*steps, Step(name, None)), EXTERNAL)


def _unique(paths: Iterable[CandidatePath]) -> list[CandidatePath]:
    return list(dict.fromkeys(paths))


def paths_of_chain(chain: Sequence[NamedCert], catalog: Catalog) -> list[CandidatePath]:
    """Every prefix of a verified chain that ends at a key some store anchors at."""
    from pingen.catalog import mozilla_pins

    anchors = mozilla_pins()
    paths = []
    for end in range(1, len(chain)):
        cert = chain[end]
        root = catalog.root_of_pin(cert.pin)
        if root is None and cert.pin not in anchors:
            continue
        status = PENDING if root is not None and root.pending else TRUSTED
        name = root.name if root is not None else cert.name
        steps = (*(Step(c.name, c.pin) for c in chain[1:end]), Step(name, cert.pin))
        paths.append(CandidatePath(steps, status))
    return paths


# -- the judgement ---------------------------------------------------------------------


def judge_survivability(
    domain: Domain,
    verified_chain: list[x509.Certificate],
    at: dt.datetime,
    catalog: Catalog | None = None,
) -> list[Problem]:
    """Problems with the futures of `domain`'s pin set, judged as of `at`.

    `verified_chain` is leaf first, trust anchor last, as the resolver built it. Returns
    no problems when no pin matches the chain today (`no-live-match` says that).
    """
    from pingen.catalog import load_catalog, named
    from pingen.chain import as_utc

    if not verified_chain:
        return []
    chain = [named(cert, "chain") for cert in verified_chain]
    judgement = _Judgement(domain, chain, as_utc(at), catalog or load_catalog())
    return judgement.problems()


class _Judgement:
    def __init__(self, domain: Domain, chain: list[NamedCert], at: dt.datetime,
                 catalog: Catalog) -> None:
        from pingen.providers import PROVIDERS

        self.domain = domain
        self.chain = chain
        self.at = at
        self.catalog = catalog
        self.paths = PathFinder(catalog, at)
        self.pins = frozenset(domain.pin_set.hashes)
        self.provider: Provider | None = PROVIDERS.get(domain.provider or "")
        self.matched = [i for i, cert in enumerate(chain) if cert.pin in self.pins]
        self.intermediate = catalog.intermediate_of_pin(chain[1].pin) if len(chain) > 1 else None
        self.family = catalog.family(self.intermediate.family) if self.intermediate else None
        self.operator = self._operator()

    def _operator(self) -> str | None:
        if self.family is not None:
            return self.family.operator
        for cert in self.chain[1:]:
            root = self.catalog.root_of_pin(cert.pin)
            if root is not None:
                return root.operator
        return None

    @property
    def leaf_key_kept(self) -> bool:
        from pingen.providers import KeyRotation

        return self.provider is not None and self.provider.rotation is KeyRotation.NEVER

    def problems(self) -> list[Problem]:
        if not self.matched:
            return []
        if self.matched == [0]:
            rotates = self.leaf_key_rotates()
            if rotates is not None:
                # Every path-based future fails too; one message with the whole fix is clearer.
                return [rotates]
        buckets = _Buckets()
        self.same_key_type_futures(buckets)
        self.key_type_future(buckets)
        ca_switch = self.ca_switch_problem()
        return [*self.messages(buckets), *ca_switch]

    # -- leaf-key-rotates -------------------------------------------------------------
    def leaf_key_rotates(self) -> Problem | None:
        from pingen.providers import ROTATING_OPERATORS

        leaf = self.chain[0]
        if self.provider is not None:
            if self.leaf_key_kept:
                return None
            severity = (ProblemSeverity.FAIL if self.provider.refuses_leaf_pins
                        else ProblemSeverity.WARNING)
            why = f"provider {self.provider.name}: {self.provider.description}"
        elif self.operator in ROTATING_OPERATORS:
            severity = ProblemSeverity.WARNING
            issuer = self.intermediate.name if self.intermediate else leaf.issuer_name
            why = (f"{issuer} certificates come from clients and platforms that make a new "
                   "key at each renewal by default (certbot, Caddy, cert-manager, managed "
                   "platforms)")
        else:
            return None
        lifetime = leaf.not_after - leaf.not_before
        renewal = leaf.not_before + lifetime * 2 / 3
        return Problem(
            LEAF_KEY_ROTATES, severity,
            f"only the leaf key matches ({leaf.name}); {why}. The leaf expires "
            f"{leaf.not_after.date()}, and renewal comes earlier (around {renewal.date()}, "
            f"or any day the CA asks): then nothing matches. Add {self.durable_advice()}.",
        )

    def durable_advice(self) -> str:
        roots = [root for op in self.operators_in_play() for root in self.catalog.roots_of(op)]
        if not roots:
            roots_from_chain = [c for c in self.chain[1:] if c.pin not in self.pins]
            steps = [Step(c.name, c.pin) for c in roots_from_chain[-1:]]
            return _pins_text(steps, self.catalog) + " and an offline backup key (pingen keygen)"
        steps = [Step(root.name, root.pin) for root in roots if root.pin not in self.pins]
        return (_pins_text(steps, self.catalog) + " and an offline backup key (pingen keygen);"
                f" `pingen suggest {self.domain.host}` prints them")

    def operators_in_play(self) -> list[str]:
        operators = [self.operator] if self.operator else []
        if self.provider is not None:
            operators.extend(self.provider.operators)
        return list(dict.fromkeys(operators))

    # -- futures of the same key type: siblings, next roots, alternate paths -----------
    def same_key_type_futures(self, buckets: _Buckets) -> None:
        served = paths_of_chain(self.chain, self.catalog)
        if self.intermediate is not None:
            served += self.paths.of_intermediate(self.intermediate)
        self.sort_paths(self.chain[1].name if len(self.chain) > 1 else "", _unique(served),
                        buckets, keep_leaf=self.leaf_key_kept)
        if self.family is None or self.intermediate is None:
            return
        for family in self.active_families(self.family.operator, self.family.key_type):
            for sibling in family.intermediates:
                if sibling.pin != self.intermediate.pin and sibling.usable_at(self.at):
                    self.sort_paths(sibling.name, self.paths.of_intermediate(sibling), buckets,
                                    keep_leaf=self.leaf_key_kept)

    def sort_paths(self, name: str, paths: list[CandidatePath], buckets: _Buckets,
                   keep_leaf: bool) -> None:
        failing = self.failing(paths, keep_leaf)
        if not failing:
            return
        pending = [p for p in failing if p.status == PENDING]
        others = [p for p in failing if p.status != PENDING]
        buckets.next_root.extend(pending)
        covered = len(failing) < len(paths)
        if covered or name == (self.chain[1].name if len(self.chain) > 1 else None):
            buckets.alternate.extend(others)
        elif others:
            buckets.siblings.setdefault(name, []).extend(others)

    def active_families(self, operator: str, key_type: str | None = None) -> list[Family]:
        return [f for f in self.catalog.families_of(operator)
                if f.active and (key_type is None or f.key_type == key_type)]

    # -- key-type-switch ------------------------------------------------------------
    def key_type_future(self, buckets: _Buckets) -> None:
        if self.family is None:
            return
        for family in self.active_families(self.family.operator):
            if family.key_type == self.family.key_type:
                continue
            for intermediate in family.intermediates:
                if not intermediate.usable_at(self.at):
                    continue
                bad = self.failing(self.paths.of_intermediate(intermediate), keep_leaf=False)
                if bad:
                    buckets.key_type.setdefault(intermediate.name, []).extend(bad)
                    buckets.other_key_type = family.key_type

    # -- messages -------------------------------------------------------------------
    def messages(self, buckets: _Buckets) -> list[Problem]:
        problems = []
        if buckets.siblings:
            problems.append(self.siblings_message(buckets.siblings))
        if buckets.key_type:
            problems.append(self.key_type_message(buckets.key_type, buckets.other_key_type))
        if buckets.next_root:
            problems.append(self.next_root_message(_unique(buckets.next_root)))
        if buckets.alternate:
            paths = _unique(buckets.alternate)
            problems.append(Problem(
                ALTERNATE_PATH, ProblemSeverity.WARNING,
                f"a client can validate along {_paths_text(paths)}, and no pin is on "
                f"{'that path' if len(paths) == 1 else 'those paths'}. "
                f"Add {_fixes_text(paths, self.catalog)}.",
            ))
        return problems

    def siblings_message(self, siblings: dict[str, list[CandidatePath]]) -> Problem:
        assert self.family is not None
        paths = _unique(p for group in siblings.values() for p in group)
        operator = self.catalog.operator(self.family.operator)
        who = operator.name if operator else self.family.operator
        pinned = [c.name for c in self.chain[1:] if c.pin in self.pins
                  and self.catalog.intermediate_of_pin(c.pin) is not None]
        lead = f"{_names(pinned)} {'is' if len(pinned) == 1 else 'are'} pinned, but " if pinned \
            else ""
        return Problem(
            INTERMEDIATE_SIBLINGS, ProblemSeverity.WARNING,
            f"{lead}{who} issues {self.family.key_type.upper()} certificates from "
            f"{_names(list(siblings))} too, and the next certificate can come from any of "
            f"them ({_paths_text(paths)}): no pin is on those chains. "
            f"Add {_fixes_text(paths, self.catalog)} "
            f"(or every sibling: {_intermediates_text(list(siblings))}).",
        )

    def key_type_message(self, failing: dict[str, list[CandidatePath]], other: str) -> Problem:
        assert self.family is not None
        paths = _unique(p for group in failing.values() for p in group)
        why = (" (certbot 2.0 made ECDSA its default)"
               if other == "ecdsa" and self.family.operator == "letsencrypt" else "")
        return Problem(
            KEY_TYPE_SWITCH, ProblemSeverity.WARNING,
            f"the set covers only the {self.family.key_type.upper()} family; a switch to an "
            f"{other.upper()} key{why} moves issuance to {_names(list(failing))} "
            f"({_paths_text(paths)}), where no pin matches. "
            f"Add {_fixes_text(paths, self.catalog)}.",
        )

    def next_root_message(self, pending: list[CandidatePath]) -> Problem:
        roots = list(dict.fromkeys(p.anchor.name for p in pending))
        starts = list(dict.fromkeys(p.steps[0].name for p in pending))
        them = "it" if len(roots) == 1 else "them"
        return Problem(
            NEXT_ROOT, ProblemSeverity.WARNING,
            f"chains from {_names(starts)} reach a pinned root only through the cross-sign "
            f"of {_names(roots)}, which is not pinned ({_paths_text(pending)}); {_names(roots)} "
            f"{'is' if len(roots) == 1 else 'are'} not in device trust stores yet, and once "
            f"devices trust {them} directly the chain ends there and nothing matches. "
            f"Add {_fixes_text(pending, self.catalog)}.",
        )

    # -- ca-switch ------------------------------------------------------------------
    def ca_switch_problem(self) -> list[Problem]:
        if self.provider is None:
            return []
        failing: list[CandidatePath] = []
        uncovered: list[str] = []
        for operator_id in self.provider.operators:
            if operator_id == self.operator:
                continue
            bad = self.failing(self.operator_paths(operator_id), keep_leaf=False)
            if bad:
                operator = self.catalog.operator(operator_id)
                uncovered.append(operator.name if operator else operator_id)
                failing.extend(bad)
        if not failing:
            return []
        severity = (ProblemSeverity.FAIL if self.provider.automatic_ca_choice
                    else ProblemSeverity.WARNING)
        return [Problem(
            CA_SWITCH, severity,
            f"provider {self.provider.name} may issue from {_names(uncovered)}, and no pin "
            f"covers {'its' if len(uncovered) == 1 else 'their'} roots. "
            f"Add {_fixes_text(_unique(failing), self.catalog)}.",
        )]

    def operator_paths(self, operator_id: str) -> list[CandidatePath]:
        families = self.active_families(operator_id)
        paths = [p for f in families for i in f.intermediates if i.usable_at(self.at)
                 for p in self.paths.of_intermediate(i)]
        # Roots no shipped family reaches (e.g. SSL.com's) are anchors of their own.
        reached = {p.anchor.pin for p in paths}
        for root in self.catalog.roots_of(operator_id):
            if root.pin not in reached and root.cert.valid_at(self.at):
                paths.extend(self.paths.of_root(root)[:1])
        return _unique(paths)

    # -- shared -------------------------------------------------------------------
    def failing(self, paths: Iterable[CandidatePath], keep_leaf: bool) -> list[CandidatePath]:
        pins = self.pins
        if keep_leaf and self.chain[0].pin in pins:
            return []  # the leaf key stays, and it is pinned: every path holds it
        return [path for path in paths if not path.pins & pins]


# -- message text ----------------------------------------------------------------------


def _names(names: Sequence[str]) -> str:
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _paths_text(paths: Sequence[CandidatePath], limit: int = 4) -> str:
    shown = [str(p) for p in paths[:limit]]
    more = len(paths) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _intermediates_text(names: Sequence[str]) -> str:
    return ", ".join(f"`intermediate: {name}`" for name in names)


def _fixes_text(paths: Sequence[CandidatePath], catalog: Catalog) -> str:
    return _pins_text([p.fix for p in paths], catalog)


def _pins_text(steps: Sequence[Step], catalog: Catalog) -> str:
    lines = list(dict.fromkeys(pin_line(step.name, step.pin, catalog)
                               for step in steps if step.pin))
    return ", ".join(f"`{line}`" for line in lines)


def pin_line(name: str, pin: str | None, catalog: Catalog) -> str:
    """How pins.yaml names this key: `root: NAME` where the name resolves to it."""
    from pingen.catalog import lookup_intermediate, lookup_root
    from pingen.spki import pin_of_certificate

    for lookup, key in ((lookup_root, "root"), (lookup_intermediate, "intermediate")):
        try:
            if pin_of_certificate(lookup(name, catalog)) == pin:
                return f"{key}: {name}"
        except LookupError:
            continue
    return f"sha256: {pin}  # {name}"
