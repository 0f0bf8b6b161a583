"""Survivability: will a pin set still match after the next renewal, rotation or new root?

`verify` answers "does a pin match the chain served now"; `judge_survivability` asks the
judgement of `pingen.judge.futures` about every future of the set's window (renewals with a
new leaf key, sibling and next-generation intermediates, a key-type switch, another CA
of the provider, next roots, other paths, and the end of the pinned keys' certificates)
and returns its findings. `PathFinder` lists the paths of one intermediate or
root at a date, for `suggest`'s reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pingen.judge.findings import Finding
from pingen.judge.futures import Window, futures
from pingen.judge.futures.paths import Step  # pin None: an external anchor
from pingen.pki.catalog import load_catalog, mozilla_roots_named

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.model import Domain
    from pingen.pki.catalog import Catalog, Intermediate, Root

TRUSTED = "trusted"
PENDING = "pending"
EXTERNAL = "external"  # issuer of a cross-sign that is in neither store (older devices)


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

    known = mozilla_roots_named(name)
    if known:
        return CandidatePath((*steps, Step(name, known[0].pin)), TRUSTED)
    return CandidatePath((*steps, Step(name, None)), EXTERNAL)


def _unique(paths: Iterable[CandidatePath]) -> list[CandidatePath]:
    return list(dict.fromkeys(paths))


# -- the judgement ---------------------------------------------------------------------


def judge_survivability(
    domain: Domain,
    verified_chain: list[x509.Certificate],
    at: dt.datetime,
    catalog: Catalog | None = None,
) -> list[Finding]:
    """Findings on the futures of `domain`'s pin set, over its window from `at` to its
    `expires` (pingen.judge.futures says how).

    `verified_chain` is leaf first, trust anchor last, as the resolver built it. Returns
    no findings when no pin matches the chain today (`no-live-match` says that).
    """

    if not verified_chain:
        return []
    window = Window.of(at, domain.expires)
    return futures(
        domain.pin_set,
        domain.provider,
        window,
        catalog or load_catalog(),
        verified_chain,
        host=domain.host,
    )
