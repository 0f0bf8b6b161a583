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

The judgement in steps, one module each:

- `paths`: the catalog's units and paths, with their days (once per catalog);
- `context`: what the pin set, its window and the served chain say (today's CA and key
  type, the units in play, which of them the pins cover on a day);
- `gaps`: every way a unit can be met with no pin on its chain, not yet named;
- `units`: one unit per code, which claims its gaps (`applies`) and words its finding
  (`finding`). Adding a future is adding a unit there.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pingen.judge.findings import Finding
from pingen.judge.futures.context import Context
from pingen.judge.futures.paths import Window, catalog_of, index_of
from pingen.judge.futures.text import HOST
from pingen.judge.futures.units import FUTURES
from pingen.pki.catalog import key_type_of, named
from pingen.pki.providers import PROVIDERS
from pingen.spki import pin_of_certificate

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.model import PinSet
    from pingen.pki.catalog import Catalog
    from pingen.pki.providers import Provider

__all__ = ["Window", "futures", "index_of"]


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
        replace(f, message=f.message.replace(HOST, host or "HOST")) if HOST in f.message else f
        for f in found
    ]


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

    chain = tuple(named(cert, "chain") for cert in ca_certs) if ca_certs is not None else None
    leaf = named(pinned_leaf, "chain") if pinned_leaf is not None else None
    catalog = catalog_of(catalog_id)
    context = Context(pins, expires, provider, start, catalog, chain, leaf, leaf_type)
    if not context.judged:
        return ()
    return tuple(future.finding(context) for future in FUTURES if future.applies(context))
