"""Where the pins leave a unit uncovered, sorted by how, before any code is named.

    gaps(context) -> list[Gap]   # in the order the units are judged

A gap is one way a leaf of a unit can be met with no pin on the chain a client builds:

- NEW: the unit is uncovered on the first day it issues in the window (a unit other
  than the one serving today); its cause is the CA, key type or intermediate it moves to;
- SERVED: the served unit is uncovered from the start: the chain matches, but not along
  a path clients build (the pinned key is above an anchor they stop at);
- PATH: the unit is covered, but one of its paths, valid in the window, holds no pin;
- LATER: the unit is covered at first and loses every pinned path on a later day.

The units of pingen.judge.futures.units claim the gaps (one code each) and word them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from pingen.judge.futures.paths import DAY, Path, Span, Unit

if TYPE_CHECKING:
    from pingen.judge.findings import Code
    from pingen.judge.futures.context import Context


class Kind(Enum):
    NEW = "new"
    SERVED = "served"
    PATH = "path"
    LATER = "later"


@dataclass(frozen=True)
class Gap:
    kind: Kind
    unit: Unit
    day: dt.date  # the first day it is open (PATH: the first day the path is valid)
    paths: tuple[Path, ...]  # the chains with no pin
    fixes: tuple[Path, ...]  # the paths whose pins close it
    live: Span | None = None  # PATH: the days the path is valid in the unit's span
    covered_by: Path | None = None  # PATH: a path of the unit that holds a pin


@dataclass(frozen=True)
class Failure:
    """A gap a unit claimed: under its code, from `day`, certain or possible."""

    code: Code
    unit: Unit
    day: dt.date
    certain: bool
    paths: tuple[Path, ...]  # the chains that break
    fixes: tuple[Path, ...]  # paths whose pins clear it (first root for units, anchor else)
    covered_by: Path | None = None  # for next-root: the path that matches today


def gaps(context: Context) -> list[Gap]:
    """Every gap of the units in play, unit by unit (none without a reference CA)."""
    if not context.reference_pairs:
        return []
    found: list[Gap] = []
    for unit in context.units:
        found += _unit_gaps(context, unit)
    return found


def _unit_gaps(context: Context, unit: Unit) -> list[Gap]:
    span = context.active(unit)
    assert span is not None
    uncovered = next(
        (day for day in _check_days(unit, span) if not context.covered(unit, day)), None
    )
    if uncovered == span.start and unit is context.served_unit:
        broken = tuple(
            p for p in unit.usable(uncovered) if p.built_on(uncovered) and not p.pins & context.pins
        )
        return [Gap(Kind.SERVED, unit, uncovered, broken, broken)]
    unpinned = tuple(
        p for p in unit.paths if (p.valid & span) is not None and not p.pins & context.pins
    )
    if uncovered == span.start:
        return [Gap(Kind.NEW, unit, uncovered, unpinned, unpinned)]
    found = _path_gaps(context, unit, span)
    broken = (
        tuple(p for p in unit.usable(uncovered) if not p.pins & context.pins)
        if uncovered is not None
        else ()
    )
    if uncovered is not None and broken:  # (no path at all: the unit has ended)
        found.append(Gap(Kind.LATER, unit, uncovered, broken, unpinned))
    return found


def _path_gaps(context: Context, unit: Unit, span: Span) -> list[Gap]:
    found = []
    for path in unit.paths:
        live = path.valid & span
        if live is None or path.pins & context.pins:
            continue
        covering = next((p for p in unit.paths if p.pins & context.pins), None)
        found.append(Gap(Kind.PATH, unit, live.start, (path,), (path,), live, covering))
    return found


def _check_days(unit: Unit, span: Span) -> list[dt.date]:
    """The days cover can change: the span's start, and each path's and anchor's dates."""
    days = {span.start}
    for path in unit.paths:
        days |= {path.valid.start, path.valid.end + DAY}
        for anchor in (path.anchor, *path.via):
            days |= set(anchor.trust_starts())
            if anchor.root is not None:
                days |= {s.until for s in anchor.root.trust if s.until and s.until != dt.date.min}
    return sorted(day for day in days if day in span)
