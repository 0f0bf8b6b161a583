"""The shipped CA catalog's integrity, the catalog format's errors, and provider facts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509

from pingen.config import schema
from pingen.config.schema import PROVIDERS as PROVIDER_NAMES
from pingen.pki import providers
from pingen.pki.catalog import (
    MOZILLA,
    Catalog,
    CatalogError,
    display_name,
    load_catalog,
    mozilla_roots_named,
    shipped_catalog_path,
)
from tests.support.paths import DATA

CATALOG_DIR = shipped_catalog_path().parent


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog()


def issuer_certificate(catalog: Catalog, name: str) -> x509.Certificate | None:
    root = catalog.root(name)
    if root is not None:
        return root.cert.cert
    found = mozilla_roots_named(name)
    return found[0].cert if len(found) == 1 else None


def test_every_shipped_certificate_parses_and_is_referenced(shipped: Catalog) -> None:
    on_disk = {p.relative_to(CATALOG_DIR).as_posix() for p in CATALOG_DIR.rglob("*.pem")}
    for path in on_disk:
        assert len(x509.load_pem_x509_certificates((CATALOG_DIR / path).read_bytes())) == 1
    referenced = {cert.where for cert in shipped.certificates()}
    assert referenced == on_disk


def test_every_active_family_link_verifies_by_signature(shipped: Catalog) -> None:
    checked = 0
    for family in shipped.families:
        issuers: set[str] = set()
        for intermediate in family.intermediates:
            for cert in intermediate.certs:
                issuers.add(cert.issuer_name)
                issuer = issuer_certificate(shipped, cert.issuer_name)
                if issuer is None:
                    assert not family.active, f"{cert.where}: issuer {cert.issuer_name} unknown"
                    continue  # retired: DST Root CA X3 left every store
                cert.cert.verify_directly_issued_by(issuer)
                checked += 1
        if family.active:
            assert issuers == set(family.roots), family.name
    assert checked >= 22  # R10-R14, E5-E9 twice, YR1-3, YE1-3, WR1, WE1, M02, Sectigo DV


def test_every_cross_sign_verifies_where_its_issuer_is_known(shipped: Catalog) -> None:
    verified = []
    for cross in shipped.cross_signs:
        subject = shipped.root(cross.subject)
        if subject is not None:
            assert subject.pin == cross.cert.pin, f"{cross.cert.where} certifies another key"
        issuer = issuer_certificate(shipped, cross.issuer)
        if issuer is not None:
            cross.cert.cert.verify_directly_issued_by(issuer)
            verified.append(cross.cert.where)
    assert "letsencrypt/gen-y_root-yr-by-x1.pem" in verified
    assert "letsencrypt/gen-y_root-ye-by-x2.pem" in verified
    assert "letsencrypt/gen-y_root-x2-by-x1.pem" in verified


def test_names_are_unique(shipped: Catalog) -> None:
    intermediates = [i.name.casefold() for f in shipped.families for i in f.intermediates]
    assert len(intermediates) == len(set(intermediates))
    families = [f.name for f in shipped.families]
    assert len(families) == len(set(families))
    root_names: dict[str, str] = {}
    for root in shipped.roots:
        for name in root.names:
            assert root_names.setdefault(name.casefold(), root.pin) == root.pin


def test_lets_encrypt_certificates_match_the_published_manifest(shipped: Catalog) -> None:
    manifest = json.loads((DATA / "letsencrypt-manifest.json").read_text())
    by_file = {cert.where: cert for cert in shipped.certificates()}
    for entry in manifest:
        cert = by_file[f"letsencrypt/{entry['file']}"]
        assert cert.pin == entry["sha256"], entry["file"]
        assert cert.name == entry["subject"] and cert.issuer_name == entry["issuer"]
    assert len([w for w in by_file if w.startswith("letsencrypt/")]) == len(manifest)


def test_generation_y_roots_are_pending_and_cross_signed(shipped: Catalog) -> None:
    for name in ("Root YR", "Root YE"):
        root = shipped.root(name)
        assert root is not None and root.pending
        assert not mozilla_roots_named(name)
        assert [c for c in shipped.cross_signs_of(name) if not c.revoked]
    assert [c.revoked for c in shipped.cross_signs_of("Root YR")].count(True) == 1


def test_the_catalog_carries_dates(shipped: Catalog) -> None:
    gen_y = shipped.family("Let's Encrypt RSA 2026 (Generation Y)")
    gen_x = shipped.family("Let's Encrypt RSA 2024")
    assert gen_y is not None and gen_x is not None
    assert gen_y.issues.start == gen_x.issues.end == dt.date(2026, 5, 13)
    assert gen_y.issues.end is None and gen_x.issues.source and gen_y.issues.source
    r2 = shipped.root("GTS Root R2")
    assert r2 is not None and not mozilla_roots_named("GTS Root R2")  # certifi dropped it
    assert [s.describe() for s in r2.trust] == [
        "mozilla: removed",
        "apple: trusted",
        "android: trusted",
    ]
    assert r2.trusted_on(dt.date(2026, 12, 1))  # phones
    yr = shipped.root("Root YR")
    assert yr is not None and yr.may_be_added and not yr.trusted_on(dt.date(2026, 12, 1))
    assert {f.name for f in shipped.families if not f.complete} == {
        "GTS RSA",
        "GTS ECDSA",
        "Amazon RSA 2048",
        "Sectigo RSA DV",
    }
    assert {r.name for r in shipped.roots_of("amazon")} == {
        "Amazon Root CA 1",
        "Amazon Root CA 2",
        "Amazon Root CA 3",
        "Amazon Root CA 4",
        "Starfield Services Root Certificate Authority - G2",
    }


def test_roots_named_without_a_file_come_from_mozilla(shipped: Catalog) -> None:
    gts = shipped.root("GTS Root R1")
    assert gts is not None and gts.cert.where == MOZILLA


def test_key_types_match_the_certificates(shipped: Catalog) -> None:
    for family in shipped.families:
        for intermediate in family.intermediates:
            assert {c.key_type for c in intermediate.certs} == {family.key_type}
    for root in shipped.roots:
        assert root.cert.key_type == root.key_type


# -- a catalog of your own: errors name the file and the entry --------------------------


def write(folder: Path, data: object) -> Path:
    path = folder / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_catalog_of_your_own_loads_relative_files(tmp_path: Path) -> None:
    pem = (CATALOG_DIR / "letsencrypt" / "isrgrootx1.pem").read_bytes()
    (tmp_path / "roots").mkdir()
    (tmp_path / "roots" / "x1.pem").write_bytes(pem)
    path = write(
        tmp_path,
        {
            "format": "pingen-ca-catalog/1",
            "operators": [
                {
                    "id": "mine",
                    "roots": [
                        {
                            "name": "isrg root x1",
                            "key_type": "rsa",
                            "file": "roots/x1.pem",
                            "aliases": ["My Root"],
                        }
                    ],
                }
            ],
        },
    )
    catalog = load_catalog(path)
    root = catalog.root("My Root")
    assert root is not None and root.name == "ISRG Root X1" and catalog.path == path.resolve()


@pytest.mark.parametrize(
    ("operators", "message"),
    [
        (
            [{"id": "a", "roots": [{"name": "Nope", "key_type": "rsa"}]}],
            "operators[0].roots[0]: 'Nope' has no \"file\" and is not in certifi's Mozilla store",
        ),
        (
            [{"id": "a", "roots": [{"name": "GTS Root R1", "key_type": "ecdsa"}]}],
            "operators[0].roots[0]: 'GTS Root R1' has an rsa key, not ecdsa",
        ),
        (
            [{"id": "a", "roots": [{"name": "X", "key_type": "rsa", "file": "missing.pem"}]}],
            "operators[0].roots[0]: missing.pem: no such file",
        ),
        (
            [
                {
                    "id": "a",
                    "roots": [],
                    "families": [
                        {"name": "F", "key_type": "rsa", "roots": ["Nope"], "intermediates": []}
                    ],
                }
            ],
            "family 'F': root 'Nope' is not listed in any operator's roots",
        ),
        (
            [{"id": "a", "roots": [{"name": "GTS Root R1", "key_type": "rsa", "status": "soon"}]}],
            '"status" must be one of trusted, pending',
        ),
        ([{"roots": []}], 'operators[0]: "id" must be a non-empty string'),
        (
            [
                {
                    "id": "a",
                    "roots": [
                        {"name": "GTS Root R1", "key_type": "rsa", "trust": {"windows": "trusted"}}
                    ],
                }
            ],
            'operators[0].roots[0]: "trust" must map some of mozilla, apple, android',
        ),
        (
            [
                {
                    "id": "a",
                    "roots": [
                        {
                            "name": "GTS Root R1",
                            "key_type": "rsa",
                            "trust": {"apple": {"from": "soon"}},
                        }
                    ],
                }
            ],
            'operators[0].roots[0].trust.apple: "from" must be a date YYYY-MM-DD',
        ),
        (
            [
                {
                    "id": "a",
                    "roots": [
                        {"name": "GTS Root R1", "key_type": "rsa", "trust": {"apple": "maybe"}}
                    ],
                }
            ],
            "trust.apple: must be one of trusted, not yet, removed or an object",
        ),
        (
            [
                {
                    "id": "a",
                    "roots": [],
                    "families": [
                        {
                            "name": "F",
                            "key_type": "rsa",
                            "roots": [],
                            "intermediates": [],
                            "issues": {"from": "2026-13-01"},
                        }
                    ],
                }
            ],
            'operators[0].families[0].issues: "from" must be a date YYYY-MM-DD',
        ),
        (
            [
                {
                    "id": "a",
                    "roots": [],
                    "families": [
                        {
                            "name": "F",
                            "key_type": "rsa",
                            "roots": [],
                            "intermediates": [],
                            "complete": "no",
                        }
                    ],
                }
            ],
            'operators[0].families[0]: "complete" must be true or false',
        ),
    ],
)
def test_broken_catalogs_say_where(tmp_path: Path, operators: object, message: str) -> None:
    path = write(tmp_path, {"format": "pingen-ca-catalog/1", "operators": operators})
    with pytest.raises(CatalogError) as raised:
        load_catalog(path)
    assert str(raised.value).startswith(f"{path.resolve()}: ")
    assert message in str(raised.value)


def test_not_a_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(CatalogError, match='"format": "pingen-ca-catalog/1"'):
        load_catalog(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CatalogError, match="not a JSON CA catalog"):
        load_catalog(tmp_path / "." / "catalog.json")


def test_intermediate_with_the_wrong_name(tmp_path: Path) -> None:
    pem = (CATALOG_DIR / "letsencrypt" / "2024_r10.pem").read_bytes()
    (tmp_path / "r10.pem").write_bytes(pem)
    path = write(
        tmp_path,
        {
            "format": "pingen-ca-catalog/1",
            "operators": [
                {
                    "id": "a",
                    "roots": [{"name": "ISRG Root X1", "key_type": "rsa"}],
                    "families": [
                        {
                            "name": "F",
                            "key_type": "rsa",
                            "roots": ["ISRG Root X1"],
                            "intermediates": [{"name": "R11", "files": ["r10.pem"]}],
                        }
                    ],
                }
            ],
        },
    )
    with pytest.raises(CatalogError, match=r"r10\.pem is 'R10', not 'R11'"):
        load_catalog(path)


# -- providers ---------------------------------------------------------------------------


def test_provider_names_agree_everywhere() -> None:
    assert set(providers.PROVIDERS) == set(schema.PROVIDERS) == set(PROVIDER_NAMES)


def test_provider_operators_exist_in_the_shipped_catalog(shipped: Catalog) -> None:
    for provider in providers.PROVIDERS.values():
        for operator in provider.operators:
            assert shipped.operator(operator) is not None, (provider.name, operator)
        if provider.name != "self-managed":
            assert provider.sources, provider.name


def test_google_managed_refuses_leaf_pins_and_may_use_two_cas() -> None:
    google = providers.PROVIDERS["google-managed"]
    assert google.refuses_leaf_pins and google.automatic_ca_choice
    assert set(google.operators) == {"google-trust-services", "letsencrypt"}
    assert not providers.PROVIDERS["letsencrypt-reuse-key"].refuses_leaf_pins


def test_display_name_falls_back_to_the_organizational_unit() -> None:
    name = x509.Name.from_rfc4514_string("OU=Starfield Class 2 Certification Authority,O=S")
    assert display_name(name) == "Starfield Class 2 Certification Authority"
