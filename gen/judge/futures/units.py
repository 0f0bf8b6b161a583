"""One unit per survivability code: whether it applies to a judgement, and its finding.

    for future in FUTURES:
        if future.applies(context):
            future.finding(context)

Most units are named by the gaps they claim (pingen.judge.futures.gaps): each gap goes to
the one unit whose cause it is, and a unit words all its gaps as one finding, the
certain ones first. Adding a future is adding a unit here, and its code to the table of
pingen.judge.findings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from pingen.judge.findings import (
    ALTERNATE_PATH,
    CA_SWITCH,
    INTERMEDIATE_SIBLINGS,
    KEY_TYPE_SWITCH,
    LEAF_KEY_ROTATES,
    NEXT_ROOT,
    PINS_EXPIRE,
    Code,
    Finding,
)
from pingen.judge.futures.gaps import Failure, Gap, Kind
from pingen.judge.futures.paths import DAY, Step, Unit
from pingen.judge.futures.text import (
    HOST,
    chains,
    names,
    paths_text,
    pin_line,
    pins_text,
    since,
    unique,
    who,
)

if TYPE_CHECKING:
    from pingen.judge.futures.context import Context


class Future(ABC):
    code: ClassVar[Code]

    @abstractmethod
    def applies(self, context: Context) -> bool: ...

    @abstractmethod
    def finding(self, context: Context) -> Finding: ...


# -- the leaf and the pinned keys' end -----------------------------------------------------


class LeafKeyRotates(Future):
    """Only the served leaf is pinned, and its key is replaced at renewal."""

    code = LEAF_KEY_ROTATES

    def applies(self, context: Context) -> bool:
        return context.leaf_alone_rotates

    def finding(self, context: Context) -> Finding:
        leaf = context.leaf
        assert leaf is not None
        provider = context.provider
        if provider is not None:
            certain = provider.refuses_leaf_pins
            why = f"provider {provider.name}: {provider.description}"
        else:
            certain = False
            served = context.served_unit
            issuer = served.name if served else leaf.issuer_name
            why = (
                f"{issuer} certificates come from clients and platforms that make a new "
                "key at each renewal by default (certbot, Caddy, cert-manager, managed "
                "platforms)"
            )
        renewal = (leaf.not_before + (leaf.not_after - leaf.not_before) * 2 / 3).date()
        when = (
            f"around {renewal}, or any day the CA asks"
            if renewal > context.start
            else "it is due now: two thirds of its life have passed"
        )
        fix = _durable_roots(context)
        advice = pins_text(fix, context.catalog)
        return self.code.finding(
            f"only the leaf key matches ({leaf.name}); {why}. The leaf expires "
            f"{leaf.not_after.date()}, and renewal comes earlier ({when}): then nothing "
            f"matches. Add {advice} and an offline backup key (pingen keygen)"
            + (f"; `pingen suggest {HOST}` prints them." if fix else "."),
            certain=certain,
            first=max(context.start, renewal),
            chains=(leaf.name,),
            fix=tuple(pin_line(step, context.catalog) for step in fix),
        )


def _durable_roots(context: Context) -> list[Step]:
    """Every root of the CAs in play that outlives today, not pinned yet."""
    steps = [
        Step(root.name, root.pin)
        for op in context.operators_in_play()
        for root in context.catalog.roots_of(op)
        if root.pin not in context.pins and context.start <= root.cert.not_after.date()
    ]
    if steps or context.chain is None:
        return steps
    above = [c for c in context.chain if c.pin not in context.pins][-1:]
    return [Step(c.name, c.pin) for c in above]


class PinsExpire(Future):
    """Every known certificate of the pinned CA keys ends before the set does."""

    code = PINS_EXPIRE

    def applies(self, context: Context) -> bool:
        if context.leaf_alone_rotates:
            return False
        expires = context.expires
        return bool(context.ca_keys) and (expires is None or context.ca_end < expires)

    def finding(self, context: Context) -> Finding:
        last = context.ca_end
        keys = names(context.ca_keys)
        if context.expires is None:
            return self.code.finding(
                f"no known certificate for the pinned CA keys ({keys}) is valid after {last}, "
                f"and the pin set never expires: from {last + DAY} no chain can reach a "
                f"pinned CA key. Set `expires:` to {last} or earlier, and ship a new set "
                "before then.",
                first=last + DAY,
                chains=(keys,),
                expires_by=last,
            )
        roots = [
            Step(root.name, root.pin)
            for op in context.operators
            for root in context.catalog.roots_of(op)
            if root.pin not in context.pins
            and root.cert.not_after.date() >= context.expires
            and root.cert.not_before.date() <= context.start
        ]
        also = f", or add {pins_text(roots, context.catalog)}" if roots else ""
        return self.code.finding(
            f"no known certificate for the pinned CA keys ({keys}) is valid after {last}, "
            f"yet the pin set expires {context.expires}: from {last + DAY} no chain can reach "
            f"a pinned CA key. Set `expires:` to {last} or earlier{also}.",
            certain=True,
            first=last + DAY,
            chains=(keys,),
            fix=tuple(pin_line(step, context.catalog) for step in roots),
            expires_by=last,
        )


# -- futures named by the gaps they claim ---------------------------------------------------


class GapFuture(Future):
    by_anchor: ClassVar[bool] = False  # cleared by its paths' anchors, else their first root

    @abstractmethod
    def claim(self, gap: Gap, context: Context) -> Failure | None:
        """The gap as this code's failure, when it is this code's cause."""

    @abstractmethod
    def text(self, context: Context, group: list[Failure]) -> str:
        """What the failures mean, certain ones first; the pins to add follow."""

    def failures(self, context: Context) -> list[Failure]:
        found = context.claims.get(self.code)
        if found is None:
            found = [f for gap in context.gaps if (f := self.claim(gap, context)) is not None]
            context.claims[self.code] = found
        return found

    def applies(self, context: Context) -> bool:
        return not context.leaf_decides and bool(self.failures(context))

    def finding(self, context: Context) -> Finding:
        group = sorted(self.failures(context), key=lambda f: (not f.certain, f.day))
        paths = unique(p for f in group for p in f.fixes)
        steps = [p.anchor_step if self.by_anchor else p.first_root for p in paths]
        fixes = list(dict.fromkeys(steps))
        return self.code.finding(
            self.text(context, group) + f" Add {pins_text(fixes, context.catalog)}.",
            certain=group[0].certain,
            first=min(f.day for f in group),
            chains=tuple(str(p) for p in chains(group)),
            fix=tuple(dict.fromkeys(pin_line(step, context.catalog) for step in fixes)),
        )


class NewUnitFuture(GapFuture):
    """A unit uncovered when it starts issuing, filed by what the CA moves to."""

    @abstractmethod
    def caused(self, unit: Unit, context: Context) -> bool: ...

    @abstractmethod
    def certain(self, gap: Gap, context: Context) -> bool:
        """No unit the CA (or the platform) may pick instead is covered that day."""

    def claim(self, gap: Gap, context: Context) -> Failure | None:
        if gap.kind is not Kind.NEW or not self.caused(gap.unit, context):
            return None
        certain = self.certain(gap, context) and not gap.unit.projected
        return Failure(self.code, gap.unit, gap.day, certain, gap.paths, gap.fixes)


def _same_ca(gap: Gap, context: Context) -> list[Unit]:
    """The units of the gap's CA that issue on its day."""
    return [u for u in context.units if gap.day in u.issues and u.operator == gap.unit.operator]


def _covered_alike(gap: Gap, context: Context) -> bool:
    """A unit of the same CA and key type as the gap's is covered on its day."""
    return any(
        context.covered(u, gap.day)
        for u in _same_ca(gap, context)
        if u.key_type == gap.unit.key_type
    )


class IntermediateSiblings(NewUnitFuture):
    """Today's CA and key type, from an intermediate no pin covers."""

    code = INTERMEDIATE_SIBLINGS

    def caused(self, unit: Unit, context: Context) -> bool:
        return (unit.operator, unit.key_type) in context.reference_pairs

    def certain(self, gap: Gap, context: Context) -> bool:
        return not _covered_alike(gap, context)

    def text(self, context: Context, group: list[Failure]) -> str:
        certain = [f for f in group if f.certain]
        possible = [f for f in group if not f.certain]
        parts = []
        if certain:
            first = certain[0]
            units = names([f.unit.name for f in certain])
            parts.append(
                f"from {first.day}, {who(context, first.unit.operator)} issues "
                f"{first.unit.key_type.upper()} certificates only from {units}, and no pin "
                f"is on their chains ({paths_text(chains(certain))}): the first renewal "
                "after that matches nothing"
            )
        if possible:
            first = possible[0]
            pinned = context.pinned_intermediates()
            lead = (
                f"{names(pinned)} {'is' if len(pinned) == 1 else 'are'} pinned, but "
                if pinned and not certain
                else ""
            )
            parts.append(
                f"{lead}{who(context, first.unit.operator)} issues "
                f"{first.unit.key_type.upper()} certificates from "
                f"{names([f.unit.name for f in possible])} too{since(context, first.day)}, and "
                f"the next certificate can come from any of them "
                f"({paths_text(chains(possible))}): no pin is on those chains"
            )
        return "; ".join(parts) + "."


class KeyTypeSwitch(NewUnitFuture):
    """Today's CA, the other key type."""

    code = KEY_TYPE_SWITCH

    def caused(self, unit: Unit, context: Context) -> bool:
        pairs = context.reference_pairs
        return (
            unit.operator in {op for op, _ in pairs} and (unit.operator, unit.key_type) not in pairs
        )

    def certain(self, gap: Gap, context: Context) -> bool:
        # Today's key type stops issuing, or the platform picks the type and no unit of
        # the new type is covered.
        forced = context.chain is not None and not any(
            u.key_type == context.key_type for u in _same_ca(gap, context)
        )
        return forced or (context.automatic and not _covered_alike(gap, context))

    def text(self, context: Context, group: list[Failure]) -> str:
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
                if context.automatic
                else " (it issues no other key type then)"
            )
        a = "an" if other[0] in "AEIOU" else "a"
        by_operator: dict[str | None, list[str]] = {}
        for failure in group:
            by_operator.setdefault(failure.unit.operator, []).append(failure.unit.name)
        moves = " and ".join(
            f"by {who(context, op)} to {names(units)}" for op, units in by_operator.items()
        )
        return (
            f"a switch to {a} {other} key{why} moves issuance {moves}"
            f"{since(context, first.day)}{picked}, where no pin matches "
            f"({paths_text(chains(group))})."
        )


class CaSwitch(NewUnitFuture):
    """Another CA than today's."""

    code = CA_SWITCH

    def caused(self, unit: Unit, context: Context) -> bool:
        return unit.operator not in {op for op, _ in context.reference_pairs}

    def certain(self, gap: Gap, context: Context) -> bool:
        return context.automatic and not any(
            context.covered(u, gap.day) for u in _same_ca(gap, context)
        )

    def text(self, context: Context, group: list[Failure]) -> str:
        first = group[0]
        operators = names([who(context, f.unit.operator) for f in group])
        provider = context.provider
        by = f"provider {provider.name}" if provider else "the platform"
        picked = (
            " (the platform picks the CA, and none of its keys is pinned)" if first.certain else ""
        )
        return (
            f"{by} may issue from {operators}{since(context, first.day)}{picked}, through "
            f"{names([f.unit.name for f in group])}, and no pin is on those chains "
            f"({paths_text(chains(group))})."
        )


class NextRoot(GapFuture):
    """A path that ends at a root devices do not trust yet, or that loses the cross-sign
    carrying it to a pinned key."""

    code = NEXT_ROOT
    by_anchor = True

    def claim(self, gap: Gap, context: Context) -> Failure | None:
        unit = gap.unit
        if gap.kind is Kind.LATER:
            return Failure(self.code, unit, gap.day, not unit.projected, gap.paths, gap.fixes)
        if gap.kind is not Kind.PATH or gap.live is None:
            return None
        anchor = gap.paths[0].anchor
        if anchor.trusted_on(gap.live.start):
            return None
        starts = [day for day in anchor.trust_starts() if day in gap.live]
        if starts:
            return Failure(self.code, unit, starts[0], True, gap.paths, gap.fixes, gap.covered_by)
        if anchor.may_be_added:
            return Failure(
                self.code, unit, gap.live.start, False, gap.paths, gap.fixes, gap.covered_by
            )
        return None

    def text(self, context: Context, group: list[Failure]) -> str:
        certain = [f for f in group if f.certain]
        possible = [f for f in group if not f.certain]
        parts = []
        for failure in certain:
            roots = names([p.anchor.name for p in failure.paths])
            parts.append(
                f"from {failure.day} chains from {failure.unit.name} can end at {roots} "
                f"({paths_text(failure.paths)}), and no pin is on them: the cross-sign that "
                "carried them to a pinned key ends, or devices start trusting the root "
                "directly then"
            )
        if possible:
            roots = names([p.anchor.name for f in possible for p in f.paths])
            starts = names([f.unit.name for f in possible])
            matching = next((f.covered_by for f in possible if f.covered_by), None)
            today = f" (e.g. {matching})" if matching else ""
            plural = len({p.anchor.name for f in possible for p in f.paths}) > 1
            parts.append(
                f"chains from {starts} match only through the cross-sign of {roots}{today}; "
                f"{roots} "
                f"{'are' if plural else 'is'} not in device trust stores yet, and once "
                f"devices trust {'them' if plural else 'it'} directly (any day from "
                f"{possible[0].day}) the chain ends there and holds no pin "
                f"({paths_text(chains(possible))})"
            )
        return "; ".join(parts) + "."


class AlternatePath(GapFuture):
    """The unit is covered, but a client can validate along a path with no pin."""

    code = ALTERNATE_PATH
    by_anchor = True

    def claim(self, gap: Gap, context: Context) -> Failure | None:
        if gap.kind is Kind.SERVED:
            return Failure(self.code, gap.unit, gap.day, False, gap.paths, gap.fixes)
        if gap.kind is Kind.PATH and gap.live and gap.paths[0].anchor.trusted_on(gap.live.start):
            return Failure(self.code, gap.unit, gap.live.start, False, gap.paths, gap.fixes)
        return None

    def text(self, context: Context, group: list[Failure]) -> str:
        paths = chains(group)
        return (
            f"a client can validate along {paths_text(paths)}{since(context, group[0].day)}, "
            f"and no pin is on {'that path' if len(paths) == 1 else 'those paths'}."
        )


# In the order findings are reported (the table's, pingen.judge.findings.SURVIVABILITY).
FUTURES: tuple[Future, ...] = (
    LeafKeyRotates(),
    IntermediateSiblings(),
    KeyTypeSwitch(),
    NextRoot(),
    AlternatePath(),
    CaSwitch(),
    PinsExpire(),
)
