"""Offline parity for bots: `guard --at DATE` and `diff --chain HOST=FILE` give the
answers `guard` and `diff --verify` give live, from recorded chains and a chosen date,
so CI without a network (or a reproducible run) can still raise them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.conftest import CliRunner
from tests.support.pki import CA, write_pem
from tests.support.samples import PIN_B, PIN_C

HOST = "api.example.test"


def _config(pins: str, *, expires: str) -> str:
    return f"""\
version: 1
trust:
  ca_file: roots.pem
defaults:
  expires: {expires}
domains:
  {HOST}:
    pins:
{pins}outputs:
  - type: json
    path: pins.json
"""


def _pin(sha256: str, label: str, *, backup: bool = False) -> str:
    return f"      - sha256: {sha256}\n        label: {label}\n" + (
        "        backup: true\n" if backup else ""
    )


def test_guard_at_judges_as_of_that_date(run_pingen: CliRunner, tmp_path: Path) -> None:
    """A pin set that expires before --at no longer pins (apps fail open); before its
    expiry the same chain is unsafe. Dates are relative to the test certificates."""
    root = CA.root()
    leaf = root.intermediate().issue_leaf(HOST)
    write_pem(tmp_path / "roots.pem", root.cert)
    write_pem(tmp_path / "new.pem", *leaf.chain())
    expires = dt.date.today() + dt.timedelta(days=20)
    (tmp_path / "pins.yaml").write_text(
        _config(
            _pin(PIN_B, "old key") + _pin(PIN_C, "backup", backup=True), expires=expires.isoformat()
        )
    )
    before = run_pingen(
        "guard",
        "--chain",
        "new.pem",
        "--at",
        (expires - dt.timedelta(days=1)).isoformat(),
        cwd=tmp_path,
    )
    after = run_pingen(
        "guard",
        "--chain",
        "new.pem",
        "--format",
        "json",
        "--at",
        (expires + dt.timedelta(days=1)).isoformat(),
        cwd=tmp_path,
    )
    assert before.exit_code == 1, before.stdout + before.stderr
    assert after.exit_code == 0, after.stdout + after.stderr
    (domain,) = json.loads(after.stdout)["configs"][0]["domains"]
    assert domain["status"] == "expired"


def test_guard_at_refuses_a_date_that_is_not_one(run_pingen: CliRunner, tmp_path: Path) -> None:
    result = run_pingen("guard", "--chain", "new.pem", "--at", "next tuesday", cwd=tmp_path)
    assert result.exit_code == 2
    assert "'next tuesday' is not a date; write YYYY-MM-DD" in result.stderr


def test_diff_chain_raises_the_live_flags_offline(run_pingen: CliRunner, tmp_path: Path) -> None:
    root = CA.root()
    inter = root.intermediate()
    write_pem(tmp_path / "roots.pem", root.cert)
    write_pem(tmp_path / "served.pem", *inter.issue_leaf(HOST).chain())
    old = _config(
        _pin(inter.pin, "Test Issuing CA")
        + _pin(root.pin, "Test Root")
        + _pin(PIN_B, "backup", backup=True),
        expires="never",
    )
    (tmp_path / "old.yaml").write_text(old)
    (tmp_path / "pins.yaml").write_text(
        _config(_pin(PIN_C, "new key") + _pin(PIN_B, "backup", backup=True), expires="never")
    )
    result = run_pingen(
        "diff",
        "--old",
        "old.yaml",
        "--chain",
        f"{HOST}=served.pem",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    flags = [(flag["code"], flag["domain"]) for flag in json.loads(result.stdout)["flags"]]
    assert ("live-pin-removed", HOST) in flags
    assert ("no-live-match", HOST) in flags
    assert result.stderr == ""


def test_diff_chain_as_of_a_date_when_the_recorded_chain_had_expired(
    run_pingen: CliRunner, tmp_path: Path
) -> None:
    """A recorded chain judged long after its leaf ended is compared with its own
    certificates only, and the note says why."""
    root = CA.root()
    inter = root.intermediate()
    write_pem(tmp_path / "roots.pem", root.cert)
    write_pem(tmp_path / "served.pem", *inter.issue_leaf(HOST).chain())
    config = _config(
        _pin(inter.pin, "Test Issuing CA") + _pin(PIN_B, "backup", backup=True), expires="never"
    )
    (tmp_path / "old.yaml").write_text(config)
    (tmp_path / "pins.yaml").write_text(config.replace(inter.pin, PIN_C))
    late = (dt.date.today() + dt.timedelta(days=3650)).isoformat()
    result = run_pingen(
        "diff",
        "--old",
        "old.yaml",
        "--chain",
        f"{HOST}=served.pem",
        "--at",
        late,
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [flag["code"] for flag in data["flags"]] == ["live-pin-removed", "no-live-match"]
    assert any("does not verify" in note for note in data["notes"])


def test_diff_chain_bad_input(run_pingen: CliRunner, tmp_path: Path) -> None:
    config = _config(_pin(PIN_B, "a") + _pin(PIN_C, "b", backup=True), expires="never")
    (tmp_path / "pins.yaml").write_text(config)
    (tmp_path / "old.yaml").write_text(config)
    (tmp_path / "roots.pem").write_text("")
    cases = {
        ("--chain", "served.pem"): "write HOST=FILE",
        (
            "--chain",
            "other.example.test=served.pem",
        ): "--chain other.example.test: no such domain in this config",
        ("--chain", f"{HOST}=missing.pem"): "missing.pem",
        ("--at", "2030-01-01"): "--at goes with --chain",
    }
    for args, message in cases.items():
        result = run_pingen("diff", "--old", "old.yaml", *args, cwd=tmp_path)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_diff_chain_of_another_host_is_the_wrong_file(
    run_pingen: CliRunner, tmp_path: Path
) -> None:
    """As `verify --chain` and `guard` say: a chain whose leaf names only other hosts is
    bad input (exit 2), not live keys to raise `no-live-match` from."""
    root = CA.root()
    write_pem(tmp_path / "roots.pem", root.cert)
    write_pem(tmp_path / "served.pem", *root.intermediate().issue_leaf("other.test").chain())
    config = _config(_pin(PIN_B, "a") + _pin(PIN_C, "b", backup=True), expires="never")
    (tmp_path / "pins.yaml").write_text(config)
    (tmp_path / "old.yaml").write_text(config)
    result = run_pingen("diff", "--old", "old.yaml", "--chain", f"{HOST}=served.pem", cwd=tmp_path)
    assert result.exit_code == 2, result.stdout
    assert f"served.pem: its leaf certificate covers other.test, not {HOST}" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
