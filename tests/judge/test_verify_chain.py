"""`pingen verify --chain FILE --domain D [--at DATE]`: the judgement offline, on real
served chains (tests/data/real-chains, copied from the shared CA catalog; public
certificates) against certifi's roots, and on test chains against a test CA file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any  # a parsed JSON report: its shape is what the test asserts

import pytest
from cryptography import x509

from pingen.judge.domain import describe_chain, describe_verified
from pingen.model import Trust
from pingen.pki.chain import build_verified_chain, levels, load_trust_store
from tests.conftest import CliRunner
from tests.support.paths import REAL_CHAINS
from tests.support.pki import CA, pem_of, write_pem

# qubis.pl, 2025-01-30 .. 2025-04-30, sent: leaf, R10
R10_CHAIN = REAL_CHAINS / "R10-2025-04-30-1.pem"
ISRG_ROOT_X1 = "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="
R10 = "K7rZOrXHknnsEhUH8nLL4MZkejquUuIvOIr6tCa0rbo="
QUBIS_LEAF = "e0X/CQHTs6S9DP1Fcfou1nY9yc1o2DDj/aAyAavSSmM="
USERTRUST_RSA = "x4QzPSC810K5/cMjb05Qm4k3Bw5zBn4lTdO/nEW/Td4="
OFFLINE = "Dk6qPzGm4UDB5oP6sTZKF5bKDmLqF7X3vV1Ncr7RfXo="  # some key that nobody serves


def config(folder: Path, host: str, *pins: tuple[str, str], ca_file: str | None = None) -> Path:
    lines = ["version: 1", "defaults:", "  expires: never"]
    if ca_file:
        lines += ["trust:", f"  ca_file: {ca_file}"]
    lines += ["domains:", f"  {host}:", "    pins:"]
    for sha256, label in pins:
        lines += [f"      - sha256: {sha256}", f"        label: {label}"]
        if sha256 == OFFLINE:  # the key held offline is the set's backup
            lines.append("        backup: true")
    path = folder / "pins.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def verify_json(run: CliRunner, folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run("verify", "--format", "json", *args, cwd=folder)
    assert result.stderr == "", result.stderr
    report = json.loads(result.stdout)
    return result.exit_code, report["domains"][0]


def codes(entry: dict[str, Any]) -> list[str]:
    return [p["code"] for p in entry["problems"]]


def test_recorded_chain_judged_at_a_past_date(run_pingen: CliRunner, workdir: Path) -> None:
    config(workdir, "qubis.pl", (ISRG_ROOT_X1, "ISRG Root X1"), (OFFLINE, "offline"))
    code, entry = verify_json(
        run_pingen, workdir, "--chain", str(R10_CHAIN), "--domain", "qubis.pl", "--at", "2025-03-01"
    )
    assert entry["status"] in ("ok", "warn")
    assert code == 0
    # ISRG Root X1 is not in the file: it comes from certifi and matches the root pin
    assert [c["sha256"] for c in entry["chain"]] == [QUBIS_LEAF, R10, ISRG_ROOT_X1]
    assert entry["matched"] == [{"sha256": ISRG_ROOT_X1, "label": "ISRG Root X1", "level": "root"}]
    assert entry["address"] == str(R10_CHAIN)
    assert not {"no-live-match", "untrusted-chain", "no-backup"} & set(codes(entry))


def test_recorded_chain_today_has_an_expired_leaf(run_pingen: CliRunner, workdir: Path) -> None:
    config(workdir, "qubis.pl", (ISRG_ROOT_X1, "ISRG Root X1"), (OFFLINE, "offline"))
    code, entry = verify_json(
        run_pingen, workdir, "--chain", str(R10_CHAIN), "--domain", "qubis.pl"
    )
    assert code == 1
    assert codes(entry) == ["untrusted-chain"]
    assert "leaf certificate expired on 2025-04-30" in entry["problems"][0]["message"]


def test_leaf_pin_of_a_90_day_certificate(run_pingen: CliRunner, workdir: Path) -> None:
    config(workdir, "qubis.pl", (QUBIS_LEAF, "today's leaf"), (OFFLINE, "offline"))
    code, entry = verify_json(
        run_pingen, workdir, "--chain", str(R10_CHAIN), "--domain", "qubis.pl", "--at", "2025-03-01"
    )
    assert code == 0
    assert "leaf-only" in codes(entry)
    message = next(p["message"] for p in entry["problems"] if p["code"] == "leaf-only")
    assert "expires on 2025-04-30" in message and "never expires" in message


def test_misordered_chain_builds_to_the_store_root(run_pingen: CliRunner, workdir: Path) -> None:
    chain = REAL_CHAINS / "Sectigo_RSA_Domain_Validation_Secure_Server_CA-2025-06-28-1.pem"
    config(workdir, "lilaastrology.com", (USERTRUST_RSA, "USERTrust"), (OFFLINE, "offline"))
    code, entry = verify_json(
        run_pingen,
        workdir,
        "--chain",
        str(chain),
        "--domain",
        "lilaastrology.com",
        "--at",
        "2025-01-01",
    )
    assert code == 0
    assert [c["level"] for c in entry["chain"]] == ["leaf", "intermediate", "root"]
    assert entry["matched"][0]["level"] == "root"


def test_test_chain_with_a_ca_file_and_a_cross_sign(run_pingen: CliRunner, workdir: Path) -> None:
    old_root, new_root = CA.root("Old Root"), CA.root("New Root")
    inter = new_root.intermediate("New CA")
    leaf = inter.issue_leaf("api.example.test")
    write_pem(workdir / "roots.pem", old_root.cert)
    (workdir / "fullchain.pem").write_bytes(
        pem_of([leaf.cert, inter.cert, old_root.cross_sign(new_root)])
    )
    config(
        workdir,
        "api.example.test",
        (new_root.pin, "new root"),
        (OFFLINE, "offline"),
        ca_file="roots.pem",
    )
    code, entry = verify_json(
        run_pingen, workdir, "--chain", "fullchain.pem", "--domain", "api.example.test"
    )
    assert code == 0
    # New Root's key sits in the cross-sign, one below the trusted Old Root
    assert [c["level"] for c in entry["chain"]] == ["leaf", "intermediate", "intermediate", "root"]
    assert entry["matched"] == [
        {"sha256": new_root.pin, "label": "new root", "level": "intermediate"}
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chain", "missing.pem", "--domain", "qubis.pl"], "missing.pem: cannot read"),
        (["--chain", "garbage.pem", "--domain", "qubis.pl"], "garbage.pem: not a certificate"),
        (["--chain", str(R10_CHAIN)], "give exactly one --domain"),
        (["--at", "2025-03-01"], "--at needs --chain"),
        (["--chain", str(R10_CHAIN), "--domain", "qubis.pl", "--at", "March"], "not a date"),
        (["--chain", str(R10_CHAIN), "--domain", "other.pl"], "no such domain"),
    ],
)
def test_bad_input_is_exit_2_without_traceback(
    run_pingen: CliRunner, workdir: Path, args: list[str], message: str
) -> None:
    config(workdir, "qubis.pl", (ISRG_ROOT_X1, "ISRG Root X1"), (OFFLINE, "offline"))
    (workdir / "garbage.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n")
    result = run_pingen("verify", *args, cwd=workdir)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def _dns_host(chain_file: Path) -> str | None:
    """A host the chain's leaf covers (a wildcard's label filled in), or None when the
    leaf names no DNS host (an IP-address certificate cannot be verified for a name)."""
    leaf = x509.load_pem_x509_certificate(chain_file.read_bytes())
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    dns = names.value.get_values_for_type(x509.DNSName)
    return dns[0].replace("*.", "x.", 1) if dns else None


NAMED_CHAINS = [path for path in sorted(REAL_CHAINS.glob("*.pem")) if _dns_host(path)]


@pytest.mark.parametrize("chain_file", NAMED_CHAINS, ids=lambda p: p.name)
def test_a_verified_chain_is_described_as_its_certificates_say(chain_file: Path) -> None:
    """describe_verified takes the leaf's issuer text from the next certificate's subject
    (the verifier chains names byte for byte): the entries are those of reading every
    field of every certificate."""
    served = x509.load_pem_x509_certificates(chain_file.read_bytes())
    at = served[0].not_valid_before_utc + dt.timedelta(days=1)
    verified = build_verified_chain(served, load_trust_store(Trust()), _dns_host(chain_file), at)
    assert describe_verified(verified) == describe_chain(verified, levels(verified))


def test_the_described_chains_are_most_real_chains() -> None:
    assert len(NAMED_CHAINS) >= len(list(REAL_CHAINS.glob("*.pem"))) - 1
