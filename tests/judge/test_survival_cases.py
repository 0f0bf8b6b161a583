"""The ten wrong verdicts of issue 11, on real served chains (tests/data/real-chains, hosts
from its manifest), each through `pingen verify --chain FILE --domain HOST --at DATE -c
pins.yaml`, with the codes, severities and messages a careful reader expects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CliRunner
from tests.support.docs import docs_text
from tests.support.paths import REAL_CHAINS

OFFLINE = "Dk6qPzGm4UDB5oP6sTZKF5bKDmLqF7X3vV1Ncr7RfXo="  # a key nobody serves
GEN_X_RSA = ("R10", "R11", "R12", "R13", "R14")
GEN_X_ECDSA = ("E5", "E6", "E7", "E8", "E9")
GEN_Y = ("YR1", "YR2", "YR3", "YE1", "YE2", "YE3")
LE_ROOTS = ("ISRG Root X1", "ISRG Root X2", "Root YR", "Root YE")


@dataclass(frozen=True)
class Case:
    chain: str
    host: str
    at: str
    pins: tuple[str, ...]  # "root: NAME", "intermediate: NAME", or "leaf"
    expires: str
    provider: str | None = None


def config(folder: Path, case: Case) -> Path:
    lines = ["version: 1", "domains:", f"  {case.host}:", f"    expires: {case.expires}"]
    if case.provider:
        lines.append(f"    provider: {case.provider}")
    lines.append("    pins:")
    for pin in case.pins:
        if pin == "leaf":
            lines += [f"      - sha256: {leaf_pin(case)}", "        level: leaf"]
        else:
            lines.append(f"      - {pin}")
    lines += [f"      - sha256: {OFFLINE}", "        backup: true"]
    path = folder / "pins.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def leaf_pin(case: Case) -> str:
    from cryptography import x509

    from pingen.spki import pin_of_certificate

    return pin_of_certificate(
        x509.load_pem_x509_certificates((REAL_CHAINS / case.chain).read_bytes())[0]
    )


def judged(run: CliRunner, folder: Path, case: Case) -> dict[str, dict[str, str]]:
    path = config(folder, case)
    result = run(
        "verify",
        "--format",
        "json",
        "--chain",
        str(REAL_CHAINS / case.chain),
        "--domain",
        case.host,
        "--at",
        case.at,
        "-c",
        str(path),
        cwd=folder,
    )
    assert result.stderr == "", result.stderr
    (entry,) = json.loads(result.stdout)["domains"]
    problems = {p["code"]: p for p in entry["problems"]}
    assert "untrusted-chain" not in problems, problems  # the chain verifies as of `at`
    return problems


def severities(problems: dict[str, dict[str, str]]) -> dict[str, str]:
    return {code: p["severity"] for code, p in problems.items()}


def pins(kind: str, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{kind}: {name}" for name in names)


R13_CHAIN = ("R13-2026-05-03-1.pem", "ds.reports.voicemeetme.net")


# 1. Gen Y is the next generation of Let's Encrypt intermediates, not a next root.


def test_1_gen_x_rsa_set_fails_at_gen_y(run_pingen: CliRunner, workdir: Path) -> None:
    case = Case(*R13_CHAIN, "2026-04-20", pins("intermediate", GEN_X_RSA), "2027-12-31")
    problems = judged(run_pingen, workdir, case)
    assert severities(problems) == {
        "intermediate-siblings": "fail",
        "key-type-switch": "warning",
        "pins-expire": "fail",
    }
    message = problems["intermediate-siblings"]["message"]
    assert message.startswith(
        "from 2026-05-13, Let's Encrypt (ISRG) issues RSA certificates only from YR1, YR2 and YR3"
    )
    assert "the first renewal after that matches nothing" in message
    assert "every sibling" not in message  # the advice that led here is gone
    assert message.endswith("Add `root: Root YR`.")


def test_1_gen_x_ecdsa_set_fails_at_gen_y(run_pingen: CliRunner, workdir: Path) -> None:
    case = Case(
        "E8-2026-02-18-1.pem",
        "stream.meramonitor.com",
        "2026-01-01",
        pins("intermediate", GEN_X_ECDSA),
        "2027-12-31",
    )
    problems = judged(run_pingen, workdir, case)
    assert problems["intermediate-siblings"]["severity"] == "fail"
    assert (
        "ECDSA certificates only from YE1, YE2 and YE3"
        in (problems["intermediate-siblings"]["message"])
    )
    assert "next-root" not in problems


def test_1_one_gen_x_intermediate_and_a_backup(run_pingen: CliRunner, workdir: Path) -> None:
    case = Case(*R13_CHAIN, "2026-04-20", ("intermediate: R13",), "2027-12-31")
    problems = judged(run_pingen, workdir, case)
    message = problems["intermediate-siblings"]["message"]
    assert problems["intermediate-siblings"]["severity"] == "fail"
    assert "only from YR1, YR2 and YR3" in message and "R10, R11, R12 and R14 too" in message
    assert "next-root" not in problems


# 2. A root that does match on the other key type.


def test_2_x1_x2_only_misses_devices_trusting_gen_y_roots(
    run_pingen: CliRunner, workdir: Path
) -> None:
    case = Case(
        "YR1-2026-09-18-1.pem",
        "sync-ledger.live",
        "2026-08-01",
        pins("root", ("ISRG Root X1", "ISRG Root X2")),
        "2027-08-01",
    )
    problems = judged(run_pingen, workdir, case)
    assert severities(problems) == {"next-root": "warning"}
    message = problems["next-root"]["message"]
    assert "Root YR and Root YE are not in device trust stores yet" in message
    assert message.endswith("Add `root: Root YR`, `root: Root YE`.")
    # The same pins match the real YE chain.
    ye = Case(
        "YE1-2026-09-16-1.pem", "bccrm.voicemeetme.net", "2026-08-01", case.pins, case.expires
    )
    assert "no-live-match" not in judged(run_pingen, workdir, ye)


# 3. Setup B on a GTS chain: Let's Encrypt's roots are pinned, Gen Y only next-root.


def test_3_setup_b_is_no_ca_switch_fail(run_pingen: CliRunner, workdir: Path) -> None:
    case = Case(
        "WR1-2026-03-26-1.pem",
        "x.vercel.app",
        "2026-03-01",
        pins("root", ("GTS Root R1", "GTS Root R4", "ISRG Root X1", "ISRG Root X2")),
        "2027-03-01",
        "google-managed",
    )
    problems = judged(run_pingen, workdir, case)
    assert "ca-switch" not in problems
    assert problems["next-root"]["severity"] == "warning"
    assert "Root YR and Root YE" in problems["next-root"]["message"]
    assert {p["severity"] for p in problems.values()} == {"warning"}


# 4. The pin set's lifetime counts.


def test_4_all_sixteen_intermediates_end_before_the_set(
    run_pingen: CliRunner, workdir: Path
) -> None:
    names = (*GEN_X_RSA, *GEN_X_ECDSA, *GEN_Y)
    case = Case(*R13_CHAIN, "2026-04-20", pins("intermediate", names), "2029-06-30")
    problems = judged(run_pingen, workdir, case)
    assert severities(problems) == {"pins-expire": "fail"}
    assert (
        "no known certificate for the pinned CA keys" in problems["pins-expire"]["message"]
        and "is valid after 2028-09-02" in problems["pins-expire"]["message"]
    )
    never = Case(*R13_CHAIN, "2026-04-20", case.pins, "never")
    assert severities(judged(run_pingen, workdir, never)) == {"pins-expire": "warning"}


def test_4_a_2025_gen_x_set_living_to_2027_hears_of_gen_y(
    run_pingen: CliRunner, workdir: Path
) -> None:
    case = Case(
        "R10-2025-04-30-1.pem",
        "qubis.pl",
        "2025-03-01",
        pins("intermediate", GEN_X_RSA),
        "2027-01-31",
    )
    problems = judged(run_pingen, workdir, case)
    assert problems["intermediate-siblings"]["severity"] == "fail"
    assert "from 2026-05-13" in problems["intermediate-siblings"]["message"]


def test_4_a_set_expiring_in_sixteen_days_hears_no_long_term_warning(
    run_pingen: CliRunner, workdir: Path
) -> None:
    case = Case(*R13_CHAIN, "2026-04-20", pins("intermediate", GEN_X_RSA), "2026-05-06")
    problems = judged(run_pingen, workdir, case)
    assert "intermediate-siblings" not in problems and "pins-expire" not in problems
    assert set(problems) == {"key-type-switch", "expires-soon"}


# 5. Issuance periods: no Gen X siblings after Gen Y took over.


def test_5_gen_y_rsa_set_has_no_gen_x_siblings(run_pingen: CliRunner, workdir: Path) -> None:
    case = Case(
        "YR1-2026-09-18-1.pem",
        "sync-ledger.live",
        "2026-08-01",
        pins("intermediate", ("YR1", "YR2", "YR3")),
        "2027-08-01",
    )
    problems = judged(run_pingen, workdir, case)
    assert severities(problems) == {"key-type-switch": "warning"}
    assert "R10" not in problems["key-type-switch"]["message"]


# 6. The pinned leaf is on every path.


def test_6_pinned_leaf_has_no_alternate_path(run_pingen: CliRunner, workdir: Path) -> None:
    case = Case(
        "Sectigo_RSA_Domain_Validation_Secure_Server_CA-2024-08-01-1.pem",
        "spotaxis.com",
        "2024-06-01",
        ("leaf",),
        "2025-06-01",
    )
    problems = judged(run_pingen, workdir, case)
    assert "alternate-path" not in problems
    assert set(problems) == {"leaf-only"}


# 7. A leaf key kept across renewals: the backup covers a new key type.


@pytest.mark.parametrize("provider", ["letsencrypt-reuse-key", "self-managed"])
def test_7_kept_leaf_key_has_no_key_type_switch(
    run_pingen: CliRunner, workdir: Path, provider: str
) -> None:
    case = Case(
        "R12-2026-04-30-1.pem", "stanorg.ru", "2026-03-01", ("leaf",), "2026-04-20", provider
    )
    problems = judged(run_pingen, workdir, case)
    assert "key-type-switch" not in problems and "leaf-key-rotates" not in problems


# 8. Families the catalog knows to be incomplete.


def test_8_amazon_m02_misses_acm_siblings(run_pingen: CliRunner, workdir: Path) -> None:
    case = Case(
        "Amazon_RSA_2048_M02-2025-07-26-1.pem",
        "x.execute-api.us-east-1.amazonaws.com",
        "2025-05-01",
        ("intermediate: Amazon RSA 2048 M02",),
        "2026-05-01",
        "aws-acm",
    )
    problems = judged(run_pingen, workdir, case)
    message = problems["intermediate-siblings"]["message"]
    assert "another Amazon RSA 2048 intermediate" in message
    assert "`root: Amazon Root CA 1`" in message


def test_8_wr1_misses_gts_siblings(run_pingen: CliRunner, workdir: Path) -> None:
    case = Case(
        "WR1-2026-03-26-1.pem",
        "x.vercel.app",
        "2026-03-01",
        ("intermediate: WR1",),
        "2027-03-01",
        "google-managed",
    )
    problems = judged(run_pingen, workdir, case)
    assert "another GTS RSA intermediate" in problems["intermediate-siblings"]["message"]


# 9. The same pins, the same verdict on either CA's chain.


def test_9_same_verdict_on_gts_and_lets_encrypt_chains(
    run_pingen: CliRunner, workdir: Path
) -> None:
    roots = pins("root", ("GTS Root R1", "GTS Root R4", *LE_ROOTS))
    on_le = Case(
        "YR1-2026-09-18-1.pem",
        "sync-ledger.live",
        "2026-08-01",
        roots,
        "2027-03-01",
        "google-managed",
    )
    on_gts = Case(
        "WR1-2026-03-26-1.pem", "x.vercel.app", "2026-03-01", roots, "2027-03-01", "google-managed"
    )
    for case in (on_le, on_gts):
        problems = judged(run_pingen, workdir, case)
        assert {p["severity"] for p in problems.values()} == {"warning"}, case.chain
        text = " ".join(p["message"] for p in problems.values())
        assert "`root: GTS Root R2`" in text and "`root: GTS Root R3`" in text


# 10. A renewal estimate never lies in the past.


def test_10_leaf_key_rotates_names_no_past_renewal(run_pingen: CliRunner, workdir: Path) -> None:
    case = Case(
        "Amazon_RSA_2048_M02-2025-07-26-1.pem",
        "x.execute-api.us-east-1.amazonaws.com",
        "2025-05-01",
        ("leaf",),
        "2026-05-01",
        "aws-acm",
    )
    problems = judged(run_pingen, workdir, case)
    message = problems["leaf-key-rotates"]["message"]
    assert problems["leaf-key-rotates"]["severity"] == "fail"
    assert "2025-03-17" not in message and "it is due now" in message


# -- the README ------------------------------------------------------------------------


def test_readme_judgement_table_lists_every_catalog_code() -> None:
    from pingen.judge.findings import SURVIVABILITY

    readme = docs_text()
    for code in SURVIVABILITY:
        row = next(
            (line for line in readme.splitlines() if line.startswith(f"| `{code.name}` |")), None
        )
        assert row is not None, code
        if code.name not in ("leaf-key-rotates", "alternate-path"):
            assert "fail when certain within the window" in row, code


def setup_b() -> tuple[str, ...]:
    import re

    readme = docs_text()
    section = readme.split("#### B. ", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    return tuple(f"root: {name}" for name in re.findall(r"- root: ([^#\n]+?)\s*(?:#|\n)", section))


@pytest.mark.parametrize(
    ("chain", "host", "at"),
    [
        ("WR1-2026-03-26-1.pem", "x.vercel.app", "2026-03-01"),
        ("YR1-2026-09-18-1.pem", "sync-ledger.live", "2026-08-01"),
        ("YE1-2026-09-16-1.pem", "bccrm.voicemeetme.net", "2026-08-01"),
    ],
)
def test_readme_setup_b_survives_its_window(
    run_pingen: CliRunner, workdir: Path, chain: str, host: str, at: str
) -> None:
    roots = setup_b()
    assert len(roots) == 8
    case = Case(chain, host, at, roots, "2027-06-30", "google-managed")
    assert judged(run_pingen, workdir, case) == {}
