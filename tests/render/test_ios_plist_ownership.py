"""Info.plist merge keeps what pingen does not own (issue 10 item 6). The hostile plists
of issue 12 attack 10 are in tests/test_security.py."""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

import pytest

from pingen.cli import main
from pingen.model import Level
from pingen.render import ios_plist
from pingen.render.platforms import Entry
from tests.support.info_plist import build_plist, config_text, pinned_of
from tests.support.samples import PIN_A, PIN_B, PIN_C, PIN_D

OWNED = ios_plist.OWNED_KEY


def hand(
    leaf: list[str] | None = None, ca: list[str] | None = None, include: bool = False
) -> dict[str, Any]:
    value: dict[str, Any] = {"NSIncludesSubdomains": include}
    if leaf:
        value["NSPinnedLeafIdentities"] = [{"SPKI-SHA256-BASE64": p} for p in leaf]
    if ca:
        value["NSPinnedCAIdentities"] = [{"SPKI-SHA256-BASE64": p} for p in ca]
    return value


def info(pinned: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "CFBundleIdentifier": "com.example.app",
        "NSAppTransportSecurity": {"NSPinnedDomains": pinned},
        **extra,
    }


def test_hand_entries_are_kept_and_pingen_records_what_it_owns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = hand(leaf=[PIN_C, PIN_D])
    code, err, result = build_plist(
        tmp_path, config_text("api.example.com"), info({"other.example.org": mine}), capsys
    )
    assert code == 0, err
    assert pinned_of(result)["other.example.org"] == mine
    assert result is not None and result[OWNED] == ["api.example.com"]


def test_a_host_dropped_from_pins_yaml_is_removed_and_hand_entries_stay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_plist(
        tmp_path,
        config_text("api.example.com", "old.example.com"),
        info({"other.example.org": hand(leaf=[PIN_C, PIN_D])}),
        capsys,
    )
    code, err, result = build_plist(tmp_path, config_text("api.example.com"), None, capsys)
    assert code == 0, err
    assert sorted(pinned_of(result)) == ["api.example.com", "other.example.org"]
    assert result is not None and result[OWNED] == ["api.example.com"]


def test_a_host_pinned_by_hand_and_in_pins_yaml_warns_once_and_pins_yaml_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = config_text("api.example.com")
    code, err, result = build_plist(
        tmp_path, text, info({"API.example.com": hand(leaf=[PIN_C, PIN_D])}), capsys
    )
    assert code == 0, err
    assert "API.example.com was pinned by hand" in err and "pins.yaml's pins replace it" in err
    assert list(pinned_of(result)) == ["api.example.com"]
    assert {
        i["SPKI-SHA256-BASE64"]
        for i in pinned_of(result)["api.example.com"]["NSPinnedLeafIdentities"]
    } == {PIN_A, PIN_B}
    code, err, _ = build_plist(tmp_path, text, None, capsys)
    assert code == 0 and "pinned by hand" not in err  # owned from then on: no second warning


def test_hand_entries_take_part_in_the_overlap_proof(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case 4 with the parent pinned by hand: iOS unions its CA list with the child's leaf
    list, so build refuses and writes nothing."""
    before = plistlib.dumps(info({"example.com": hand(ca=[PIN_C, PIN_D], include=True)}))
    code, err, _ = build_plist(tmp_path, config_text("api.example.com"), before, capsys)
    assert code == 2
    assert "would block api.example.com" in err
    assert "example.com (pinned by hand in the Info.plist)" in err
    assert (tmp_path / "Info.plist").read_bytes() == before


def test_unowned_entries_are_read_as_ios_reads_them(tmp_path: Path) -> None:
    pinned = {
        "a.example.com": hand(leaf=[PIN_C], include=True),
        "b.example.com": {
            "NSIncludesSubdomains": "YES",  # not the boolean true
            "NSPinnedCAIdentities": [{"SPKI-SHA256-BASE64": PIN_D}, "x"],
        },
        "c.example.com": "not a dictionary",
    }
    entries = list(ios_plist.hand_entries(pinned, set()))
    assert [
        (e.host, e.include_subdomains, [(p.sha256, p.level) for p in e.pins]) for e in entries
    ] == [
        ("a.example.com", True, [(PIN_C, Level.LEAF)]),
        ("b.example.com", False, [(PIN_D, Level.ROOT)]),
    ]
    assert all(isinstance(e, Entry) and e.origin == ios_plist.BY_HAND for e in entries)


def test_explain_sees_the_hosts_pinned_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    code, err, _ = build_plist(
        tmp_path,
        config_text("api.example.com"),
        info({"example.org": hand(ca=[PIN_C, PIN_D], include=True)}),
        capsys,
    )
    assert code == 0, err
    assert (
        main(["explain", "www.example.org", "--format", "json", "-c", str(tmp_path / "pins.yaml")])
        == 0
    )
    (record,) = json.loads(capsys.readouterr().out)["outputs"]
    assert record["pinned"] and record["type"] == "ios-plist"
    assert {p["sha256"] for p in record["pins"]} == {PIN_C, PIN_D}
    assert record["decided_by"].startswith(
        "the include_subdomains parent example.org (pinned by hand in the Info.plist)"
    )
