"""`pingen suggest` and the story that started pingen: an App Engine app pinned to its
current Let's Encrypt leaf fails `verify` before it ships, and `suggest` prints a set
that survives renewals, intermediate rotation, a key-type switch and the new roots."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pingen.config.load import load_config
from pingen.judge.survive import judge_survivability
from pingen.model import Domain, Level, Pin, PinSet, PinSource
from pingen.pki.catalog import load_catalog, lookup_root
from pingen.spki import pin_of_certificate
from tests.conftest import CliRunner
from tests.support.catalogs import Hierarchy  # its `pki` fixture is a plugin (tests/conftest.py)
from tests.support.paths import REAL_CHAINS
from tests.support.pki import CA, Identity, write_pem
from tests.support.servers import closed_port, tls_server

# sync-ledger.live, leaf <- YR1 <- YR (by X1)
APP_ENGINE_CHAIN = REAL_CHAINS / "YR1-2026-09-18-1.pem"
HOST = "sync-ledger.live"
AT = "2026-08-01"
NOW = dt.datetime.now(dt.UTC)
CATALOG_CODES = {
    "leaf-key-rotates",
    "intermediate-siblings",
    "key-type-switch",
    "next-root",
    "alternate-path",
    "ca-switch",
    "pins-expire",
}


def backup_key(folder: Path, name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    (folder / "keys").mkdir(exist_ok=True)
    path = folder / "keys" / f"{name}.pub.pem"
    path.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return f"keys/{name}.pub.pem"


def pins_yaml(folder: Path, domain_block: str) -> Path:
    path = folder / "pins.yaml"
    # suggest judges its set over a year, as `pingen init` writes it
    path.write_text("version: 1\ndefaults:\n  expires: 2027-08-01\ndomains:\n" + domain_block)
    return path


def verify(run: CliRunner, folder: Path) -> tuple[int, dict[str, object]]:
    result = run(
        "verify",
        "--format",
        "json",
        "--chain",
        str(APP_ENGINE_CHAIN),
        "--domain",
        HOST,
        "--at",
        AT,
        cwd=folder,
    )
    assert result.stderr == "", result.stderr
    return result.exit_code, json.loads(result.stdout)["domains"][0]


def problems(entry: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {p["code"]: p for p in entry["problems"]}


def test_app_engine_story_leaf_pin_fails_and_suggest_survives(
    run_pingen: CliRunner, workdir: Path
) -> None:
    leaf = lookup_leaf_pin()
    backup = backup_key(workdir, "backup")
    pins_yaml(
        workdir,
        f"  {HOST}:\n    provider: google-managed\n    pins:\n"
        f"      - sha256: {leaf}\n        label: today's leaf\n"
        f"      - file: {backup}\n        backup: true\n",
    )
    code, entry = verify(run_pingen, workdir)
    assert code == 1 and entry["status"] == "fail"
    rotates = problems(entry)["leaf-key-rotates"]
    assert rotates["severity"] == "fail"
    assert "a freshly generated key at every issuance and renewal" in rotates["message"]
    assert "expires 2026-09-18" in rotates["message"]

    result = run_pingen(
        "suggest",
        HOST,
        "--chain",
        str(APP_ENGINE_CHAIN),
        "--provider",
        "google-managed",
        "--at",
        AT,
        cwd=workdir,
    )
    assert result.exit_code == 0, result.stderr
    suggested = result.stdout
    for name in (
        "ISRG Root X1",
        "ISRG Root X2",
        "Root YR",
        "Root YE",
        "GTS Root R1",
        "GTS Root R4",
    ):
        assert f"    - root: {name}\n" in suggested
    assert "still open" not in suggested
    # the backup key's name is the one `pingen init` suggests: dots become dashes
    assert f"pingen keygen {HOST.replace('.', '-')}-backup --dir keys" in suggested

    # Paste it under `domains:`, make the backup key, uncomment its lines: verify passes.
    backup_key(workdir, f"{HOST.replace('.', '-')}-backup")
    block = "".join(f"  {line}\n" for line in suggested.splitlines() if not line.startswith("#"))
    block = re.sub(r"(?m)^(\s+)# (- file: .*|  label: offline.*|  backup: true)$", r"\1\2", block)
    pins_yaml(workdir, block)
    code, entry = verify(run_pingen, workdir)
    assert code == 0, entry
    assert not CATALOG_CODES & set(problems(entry))


def lookup_leaf_pin() -> str:
    return pin_of_certificate(x509.load_pem_x509_certificates(APP_ENGINE_CHAIN.read_bytes())[0])


def test_suggest_output_is_deterministic_and_explains_each_pin(run_pingen: CliRunner) -> None:
    args = ("suggest", HOST, "--chain", str(APP_ENGINE_CHAIN), "--at", AT)
    first, second = run_pingen(*args), run_pingen(*args)
    assert first.exit_code == 0 and first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert lines[0] == (
        f"# pingen suggest {HOST}: served by YR1, Let's Encrypt RSA 2026 "
        "(Generation Y), Let's Encrypt (ISRG)"
    )
    pins = [i for i, line in enumerate(lines) if line.startswith("    - root: ")]
    assert len(pins) == 4  # no provider: Let's Encrypt only
    for index in pins:
        assert lines[index - 1].startswith("    # ")  # the reason, right above the pin
    yr = lines.index("    - root: Root YR")
    assert "not in device trust stores yet" in lines[yr - 1]
    assert "YR1\u2013YR3 through the cross-sign of Root YR" in first.stdout


# -- live, on loopback, with a synthetic catalog ----------------------------------------


def suggested_domain(stdout: str, pki: Hierarchy, provider: str | None) -> Domain:
    names = re.findall(r"(?m)^    - root: (.+)$", stdout)
    pins = tuple(
        Pin(pin_of_certificate(lookup_root(n, pki.catalog)), PinSource.ROOT, n, Level.ROOT)
        for n in names
    )
    expires = (NOW + dt.timedelta(days=365)).date()  # suggest judges a year, as init writes
    return Domain("app.example.test", False, True, PinSet(pins, expires), provider=provider)


@pytest.mark.parametrize(
    ("served_by", "provider"), [("YR1", None), ("E2", None), ("YE1", "google-managed")]
)
def test_suggest_live_chain_survives_every_family(
    run_pingen: CliRunner, pki: Hierarchy, served_by: str, provider: str | None
) -> None:
    leaf = pki.leaf(served_by)
    identity_chain = (leaf.cert, *pki.upper(served_by))
    with tls_server(Identity(identity_chain, leaf.key)) as (host, port):
        args = [
            "suggest",
            "app.example.test",
            "--connect",
            f"{host}:{port}",
            "--catalog",
            str(pki.catalog_path),
        ]
        if provider:
            args += ["--provider", provider]
        result = run_pingen(*args)
    assert result.exit_code == 0, result.stderr
    assert "still open" not in result.stdout
    domain = suggested_domain(result.stdout, pki, provider)
    catalog = load_catalog(pki.catalog_path)
    for family_member in ("R1", "R2", "E1", "E2", "YR1", "YR2", "YE1", "YE2"):
        chain = pki.verified(family_member)
        assert judge_survivability(domain, chain, NOW, catalog) == [], family_member
    if provider == "google-managed":
        assert "    - root: Other Root O1" in result.stdout


def test_suggest_unreachable_host_is_a_network_error(run_pingen: CliRunner) -> None:
    with closed_port() as (host, port):
        result = run_pingen(
            "suggest", "app.example.test", "--connect", f"{host}:{port}", "--timeout", "2"
        )
    assert result.exit_code == 3
    assert result.stderr.startswith("pingen: app.example.test: ")
    assert result.stdout == ""


def test_suggest_bad_chain_file_names_it(run_pingen: CliRunner, workdir: Path) -> None:
    (workdir / "chain.pem").write_text("not a certificate\n")
    result = run_pingen("suggest", "x.test", "--chain", "chain.pem", cwd=workdir)
    assert result.exit_code == 2
    assert result.stderr.startswith("chain.pem")
    assert "holds no certificate" in result.stderr and "Traceback" not in result.stderr


def test_suggest_with_a_broken_catalog_names_it(run_pingen: CliRunner, workdir: Path) -> None:
    (workdir / "catalog.json").write_text("{}")
    result = run_pingen(
        "suggest", HOST, "--chain", str(APP_ENGINE_CHAIN), "--catalog", "catalog.json", cwd=workdir
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("catalog.json")
    assert "pingen-ca-catalog/1" in result.stderr


def test_suggest_for_a_ca_outside_the_catalog_pins_the_chain_root(run_pingen: CliRunner) -> None:
    chain = REAL_CHAINS / "Sectigo_RSA_Domain_Validation_Secure_Server_CA-2024-08-01-1.pem"
    result = run_pingen("suggest", "spotaxis.com", "--chain", str(chain), "--at", "2024-01-01")
    assert result.exit_code == 0, result.stderr
    assert "    - root: USERTrust RSA Certification Authority\n" in result.stdout


# -- a --provider that does not name today's CA ------------------------------------------


def suggested_pins(stdout: str, catalog: Path | None = None) -> set[str]:
    """The hashes of the live pins in suggest's output (`root:` names and bare hashes)."""
    names = re.findall(r"(?m)^    - root: (.+)$", stdout)
    hashes = set(re.findall(r"(?m)^    - sha256: (\S+)$", stdout))
    return hashes | {pin_of_certificate(lookup_root(n, catalog)) for n in names}


def todays_anchor(chain_file: Path, host: str, at: str) -> str:
    """The pin of the root a client verifies the served chain to on `at` (certifi)."""
    from pingen.model import Trust
    from pingen.pki.chain import build_verified_chain, load_trust_store

    served = x509.load_pem_x509_certificates(chain_file.read_bytes())
    when = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
    return pin_of_certificate(
        build_verified_chain(served, load_trust_store(Trust()), host, when)[-1]
    )


@pytest.mark.parametrize(
    ("chain", "at", "host", "provider", "today", "named"),
    [
        (
            "WR1-2026-03-26-1.pem",
            "2026-02-01",
            "app.vercel.app",
            "letsencrypt-certbot",
            "Google Trust Services",
            "ISRG Root X1",
        ),
        (
            "WE1-2026-04-28-1.pem",
            "2026-03-01",
            "onrender.com",
            "letsencrypt-reuse-key",
            "Google Trust Services",
            "Root YE",
        ),
        (
            "Amazon_RSA_2048_M02-2025-07-26-1.pem",
            "2025-03-01",
            "x.execute-api.us-east-1.amazonaws.com",
            "google-managed",
            "Amazon Trust Services",
            "GTS Root R4",
        ),
        (
            "R12-2026-04-30-1.pem",
            "2026-03-01",
            "stanorg.ru",
            "aws-acm",
            "Let's Encrypt (ISRG)",
            "Amazon Root CA 3",
        ),
    ],
)
def test_a_provider_that_does_not_name_todays_ca_keeps_it_and_warns(
    run_pingen: CliRunner, chain: str, at: str, host: str, provider: str, today: str, named: str
) -> None:
    result = run_pingen(
        "suggest", host, "--chain", str(REAL_CHAINS / chain), "--provider", provider, "--at", at
    )
    assert result.exit_code == 0, result.stderr
    # The root today's chain verifies to is pinned, so the set matches what is served ...
    assert todays_anchor(REAL_CHAINS / chain, host, at) in suggested_pins(result.stdout)
    # ... and so are the provider's CAs, with a warning that they are not today's.
    assert f"    - root: {named}\n" in result.stdout
    (warning,) = [line for line in result.stdout.splitlines() if line.startswith("# warning:")]
    assert f"the chain's CA, {today}, is not one that provider {provider} names" in warning
    assert "a wrong --provider, or the setup changed?" in warning


def test_a_provider_that_names_todays_ca_gives_no_warning(run_pingen: CliRunner) -> None:
    result = run_pingen(
        "suggest",
        HOST,
        "--chain",
        str(APP_ENGINE_CHAIN),
        "--provider",
        "google-managed",
        "--at",
        AT,
    )
    assert result.exit_code == 0, result.stderr
    assert "# warning:" not in result.stdout


def test_an_intermediate_outside_the_catalog_still_pins_its_cas_roots(
    run_pingen: CliRunner, pki: Hierarchy, workdir: Path
) -> None:
    """R9 is not in the catalog, but its root is: all of that CA's roots, plus the
    provider's (which this catalog does not hold: aws-acm's Amazon)."""
    leaf = pki.x1.intermediate("R9", key_type="rsa-2048").issue_leaf("app.example.test")
    write_pem(workdir / "chain.pem", *leaf.chain())
    result = run_pingen(
        "suggest",
        "app.example.test",
        "--chain",
        "chain.pem",
        "--catalog",
        str(pki.catalog_path),
        "--provider",
        "aws-acm",
        cwd=workdir,
    )
    assert result.exit_code == 0, result.stderr
    assert re.findall(r"(?m)^    - root: (.+)$", result.stdout) == [
        "Test Root X1",
        "Test Root X2",
        "Test Root YR",
        "Test Root YE",
    ]
    assert result.stdout.startswith(
        "# pingen suggest app.example.test: served by R9 (an "
        "intermediate pingen's CA catalog does not list), "
        "Test Encrypt\n# warning: the chain's CA, Test Encrypt, "
    )


# -- --ca-file: a private or test CA, on loopback -----------------------------------------


def test_ca_file_pins_a_private_root_by_hash_and_loads(
    run_pingen: CliRunner, workdir: Path
) -> None:
    root = CA.root("Loopback Root R1")
    leaf = root.intermediate("Loopback Issuing CA 1").issue_leaf("api.example.test")
    write_pem(workdir / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        result = run_pingen(
            "suggest",
            "api.example.test",
            "--connect",
            f"{host}:{port}",
            "--ca-file",
            "roots.pem",
            cwd=workdir,
        )
        without = run_pingen(
            "suggest", "api.example.test", "--connect", f"{host}:{port}", cwd=workdir
        )
    assert result.exit_code == 0, result.stderr
    assert (
        f"    - sha256: {root.pin}\n      label: Loopback Root R1\n      level: root\n"
        in result.stdout
    )
    assert "served by Loopback Issuing CA 1 (not in pingen's CA catalog)" in result.stdout
    # Paste it, make the backup key, uncomment its lines: it loads, the root pinned.
    backup_key(workdir, "api-example-test-backup")
    block = "".join(
        f"  {line}\n" for line in result.stdout.splitlines() if not line.startswith("#")
    )
    block = re.sub(r"(?m)^(\s+)# (- file: .*|  label: offline.*|  backup: true)$", r"\1\2", block)
    # pins_yaml's expiry is fixed: load as of AT, never as of the day the test runs.
    (domain,) = load_config(pins_yaml(workdir, block), today=dt.date.fromisoformat(AT)).domains
    assert [(p.sha256, p.label, p.level) for p in domain.pins[:1]] == [
        (root.pin, "Loopback Root R1", Level.ROOT)
    ]
    assert domain.pins[1].backup
    # Without the roots pingen cannot tell where the chain leads, and says what to do.
    assert without.exit_code == 2
    assert "pass its root with --ca-file" in without.stderr


def test_ca_file_with_a_provider_adds_its_cas_and_warns(
    run_pingen: CliRunner, workdir: Path
) -> None:
    root = CA.root("Loopback Root R1")
    leaf = root.intermediate().issue_leaf("api.example.test")
    write_pem(workdir / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        result = run_pingen(
            "suggest",
            "api.example.test",
            "--connect",
            f"{host}:{port}",
            "--ca-file",
            "roots.pem",
            "--provider",
            "letsencrypt-certbot",
            cwd=workdir,
        )
    assert result.exit_code == 0, result.stderr
    assert f"    - sha256: {root.pin}\n" in result.stdout
    assert "    - root: ISRG Root X1\n" in result.stdout
    assert "# warning: the chain's CA, pingen Test Issuing CA (not in pingen's CA catalog)" in (
        result.stdout
    )


def test_ca_file_that_the_chain_does_not_verify_to_is_exit_1(
    run_pingen: CliRunner, workdir: Path
) -> None:
    leaf = CA.root().intermediate().issue_leaf("api.example.test")
    write_pem(workdir / "other.pem", CA.root("Another Root").cert)
    with tls_server(leaf.identity()) as (host, port):
        result = run_pingen(
            "suggest",
            "api.example.test",
            "--connect",
            f"{host}:{port}",
            "--ca-file",
            "other.pem",
            cwd=workdir,
        )
    assert result.exit_code == 1
    assert "the chain does not verify to the roots in other.pem" in result.stderr
    assert result.stdout == ""


def test_ca_file_root_in_the_catalog_gets_its_cas_roots(
    run_pingen: CliRunner, pki: Hierarchy, workdir: Path
) -> None:
    write_pem(workdir / "roots.pem", pki.x1.cert, pki.x2.cert, pki.other.cert)
    leaf = pki.leaf("E2")
    with tls_server(Identity((leaf.cert, *pki.upper("E2")), leaf.key)) as (host, port):
        result = run_pingen(
            "suggest",
            "app.example.test",
            "--connect",
            f"{host}:{port}",
            "--ca-file",
            "roots.pem",
            "--catalog",
            str(pki.catalog_path),
            cwd=workdir,
        )
    assert result.exit_code == 0, result.stderr
    assert re.findall(r"(?m)^    - root: (.+)$", result.stdout) == [
        "Test Root X1",
        "Test Root X2",
        "Test Root YR",
        "Test Root YE",
    ]
    assert "still open" not in result.stdout and "sha256:" not in result.stdout


def test_hostile_names_stay_labels_and_comments(run_pingen: CliRunner, workdir: Path) -> None:
    """Names come from the server and the --ca-file: they must not be able to write YAML."""
    evil = 'Evil: CA # "x"\n    - sha256: AAAA'
    root = CA.root(evil)
    leaf = root.intermediate(evil + " issuing").issue_leaf("api.example.test")
    write_pem(workdir / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        result = run_pingen(
            "suggest",
            "api.example.test",
            "--connect",
            f"{host}:{port}",
            "--ca-file",
            "roots.pem",
            "--provider",
            "aws-acm",
            cwd=workdir,
        )
    assert result.exit_code == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    pins = document["api.example.test"]["pins"]
    assert pins[0] == {"sha256": root.pin, "label": evil, "level": "root", "key": "ec-p256"}
    assert all(set(pin) == {"root"} for pin in pins[1:])  # Amazon's roots, by name
