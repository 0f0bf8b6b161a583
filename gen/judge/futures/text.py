"""How the futures' findings name things: lists, paths, pins.yaml lines, days and CAs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pingen.pki.catalog import pin_line as catalog_pin_line

if TYPE_CHECKING:
    from pingen.judge.futures.context import Context
    from pingen.judge.futures.gaps import Failure
    from pingen.judge.futures.paths import Path, Step
    from pingen.pki.catalog import Catalog

HOST = "\x00host\x00"  # the domain's name in a cached message, filled in per domain


def unique(paths: Iterable[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


def chains(group: Sequence[Failure]) -> list[Path]:
    """The failing paths, once each as a person reads them (a served path and the
    catalog's may differ only in dates)."""
    return list({str(p): p for f in group for p in f.paths}.values())


def names(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def paths_text(paths: Sequence[Path], limit: int = 4) -> str:
    shown = [str(p) for p in paths[:limit]]
    more = len(paths) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def pin_line(step: Step, catalog: Catalog) -> str:
    return catalog_pin_line(step.name, step.pin, catalog)


def pins_text(steps: Sequence[Step], catalog: Catalog) -> str:
    lines = list(dict.fromkeys(pin_line(step, catalog) for step in steps if step.pin))
    return ", ".join(f"`{line}`" for line in lines)


def since(context: Context, day: dt.date) -> str:
    return f" from {day}" if day > context.start else ""


def who(context: Context, operator: str | None) -> str:
    found = context.catalog.operator(operator) if operator else None
    return found.name if found else (operator or "the CA")
