"""The CA catalog's shape is declared with pingen.nodes' sections, as pins.yaml's is, and
read by the same checker: every key pingen's own catalog uses is declared, and a wrong
value is reported in the catalog's words, at its entry, first problem only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pingen.nodes import Kind, Section
from pingen.pki import catalog
from pingen.pki.catalog import CatalogError, catalog_from_data, shipped_catalog_path

SECTIONS = {
    "": catalog.CATALOG_SECTION,
    "operators": catalog.OPERATOR_SECTION,
    "roots": catalog.ROOT_SECTION,
    "cross_signs": catalog.CROSS_SIGN_SECTION,
    "families": catalog.FAMILY_SECTION,
    "intermediates": catalog.INTERMEDIATE_SECTION,
}


def used_keys(value: Any, where: str, found: dict[str, set[str]]) -> dict[str, set[str]]:
    """The keys of each list of entries (by the list's key) in the catalog's JSON."""
    if isinstance(value, dict):
        found.setdefault(where, set()).update(value)
        for key, child in value.items():
            if isinstance(child, list):
                for item in child:
                    used_keys(item, key, found)
    return found


def test_every_key_of_the_shipped_catalog_is_declared() -> None:
    data = json.loads(shipped_catalog_path().read_text(encoding="utf-8"))
    for where, keys in used_keys(data, "", {}).items():
        section: Section = SECTIONS[where]
        assert keys - {"description"} <= set(section.fields), where
    for section in SECTIONS.values():
        for key, spec in section.fields.items():
            if spec.kind is Kind.SECTION_LIST:
                assert spec.section is SECTIONS[key], key


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"key_type": "rsa"}, 'operators[0].roots[0]: "name" must be a non-empty string'),
        ({"name": "X", "key_type": "dsa"}, '"key_type" must be one of rsa, ecdsa'),
        ({"name": "X", "key_type": "rsa", "file": 1}, '"file" must be a string'),
    ],
)
def test_a_wrong_root_is_told_in_the_catalogs_words(
    entry: dict[str, Any], message: str, tmp_path: Path
) -> None:
    data = {"format": catalog.CATALOG_FORMAT, "operators": [{"id": "x", "roots": [entry]}]}
    with pytest.raises(CatalogError) as raised:
        catalog_from_data(data, tmp_path)
    assert str(raised.value).startswith("CA catalog: operators[0]") and message in str(raised.value)
