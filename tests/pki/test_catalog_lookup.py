"""Name lookups behind `root:` and `intermediate:` pins."""

from __future__ import annotations

import time

import pytest

from pingen.pki import catalog
from pingen.pki.catalog import (
    AmbiguousName,
    UnknownName,
    display_name,
    lookup_intermediate,
    lookup_root,
)
from pingen.spki import pin_of_certificate

X1 = "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="
YR = "fk6IOKit1ild5647BH06ujSIq5XbCgqlbYl6ANhhi88="
R12 = "kZwN96eHtZftBWrOZUsd6cA4es80n3NzSk/XtYz2EqQ="
E5 = "NYbU7PBwV4y9J67c4guWTki8FJ+uudrXL0a4V4aRcrg="


def test_root_by_exact_name_from_mozilla() -> None:
    assert pin_of_certificate(lookup_root("ISRG Root X1")) == X1


def test_root_lookup_ignores_case_and_spacing() -> None:
    assert pin_of_certificate(lookup_root("  isrg  ROOT x1 ")) == X1


def test_generation_y_roots_come_from_the_catalog_under_both_names() -> None:
    # Root YR is not in Mozilla's store yet; its subject CN is "Root YR", O=ISRG.
    assert pin_of_certificate(lookup_root("Root YR")) == YR
    assert pin_of_certificate(lookup_root("ISRG Root YR")) == YR


def test_unknown_root_lists_close_matches() -> None:
    with pytest.raises(UnknownName) as raised:
        lookup_root("ISRG Root X3")
    message = str(raised.value)
    assert "unknown root 'ISRG Root X3'" in message
    assert "'ISRG Root X1'" in message and "'ISRG Root X2'" in message


def test_unknown_root_without_near_names_says_where_it_looked() -> None:
    with pytest.raises(UnknownName, match=r"not in certifi.s Mozilla store or the CA catalog$"):
        lookup_root("Nobody's Root")


def test_ambiguous_root_lists_each_key() -> None:
    # Mozilla ships four roots whose common name is just "GlobalSign".
    with pytest.raises(AmbiguousName) as raised:
        lookup_root("GlobalSign")
    message = str(raised.value)
    assert "4 certificates with different keys" in message
    assert "GlobalSign Root CA - R3" in message and "sha256 " in message
    assert "Use `sha256:`" in message


def test_lookup_errors_are_lookup_errors_for_the_loader() -> None:
    assert issubclass(UnknownName, LookupError) and issubclass(AmbiguousName, LookupError)


def test_intermediate_by_name_case_insensitive() -> None:
    assert pin_of_certificate(lookup_intermediate("R12")) == R12
    assert pin_of_certificate(lookup_intermediate("r12")) == R12


def test_cross_signed_intermediate_is_one_key() -> None:
    # E5 exists under X2 and cross-signed by X1: same key, so not ambiguous.
    cert = lookup_intermediate("E5")
    assert pin_of_certificate(cert) == E5
    assert display_name(cert.issuer) == "ISRG Root X2"


def test_generation_y_intermediate() -> None:
    assert display_name(lookup_intermediate("ye1").subject) == "YE1"


def test_unknown_intermediate_suggests_siblings() -> None:
    with pytest.raises(UnknownName) as raised:
        lookup_intermediate("R15")
    assert "'R14'" in str(raised.value) and "'R10'" in str(raised.value)


def test_a_root_is_not_an_intermediate() -> None:
    with pytest.raises(UnknownName, match="unknown intermediate 'ISRG Root X1'"):
        lookup_intermediate("ISRG Root X1")


def test_lookups_do_not_reparse_stores() -> None:
    lookup_root("ISRG Root X1")  # warm the caches
    start = time.perf_counter()
    for _ in range(2000):
        lookup_root("ISRG Root X1")
        lookup_intermediate("R12")
    elapsed = time.perf_counter() - start
    assert catalog.mozilla_roots.cache_info().misses == 1
    assert elapsed < 1.0, f"4000 lookups took {elapsed:.3f}s"
