"""Properties of the judgement over the shipped CA catalog (pingen.judge.futures), bounded and
derandomized:

- every set `suggest` proposes for a real chain matches every future of its window;
- a set judged ok has no failing future, by an independent walk over the catalog;
- per code, a minimal set that triggers it, and following the advice clears it: the
  advice of every message, followed, comes out ok.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingen.author.suggest import suggest
from pingen.judge.findings import Finding
from pingen.judge.futures import Window, futures, index_of
from pingen.model import Level, Pin, PinSet, PinSource, Trust
from pingen.pki.catalog import Catalog, load_catalog
from pingen.pki.chain import build_verified_chain, load_trust_store
from pingen.spki import pin_of_certificate
from tests.support.paths import REAL_CHAINS
from tests.support.shipped_pins import POOL, pin

MANIFEST = {e["file"]: e for e in json.loads((REAL_CHAINS / "manifest.json").read_text())}
BACKUP = Pin(
    "Dk6qPzGm4UDB5oP6sTZKF5bKDmLqF7X3vV1Ncr7RfXo=",
    PinSource.SHA256,
    "offline backup",
    Level.LEAF,
    backup=True,
)
PROPERTIES = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def catalog() -> Catalog:
    return load_catalog()


def served(file: str) -> tuple[list[x509.Certificate], dt.datetime, str]:
    """The chain verified to certifi's roots a week into the leaf's life (or half of
    it), and its host."""
    entry = MANIFEST[file]
    start, end = (
        dt.datetime.fromisoformat(entry[k].replace("Z", "+00:00"))
        for k in ("not_before", "not_after")
    )
    at = start + min(dt.timedelta(days=7), (end - start) / 2)
    host = (entry["leaf_dns_sans"] or entry["leaf_ip_sans"])[0].replace("*.", "x.")
    certs = x509.load_pem_x509_certificates((REAL_CHAINS / file).read_bytes())
    return build_verified_chain(certs, load_trust_store(Trust()), host, at), at, host


def judge(
    lines: list[str],
    expires: dt.date | None,
    at: dt.date,
    provider: str | None = None,
    chain: list[x509.Certificate] | None = None,
    extra: tuple[Pin, ...] = (),
) -> list[Finding]:
    pins = PinSet((*(pin(line) for line in lines), *extra, BACKUP), expires)
    return futures(pins, provider, Window.of(at, expires), catalog(), chain)


# -- suggest's sets survive their window ---------------------------------------------------

CATALOGUED = sorted(
    f for f in MANIFEST if not f.startswith("Sectigo_RSA_Domain_Validation_Secure_Server_CA-2024")
)
PROVIDERS_OF: dict[str, list[str | None]] = {
    "Amazon": ["aws-acm"],
    "WR1": ["google-managed"],
    "WE1": ["google-managed"],
    "Sectigo": [None],
}


@pytest.mark.parametrize("file", CATALOGUED)
def test_suggested_sets_match_every_future_of_their_window(file: str) -> None:
    chain, at, host = served(file)
    providers = PROVIDERS_OF.get(
        file.split("-")[0].split("_")[0], [None, "letsencrypt-certbot", "google-managed"]
    )
    for provider in providers:
        suggestion = suggest(host, chain, at, catalog(), provider)
        assert suggestion.remaining == (), (provider, suggestion.remaining)
        expires = (at + dt.timedelta(days=365)).date()
        lines = [f"{p.source}: {p.value}" for p in suggestion.pins]
        for day in (at.date(), at.date() + dt.timedelta(days=180)):  # the whole window
            assert judge(lines, expires, day, provider, chain) == [], (provider, day)
            assert judge(lines, expires, day, provider) == [], (provider, day)  # offline


# -- a set judged ok has no failing future -------------------------------------------------

FIRST_DAY = dt.date(2024, 6, 1)


def failing_paths(
    lines: list[str], start: dt.date, end: dt.date, provider: str | None
) -> list[str]:
    """Independently of the judgement: every path of every unit of the CAs in play that
    can be used in [start, end], ending at an anchor some store trusts or may add, and
    holding no pin."""
    from pingen.pki.providers import PROVIDERS

    index = index_of(catalog())
    pins = {pin(line).sha256 for line in lines}
    operators = {unit.operator for unit in index.by_pin.values() if unit.pin in pins}
    operators |= {root.operator for root in catalog().roots if root.pin in pins}
    facts = PROVIDERS.get(provider or "")
    operators |= set(facts.operators if facts else ())
    broken = []
    for operator in sorted(op for op in operators if op):
        for unit in index.units_of(operator):
            issues_in_window = unit.issues.start <= end and start <= unit.issues.end
            for path in unit.paths if issues_in_window else ():
                first = max(start, unit.issues.start, path.valid.start)
                last = min(end, unit.issues.end, path.valid.end)
                if first > last or path.pins & pins:
                    continue
                anchor = path.anchor
                if anchor.may_be_added or anchor.trusted_on(first) or anchor.trusted_on(last):
                    broken.append(str(path))
    return broken


LE_ROOTS = POOL[:4]
GTS_ROOTS = POOL[11:15]


@PROPERTIES
@given(
    st.sets(st.sampled_from(POOL), min_size=1, max_size=9),
    st.booleans(),
    st.booleans(),
    st.integers(0, 3 * 365),
    st.integers(14, 4 * 365),
    st.sampled_from([None, "letsencrypt-certbot", "google-managed"]),
)
def test_a_set_judged_ok_has_no_failing_future(
    chosen: set[str],
    le_roots: bool,
    gts_roots: bool,
    offset: int,
    length: int,
    provider: str | None,
) -> None:
    # (every root of a CA, often: most random sets fail, and an ok one is what is tested)
    lines = sorted(chosen | set(LE_ROOTS if le_roots else ()) | set(GTS_ROOTS if gts_roots else ()))
    start = FIRST_DAY + dt.timedelta(days=offset)
    expires = start + dt.timedelta(days=length)
    if judge(lines, expires, start, provider) == []:
        assert failing_paths(lines, start, expires, provider) == []


def test_the_property_can_fail() -> None:
    """The independent walk does find what a partial set misses."""
    assert failing_paths(["root: ISRG Root X1"], dt.date(2026, 6, 1), dt.date(2027, 6, 1), None)
    assert judge(["root: ISRG Root X1"], dt.date(2027, 6, 1), dt.date(2026, 6, 1)) != []


# -- per code: a minimal set that triggers it; the advice clears it ------------------------

# code: (chain, pins, days the set is shipped for, provider; the leaf key when "leaf")
TRIGGERS: dict[str, tuple[str, tuple[str, ...], int, str | None]] = {
    "leaf-key-rotates": ("Amazon_RSA_2048_M02-2025-07-26-1.pem", ("leaf",), 365, "aws-acm"),
    "intermediate-siblings": ("R13-2026-05-03-1.pem", ("intermediate: R13",), 60, None),
    "key-type-switch": ("YR1-2026-09-18-1.pem", ("root: ISRG Root X1", "root: Root YR"), 365, None),
    "next-root": ("YR1-2026-09-18-1.pem", ("root: ISRG Root X1", "root: ISRG Root X2"), 365, None),
    "alternate-path": (
        "R13-2026-05-03-1.pem",
        ("intermediate: R13", "root: ISRG Root X2", "root: Root YE", "root: Root YR"),
        60,
        None,
    ),
    "ca-switch": (
        "WR1-2026-03-26-1.pem",
        ("root: GTS Root R1", "root: GTS Root R2", "root: GTS Root R3", "root: GTS Root R4"),
        365,
        "google-managed",
    ),
    "pins-expire": (
        "R13-2026-05-03-1.pem",
        tuple(
            f"intermediate: {n}"
            for n in (
                "R10",
                "R11",
                "R12",
                "R13",
                "R14",
                "E5",
                "E6",
                "E7",
                "E8",
                "E9",
                "YR1",
                "YR2",
                "YR3",
                "YE1",
                "YE2",
                "YE3",
            )
        ),
        3 * 365,
        None,
    ),
}


def followed(
    findings: list[Finding], lines: list[str], expires: dt.date
) -> tuple[list[str], dt.date]:
    """The set after doing what every message says: add its pins, else move `expires`."""
    for finding in findings:
        lines = [*lines, *(line for line in finding.fix if line not in lines)]
        if not finding.fix and finding.expires_by is not None:
            expires = min(expires, finding.expires_by)
    return lines, expires


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_each_code_has_a_trigger_and_its_advice_clears_it(code: str) -> None:
    file, lines, days, provider = TRIGGERS[code]
    chain, at, _ = served(file)
    leaf = (
        (Pin(pin_of_certificate(chain[0]), PinSource.SHA256, "leaf", Level.LEAF),)
        if "leaf" in lines
        else ()
    )
    pins = [line for line in lines if line != "leaf"]
    expires = at.date() + dt.timedelta(days=days)
    findings = judge(pins, expires, at.date(), provider, chain, leaf)
    assert code in [f.code for f in findings]
    finding = next(f for f in findings if f.code == code)
    assert finding.first is not None and finding.first >= at.date() and finding.chains
    own_lines, own_expires = followed([finding], pins, expires)  # its own advice clears it
    assert code not in [
        f.code for f in judge(own_lines, own_expires, at.date(), provider, chain, leaf)
    ]
    fixed_lines, fixed_expires = followed(findings, pins, expires)
    assert judge(fixed_lines, fixed_expires, at.date(), provider, chain, leaf) == [], findings


def test_a_provider_that_keeps_one_intermediate_has_no_siblings() -> None:
    from dataclasses import replace

    from pingen.pki.providers import PROVIDERS

    chain, at, _ = served("Amazon_RSA_2048_M02-2025-07-26-1.pem")
    lines = ["intermediate: Amazon RSA 2048 M02"]
    expires = at.date() + dt.timedelta(days=365)
    pins = PinSet((*(pin(line) for line in lines), BACKUP), expires)
    window = Window.of(at, expires)
    acm = PROVIDERS["aws-acm"]
    rotating = futures(pins, acm, window, catalog(), chain)
    siblings = next(f for f in rotating if f.code == "intermediate-siblings")
    assert "another Amazon RSA 2048 intermediate" in siblings.message
    fixed = futures(pins, replace(acm, rotates_intermediates=False), window, catalog(), chain)
    assert all("another Amazon RSA 2048 intermediate" not in f.message for f in fixed)
    assert "Amazon Root CA 2" in " ".join(f.message for f in fixed)  # another root still may


def test_cloudflare_may_issue_from_four_cas() -> None:
    chain, at, _ = served("YR1-2026-09-18-1.pem")
    le_roots = ["root: ISRG Root X1", "root: ISRG Root X2", "root: Root YR", "root: Root YE"]
    found = judge(le_roots, at.date() + dt.timedelta(days=365), at.date(), "cloudflare", chain)
    (switch,) = [f for f in found if f.code == "ca-switch"]
    assert switch.severity.value == "fail"  # Cloudflare picks the CA
    for name in ("Google Trust Services", "SSL.com", "Sectigo"):
        assert name in switch.message


# The sets of issue 11's ten cases (tests/judge/test_survival_cases.py): every message's advice,
# followed, comes out ok. (chain, day, pins, expires, provider)
GEN_X_RSA = tuple(f"intermediate: R1{n}" for n in range(5))
ISSUE_CASES = [
    ("R13-2026-05-03-1.pem", "2026-04-20", GEN_X_RSA, "2027-12-31", None),
    ("R13-2026-05-03-1.pem", "2026-04-20", ("intermediate: R13",), "2027-12-31", None),
    (
        "YR1-2026-09-18-1.pem",
        "2026-08-01",
        ("root: ISRG Root X1", "root: ISRG Root X2"),
        "2027-08-01",
        None,
    ),
    (
        "WR1-2026-03-26-1.pem",
        "2026-03-01",
        ("root: GTS Root R1", "root: GTS Root R4", "root: ISRG Root X1", "root: ISRG Root X2"),
        "2027-03-01",
        "google-managed",
    ),
    ("R10-2025-04-30-1.pem", "2025-03-01", GEN_X_RSA, "2027-01-31", None),
    (
        "YR1-2026-09-18-1.pem",
        "2026-08-01",
        ("intermediate: YR1", "intermediate: YR2", "intermediate: YR3"),
        "2027-08-01",
        None,
    ),
    (
        "Amazon_RSA_2048_M02-2025-07-26-1.pem",
        "2025-05-01",
        ("intermediate: Amazon RSA 2048 M02",),
        "2026-05-01",
        "aws-acm",
    ),
    ("WR1-2026-03-26-1.pem", "2026-03-01", ("intermediate: WR1",), "2027-03-01", "google-managed"),
]


@pytest.mark.parametrize(("file", "day", "lines", "until", "provider"), ISSUE_CASES)
def test_the_advice_of_issue_11s_cases_comes_out_ok(
    file: str, day: str, lines: tuple[str, ...], until: str, provider: str | None
) -> None:
    chain, _, _ = served(file)
    at, expires = dt.date.fromisoformat(day), dt.date.fromisoformat(until)
    findings = judge(list(lines), expires, at, provider, chain)
    assert findings
    fixed_lines, fixed_expires = followed(findings, list(lines), expires)
    assert judge(fixed_lines, fixed_expires, at, provider, chain) == []
    assert judge(fixed_lines, fixed_expires, at, provider) == []  # build agrees
