"""The catalog's side of the futures: the days, the units a leaf may come from, and the
paths a client may build for each, computed once per catalog.

    index_of(catalog) -> CatalogIndex   # .units_of(operator), .by_pin, .last_days
    Window.of(at, expires)              # the days a pin set is shipped for
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pingen.pki.catalog import mozilla_roots, mozilla_roots_named

if TYPE_CHECKING:
    from pingen.pki.catalog import Catalog, Family, Intermediate, NamedCert, Root

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


class CatalogIndex:
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


_INDEXES: dict[int, tuple[Catalog, CatalogIndex]] = {}


def index_of(catalog: Catalog) -> CatalogIndex:
    """The catalog's units and paths, computed once (the catalog object is kept alive)."""
    found = _INDEXES.get(id(catalog))
    if found is None or found[0] is not catalog:
        found = (catalog, CatalogIndex(catalog))
        _INDEXES[id(catalog)] = found
    return found[1]


def catalog_of(catalog_id: int) -> Catalog:
    """The catalog `index_of` was last asked about under this id."""
    return _INDEXES[catalog_id][0]
