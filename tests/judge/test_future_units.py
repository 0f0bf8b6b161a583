"""The futures as units (pingen.judge.futures.units): one unit per survivability code, in the
table's order, and every gap a judgement finds is filed under at most one code."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from pingen.judge.findings import SURVIVABILITY
from pingen.judge.futures.context import Context
from pingen.judge.futures.gaps import Gap, Kind
from pingen.judge.futures.units import FUTURES, GapFuture
from pingen.pki.catalog import load_catalog
from pingen.pki.providers import PROVIDERS
from tests.support.shipped_pins import POOL, pin

FIRST_DAY = dt.date(2024, 6, 1)


def test_one_unit_per_survivability_code_in_the_tables_order() -> None:
    assert tuple(future.code for future in FUTURES) == SURVIVABILITY


def _claims(gap: Gap, context: Context) -> list[str]:
    units = [f for f in FUTURES if isinstance(f, GapFuture)]
    return [f.code.name for f in units if f.claim(gap, context) is not None]


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(
    st.sets(st.sampled_from(POOL), min_size=1, max_size=8),
    st.integers(0, 3 * 365),
    st.integers(14, 4 * 365),
    st.sampled_from([None, "letsencrypt-certbot", "google-managed"]),
)
def test_every_gap_is_filed_under_at_most_one_code(
    chosen: set[str], offset: int, length: int, provider: str | None
) -> None:
    start = FIRST_DAY + dt.timedelta(days=offset)
    pins = frozenset(pin(line).sha256 for line in chosen)
    facts = PROVIDERS.get(provider or "")
    context = Context(pins, start + dt.timedelta(days=length), facts, start, load_catalog(), None)
    for gap in context.gaps:
        claimed = _claims(gap, context)
        assert len(claimed) <= 1, (gap.kind, gap.unit.name, claimed)
        if gap.kind is not Kind.PATH:  # a path to an anchor no store may add is no gap
            assert len(claimed) == 1, (gap.kind, gap.unit.name)
