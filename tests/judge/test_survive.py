"""The survivability judgement: one synthetic future per code, then real served chains."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from pingen.judge.findings import Finding, Severity
from pingen.judge.survive import judge_survivability
from pingen.model import Domain, Level, Pin, PinSet, PinSource
from pingen.pki.catalog import lookup_root
from pingen.spki import pin_of_certificate, pin_of_public_key
from tests.support.catalogs import Hierarchy  # its `pki` fixture is a plugin (tests/conftest.py)
from tests.support.paths import REAL_CHAINS

NOW = dt.datetime.now(dt.UTC)
A_YEAR_ON = (NOW + dt.timedelta(days=365)).date()  # the synthetic CA lives ten years


def pin(cert: x509.Certificate, label: str, level: Level | None = None) -> Pin:
    return Pin(pin_of_certificate(cert), PinSource.SHA256, label, level)


def backup_pin() -> Pin:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return Pin(pin_of_public_key(key), PinSource.FILE, "offline backup", Level.LEAF, backup=True)


def domain(*pins: Pin, provider: str | None = None, expires: dt.date | None = A_YEAR_ON) -> Domain:
    """A set with an offline backup key, shipped for a year (the synthetic CA lives ten)."""
    return Domain(
        "app.example.test", False, True, PinSet((*pins, backup_pin()), expires), provider=provider
    )


def roots(pki: Hierarchy, *names: str) -> list[Pin]:
    found = {"X1": pki.x1, "X2": pki.x2, "YR": pki.yr, "YE": pki.ye, "O1": pki.other}
    return [pin(found[name].cert, f"Test Root {name}", Level.ROOT) for name in names]


def judge(pki: Hierarchy, served_by: str, d: Domain) -> list[Finding]:
    return judge_survivability(d, pki.verified(served_by), NOW, pki.catalog)


def codes(problems: list[Finding]) -> list[str]:
    return [p.code for p in problems]


# -- leaf-key-rotates ------------------------------------------------------------------


def test_leaf_only_pin_warns_that_the_key_rotates_at_renewal(pki: Hierarchy) -> None:
    chain = pki.verified("R1")
    problems = judge_survivability(domain(pin(chain[0], "leaf")), chain, NOW, pki.catalog)
    assert codes(problems) == ["leaf-key-rotates"]
    (problem,) = problems
    assert problem.severity is Severity.WARNING
    assert f"expires {chain[0].not_valid_after_utc.date()}" in problem.message
    assert "renewal comes earlier" in problem.message
    # The fix names every root of the CA, the next generation included, and a backup.
    for name in ("Test Root X1", "Test Root X2", "Test Root YR", "Test Root YE"):
        assert f"`root: {name}`" in problem.message
    assert "offline backup key" in problem.message


def test_leaf_only_pin_fails_for_a_provider_that_always_rotates(pki: Hierarchy) -> None:
    chain = pki.verified("R1")
    d = domain(pin(chain[0], "leaf"), provider="google-managed")
    (problem,) = judge_survivability(d, chain, NOW, pki.catalog)
    assert problem.code == "leaf-key-rotates"
    assert problem.severity is Severity.FAIL
    assert "provider google-managed" in problem.message
    assert "`root: Other Root O1`" in problem.message  # the provider's other CA


def test_leaf_pin_is_fine_when_the_key_is_reused(pki: Hierarchy) -> None:
    chain = pki.verified("R1")
    d = domain(pin(chain[0], "leaf"), provider="letsencrypt-reuse-key")
    problems = judge_survivability(d, chain, NOW, pki.catalog)
    # The operator keeps the key: every future holds it, and a key-type switch is the
    # operator's own new key, which the backup covers (issue 11, case 7).
    assert problems == []


# -- intermediate-siblings --------------------------------------------------------------


def test_intermediate_pin_misses_its_siblings(pki: Hierarchy) -> None:
    chain = pki.verified("R1")
    d = domain(pin(chain[1], "R1", Level.INTERMEDIATE), *roots(pki, "X2", "YE", "YR"))
    problems = judge(pki, "R1", d)
    # X1 is not pinned, so E1's X1 cross-sign is a path without a pin (E1 itself is
    # covered through X2: the cause is the path, not the key type).
    assert codes(problems) == ["intermediate-siblings", "alternate-path"]
    assert "E1 ← Test Root X1" in problems[1].message
    message = problems[0].message
    assert message.startswith("R1 is pinned, but Test Encrypt issues RSA certificates from R2")
    assert "`root: Test Root X1`" in message
    # Pinning every sibling is no fix: the next generation has other intermediates.
    assert "`intermediate: R2`" not in message


def test_every_sibling_pinned_is_no_sibling_problem(pki: Hierarchy) -> None:
    siblings = [pin(pki.intermediates[n].cert, n, Level.INTERMEDIATE) for n in ("R1", "R2")]
    d = domain(*siblings, *roots(pki, "X2", "YE", "YR"))
    # (X1 itself is not pinned, so E1's X1 cross-sign path stays open.)
    assert codes(judge(pki, "R1", d)) == ["alternate-path"]


# -- key-type-switch -------------------------------------------------------------------


def test_rsa_only_roots_warn_of_a_key_type_switch(pki: Hierarchy) -> None:
    problems = judge(pki, "R1", domain(*roots(pki, "X1", "YR")))
    # E2 (under X2 only) and YE1's chain to X2 hold no pin; E1 and YE1 still reach X1
    # through cross-signs, on paths that only devices without X2 build.
    assert codes(problems) == ["key-type-switch", "alternate-path"]
    message = problems[0].message
    assert message.startswith(
        "a switch to an ECDSA key (certbot 2.0 made ECDSA its default) "
        "moves issuance by Test Encrypt to E2"
    )
    assert "E2" in message and "YE1" in message
    assert "`root: Test Root X2`" in message and "`root: Test Root YE`" in message


# -- next-root -------------------------------------------------------------------------


def test_root_reached_only_through_a_cross_sign_warns_of_the_next_root(pki: Hierarchy) -> None:
    # YR1's chain is leaf <- YR1 <- YR (cross-signed by X1) <- X1: X1 matches today.
    problems = judge(pki, "YR1", domain(*roots(pki, "X1", "X2", "YE")))
    assert codes(problems) == ["next-root"]
    message = problems[0].message
    assert "cross-sign of Test Root YR" in message
    assert "not in device trust stores yet" in message
    assert message.endswith("Add `root: Test Root YR`.")


def test_next_root_can_be_pinned_by_its_alias(pki: Hierarchy) -> None:
    cert = lookup_root("Next Root YR", pki.catalog)
    assert pin_of_certificate(cert) == pin_of_certificate(pki.yr.cert)


# -- alternate-path --------------------------------------------------------------------


def test_path_to_another_anchor_without_a_pin(pki: Hierarchy) -> None:
    # E1 is served cross-signed by X1, but E1 is also issued by X2 directly: a client
    # holding that certificate and trusting X2 builds leaf <- E1 <- X2.
    problems = judge(pki, "E1", domain(*roots(pki, "X1", "YR", "YE")))
    # (E2 has no X1 cross-sign: a sibling without a pin.)
    assert codes(problems) == ["intermediate-siblings", "alternate-path"]
    message = problems[1].message
    assert "E1 ← Test Root X2" in message
    assert "`root: Test Root X2`" in message


# -- providers: ca-switch --------------------------------------------------------------


def test_provider_that_may_switch_ca_needs_the_other_ca_roots(pki: Hierarchy) -> None:
    d = domain(*roots(pki, "X1", "X2", "YR", "YE"), provider="google-managed")
    problems = judge(pki, "R1", d)
    assert codes(problems) == ["ca-switch"]
    assert problems[0].severity is Severity.FAIL
    assert "may issue from Other CA" in problems[0].message
    assert "`root: Other Root O1`" in problems[0].message


def test_durable_set_has_no_problem_for_any_family(pki: Hierarchy) -> None:
    d = domain(*roots(pki, "X1", "X2", "YR", "YE", "O1"), provider="google-managed")
    for served_by in ("R1", "R2", "E1", "E2", "YR1", "YR2", "YE1", "YE2", "O1"):
        assert judge(pki, served_by, d) == [], served_by


def test_no_pin_matching_today_is_left_to_no_live_match(pki: Hierarchy) -> None:
    assert judge(pki, "R1", domain(*roots(pki, "YE"))) == []


def test_problems_are_deterministic(pki: Hierarchy) -> None:
    d = domain(pin(pki.intermediates["R1"].cert, "R1", Level.INTERMEDIATE))
    chain = pki.verified("R1")
    first = judge_survivability(d, chain, NOW, pki.catalog)
    assert first == judge_survivability(d, chain, NOW, pki.catalog)


def test_expired_cross_sign_is_not_a_path(pki: Hierarchy) -> None:
    # Long after every test certificate expired, no cross-sign or sibling is usable.
    later = NOW + dt.timedelta(days=20 * 365)
    d = domain(*roots(pki, "X1"))
    chain = pki.verified("R1")
    assert judge_survivability(d, chain, later, pki.catalog) == []


# -- real served chains, judged as of a day inside the leaf's validity -----------------


def real_chain(name: str) -> tuple[list[x509.Certificate], dt.datetime]:
    certs = x509.load_pem_x509_certificates((REAL_CHAINS / name).read_bytes())
    leaf = certs[0]
    middle = leaf.not_valid_before_utc + (leaf.not_valid_after_utc - leaf.not_valid_before_utc) / 2
    return certs, middle


def named_roots(*names: str) -> list[Pin]:
    return [Pin(pin_of_certificate(lookup_root(n)), PinSource.ROOT, n, Level.ROOT) for n in names]


def verified_real(name: str) -> tuple[list[x509.Certificate], dt.datetime]:
    """The chain the resolver verifies to certifi's Mozilla roots, as of mid-validity."""
    from pingen.model import Trust
    from pingen.pki.chain import build_verified_chain, load_trust_store

    certs, at = real_chain(name)
    names = certs[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = names.get_values_for_type(x509.IPAddress)
    host = str(ips[0]) if ips and not names.get_values_for_type(x509.DNSName) else None
    return build_verified_chain(certs, load_trust_store(Trust()), host, at), at


LE_ROOTS = ("ISRG Root X1", "ISRG Root X2", "Root YR", "Root YE")


def real_domain(at: dt.datetime, *pins: Pin, provider: str | None = None) -> Domain:
    """A set shipped for a year from the judged day (so no test depends on today)."""
    return domain(*pins, provider=provider, expires=(at + dt.timedelta(days=365)).date())


@pytest.mark.parametrize("name", sorted(p.name for p in REAL_CHAINS.glob("[REY]*.pem")))
def test_real_lets_encrypt_chains_with_every_root_pinned_survive(name: str) -> None:
    chain, at = verified_real(name)
    d = real_domain(at, *named_roots(*LE_ROOTS), provider="letsencrypt-certbot")
    assert judge_survivability(d, chain, at) == []


@pytest.mark.parametrize(
    "name", ["R12-2026-04-30-1.pem", "YR2-2026-11-22-1.pem", "YE2-2026-10-18-1.pem"]
)
def test_real_lets_encrypt_leaf_pin_rotates(name: str) -> None:
    chain, at = verified_real(name)
    (problem,) = judge_survivability(real_domain(at, pin(chain[0], "leaf")), chain, at)
    assert problem.code == "leaf-key-rotates"
    assert "`root: Root YR`" in problem.message and "`root: ISRG Root X2`" in problem.message


def test_real_gen_y_chain_pinned_to_x1_only() -> None:
    chain, at = verified_real("YR1-2026-09-18-1.pem")
    problems = judge_survivability(real_domain(at, *named_roots("ISRG Root X1")), chain, at)
    assert codes(problems) == ["key-type-switch", "next-root"]
    assert "cross-sign of Root YR" in problems[1].message


def test_real_ecdsa_gen_y_chain_stops_at_x2() -> None:
    # Served: leaf <- YE1 <- YE (by X2) <- X2 (by X1). A client that trusts X2 (Mozilla
    # does) stops there, so an X1-only set does not match at all: `no-live-match`.
    chain, at = verified_real("YE1-2026-09-16-1.pem")
    assert pin_of_certificate(chain[-1]) == named_roots("ISRG Root X2")[0].sha256
    assert judge_survivability(real_domain(at, *named_roots("ISRG Root X1")), chain, at) == []
    problems = judge_survivability(
        real_domain(at, *named_roots("ISRG Root X1", "ISRG Root X2")), chain, at
    )
    # YE1's chains through X2 match; only devices trusting Root YE directly break it
    # (issue 11, case 2: no key-type-switch).
    assert codes(problems) == ["next-root"]
    assert "cross-sign of Root YE" in problems[0].message


def test_real_ecdsa_gen_y_chain_completed_to_x1_has_an_x2_path() -> None:
    # The same chain as a client without X2 completes it, up to X1: the X2 path is open.
    certs, at = real_chain("YE1-2026-09-16-1.pem")
    chain = [*certs, lookup_root("ISRG Root X1")]
    problems = judge_survivability(real_domain(at, *named_roots("ISRG Root X1")), chain, at)
    # Clients that trust X2 stop there: YE1's served path matches only on devices without
    # X2 (alternate-path), and YE2, YE3 have no chain a client builds with a pin.
    assert codes(problems) == ["intermediate-siblings", "next-root", "alternate-path"]
    assert "YE1 ← Root YE ← ISRG Root X2" in problems[2].message


def test_real_intermediate_pin_misses_siblings() -> None:
    chain, at = verified_real("R13-2026-05-03-1.pem")
    d = real_domain(
        at,
        pin(chain[1], "R13", Level.INTERMEDIATE),
        *named_roots("ISRG Root X2", "Root YE", "Root YR"),
    )
    problems = judge_survivability(d, chain, at)
    # E5-E9 are cross-signed by X1 too, and X1 is not pinned: their X1 paths hold no pin.
    assert codes(problems) == ["intermediate-siblings", "alternate-path"]
    assert "R10, R11, R12 and R14" in problems[0].message


def test_real_gts_chain_on_google_managed_needs_lets_encrypt_too() -> None:
    chain, at = verified_real("WR1-2026-03-26-1.pem")
    gts = named_roots("GTS Root R1", "GTS Root R2", "GTS Root R3", "GTS Root R4")
    problems = judge_survivability(real_domain(at, *gts, provider="google-managed"), chain, at)
    assert codes(problems) == ["ca-switch"]
    assert problems[0].severity is Severity.FAIL  # Google picks, no LE key pinned
    for name in LE_ROOTS:
        assert f"`root: {name}`" in problems[0].message
    everything = real_domain(at, *gts, *named_roots(*LE_ROOTS), provider="google-managed")
    assert judge_survivability(everything, chain, at) == []


def test_real_chain_of_a_ca_outside_the_catalog_has_no_catalog_codes() -> None:
    chain, at = verified_real("Sectigo_RSA_Domain_Validation_Secure_Server_CA-2024-08-01-1.pem")
    d = real_domain(at, pin(chain[0], "leaf"), provider="self-managed")
    assert judge_survivability(d, chain, at) == []


def test_private_chain_with_a_providers_roots_has_no_ca_switch_fail() -> None:
    # Issue 11, case 3 through `trust.ca_file`: the served CA is outside the catalog;
    # Let's Encrypt's roots X1 and X2 match its Gen Y chains, so only next-root remains.
    from tests.support.pki import CA

    at = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)  # the real catalog's dates matter here
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    root = CA.root("Private Root", not_before=start, days=3650)
    intermediate = root.intermediate("Private CA", not_before=start, days=1825)
    leaf = intermediate.issue_leaf("app.example.test", not_before=start, days=365)
    chain = [leaf.cert, intermediate.cert, root.cert]
    d = domain(
        pin(root.cert, "private root", Level.ROOT),
        *named_roots("GTS Root R1", "GTS Root R4", "ISRG Root X1", "ISRG Root X2"),
        provider="google-managed",
        expires=dt.date(2027, 8, 1),
    )
    problems = judge_survivability(d, chain, at)
    assert {p.code: p.severity for p in problems} == {
        "next-root": Severity.WARNING,
        "ca-switch": Severity.WARNING,
    }
    assert "GTS Root R2" in problems[1].message and "Let's Encrypt" not in problems[1].message
