"""Pin-source resolution is a step of its own: what pins name besides pins.yaml (key files,
CA catalog names) comes in as `Lookups`, so a pins.yaml can be built against another
catalog, or files held elsewhere, without the loader reaching for the disk itself."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from pingen.config.load import load_config_text
from pingen.config.pin_sources import NameLookup, PinSources, Unresolved, disk_lookups
from pingen.model import Level, PinSource
from pingen.pki.catalog import Catalog, UnknownName
from pingen.pki.sources import KeyInfo
from tests.support.pki import CA, write_pem

TODAY = dt.date(2026, 12, 5)
ROOT = CA.root("Test Lookup Root")
OTHER = CA.root("Test Lookup Backup Root")


def names(found: dict[str, x509.Certificate]) -> NameLookup:
    def lookup(name: str, catalog: Catalog | Path | None) -> x509.Certificate:
        if name not in found:
            raise UnknownName(f"unknown name {name!r}")
        return found[name]

    return lookup


def test_root_pins_resolve_through_the_lookups_passed_in(tmp_path: Path) -> None:
    read: list[Path] = []

    def read_key_file(path: Path) -> list[KeyInfo]:
        read.append(path)
        return disk_lookups().read_key_file(path)

    lookups = dataclasses.replace(
        disk_lookups(),
        read_key_file=read_key_file,
        root=names({"Test Lookup Root": ROOT.cert}),
        intermediate=names({}),
    )
    write_pem(tmp_path / "backup.pem", OTHER.cert)
    text = (
        "version: 1\ndefaults:\n  expires: 2027-06-30\ndomains:\n  api.example.com:\n"
        "    pins:\n      - root: Test Lookup Root\n"
        "      - file: backup.pem\n        backup: true\n"
    )
    config = load_config_text(text, tmp_path / "pins.yaml", today=TODAY, lookups=lookups)
    pins = config.domains[0].pins
    assert [(p.sha256, p.level, p.label) for p in pins] == [
        (ROOT.pin, Level.ROOT, "Test Lookup Root"),
        (OTHER.pin, Level.ROOT, "Test Lookup Backup Root"),
    ]
    assert read == [(tmp_path / "backup.pem").resolve()]


def test_a_name_of_the_other_level_says_which_key_to_write() -> None:
    lookups = dataclasses.replace(
        disk_lookups(),
        root=names({}),
        intermediate=names({"Test Lookup Root": ROOT.cert}),
    )
    sources = PinSources(lookups, "pins.yaml")
    with pytest.raises(Unresolved) as raised:
        sources.named(PinSource.ROOT, "Test Lookup Root")
    assert str(raised.value) == (
        "'Test Lookup Root' is an intermediate, not a root: write `intermediate: Test Lookup Root`"
    )
