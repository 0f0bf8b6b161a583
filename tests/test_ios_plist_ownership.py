"""Info.plist merge keeps what pingen does not own (issue 10 item 6) and survives hostile
plists (issue 12 attack 10)."""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

import pytest

from pingen.cli import main
from pingen.model import Level
from pingen.platforms import Entry
from pingen.render import ios_plist
from tests.support.samples import PIN_A, PIN_B, PIN_C, PIN_D

OWNED = ios_plist.OWNED_KEY


def config_text(*hosts: str, include: bool = False, level: str = "leaf") -> str:
    lines = ["version: 1", "defaults:", "  expires: 2030-06-30", "domains:"]
    for host in hosts:
        lines += [f"  {host}:"]
        if include:
            lines += ["    include_subdomains: true"]
        lines += ["    pins:", f"      - sha256: {PIN_A}", f"        level: {level}",
                  f"      - sha256: {PIN_B}", f"        level: {level}",
                  "        backup: true"]
    lines += ["outputs:", "  - type: ios-plist", "    path: Info.plist", ""]
    return "\n".join(lines)


def hand(leaf: list[str] | None = None, ca: list[str] | None = None,
         include: bool = False) -> dict[str, Any]:
    value: dict[str, Any] = {"NSIncludesSubdomains": include}
    if leaf:
        value["NSPinnedLeafIdentities"] = [{"SPKI-SHA256-BASE64": p} for p in leaf]
    if ca:
        value["NSPinnedCAIdentities"] = [{"SPKI-SHA256-BASE64": p} for p in ca]
    return value


def info(pinned: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"CFBundleIdentifier": "com.example.app",
            "NSAppTransportSecurity": {"NSPinnedDomains": pinned}, **extra}


def run(tmp_path: Path, text: str, plist: dict[str, Any] | bytes | None,
        capsys: pytest.CaptureFixture[str]) -> tuple[int, str, dict[str, Any] | None]:
    (tmp_path / "pins.yaml").write_text(text)
    target = tmp_path / "Info.plist"
    if plist is not None:
        target.write_bytes(plist if isinstance(plist, bytes) else plistlib.dumps(plist))
    code = main(["build", "-c", str(tmp_path / "pins.yaml")])
    err = capsys.readouterr().err
    result = plistlib.loads(target.read_bytes()) if target.exists() else None
    return code, err, result


def pinned_of(result: dict[str, Any] | None) -> dict[str, Any]:
    assert result is not None
    return result["NSAppTransportSecurity"]["NSPinnedDomains"]  # type: ignore[no-any-return]


def test_hand_entries_are_kept_and_pingen_records_what_it_owns(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = hand(leaf=[PIN_C, PIN_D])
    code, err, result = run(tmp_path, config_text("api.example.com"),
                            info({"other.example.org": mine}), capsys)
    assert code == 0, err
    assert pinned_of(result)["other.example.org"] == mine
    assert result is not None and result[OWNED] == ["api.example.com"]


def test_a_host_dropped_from_pins_yaml_is_removed_and_hand_entries_stay(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(tmp_path, config_text("api.example.com", "old.example.com"),
        info({"other.example.org": hand(leaf=[PIN_C, PIN_D])}), capsys)
    code, err, result = run(tmp_path, config_text("api.example.com"), None, capsys)
    assert code == 0, err
    assert sorted(pinned_of(result)) == ["api.example.com", "other.example.org"]
    assert result is not None and result[OWNED] == ["api.example.com"]


def test_a_host_pinned_by_hand_and_in_pins_yaml_warns_once_and_pins_yaml_wins(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = config_text("api.example.com")
    code, err, result = run(tmp_path, text, info({"API.example.com": hand(leaf=[PIN_C, PIN_D])}),
                            capsys)
    assert code == 0, err
    assert "API.example.com was pinned by hand" in err and "pins.yaml's pins replace it" in err
    assert list(pinned_of(result)) == ["api.example.com"]
    assert {i["SPKI-SHA256-BASE64"] for i in
            pinned_of(result)["api.example.com"]["NSPinnedLeafIdentities"]} == {PIN_A, PIN_B}
    code, err, _ = run(tmp_path, text, None, capsys)
    assert code == 0 and "pinned by hand" not in err  # owned from then on: no second warning


def test_hand_entries_take_part_in_the_overlap_proof(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Case 4 with the parent pinned by hand: iOS unions its CA list with the child's leaf
    list, so build refuses and writes nothing."""
    before = plistlib.dumps(info({"example.com": hand(ca=[PIN_C, PIN_D], include=True)}))
    code, err, _ = run(tmp_path, config_text("api.example.com"), before, capsys)
    assert code == 2
    assert "would block api.example.com" in err
    assert "example.com (pinned by hand in the Info.plist)" in err
    assert (tmp_path / "Info.plist").read_bytes() == before


def test_unowned_entries_are_read_as_ios_reads_them(tmp_path: Path) -> None:
    pinned = {"a.example.com": hand(leaf=[PIN_C], include=True),
              "b.example.com": {"NSIncludesSubdomains": "YES",  # not the boolean true
                                "NSPinnedCAIdentities": [{"SPKI-SHA256-BASE64": PIN_D}, "x"]},
              "c.example.com": "not a dictionary"}
    entries = list(ios_plist.hand_entries(pinned, set()))
    assert [(e.host, e.include_subdomains, [(p.sha256, p.level) for p in e.pins])
            for e in entries] == [("a.example.com", True, [(PIN_C, Level.LEAF)]),
                                  ("b.example.com", False, [(PIN_D, Level.ROOT)])]
    assert all(isinstance(e, Entry) and e.origin == ios_plist.BY_HAND for e in entries)


# -- hostile plists (issue 12 attack 10) --------------------------------------------------

def test_deep_nesting_is_exit_2_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = b"<array>" * 5000 + b"</array>" * 5000
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>X</key>'
           + deep + b"</dict></plist>\n")
    code, err, _ = run(tmp_path, config_text("api.example.com"), xml, capsys)
    assert code == 2 and "deeper than 256 levels" in err and "Traceback" not in err
    assert (tmp_path / "Info.plist").read_bytes() == xml


def test_deep_binary_nesting_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    value: Any = "leaf"
    for _ in range(300):
        value = [value]
    data = plistlib.dumps({"X": value}, fmt=plistlib.FMT_BINARY)
    code, err, _ = run(tmp_path, config_text("api.example.com"), data, capsys)
    assert code == 2 and "deeper than 256 levels" in err


def test_a_file_over_8_mib_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = plistlib.dumps({"Blob": b"\0" * (6 * 1024 * 1024)})  # base64 makes it ~8.2 MiB
    assert len(big) > 8 * 1024 * 1024
    code, err, _ = run(tmp_path, config_text("api.example.com"), big, capsys)
    assert code == 2 and "over 8 MiB" in err


def test_a_shared_ats_object_in_a_binary_plist_is_copied_before_editing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """plistlib's binary writer stores one object for one Python object: both keys point
    at the same ATS dictionary in the file, and the reader shares it again."""
    ats: dict[str, Any] = {"NSAllowsArbitraryLoads": False}
    data = plistlib.dumps({"NSAppTransportSecurity": ats, "Other": ats},
                          fmt=plistlib.FMT_BINARY)
    loaded = plistlib.loads(data)
    assert loaded["Other"] is loaded["NSAppTransportSecurity"]  # shared, as attacked
    code, err, result = run(tmp_path, config_text("api.example.com"), data, capsys)
    assert code == 0, err
    assert result is not None and result["Other"] == {"NSAllowsArbitraryLoads": False}
    assert "api.example.com" in pinned_of(result)


def test_a_duplicate_key_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>'
           b"<key>CFBundleVersion</key><string>1</string>"
           b"<key>CFBundleVersion</key><string>2</string></dict></plist>\n")
    code, err, _ = run(tmp_path, config_text("api.example.com"), xml, capsys)
    assert code == 0, err
    assert "the key 'CFBundleVersion' appears twice" in err


def test_explain_sees_the_hosts_pinned_by_hand(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code, err, _ = run(tmp_path, config_text("api.example.com"),
                       info({"example.org": hand(ca=[PIN_C, PIN_D], include=True)}), capsys)
    assert code == 0, err
    assert main(["explain", "www.example.org", "--format", "json",
                 "-c", str(tmp_path / "pins.yaml")]) == 0
    (record,) = json.loads(capsys.readouterr().out)["outputs"]
    assert record["pinned"] and record["type"] == "ios-plist"
    assert {p["sha256"] for p in record["pins"]} == {PIN_C, PIN_D}
    assert record["decided_by"].startswith(
        "the include_subdomains parent example.org (pinned by hand in the Info.plist)")


def binary_with_duplicate_key() -> bytes:
    """A binary plist {"CFBundleVersion": "1", "CFBundleVersion": "2"}, written by hand
    (plistlib cannot write one): header, 4 objects, offset table, trailer."""
    objects = [
        bytes([0xD2, 1, 1, 2, 3]),  # dict of 2: key refs 1, 1; value refs 2, 3
        bytes([0x5F, 0x10, 15]) + b"CFBundleVersion",  # ASCII string of 15
        bytes([0x51]) + b"1",
        bytes([0x51]) + b"2",
    ]
    body = b"bplist00"
    offsets = []
    for item in objects:
        offsets.append(len(body))
        body += item
    table = len(body)
    body += bytes(offsets)
    trailer = bytes(6) + bytes([1, 1]) + (4).to_bytes(8, "big") + (0).to_bytes(8, "big") \
        + table.to_bytes(8, "big")
    return body + trailer


def test_a_duplicate_key_in_a_binary_plist_is_a_warning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = binary_with_duplicate_key()
    assert plistlib.loads(data) == {"CFBundleVersion": "2"}  # what plistlib makes of it
    assert ios_plist.binary_duplicate_keys(data) == ["CFBundleVersion"]
    code, err, _ = run(tmp_path, config_text("api.example.com"), data, capsys)
    assert code == 0, err
    assert "the key 'CFBundleVersion' appears twice" in err


def test_binary_duplicate_scan_is_quiet_on_clean_and_broken_files() -> None:
    clean = plistlib.dumps({"a": {"b": 1, "c": [1, {"b": 2}]}}, fmt=plistlib.FMT_BINARY)
    assert ios_plist.binary_duplicate_keys(clean) == []
    assert ios_plist.binary_duplicate_keys(b"bplist00" + b"\xff" * 40) == []
