"""Every survivability code end to end: `pingen verify` dials loopback servers that
serve chains of a synthetic CA hierarchy (tests/support/catalogs.py), with that
hierarchy as the config's `trust.catalog`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pingen.spki import pin_of_certificate, pin_of_public_key
from tests.conftest import CliRunner
from tests.support.catalogs import Hierarchy, build_hierarchy
from tests.support.pki import Identity, new_key, write_pem
from tests.support.servers import tls_server

# host -> (the intermediate it is served from, provider, the pins of its set)
CASES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "leaf-key-rotates.test": ("R1", None, ("leaf",)),
    "leaf-key-rotates-fail.test": ("R1", "google-managed", ("leaf",)),
    "intermediate-siblings.test": (
        "R1",
        None,
        ("intermediate: R1", "intermediate: E1", "X2", "YR", "YE"),
    ),
    "key-type-switch.test": ("E2", None, ("X2", "YE", "intermediate: E1")),
    "next-root.test": ("YR1", None, ("X1", "X2", "YE")),
    "alternate-path.test": ("E1", None, ("X1", "YR", "YE", "intermediate: E2")),
    "ca-switch.test": ("R1", "google-managed", ("X1", "X2", "YR", "YE")),
    "durable.test": ("R1", "google-managed", ("X1", "X2", "YR", "YE", "O1")),
    "pins-expire.test": (
        "R1",
        None,
        tuple(
            f"intermediate: {name}" for name in ("R1", "R2", "E1", "E2", "YR1", "YR2", "YE1", "YE2")
        ),
    ),
}
# The intermediates live five years: a set shipped for eight outlives every pinned key.
EXPIRES = {"pins-expire.test": (dt.datetime.now(dt.UTC) + dt.timedelta(days=8 * 365)).date()}
EXPECTED = {
    # (a leaf certificate expires before a pin set that never does: leaf-only too)
    "leaf-key-rotates.test": ("warn", ["leaf-only", "leaf-key-rotates"]),
    "leaf-key-rotates-fail.test": ("fail", ["leaf-only", "leaf-key-rotates"]),
    "intermediate-siblings.test": ("warn", ["intermediate-siblings"]),
    "key-type-switch.test": ("warn", ["key-type-switch"]),
    "next-root.test": ("warn", ["next-root"]),
    "alternate-path.test": ("warn", ["alternate-path"]),
    "ca-switch.test": ("fail", ["ca-switch"]),
    "durable.test": ("ok", []),
    "pins-expire.test": ("fail", ["pins-expire"]),
}
# The synthetic CA lives ten years from today; the sets are shipped for one.
A_YEAR_ON = (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).date()
ROOT_NAMES = {
    "X1": "Test Root X1",
    "X2": "Test Root X2",
    "YR": "Test Root YR",
    "YE": "Test Root YE",
    "O1": "Other Root O1",
}


def pin_lines(pki: Hierarchy, leaf_pin: str, pins: tuple[str, ...]) -> list[str]:
    lines = []
    for pin in pins:
        if pin == "leaf":
            lines += [f"      - sha256: {leaf_pin}", "        level: leaf"]
        elif pin.startswith("intermediate: "):
            lines.append(f"      - {pin}")
        else:
            lines.append(f"      - root: {ROOT_NAMES[pin]}")
    backup = pin_of_public_key(new_key().public_key())
    return [*lines, f"      - sha256: {backup}", "        backup: true"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with pins.yaml, roots.pem and the catalog, its servers running."""
    folder = tmp_path_factory.mktemp("survival")
    pki = build_hierarchy(folder / "catalog")
    write_pem(folder / "roots.pem", pki.x1.cert, pki.x2.cert, pki.other.cert)
    identities, lines = (
        {},
        [
            "version: 1",
            "trust:",
            "  ca_file: roots.pem",
            f"  catalog: {pki.catalog_path}",
            "defaults:",
            f"  expires: {A_YEAR_ON}",
            "domains:",
        ],
    )
    for host, (intermediate, provider, pins) in CASES.items():
        leaf = pki.leaf(intermediate, host)
        identities[host] = Identity((leaf.cert, *pki.upper(intermediate)), leaf.key)
        lines.append(f"  {host}:")
        if host in EXPIRES:
            lines.append(f"    expires: {EXPIRES[host]}")
        if provider:
            lines.append(f"    provider: {provider}")
        lines += [
            "    connect: ADDRESS",
            "    pins:",
            *pin_lines(pki, pin_of_certificate(leaf.cert), pins),
        ]
    with tls_server(identities, default="durable.test") as (host, port):
        config = "\n".join(lines).replace("ADDRESS", f"{host}:{port}") + "\n"
        (folder / "pins.yaml").write_text(config)
        yield folder


def test_each_code_comes_from_its_own_future(run_pingen: CliRunner, project: Path) -> None:
    result = run_pingen("verify", "--format", "json", cwd=project)
    assert result.exit_code == 1, result.stderr  # three domains fail
    report = json.loads(result.stdout)
    found = {
        d["domain"]: (d["status"], [p["code"] for p in d["problems"]]) for d in report["domains"]
    }
    assert found == EXPECTED
    assert report["summary"] == {"ok": 1, "warn": 5, "fail": 3, "error": 0}
