"""`build`'s offline judgement: what the pins and `provider:` alone tell, as a table of
configs with their exit codes and messages (PRODUCT.md: "build (and so pre-commit)
applies the judgement that needs no network")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import CliRunner
from tests.support.samples import PIN_A, PIN_B, PIN_C

AT = "2026-12-01"  # every judgement here is as of this date, never today
UNKNOWN_1 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="  # keys no catalog knows
UNKNOWN_2 = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="


@dataclass(frozen=True)
class Case:
    domain: str  # the YAML under `api.example.com:` (indented four spaces)
    exit_code: int
    says: tuple[str, ...] = ()  # fragments of stderr, in order
    flags: tuple[str, ...] = ()
    expires: str = "2027-06-30"


NO_BACKUP = "pins.yaml:5:3: api.example.com has no backup"
ONE_CA = "every pin of a known CA belongs to Let's Encrypt (ISRG)"

CASES = {
    "one CA, no backup": Case(
        f"pins:\n  - root: ISRG Root X1\n  - sha256: {PIN_B}\n", 2,
        (NO_BACKUP, ONE_CA, "`root: GTS Root R1` with `backup: true`",
         "or set `allow_no_backup: true`"),
    ),
    "one CA, intermediates and a root": Case(
        f"pins:\n  - intermediate: R12\n  - intermediate: E7\n  - sha256: {PIN_A}\n", 2,
        (NO_BACKUP, ONE_CA),
    ),
    "one CA, opted out": Case(
        "allow_no_backup: true\npins:\n  - root: ISRG Root X1\n  - root: ISRG Root X2\n", 0,
    ),
    "one CA, a backup pin": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: ISRG Root X2\n    backup: true\n", 0,
    ),
    "two CAs of the catalog": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: GTS Root R1\n", 0,
    ),
    "an intermediate and another CA's root": Case(
        f"pins:\n  - sha256: {PIN_C}\n  - root: Amazon Root CA 1\n", 0,
    ),
    "a bare unknown hash is no second CA": Case(
        f"pins:\n  - root: ISRG Root X1\n  - sha256: {UNKNOWN_1}\n", 2,
        (NO_BACKUP, f"(pin {UNKNOWN_1}: not a key of a CA pingen's catalog knows, so not a "
                    "second CA)"),
    ),
    "a Mozilla root outside the catalog is no second CA": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: DigiCert Global Root G2\n", 2,
        (NO_BACKUP, "'DigiCert Global Root G2'"),
    ),
    "keys of no known CA: nothing to judge": Case(
        f"pins:\n  - sha256: {UNKNOWN_1}\n  - sha256: {UNKNOWN_2}\n", 0,
    ),
    "a leaf pin on a provider that re-keys": Case(
        "provider: google-managed\npins:\n  - file: live.pub.pem\n  - root: GTS Root R1\n"
        "  - root: ISRG Root X1\n", 2,
        ("pins.yaml:8:9: pin 'live.pub.pem'", "is a leaf pin, but api.example.com has "
         "`provider: google-managed`", "Pin the CA instead: `root: GTS Root R1`, "
         "`root: GTS Root R3`, `root: GTS Root R4`, `root: ISRG Root X1`",
         "`pingen suggest api.example.com --provider google-managed` prints them"),
    ),
    "a hash with level leaf on aws-acm": Case(
        f"provider: aws-acm\npins:\n  - sha256: {UNKNOWN_1}\n    level: leaf\n"
        "  - root: Amazon Root CA 1\n  - root: ISRG Root X1\n", 2,
        ("pins.yaml:8:9:", "is a leaf pin, but api.example.com has `provider: aws-acm`",
         "`root: Amazon Root CA 1`"),
    ),
    "a backup key on a provider that re-keys": Case(
        "provider: cloudflare\npins:\n  - root: ISRG Root X1\n  - root: GTS Root R1\n"
        "  - file: live.pub.pem\n    backup: true\n", 0,
    ),
    "a leaf pin where the key is kept": Case(
        "provider: letsencrypt-reuse-key\npins:\n  - file: live.pub.pem\n"
        f"  - sha256: {UNKNOWN_1}\n    backup: true\n", 0,
    ),
    "both errors at once": Case(
        "provider: aws-acm\npins:\n  - file: live.pub.pem\n  - root: Amazon Root CA 1\n", 2,
        (NO_BACKUP, "pins.yaml:8:9: pin 'live.pub.pem'"),
    ),
    "expires within 30 days: a warning": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: GTS Root R1\n", 0,
        ("pins.yaml:5:3: warning: api.example.com: the pin set expires on 2026-12-20, in "
         "19 day(s)",), expires="2026-12-20",
    ),
    "expires within 30 days, --strict": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: GTS Root R1\n", 1,
        ("in 19 day(s)", "pingen: 1 warning(s) and --strict: nothing was written"),
        flags=("--strict",), expires="2026-12-20",
    ),
    "expires in 31 days, --strict": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: GTS Root R1\n", 0,
        flags=("--strict",), expires="2027-01-01",
    ),
    "expired as of --at": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: GTS Root R1\n", 2,
        ("`expires: 2026-11-30` is not in the future (today is 2026-12-01)",),
        expires="2026-11-30",
    ),
}


def _project(folder: Path, case: Case) -> None:
    body = "".join(f"    {line}\n" for line in case.domain.splitlines())
    (folder / "pins.yaml").write_text(
        f"version: 1\ndefaults:\n  expires: {case.expires}\ndomains:\n  api.example.com:\n"
        f"{body}outputs:\n  - type: json\n    path: out/pins.json\n"
    )
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    (folder / "live.pub.pem").write_bytes(key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_build_judges_the_pins_offline(run_pingen: CliRunner, workdir: Path, case: Case) -> None:
    _project(workdir, case)
    result = run_pingen("build", "--at", AT, *case.flags)
    assert result.exit_code == case.exit_code, result.stderr
    position = 0
    for fragment in case.says:
        found = result.stderr.find(fragment, position)
        assert found >= 0, f"{fragment!r} not in (or out of order in) {result.stderr}"
        position = found + len(fragment)
    assert "Traceback" not in result.stderr
    assert (workdir / "out/pins.json").exists() is (case.exit_code == 0)


def test_check_with_strict_fails_on_warnings_even_when_current(
    run_pingen: CliRunner, workdir: Path
) -> None:
    _project(workdir, CASES["expires within 30 days: a warning"])
    assert run_pingen("build", "--at", AT).exit_code == 0
    assert run_pingen("build", "--at", AT, "--check").exit_code == 0
    result = run_pingen("build", "--at", AT, "--check", "--strict")
    assert result.exit_code == 1
    assert "nothing was checked" in result.stderr


def test_strict_counts_the_platforms_warnings_too(run_pingen: CliRunner, workdir: Path) -> None:
    """An ios-plist output warns that NSPinnedDomains has no expiry: --strict fails on it."""
    _project(workdir, CASES["two CAs of the catalog"])
    config = (workdir / "pins.yaml").read_text()
    (workdir / "pins.yaml").write_text(config + "  - type: ios-plist\n    path: out/Info.plist\n")
    assert run_pingen("build", "--at", AT).exit_code == 0
    result = run_pingen("build", "--at", AT, "--strict", "--check")
    assert result.exit_code == 1 and "NSPinnedDomains has no expiry" in result.stderr


def test_at_is_refused_with_verify(run_pingen: CliRunner, workdir: Path) -> None:
    _project(workdir, CASES["two CAs of the catalog"])
    result = run_pingen("build", "--at", AT, "--verify")
    assert result.exit_code == 2 and "--at judges as of a date offline" in result.stderr
    assert not (workdir / "out").exists()


def test_at_must_be_a_date(run_pingen: CliRunner, workdir: Path) -> None:
    _project(workdir, CASES["two CAs of the catalog"])
    result = run_pingen("build", "--at", "soon")
    assert result.exit_code == 2 and "'soon' is not a date" in result.stderr
