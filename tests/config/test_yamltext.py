"""pingen.config.yamltext, the one writer of pins.yaml text: what it writes reads back as
the values it was given, whatever characters they hold."""

from __future__ import annotations

import datetime as dt

import yaml

from pingen.config.yamltext import (
    backup_pin_entry,
    expiry,
    file_pin_entry,
    indented,
    item,
    key_value,
    scalar,
)

HOSTILE = ["plain", "a: b", "#x", "yes", "0x1F", "-1", "a\u2028b", "x\ny", " lead", "trail "]


def test_values_read_back_as_written() -> None:
    values: list[object] = [True, False, 13, dt.date(2027, 6, 30), *HOSTILE]
    for value in values:
        assert yaml.safe_load(key_value("k", value)) == {"k": value}, value  # type: ignore[arg-type]
    assert scalar(expiry(None)) == "never" and scalar(expiry(dt.date(2027, 1, 2))) == "2027-01-02"


def test_items_are_list_entries_under_any_indent() -> None:
    for label in HOSTILE:
        lines = ["pins:", *indented("  ", item([("root", label), ("label", label)]))]
        assert yaml.safe_load("\n".join(lines)) == {"pins": [{"root": label, "label": label}]}
    entry = file_pin_entry("keys/k.pub.pem", "backup key k (EC P-256)", backup=True)
    assert yaml.safe_load("\n".join(entry)) == [
        {"file": "keys/k.pub.pem", "label": "backup key k (EC P-256)", "backup": True}
    ]


def test_the_backup_pin_uncomments_into_a_pin() -> None:
    lines = backup_pin_entry("api-example-com-backup")
    assert all(line.startswith("# ") for line in lines)
    assert yaml.safe_load("\n".join(line.removeprefix("# ") for line in lines)) == [
        {
            "file": "keys/api-example-com-backup.pub.pem",
            "label": "offline backup key",
            "backup": True,
        }
    ]
