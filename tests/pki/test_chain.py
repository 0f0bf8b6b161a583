"""Chain building: served chain -> verified chain to a root of the trust store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pingen.errors import ConfigError
from pingen.model import Level, Trust
from pingen.pki.chain import (
    UntrustedChain,
    build_verified_chain,
    levels,
    load_certificates,
    load_trust_store,
    served_levels,
)
from pingen.spki import pin_of_certificate
from tests.support.pki import CA, pem_of, write_pem

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def pki() -> tuple[CA, CA]:
    root = CA.root("Chain Test Root")
    return root, root.intermediate("Chain Test Issuing CA")


def store_of(tmp_path: Path, *roots: CA) -> Trust:
    return Trust(ca_file=write_pem(tmp_path / "roots.pem", *(r.cert for r in roots)))


def test_root_not_sent_is_added_from_the_store(tmp_path: Path, pki: tuple[CA, CA]) -> None:
    root, inter = pki
    leaf = inter.issue_leaf("api.example.test")
    store = load_trust_store(store_of(tmp_path, root))
    chain = build_verified_chain(leaf.chain(), store, "api.example.test", NOW)
    assert chain == [leaf.cert, inter.cert, root.cert]
    assert levels(chain) == [Level.LEAF, Level.INTERMEDIATE, Level.ROOT]
    assert pin_of_certificate(chain[-1]) == root.pin


def test_extra_and_misordered_certificates_are_only_candidates(
    tmp_path: Path, pki: tuple[CA, CA]
) -> None:
    root, inter = pki
    leaf = inter.issue_leaf("api.example.test")
    stray = CA.root("Stray Root").intermediate("Stray CA").cert
    store = load_trust_store(store_of(tmp_path, root))
    chain = build_verified_chain([leaf.cert, stray, root.cert, inter.cert], store, None, NOW)
    assert chain == [leaf.cert, inter.cert, root.cert]


def test_unknown_root_is_untrusted_and_says_which_issuer(
    tmp_path: Path, pki: tuple[CA, CA]
) -> None:
    _, inter = pki
    other = CA.root("Some Other Root")
    store = load_trust_store(store_of(tmp_path, other))
    with pytest.raises(UntrustedChain, match=r"no root in the trust store .* issued .*Chain Test"):
        build_verified_chain(inter.issue_leaf("a.test").chain(), store, "a.test", NOW)


def test_missing_intermediate_is_untrusted(tmp_path: Path, pki: tuple[CA, CA]) -> None:
    root, inter = pki
    leaf = inter.issue_leaf("a.test")
    store = load_trust_store(store_of(tmp_path, root))
    with pytest.raises(UntrustedChain, match="incomplete chain"):
        build_verified_chain([leaf.cert], store, "a.test", NOW)


def test_wrong_host_is_untrusted(tmp_path: Path, pki: tuple[CA, CA]) -> None:
    root, inter = pki
    store = load_trust_store(store_of(tmp_path, root))
    with pytest.raises(UntrustedChain, match=r"does not cover b\.test .*a\.test"):
        build_verified_chain(inter.issue_leaf("a.test").chain(), store, "b.test", NOW)


def test_expired_leaf_is_untrusted_now_but_verifies_at_a_past_date(tmp_path: Path) -> None:
    long_ago = NOW - dt.timedelta(days=400)
    root = CA.root("Old Test Root", not_before=long_ago)
    inter = root.intermediate("Old Test CA", not_before=long_ago)
    start = NOW - dt.timedelta(days=100)
    leaf = inter.issue_leaf("a.test", not_before=start, not_after=start + dt.timedelta(days=90))
    store = load_trust_store(store_of(tmp_path, root))
    with pytest.raises(UntrustedChain, match="leaf certificate expired on"):
        build_verified_chain(leaf.chain(), store, "a.test", NOW)
    past = start + dt.timedelta(days=10)
    assert build_verified_chain(leaf.chain(), store, "a.test", past)[-1] == root.cert


def test_cross_signed_path_ends_at_the_trusted_old_root(tmp_path: Path) -> None:
    old_root = CA.root("Old Root")
    new_root = CA.root("New Root")
    cross = old_root.cross_sign(new_root)
    inter = new_root.intermediate("New Issuing CA")
    leaf = inter.issue_leaf("a.test")
    store = load_trust_store(store_of(tmp_path, old_root))
    chain = build_verified_chain([leaf.cert, inter.cert, cross], store, "a.test", NOW)
    assert chain == [leaf.cert, inter.cert, cross, old_root.cert]
    # the cross-sign carries the new root's key: its pin is New Root's pin
    assert pin_of_certificate(chain[2]) == new_root.pin


def test_rsa_and_ip_address_leaf(tmp_path: Path) -> None:
    root = CA.root("RSA Root", key_type="rsa-2048")
    leaf = root.intermediate("RSA CA", key_type="rsa-2048").issue_leaf(
        "127.0.0.1", key_type="rsa-2048"
    )
    store = load_trust_store(store_of(tmp_path, root))
    assert len(build_verified_chain(leaf.chain(), store, "127.0.0.1", NOW)) == 3


def test_certifi_store_loads_and_rejects_a_test_chain(pki: tuple[CA, CA]) -> None:
    store = load_trust_store(Trust())
    assert len(store.roots) > 100
    assert "certifi" in store.description
    with pytest.raises(UntrustedChain):
        build_verified_chain(pki[1].issue_leaf("a.test").chain(), store, "a.test", NOW)


def test_unreadable_ca_file_is_a_config_error(tmp_path: Path) -> None:
    empty = tmp_path / "roots.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"no readable certificates|no certificates"):
        load_trust_store(Trust(ca_file=empty))
    with pytest.raises(ConfigError, match="cannot be read"):
        load_trust_store(Trust(ca_file=tmp_path / "missing.pem"))


def test_load_certificates_pem_bundle_and_der(pki: tuple[CA, CA]) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    root, inter = pki
    assert load_certificates(pem_of([root.cert, inter.cert])) == [root.cert, inter.cert]
    assert load_certificates(root.cert.public_bytes(Encoding.DER)) == [root.cert]


def test_served_levels_marks_a_sent_self_signed_root(pki: tuple[CA, CA]) -> None:
    _, inter = pki
    leaf = inter.issue_leaf("a.test")
    assert served_levels(leaf.chain(include_root=True)) == [
        Level.LEAF,
        Level.INTERMEDIATE,
        Level.ROOT,
    ]
    assert served_levels([leaf.cert]) == [Level.LEAF]


def test_ip_literals_are_ip_subjects_even_when_they_end_in_a_letter() -> None:
    from cryptography import x509

    from pingen.pki.chain import _subject

    assert isinstance(_subject("2001:db8::beef"), x509.IPAddress)
    assert isinstance(_subject("127.0.0.1"), x509.IPAddress)
    assert isinstance(_subject("api.example.com"), x509.DNSName)


# -- hosts behind one CA share the verified path above the leaf -----------------------


def test_leaves_under_one_intermediate_share_its_verified_path(
    tmp_path: Path, pki: tuple[CA, CA]
) -> None:
    """The second leaf served with the same intermediates reuses the first one's
    verified path; the chain is the one a full verification builds."""
    import pingen.pki.chain

    root, inter = pki
    store = load_trust_store(store_of(tmp_path, root))
    at = NOW  # the leaves are valid from now on
    first, second = inter.issue_leaf("a.example.test"), inter.issue_leaf("b.example.test")
    pingen.pki.chain._VERIFIED_ISSUERS.clear()
    full = build_verified_chain(second.chain(), store, "b.example.test", at)
    pingen.pki.chain._VERIFIED_ISSUERS.clear()
    build_verified_chain(first.chain(), store, "a.example.test", at)
    assert len(pingen.pki.chain._VERIFIED_ISSUERS) == 1
    shared = build_verified_chain(second.chain(), store, "b.example.test", at)
    assert shared == full == [second.cert, inter.cert, root.cert]


@pytest.mark.parametrize("case", ["wrong host", "another issuer", "forged signature"])
def test_a_leaf_the_shared_path_does_not_verify_is_judged_in_full(
    tmp_path: Path, pki: tuple[CA, CA], case: str
) -> None:
    """Whatever the shortcut refuses, the full verification decides, with its reason."""
    import pingen.pki.chain

    root, inter = pki
    store = load_trust_store(store_of(tmp_path, root))
    build_verified_chain(inter.issue_leaf("a.example.test").chain(), store, "a.example.test", NOW)
    if case == "wrong host":
        bad, host = inter.issue_leaf("b.example.test").chain(), "c.example.test"
    elif case == "another issuer":  # a leaf of another CA, sent with this CA's intermediate
        other = CA.root("Other Root").intermediate("Other Issuing CA")
        bad, host = [other.issue_leaf("b.example.test").cert, inter.cert], "b.example.test"
    else:  # the intermediate's name, another key's signature
        impostor = CA.root("Chain Test Root").intermediate("Chain Test Issuing CA")
        bad, host = [impostor.issue_leaf("b.example.test").cert, inter.cert], "b.example.test"
    with pytest.raises(UntrustedChain) as shared:
        build_verified_chain(bad, store, host, NOW)
    pingen.pki.chain._VERIFIED_ISSUERS.clear()
    with pytest.raises(UntrustedChain) as alone:
        build_verified_chain(bad, store, host, NOW)
    assert str(shared.value) == str(alone.value)
