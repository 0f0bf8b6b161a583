"""What a judgement starts from: the pin set, its window, the provider and the chain served
today (if any), and what follows from them before any future is named.

    Context(pins, expires, provider, start, catalog, chain, leaf, leaf_type)
    .judged        # False: a served chain no pin matches (`no-live-match` says it)
    .units         # the units a next leaf may come from, the served one first
    .covered(unit, day), .active(unit), .reference_pairs, .operators

With a served chain, today's CA, key type and intermediate are the chain's; without one
(`build`), the (CA, key type) pairs the pins cover are the reference.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING

from pingen.judge.futures.paths import FAR, Anchor, Path, Span, Step, Unit, index_of
from pingen.pki.catalog import mozilla_pins
from pingen.pki.providers import ROTATING_OPERATORS, KeyRotation

if TYPE_CHECKING:
    from pingen.judge.findings import Code
    from pingen.judge.futures.gaps import Failure, Gap
    from pingen.pki.catalog import Catalog, NamedCert
    from pingen.pki.providers import Provider


class Context:
    def __init__(
        self,
        pins: frozenset[str],
        expires: dt.date | None,
        provider: Provider | None,
        start: dt.date,
        catalog: Catalog,
        chain: tuple[NamedCert, ...] | None,
        leaf: NamedCert | None = None,
        leaf_type: str = "",
    ) -> None:
        """`chain`: the served chain's CA certificates (intermediate first, anchor last);
        `leaf`: the served leaf when it is pinned; `leaf_type`: its key type."""
        self.pins = pins
        self.expires = expires
        self.provider = provider
        self.start = start
        self.catalog = catalog
        self.index = index_of(catalog)
        self.chain = chain
        self.leaf = leaf
        self.leaf_type = leaf_type
        self.ca_keys, self.ca_end = self.pinned_ca_keys()
        self.end = expires or (self.ca_end if self.ca_keys else FAR)
        # After the pinned keys' last certificate nothing matches: `pins-expire` says so,
        # and the futures beyond it have no other cause.
        last = min(self.end, self.ca_end) if self.ca_keys else self.end
        self.window = Span(start, max(start, last))
        self.served_unit: Unit | None = None
        self.operator: str | None = None  # today's CA
        self.key_type: str | None = None  # today's key type
        self.ca_matched = chain is not None and bool(pins & {c.pin for c in chain})
        self.claims: dict[Code, list[Failure]] = {}  # the units' claimed gaps, once each
        if self.judged and chain is not None:
            self.read_served()

    @property
    def judged(self) -> bool:
        """Without a chain, always; with one, when a pin is in it (a CA key, or the leaf)."""
        if self.chain is None:
            return True
        return bool(self.chain) and (self.ca_matched or self.leaf is not None)

    @property
    def leaf_decides(self) -> bool:
        """The served leaf is pinned and decides alone: its key is kept at renewal (every
        future holds it; a backup covers the rest), or no CA key is pinned beside it."""
        return (
            self.chain is not None
            and self.leaf is not None
            and (self.leaf_key_kept() or not self.ca_matched)
        )

    @property
    def leaf_alone_rotates(self) -> bool:
        """Only the served leaf is pinned, and its key is replaced at renewal: that renewal
        comes first, so it is the one future judged."""
        return self.leaf_decides and not self.leaf_key_kept()

    # -- the served chain ----------------------------------------------------------------
    def read_served(self) -> None:
        assert self.chain is not None
        intermediate = self.catalog.intermediate_of_pin(self.chain[0].pin)
        family = self.catalog.family(intermediate.family) if intermediate else None
        paths = self.chain_paths()
        if family is not None and intermediate is not None:
            self.operator, self.key_type = family.operator, family.key_type
            known = self.index.by_pin.get(intermediate.pin)
            base = known.paths if known else ()
            issues = (
                Span(min(self.start, known.issues.start), known.issues.end)
                if known
                else self.window
            )
            self.served_unit = Unit(
                intermediate.name,
                family.operator,
                family.key_type,
                issues,
                tuple(dict.fromkeys((*base, *paths))),
                intermediate.pin,
                family.name,
            )
            return
        self.operator = self.chain_operator()
        self.key_type = self.leaf_type
        end = min(c.not_after.date() for c in self.chain)
        self.served_unit = Unit(
            self.chain[0].name,
            self.operator,
            self.key_type,
            Span(self.start, max(self.start, end)),
            tuple(paths),
            self.chain[0].pin,
        )

    def chain_operator(self) -> str | None:
        assert self.chain is not None
        for cert in self.chain:
            root = self.catalog.root_of_pin(cert.pin)
            if root is not None:
                return root.operator
        return None

    def chain_paths(self) -> list[Path]:
        """Every prefix of the verified chain that ends at a key some store anchors."""

        assert self.chain is not None
        anchors = mozilla_pins()
        paths: list[Path] = []
        for end in range(len(self.chain)):
            cert = self.chain[end]
            root = self.catalog.root_of_pin(cert.pin)
            if root is None and cert.pin not in anchors and end != len(self.chain) - 1:
                continue
            name = root.name if root is not None else cert.name
            steps = (*(Step(c.name, c.pin) for c in self.chain[:end]), Step(name, cert.pin))
            valid = Span(
                max(c.not_before.date() for c in self.chain[: end + 1]),
                min(c.not_after.date() for c in self.chain[: end + 1]),
            )
            paths.append(
                Path(steps, valid, Anchor(name, cert.pin, root), tuple(p.anchor for p in paths))
            )
        return paths

    def leaf_key_kept(self) -> bool:

        if self.provider is not None:
            return self.provider.rotation is KeyRotation.NEVER
        return self.operator not in ROTATING_OPERATORS

    # -- the CAs and units in play ---------------------------------------------------------
    def operators_in_play(self) -> list[str]:
        """Today's CA and the provider's."""
        operators = [self.operator] if self.operator else []
        if self.provider is not None:
            operators += self.provider.operators
        return list(dict.fromkeys(operators))

    @property
    def operators(self) -> list[str]:
        """The CAs whose units are judged: those in play with a chain, else the CAs the
        pins cover and the provider's."""
        if self.chain is not None:
            return self.operators_in_play()
        return list(
            dict.fromkeys(
                [*self.reference_operators(), *(self.provider.operators if self.provider else ())]
            )
        )

    @property
    def automatic(self) -> bool:
        return self.provider is not None and self.provider.automatic_ca_choice

    def covered(self, unit: Unit, day: dt.date) -> bool:
        return any(p.pins & self.pins and p.built_on(day) for p in unit.paths)

    def active(self, unit: Unit) -> Span | None:
        """The days in the window it issues and some chain of it is valid."""
        if not unit.paths:
            return None
        lasting = Span(min(p.valid.start for p in unit.paths), max(p.valid.end for p in unit.paths))
        span = unit.issues & self.window
        return span and span & lasting

    @functools.cached_property
    def units(self) -> list[Unit]:
        """The units a next leaf may come from, the served one first."""
        units = [
            u
            for op in self.operators
            for u in self.index.units_of(op)
            if self.served_unit is None or u.pin != self.served_unit.pin or u.pin is None
        ]
        if self.served_unit is not None:
            units.insert(0, self.served_unit)
        families = self.provider.families if self.provider else ()
        return [
            u
            for u in units
            if self.active(u) is not None
            and (not families or u.family in families or u is self.served_unit)
            and not self.held_back(u)
        ]

    def held_back(self, unit: Unit) -> bool:
        """A sibling of the served intermediate, where the provider keeps issuing from one
        intermediate of a family (its next generation still counts)."""
        served = self.served_unit
        return (
            self.provider is not None
            and not self.provider.rotates_intermediates
            and served is not None
            and unit is not served
            and not unit.projected
            and unit.family is not None
            and unit.family == served.family
        )

    def reference_operators(self) -> list[str]:
        return list(dict.fromkeys(op for op, _ in self.reference()))

    @functools.cached_property
    def reference_pairs(self) -> frozenset[tuple[str | None, str | None]]:
        """The (CA, key type) pairs of today: the chain's, or those the pins cover."""
        if self.chain is not None:
            return frozenset({(self.operator, self.key_type)})
        return frozenset(self.reference())

    def reference(self) -> list[tuple[str, str]]:
        """Without a chain: the (CA, key type) pairs whose units the pins cover when they
        issue, and those of the pinned catalog keys (a set whose keys no longer issue is
        still judged against their CA)."""
        found = []
        for op, units in self.index.units.items():
            for unit in units:
                if not any(p.pins & self.pins for p in unit.paths):
                    continue  # covered() needs a pinned key on a path: skip active()
                span = self.active(unit)
                if span is not None and self.covered(unit, span.start):
                    found.append((op, unit.key_type))
        for pin in sorted(self.pins):
            root = self.catalog.root_of_pin(pin)
            pinned = self.index.by_pin.get(pin)
            if root is not None:
                found.append((root.operator, root.key_type))
            elif pinned is not None and pinned.operator is not None:
                found.append((pinned.operator, pinned.key_type))
        return list(dict.fromkeys(found))

    def pinned_intermediates(self) -> list[str]:
        return [
            unit.name
            for units in self.index.units.values()
            for unit in units
            if unit.pin in self.pins
        ]

    # -- the pinned CA keys ----------------------------------------------------------------
    def pinned_ca_keys(self) -> tuple[list[str], dt.date]:
        """Names of the pinned CA keys pingen knows a certificate of, and the last day any
        of those certificates is valid."""
        known = self.index.last_days
        ends = {pin: known[pin] for pin in sorted(self.pins) if pin in known}
        for cert in self.chain or ():
            if cert.pin in self.pins:
                name, end = ends.get(cert.pin, (cert.name, dt.date.min))
                ends[cert.pin] = (name, max(end, cert.not_after.date()))
        if not ends:
            return [], dt.date.min
        return sorted(name for name, _ in ends.values()), max(end for _, end in ends.values())

    @functools.cached_property
    def gaps(self) -> list[Gap]:
        from pingen.judge.futures.gaps import gaps

        return gaps(self)
