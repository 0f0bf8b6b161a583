"""The futures of a pin set over its window, on the CA catalog's dates.

    futures(pin_set, provider, window, catalog, served=None) -> list[Finding]

A *future* is a leaf a client may meet between the window's start (now, or `--at`) and
its end (the set's `expires`; for `never`, the end of the last pinned CA certificate),
with a validation path a client may build for it. Leaves come from *units*: each
intermediate of every family issuing in the window, plus "another intermediate" of a
family the catalog knows to be incomplete and "an intermediate under R" for a root of
the CA that no listed family reaches. Paths run from the unit up through every
cross-sign valid then to every anchor some store (Mozilla/certifi, Apple, Android)
trusts then — or may trust later ("not yet").

A unit is *covered* on a day when a path it can be validated along that day, ending at
an anchor trusted that day, holds a pin. Each failing future is filed under exactly one
code, by its cause:

- the unit is uncovered when it starts issuing: `ca-switch` (another CA than today's),
  `key-type-switch` (today's CA, the other key type), `intermediate-siblings` (today's
  CA and key type: a sibling or next-generation intermediate); with only the served leaf
  pinned and its key replaced at renewal, `leaf-key-rotates`;
- the unit is covered, but one of its paths holds no pin: `next-root` (the path ends at
  a root devices do not trust yet, or the cross-signs that carried it to a pinned root
  end), `alternate-path` (it ends at an anchor trusted already);
- `pins-expire`: every known certificate of the pinned CA keys ends before the set does.

Severity: certain within the window, or the platform's to pick, is a fail; possible is a
warning. A unit failure is certain when, that day, no unit the CA (or the platform) may
pick instead is covered: Gen Y for a Gen-X-only set, a platform's other CA with no pin.

Works with a served chain (`verify`: the chain tells which CA, key type and intermediate
serve today) and without one (`build`: what the pins cover is the reference). The
catalog's paths are computed once per catalog; a judgement is cached per pin set,
provider, window and served keys, so hundreds of domains sharing them cost one.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pingen.judge.findings import (
    ALTERNATE_PATH,
    CA_SWITCH,
    INTERMEDIATE_SIBLINGS,
    KEY_TYPE_SWITCH,
    LEAF_KEY_ROTATES,
    NEXT_ROOT,
    PINS_EXPIRE,
    SURVIVABILITY,
    Code,
    Finding,
)

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.model import PinSet
    from pingen.pki.catalog import Catalog, Family, Intermediate, NamedCert, Root
    from pingen.pki.providers import Provider

FAR = dt.date(9999, 12, 30)
DAY = dt.timedelta(days=1)


# -- time ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Days from `start` to `end`, both included."""

    start: dt.date
    end: dt.date

    def __and__(self, other: Span) -> Span | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Span(start, end) if start <= end else None

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def span_of(cert: NamedCert) -> Span:
    return Span(cert.not_before.date(), cert.not_after.date())


@dataclass(frozen=True)
class Window:
    """The days a pin set is shipped for: from `start` to `end` (None: `never`)."""

    start: dt.date
    end: dt.date | None

    @classmethod
    def of(cls, at: dt.datetime | dt.date, expires: dt.date | None) -> Window:
        day = at.date() if isinstance(at, dt.datetime) else at
        return cls(day, expires)


# -- paths and units, per catalog ----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    pin: str | None  # None: a key pingen does not hold (an unknown intermediate, an old anchor)


@dataclass(frozen=True)
class Anchor:
    """Where a path ends: a catalog root (with its store dates), or a root trusted as is."""

    name: str
    pin: str | None
    root: Root | None = field(default=None, compare=False)

    def trusted_on(self, day: dt.date) -> bool:
        return self.root.trusted_on(day) if self.root is not None else True

    @property
    def may_be_added(self) -> bool:
        return self.root.may_be_added if self.root is not None else False

    def trust_starts(self) -> tuple[dt.date, ...]:
        return self.root.trust_starts() if self.root is not None else ()


@dataclass(frozen=True)
class Path:
    """Intermediate first, anchor last (the leaf is not part of it)."""

    steps: tuple[Step, ...]
    valid: Span  # every certificate on it is valid
    anchor: Anchor
    via: tuple[Anchor, ...] = ()  # roots it passes through before its anchor

    def built_on(self, day: dt.date) -> bool:
        """A client trusting the anchor that day builds it: valid, and no root it passes
        through is an anchor already (a client that trusts one stops there)."""
        return (
            day in self.valid
            and self.anchor.trusted_on(day)
            and not any(root.trusted_on(day) for root in self.via)
        )

    @functools.cached_property
    def pins(self) -> frozenset[str]:
        return frozenset(step.pin for step in self.steps if step.pin)

    @property
    def first_root(self) -> Step:
        """The pin that covers this path and every longer one through its cross-signs."""
        known = [step for step in self.steps[1:] if step.pin] or [
            step for step in self.steps if step.pin
        ]
        return known[0]

    @property
    def anchor_step(self) -> Step:
        return next(step for step in reversed(self.steps) if step.pin)

    def __str__(self) -> str:
        return " ← ".join(step.name for step in self.steps)


@dataclass(frozen=True)
class Unit:
    """Where the next leaf may come from."""

    name: str
    operator: str | None
    key_type: str
    issues: Span
    paths: tuple[Path, ...]
    pin: str | None = None  # the intermediate's key; None for one the catalog does not list
    family: str | None = None
    projected: bool = False  # a next generation the catalog infers: its failures are possible

    def usable(self, day: dt.date) -> list[Path]:
        return [p for p in self.paths if day in p.valid]


class _Index:
    """Every unit of every operator, with its paths: computed once per catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.units: dict[str, tuple[Unit, ...]] = {}
        self.by_pin: dict[str, Unit] = {}
        for operator in catalog.operators:
            units = self.operator_units(operator.id)
            self.units[operator.id] = tuple(units)
            for unit in units:
                if unit.pin is not None:
                    self.by_pin.setdefault(unit.pin, unit)

    def operator_units(self, operator: str) -> list[Unit]:
        units: list[Unit] = []
        for family in self.catalog.families_of(operator):
            issues = _family_issuance(family)
            if issues is None:
                continue
            for intermediate in family.intermediates:
                unit = self.intermediate_unit(intermediate, family, issues)
                if unit is not None:
                    units.append(unit)
            if not family.complete:
                units.append(
                    self.unknown_unit(
                        f"another {family.name} intermediate",
                        family.roots,
                        family.key_type,
                        operator,
                        issues,
                        family.name,
                    )
                )
        units += self.next_generations(operator, units)
        reached = {step.pin for unit in units for path in unit.paths for step in path.steps}
        for root in self.catalog.roots_of(operator):
            if root.pin not in reached:
                units.append(
                    self.unknown_unit(
                        f"an intermediate under {root.name}",
                        (root.name,),
                        root.key_type,
                        operator,
                        span_of(root.cert),
                        None,
                    )
                )
        return units

    def next_generations(self, operator: str, units: list[Unit]) -> list[Unit]:
        """Per key type whose open family's listed intermediates all end: the CA goes on
        issuing, from a next generation under that family's roots (an inference, so its
        futures are possible, never certain)."""
        found = []
        for family in self.catalog.families_of(operator):
            issues = _family_issuance(family)
            if issues is None or issues.end != FAR or not family.complete:
                continue
            listed = [u for u in units if u.family == family.name]
            if not listed:
                continue
            after = max(u.issues.end for u in listed) + DAY
            unit = self.unknown_unit(
                f"the generation after {family.name}",
                family.roots,
                family.key_type,
                operator,
                Span(after, FAR),
                family.name,
            )
            found.append(
                Unit(
                    unit.name,
                    unit.operator,
                    unit.key_type,
                    unit.issues,
                    unit.paths,
                    None,
                    family.name,
                    projected=True,
                )
            )
        return found

    def intermediate_unit(
        self, intermediate: Intermediate, family: Family, issues: Span
    ) -> Unit | None:
        validity = Span(
            min(c.not_before.date() for c in intermediate.certs),
            max(c.not_after.date() for c in intermediate.certs),
        )
        span = issues & validity
        if span is None:
            return None
        paths: list[Path] = []
        first = Step(intermediate.name, intermediate.pin)
        for cert in intermediate.certs:
            root = self.catalog.root(cert.issuer_name)
            if root is not None:
                paths += self.upward((first,), root, span_of(cert))
        return Unit(
            intermediate.name,
            family.operator,
            family.key_type,
            span,
            tuple(dict.fromkeys(paths)),
            intermediate.pin,
            family.name,
        )

    def unknown_unit(
        self,
        name: str,
        roots: Iterable[str],
        key_type: str,
        operator: str,
        issues: Span,
        family: str | None,
    ) -> Unit:
        paths: list[Path] = []
        for root_name in roots:
            root = self.catalog.root(root_name)
            if root is not None:
                paths += self.upward((Step(name, None),), root, span_of(root.cert))
        return Unit(name, operator, key_type, issues, tuple(dict.fromkeys(paths)), None, family)

    def upward(
        self,
        prefix: tuple[Step, ...],
        root: Root,
        valid: Span | None,
        seen: frozenset[str] = frozenset(),
        via: tuple[Anchor, ...] = (),
    ) -> list[Path]:
        from pingen.pki.catalog import mozilla_roots_named

        valid = valid and valid & span_of(root.cert)
        if valid is None:
            return []
        steps = (*prefix, Step(root.name, root.pin))
        here = Anchor(root.name, root.pin, root)
        paths = [Path(steps, valid, here, via)]
        for cross in self.catalog.cross_signs_of(root.name):
            if cross.revoked or cross.issuer in seen:
                continue
            through = valid & span_of(cross.cert)
            issuer = self.catalog.root(cross.issuer)
            if through is None:
                continue
            if issuer is not None:
                paths += self.upward(steps, issuer, through, seen | {root.name}, (*via, here))
                continue
            known = mozilla_roots_named(cross.issuer)
            pin = known[0].pin if known else None  # else an anchor of older devices
            paths.append(
                Path(
                    (*steps, Step(cross.issuer, pin)),
                    through,
                    Anchor(cross.issuer, pin),
                    (*via, here),
                )
            )
        return paths

    def units_of(self, operator: str) -> tuple[Unit, ...]:
        return self.units.get(operator, ())

    @functools.cached_property
    def last_days(self) -> dict[str, tuple[str, dt.date]]:
        """Per CA key of the catalog and certifi's store: a name, and the last day any of
        its known certificates is valid."""
        from pingen.pki.catalog import mozilla_roots

        ends: dict[str, tuple[str, dt.date]] = {}
        for cert in (
            *self.catalog.certificates(),
            *(r.cert for r in self.catalog.roots),
            *mozilla_roots(),
        ):
            name, end = ends.get(cert.pin, (cert.name, dt.date.min))
            ends[cert.pin] = (name, max(end, cert.not_after.date()))
        return ends


def _family_issuance(family: Family) -> Span | None:
    if not family.intermediates or (not family.active and family.issues.end is None):
        return None
    start = family.issues.start or min(
        c.not_before.date() for i in family.intermediates for c in i.certs
    )
    end = family.issues.end - DAY if family.issues.end else FAR
    return Span(start, end) if start <= end else None


_INDEXES: dict[int, tuple[Catalog, _Index]] = {}


def index_of(catalog: Catalog) -> _Index:
    """The catalog's units and paths, computed once (the catalog object is kept alive)."""
    found = _INDEXES.get(id(catalog))
    if found is None or found[0] is not catalog:
        found = (catalog, _Index(catalog))
        _INDEXES[id(catalog)] = found
    return found[1]


# -- findings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    code: Code
    unit: Unit
    day: dt.date
    certain: bool
    paths: tuple[Path, ...]  # the chains that break
    fixes: tuple[Path, ...]  # paths whose pins clear it (first root for units, anchor else)
    covered_by: Path | None = None  # for next-root: the path that matches today


def futures(
    pin_set: PinSet,
    provider: str | Provider | None,
    window: Window,
    catalog: Catalog,
    served: Sequence[x509.Certificate] | None = None,
    host: str | None = None,
) -> list[Finding]:
    """Every failing future of `pin_set` in `window`, one Finding per code.

    `served`: the verified chain today (leaf first, anchor last), or None to judge on
    the pins alone (`build`). With a chain that no pin matches, nothing is judged here
    (`no-live-match` says it). `host` names the domain in advice (`pingen suggest HOST`).
    """
    from dataclasses import replace

    from pingen.pki.catalog import key_type_of
    from pingen.pki.providers import PROVIDERS
    from pingen.spki import pin_of_certificate

    facts = PROVIDERS.get(provider or "") if isinstance(provider, str | None) else provider
    pins = frozenset(pin_set.hashes)
    index_of(catalog)  # keeps the catalog alive under its id for _judge
    # Domains that share pins and CA certificates share one judgement: the leaf is part
    # of the key only when it is pinned (x509 certificates compare by their bytes).
    leaf = served[0] if served else None
    found = _judge(
        pins,
        window.end if window.end else pin_set.expires,
        facts,
        window.start,
        id(catalog),
        tuple(served[1:]) if served else None,
        leaf if leaf is not None and pin_of_certificate(leaf) in pins else None,
        key_type_of(leaf.public_key()) if leaf is not None else "",
    )
    return [
        replace(f, message=f.message.replace(_HOST, host or "HOST")) if _HOST in f.message else f
        for f in found
    ]


_HOST = "\x00host\x00"  # the domain's name in a cached message, filled in per domain


@functools.lru_cache(maxsize=4096)
def _judge(
    pins: frozenset[str],
    expires: dt.date | None,
    provider: Provider | None,
    start: dt.date,
    catalog_id: int,
    ca_certs: tuple[x509.Certificate, ...] | None,
    pinned_leaf: x509.Certificate | None,
    leaf_type: str,
) -> tuple[Finding, ...]:
    from pingen.pki.catalog import named

    catalog = _INDEXES[catalog_id][0]
    ca_chain = tuple(named(cert, "chain") for cert in ca_certs) if ca_certs is not None else None
    leaf = named(pinned_leaf, "chain") if pinned_leaf is not None else None
    return tuple(
        _Judge(pins, expires, provider, start, catalog, ca_chain, leaf, leaf_type).findings()
    )


class _Judge:
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

    # -- entry -----------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        ca_matched = self.chain is not None and bool(self.pins & {c.pin for c in self.chain})
        if self.chain is not None:
            if not self.chain or not (ca_matched or self.leaf is not None):
                return []
            self.read_served()
        expiry = self.pins_expire()
        if self.chain is not None:
            if self.leaf is not None and self.leaf_key_kept():
                return expiry  # every future holds the leaf key, the backup covers the rest
            if self.leaf is not None and not ca_matched:
                return [self.leaf_key_rotates()]
        failures = self.failures()
        return [*self.reports(failures), *expiry]

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
        from pingen.pki.catalog import mozilla_pins

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

    # -- the leaf ----------------------------------------------------------------------
    def leaf_key_kept(self) -> bool:
        from pingen.pki.providers import ROTATING_OPERATORS, KeyRotation

        if self.provider is not None:
            return self.provider.rotation is KeyRotation.NEVER
        return self.operator not in ROTATING_OPERATORS

    def leaf_key_rotates(self) -> Finding:
        assert self.leaf is not None
        leaf = self.leaf
        if self.provider is not None:
            certain = self.provider.refuses_leaf_pins
            why = f"provider {self.provider.name}: {self.provider.description}"
        else:
            certain = False
            issuer = self.served_unit.name if self.served_unit else leaf.issuer_name
            why = (
                f"{issuer} certificates come from clients and platforms that make a new "
                "key at each renewal by default (certbot, Caddy, cert-manager, managed "
                "platforms)"
            )
        renewal = (leaf.not_before + (leaf.not_after - leaf.not_before) * 2 / 3).date()
        when = (
            f"around {renewal}, or any day the CA asks"
            if renewal > self.start
            else "it is due now: two thirds of its life have passed"
        )
        fix = self.durable_roots()
        advice = _pins_text(fix, self.catalog)
        return LEAF_KEY_ROTATES.finding(
            f"only the leaf key matches ({leaf.name}); {why}. The leaf expires "
            f"{leaf.not_after.date()}, and renewal comes earlier ({when}): then nothing "
            f"matches. Add {advice} and an offline backup key (pingen keygen)"
            + (f"; `pingen suggest {_HOST}` prints them." if fix else "."),
            certain=certain,
            first=max(self.start, renewal),
            chains=(leaf.name,),
            fix=tuple(_pin_line(step, self.catalog) for step in fix),
        )

    def durable_roots(self) -> list[Step]:
        """Every root of the CAs in play that outlives today, not pinned yet."""
        steps = [
            Step(root.name, root.pin)
            for op in self.operators_in_play()
            for root in self.catalog.roots_of(op)
            if root.pin not in self.pins and self.start <= root.cert.not_after.date()
        ]
        if steps or self.chain is None:
            return steps
        above = [c for c in self.chain if c.pin not in self.pins][-1:]
        return [Step(c.name, c.pin) for c in above]

    def operators_in_play(self) -> list[str]:
        operators = [self.operator] if self.operator else []
        if self.provider is not None:
            operators += self.provider.operators
        return list(dict.fromkeys(operators))

    # -- units -------------------------------------------------------------------------
    def covered(self, unit: Unit, day: dt.date) -> bool:
        return any(p.pins & self.pins and p.built_on(day) for p in unit.paths)

    def active(self, unit: Unit) -> Span | None:
        """The days in the window it issues and some chain of it is valid."""
        if not unit.paths:
            return None
        lasting = Span(min(p.valid.start for p in unit.paths), max(p.valid.end for p in unit.paths))
        span = unit.issues & self.window
        return span and span & lasting

    def units_in_play(self) -> list[Unit]:
        if self.chain is not None:
            operators = self.operators_in_play()
        else:
            operators = list(
                dict.fromkeys(
                    [
                        *self.reference_operators(),
                        *(self.provider.operators if self.provider else ()),
                    ]
                )
            )
        units = [
            u
            for op in operators
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

    def failures(self) -> list[_Failure]:
        units = self.units_in_play()
        if not self.reference_pairs:
            return []
        failures: list[_Failure] = []
        for unit in units:
            failures += self.unit_failures(unit, units)
        return failures

    def unit_failures(self, unit: Unit, units: list[Unit]) -> list[_Failure]:
        span = self.active(unit)
        assert span is not None
        days = self.check_days(unit, span)
        uncovered = next((day for day in days if not self.covered(unit, day)), None)
        if uncovered == span.start and unit is self.served_unit:
            # The served chain matches, but not along a path clients build: the pinned key
            # is above an anchor they stop at (a root trusted directly).
            broken = tuple(
                p
                for p in unit.usable(uncovered)
                if p.built_on(uncovered) and not p.pins & self.pins
            )
            return [_Failure(ALTERNATE_PATH, unit, uncovered, False, broken, broken)]
        if uncovered == span.start:
            return [self.unit_failure(unit, uncovered, units)]
        failures = self.path_failures(unit, span)
        broken = (
            tuple(p for p in unit.usable(uncovered) if not p.pins & self.pins)
            if uncovered is not None
            else ()
        )
        if uncovered is not None and broken:  # (no path at all: the unit has ended)
            failures.append(
                _Failure(
                    NEXT_ROOT,
                    unit,
                    uncovered,
                    not unit.projected,
                    broken,
                    self.fix_paths(unit, span),
                )
            )
        return failures

    def check_days(self, unit: Unit, span: Span) -> list[dt.date]:
        days = {span.start}
        for path in unit.paths:
            days |= {path.valid.start, path.valid.end + DAY}
            for anchor in (path.anchor, *path.via):
                days |= set(anchor.trust_starts())
                if anchor.root is not None:
                    days |= {
                        s.until for s in anchor.root.trust if s.until and s.until != dt.date.min
                    }
        return sorted(day for day in days if day in span)

    def unit_failure(self, unit: Unit, day: dt.date, units: list[Unit]) -> _Failure:
        code = self.cause(unit)
        same = [u for u in units if day in u.issues and u.operator == unit.operator]
        if code == INTERMEDIATE_SIBLINGS:
            certain = not any(self.covered(u, day) for u in same if u.key_type == unit.key_type)
        elif code == KEY_TYPE_SWITCH:
            forced = not any(u.key_type == self.key_type for u in same) and self.chain is not None
            picked = self.automatic and not any(
                self.covered(u, day) for u in same if u.key_type == unit.key_type
            )
            certain = forced or picked
        else:
            certain = self.automatic and not any(self.covered(u, day) for u in same)
        span = self.active(unit)
        assert span is not None
        broken = tuple(
            p for p in unit.paths if (p.valid & span) is not None and not p.pins & self.pins
        )
        return _Failure(
            code, unit, day, certain and not unit.projected, broken, self.fix_paths(unit, span)
        )

    @property
    def automatic(self) -> bool:
        return self.provider is not None and self.provider.automatic_ca_choice

    def fix_paths(self, unit: Unit, span: Span) -> tuple[Path, ...]:
        return tuple(
            p for p in unit.paths if (p.valid & span) is not None and not p.pins & self.pins
        )

    def cause(self, unit: Unit) -> Code:
        pairs = self.reference_pairs
        if unit.operator not in {op for op, _ in pairs}:
            return CA_SWITCH
        if (unit.operator, unit.key_type) not in pairs:
            return KEY_TYPE_SWITCH
        return INTERMEDIATE_SIBLINGS

    def path_failures(self, unit: Unit, span: Span) -> list[_Failure]:
        failures = []
        for path in unit.paths:
            live = path.valid & span
            if live is None or path.pins & self.pins:
                continue
            covering = next((p for p in unit.paths if p.pins & self.pins), None)
            anchor = path.anchor
            if anchor.trusted_on(live.start):
                failures.append(_Failure(ALTERNATE_PATH, unit, live.start, False, (path,), (path,)))
                continue
            starts = [day for day in anchor.trust_starts() if day in live]
            if starts:
                failures.append(
                    _Failure(NEXT_ROOT, unit, starts[0], True, (path,), (path,), covering)
                )
            elif anchor.may_be_added:
                failures.append(
                    _Failure(NEXT_ROOT, unit, live.start, False, (path,), (path,), covering)
                )
        return failures

    # -- pins-expire -------------------------------------------------------------------
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

    def pins_expire(self) -> list[Finding]:
        if not self.ca_keys or (self.expires is not None and self.ca_end >= self.expires):
            return []
        last = self.ca_end
        keys = _names(self.ca_keys)
        if self.expires is None:
            return [
                PINS_EXPIRE.finding(
                    f"no known certificate for the pinned CA keys ({keys}) is valid after {last}, "
                    f"and the pin set never expires: from {last + DAY} no chain can reach a "
                    f"pinned CA key. Set `expires:` to {last} or earlier, and ship a new set "
                    "before then.",
                    first=last + DAY,
                    chains=(keys,),
                    expires_by=last,
                )
            ]
        operators = (
            self.operators_in_play()
            if self.chain is not None
            else list(
                dict.fromkeys(
                    [
                        *self.reference_operators(),
                        *(self.provider.operators if self.provider else ()),
                    ]
                )
            )
        )
        roots = [
            Step(root.name, root.pin)
            for op in operators
            for root in self.catalog.roots_of(op)
            if root.pin not in self.pins
            and root.cert.not_after.date() >= self.expires
            and root.cert.not_before.date() <= self.start
        ]
        also = f", or add {_pins_text(roots, self.catalog)}" if roots else ""
        return [
            PINS_EXPIRE.finding(
                f"no known certificate for the pinned CA keys ({keys}) is valid after {last}, "
                f"yet the pin set expires {self.expires}: from {last + DAY} no chain can reach a "
                f"pinned CA key. Set `expires:` to {last} or earlier{also}.",
                certain=True,
                first=last + DAY,
                chains=(keys,),
                fix=tuple(_pin_line(step, self.catalog) for step in roots),
                expires_by=last,
            )
        ]

    # -- reports -----------------------------------------------------------------------
    def reports(self, failures: list[_Failure]) -> list[Finding]:
        by_code: dict[Code, list[_Failure]] = {}
        for failure in failures:
            by_code.setdefault(failure.code, []).append(failure)
        writers = {
            INTERMEDIATE_SIBLINGS: self.siblings_text,
            KEY_TYPE_SWITCH: self.key_type_text,
            NEXT_ROOT: self.next_root_text,
            ALTERNATE_PATH: self.alternate_text,
            CA_SWITCH: self.ca_switch_text,
        }
        findings = []
        for code in SURVIVABILITY:
            group = by_code.get(code)
            if not group:
                continue
            group.sort(key=lambda f: (not f.certain, f.day))
            fixes = self.fixes(code, group)
            text = writers[code](group) + f" Add {_pins_text(fixes, self.catalog)}."
            paths = _chains(group)
            findings.append(
                code.finding(
                    text,
                    certain=group[0].certain,
                    first=min(f.day for f in group),
                    chains=tuple(str(p) for p in paths),
                    fix=tuple(dict.fromkeys(_pin_line(step, self.catalog) for step in fixes)),
                )
            )
        return findings

    def fixes(self, code: Code, group: list[_Failure]) -> list[Step]:
        paths = _unique(p for f in group for p in f.fixes)
        if code in (NEXT_ROOT, ALTERNATE_PATH):
            steps = [p.anchor_step for p in paths]
        else:
            steps = [p.first_root for p in paths]
        return list(dict.fromkeys(steps))

    def since(self, day: dt.date) -> str:
        return f" from {day}" if day > self.start else ""

    def who(self, operator: str | None) -> str:
        found = self.catalog.operator(operator) if operator else None
        return found.name if found else (operator or "the CA")

    def siblings_text(self, group: list[_Failure]) -> str:
        certain = [f for f in group if f.certain]
        possible = [f for f in group if not f.certain]
        parts = []
        if certain:
            first = certain[0]
            names = _names([f.unit.name for f in certain])
            parts.append(
                f"from {first.day}, {self.who(first.unit.operator)} issues "
                f"{first.unit.key_type.upper()} certificates only from {names}, and no pin "
                f"is on their chains ({_paths_text(_chains(certain))}): the first renewal "
                "after that matches nothing"
            )
        if possible:
            first = possible[0]
            pinned = self.pinned_intermediates()
            lead = (
                f"{_names(pinned)} {'is' if len(pinned) == 1 else 'are'} pinned, but "
                if pinned and not certain
                else ""
            )
            parts.append(
                f"{lead}{self.who(first.unit.operator)} issues "
                f"{first.unit.key_type.upper()} certificates from "
                f"{_names([f.unit.name for f in possible])} too{self.since(first.day)}, and the "
                f"next certificate can come from any of them "
                f"({_paths_text(_chains(possible))}): no pin is on those chains"
            )
        return "; ".join(parts) + "."

    def pinned_intermediates(self) -> list[str]:
        return [
            unit.name
            for units in self.index.units.values()
            for unit in units
            if unit.pin in self.pins
        ]

    def key_type_text(self, group: list[_Failure]) -> str:
        first = group[0]
        other = first.unit.key_type.upper()
        why = (
            " (certbot 2.0 made ECDSA its default)"
            if other == "ECDSA" and first.unit.operator == "letsencrypt"
            else ""
        )
        picked = ""
        if first.certain:
            picked = (
                " (the platform picks the key type)"
                if self.automatic
                else " (it issues no other key type then)"
            )
        a = "an" if other[0] in "AEIOU" else "a"
        by_operator: dict[str | None, list[str]] = {}
        for failure in group:
            by_operator.setdefault(failure.unit.operator, []).append(failure.unit.name)
        moves = " and ".join(
            f"by {self.who(op)} to {_names(names)}" for op, names in by_operator.items()
        )
        return (
            f"a switch to {a} {other} key{why} moves issuance {moves}"
            f"{self.since(first.day)}{picked}, where no pin matches "
            f"({_paths_text(_chains(group))})."
        )

    def ca_switch_text(self, group: list[_Failure]) -> str:
        first = group[0]
        operators = _names([self.who(f.unit.operator) for f in group])
        who = f"provider {self.provider.name}" if self.provider else "the platform"
        picked = (
            " (the platform picks the CA, and none of its keys is pinned)" if first.certain else ""
        )
        return (
            f"{who} may issue from {operators}{self.since(first.day)}{picked}, through "
            f"{_names([f.unit.name for f in group])}, and no pin is on those chains "
            f"({_paths_text(_chains(group))})."
        )

    def next_root_text(self, group: list[_Failure]) -> str:
        certain = [f for f in group if f.certain]
        possible = [f for f in group if not f.certain]
        parts = []
        for failure in certain:
            roots = _names([p.anchor.name for p in failure.paths])
            parts.append(
                f"from {failure.day} chains from {failure.unit.name} can end at {roots} "
                f"({_paths_text(failure.paths)}), and no pin is on them: the cross-sign that "
                "carried them to a pinned key ends, or devices start trusting the root "
                "directly then"
            )
        if possible:
            roots = _names([p.anchor.name for f in possible for p in f.paths])
            starts = _names([f.unit.name for f in possible])
            matching = next((f.covered_by for f in possible if f.covered_by), None)
            today = f" (e.g. {matching})" if matching else ""
            plural = len({p.anchor.name for f in possible for p in f.paths}) > 1
            parts.append(
                f"chains from {starts} match only through the cross-sign of {roots}{today}; "
                f"{roots} "
                f"{'are' if plural else 'is'} not in device trust stores yet, and once "
                f"devices trust {'them' if plural else 'it'} directly (any day from "
                f"{possible[0].day}) the chain ends there and holds no pin "
                f"({_paths_text(_chains(possible))})"
            )
        return "; ".join(parts) + "."

    def alternate_text(self, group: list[_Failure]) -> str:
        paths = _chains(group)
        return (
            f"a client can validate along {_paths_text(paths)}{self.since(group[0].day)}, "
            f"and no pin is on {'that path' if len(paths) == 1 else 'those paths'}."
        )


# -- text ------------------------------------------------------------------------------------


def _unique(paths: Iterable[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


def _chains(group: Sequence[_Failure]) -> list[Path]:
    """The failing paths, once each as a person reads them (a served path and the
    catalog's may differ only in dates)."""
    return list({str(p): p for f in group for p in f.paths}.values())


def _names(names: Sequence[str]) -> str:
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _paths_text(paths: Sequence[Path], limit: int = 4) -> str:
    shown = [str(p) for p in paths[:limit]]
    more = len(paths) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _pin_line(step: Step, catalog: Catalog) -> str:
    from pingen.pki.catalog import pin_line

    return pin_line(step.name, step.pin, catalog)


def _pins_text(steps: Sequence[Step], catalog: Catalog) -> str:
    lines = list(dict.fromkeys(_pin_line(step, catalog) for step in steps if step.pin))
    return ", ".join(f"`{line}`" for line in lines)
