"""A synthetic CA hierarchy shaped like Let's Encrypt's, written as a pingen CA catalog.

Two generations of roots with cross-signs, sibling intermediates, RSA and ECDSA
families, plus a second CA operator ("Other CA") for provider tests:

    Test Root X1 (RSA, trusted)        R1, R2   (RSA 2024)
    Test Root X2 (EC, trusted)         E1, E2   (ECDSA 2024; E1 also cross-signed by X1)
      X2 cross-signed by X1
    Test Root YR (RSA, pending)        YR1, YR2 (RSA gen Y)
      YR cross-signed by X1
    Test Root YE (EC, pending)         YE1, YE2 (ECDSA gen Y)
      YE cross-signed by X2
    Other Root O1 (EC, trusted)        O1      (a second operator)

RSA keys are made once per session (they are the slow part).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from pingen.pki.catalog import Catalog, load_catalog
from tests.support.pki import CA, KeyType, Leaf, write_pem


@dataclass
class Hierarchy:
    x1: CA
    x2: CA
    yr: CA
    ye: CA
    other: CA
    cross_x2: x509.Certificate  # X2 by X1
    cross_yr: x509.Certificate  # YR by X1
    cross_ye: x509.Certificate  # YE by X2
    cross_e1: x509.Certificate  # E1 by X1
    intermediates: dict[str, CA]
    catalog_path: Path

    @property
    def catalog(self) -> Catalog:
        return load_catalog(self.catalog_path)

    def leaf(self, intermediate: str, host: str = "app.example.test") -> Leaf:
        key_type: KeyType = "rsa-2048" if intermediate.startswith(("R", "YR")) else "ec-p256"
        return self.intermediates[intermediate].issue_leaf(host, key_type=key_type)

    def served(self, intermediate: str, host: str = "app.example.test") -> list[x509.Certificate]:
        """The chain a server sends, as Let's Encrypt serves it (through cross-signs)."""
        leaf = self.leaf(intermediate, host)
        return [leaf.cert, *self.upper(intermediate)]

    def upper(self, intermediate: str) -> list[x509.Certificate]:
        ca = self.intermediates[intermediate]
        if intermediate.startswith("YR"):
            return [ca.cert, self.cross_yr]
        if intermediate.startswith("YE"):
            return [ca.cert, self.cross_ye, self.cross_x2]
        if intermediate == "E1":
            return [self.cross_e1]
        return [ca.cert]

    def verified(self, intermediate: str, host: str = "app.example.test") -> list[x509.Certificate]:
        """The chain a client verifies today: up to the trusted X1 (or X2, O1)."""
        served = self.served(intermediate, host)
        if intermediate.startswith("O"):
            return [*served, self.other.cert]
        if intermediate.startswith("E") and intermediate != "E1":
            return [*served, self.x2.cert]
        return [*served, self.x1.cert]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Hierarchy:
    """The hierarchy and its catalog, built once per test module (tests/conftest.py makes
    this module a plugin; a module's own `pki` fixture takes precedence)."""
    return build_hierarchy(tmp_path_factory.mktemp("catalog"))


def build_hierarchy(folder: Path) -> Hierarchy:
    folder.mkdir(parents=True, exist_ok=True)
    x1 = CA.root("Test Root X1", key_type="rsa-2048")
    x2 = CA.root("Test Root X2", key_type="ec-p384")
    yr = CA.root("Test Root YR", key_type="rsa-2048")
    ye = CA.root("Test Root YE", key_type="ec-p384")
    other = CA.root("Other Root O1", key_type="ec-p256", organization="Other CA")
    intermediates = {
        "R1": x1.intermediate("R1", key_type="rsa-2048"),
        "R2": x1.intermediate("R2", key_type="rsa-2048"),
        "E1": x2.intermediate("E1", key_type="ec-p384"),
        "E2": x2.intermediate("E2", key_type="ec-p384"),
        "YR1": yr.intermediate("YR1", key_type="rsa-2048"),
        "YR2": yr.intermediate("YR2", key_type="rsa-2048"),
        "YE1": ye.intermediate("YE1", key_type="ec-p384"),
        "YE2": ye.intermediate("YE2", key_type="ec-p384"),
        "O1": other.intermediate("O1"),
    }
    hierarchy = Hierarchy(
        x1=x1,
        x2=x2,
        yr=yr,
        ye=ye,
        other=other,
        cross_x2=x1.cross_sign(x2),
        cross_yr=x1.cross_sign(yr),
        cross_ye=x2.cross_sign(ye),
        cross_e1=x1.cross_sign(intermediates["E1"]),
        intermediates=intermediates,
        catalog_path=folder / "catalog.json",
    )
    write_catalog(hierarchy, folder)
    return hierarchy


def write_catalog(h: Hierarchy, folder: Path) -> None:
    files = {
        "x1.pem": h.x1.cert,
        "x2.pem": h.x2.cert,
        "yr.pem": h.yr.cert,
        "ye.pem": h.ye.cert,
        "o1-root.pem": h.other.cert,
        "x2-by-x1.pem": h.cross_x2,
        "yr-by-x1.pem": h.cross_yr,
        "ye-by-x2.pem": h.cross_ye,
        "e1-by-x1.pem": h.cross_e1,
        **{f"{name.lower()}.pem": ca.cert for name, ca in h.intermediates.items()},
    }
    for name, cert in files.items():
        write_pem(folder / name, cert)

    def family(name: str, key_type: str, roots: list[str], members: list[str]) -> dict[str, object]:
        items: list[dict[str, Any]] = [{"name": m, "files": [f"{m.lower()}.pem"]} for m in members]
        if "E1" in members:
            items[0]["files"].append("e1-by-x1.pem")
        return {
            "name": name,
            "key_type": key_type,
            "generation": "test",
            "roots": roots,
            "intermediates": items,
        }

    data = {
        "format": "pingen-ca-catalog/1",
        "operators": [
            {
                "id": "letsencrypt",
                "name": "Test Encrypt",
                "roots": [
                    {"name": "Test Root X1", "key_type": "rsa", "file": "x1.pem"},
                    {"name": "Test Root X2", "key_type": "ecdsa", "file": "x2.pem"},
                    {
                        "name": "Test Root YR",
                        "key_type": "rsa",
                        "file": "yr.pem",
                        "status": "pending",
                        "aliases": ["Next Root YR"],
                    },
                    {
                        "name": "Test Root YE",
                        "key_type": "ecdsa",
                        "file": "ye.pem",
                        "status": "pending",
                    },
                ],
                "cross_signs": [
                    {"file": "x2-by-x1.pem"},
                    {"file": "yr-by-x1.pem"},
                    {"file": "ye-by-x2.pem"},
                ],
                "families": [
                    family("Test RSA 2024", "rsa", ["Test Root X1"], ["R1", "R2"]),
                    family(
                        "Test ECDSA 2024", "ecdsa", ["Test Root X2", "Test Root X1"], ["E1", "E2"]
                    ),
                    family("Test RSA Y", "rsa", ["Test Root YR"], ["YR1", "YR2"]),
                    family("Test ECDSA Y", "ecdsa", ["Test Root YE"], ["YE1", "YE2"]),
                ],
            },
            {
                "id": "google-trust-services",
                "name": "Other CA",
                "roots": [{"name": "Other Root O1", "key_type": "ecdsa", "file": "o1-root.pem"}],
                "families": [family("Other ECDSA", "ecdsa", ["Other Root O1"], ["O1"])],
            },
        ],
    }
    (folder / "catalog.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
