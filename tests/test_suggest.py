"""`pingen suggest` and the story that started pingen: an App Engine app pinned to its
current Let's Encrypt leaf fails `verify` before it ships, and `suggest` prints a set
that survives renewals, intermediate rotation, a key-type switch and the new roots."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pingen.catalog import load_catalog, lookup_root
from pingen.model import Domain, Level, Pin, PinSet, PinSource
from pingen.spki import pin_of_certificate
from pingen.survive import judge_survivability
from tests.conftest import CliRunner
from tests.support.catalogs import Hierarchy, build_hierarchy
from tests.support.pki import Identity
from tests.support.servers import closed_port, tls_server

REAL = Path(__file__).parent / "data" / "real-chains"
APP_ENGINE_CHAIN = REAL / "YR1-2026-09-18-1.pem"  # sync-ledger.live, leaf <- YR1 <- YR (by X1)
HOST = "sync-ledger.live"
AT = "2026-08-01"
NOW = dt.datetime.now(dt.UTC)
CATALOG_CODES = {"leaf-key-rotates", "intermediate-siblings", "key-type-switch", "next-root",
                 "alternate-path", "ca-switch"}


def backup_key(folder: Path, name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    (folder / "keys").mkdir(exist_ok=True)
    path = folder / "keys" / f"{name}.pub.pem"
    path.write_bytes(key.public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    return f"keys/{name}.pub.pem"


def pins_yaml(folder: Path, domain_block: str) -> Path:
    path = folder / "pins.yaml"
    path.write_text("version: 1\ndefaults:\n  expires: never\ndomains:\n" + domain_block)
    return path


def verify(run: CliRunner, folder: Path) -> tuple[int, dict[str, object]]:
    result = run("verify", "--format", "json", "--chain", str(APP_ENGINE_CHAIN),
                 "--domain", HOST, "--at", AT, cwd=folder)
    assert result.stderr == "", result.stderr
    return result.exit_code, json.loads(result.stdout)["domains"][0]


def problems(entry: dict[str, object]) -> dict[str, dict[str, str]]:
    return {p["code"]: p for p in entry["problems"]}  # type: ignore[attr-defined]


def test_app_engine_story_leaf_pin_fails_and_suggest_survives(
    run_pingen: CliRunner, workdir: Path
) -> None:
    leaf = lookup_leaf_pin()
    backup = backup_key(workdir, "backup")
    pins_yaml(workdir, f"  {HOST}:\n    provider: google-managed\n    pins:\n"
                       f"      - sha256: {leaf}\n        label: today's leaf\n"
                       f"      - file: {backup}\n        backup: true\n")
    code, entry = verify(run_pingen, workdir)
    assert code == 1 and entry["status"] == "fail"
    rotates = problems(entry)["leaf-key-rotates"]
    assert rotates["severity"] == "fail"
    assert "a freshly generated key at every issuance and renewal" in rotates["message"]
    assert "expires 2026-09-18" in rotates["message"]

    result = run_pingen("suggest", HOST, "--chain", str(APP_ENGINE_CHAIN),
                        "--provider", "google-managed", "--at", AT, cwd=workdir)
    assert result.exit_code == 0, result.stderr
    suggested = result.stdout
    for name in ("ISRG Root X1", "ISRG Root X2", "Root YR", "Root YE", "GTS Root R1",
                 "GTS Root R4"):
        assert f"    - root: {name}\n" in suggested
    assert "still open" not in suggested
    # the backup key's name is the one `pingen init` suggests: dots become dashes
    assert f"pingen keygen {HOST.replace('.', '-')}-backup --dir keys" in suggested

    # Paste it under `domains:`, make the backup key, uncomment its lines: verify passes.
    backup_key(workdir, f"{HOST.replace('.', '-')}-backup")
    block = "".join(f"  {line}\n" for line in suggested.splitlines()
                    if not line.startswith("#"))
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
    assert lines[0] == (f"# pingen suggest {HOST}: served by YR1, Let's Encrypt RSA 2026 "
                        "(Generation Y), Let's Encrypt (ISRG)")
    pins = [i for i, line in enumerate(lines) if line.startswith("    - root: ")]
    assert len(pins) == 4  # no provider: Let's Encrypt only
    for index in pins:
        assert lines[index - 1].startswith("    # ")  # the reason, right above the pin
    yr = lines.index("    - root: Root YR")
    assert "not in device trust stores yet" in lines[yr - 1]
    assert "YR1\u2013YR3 through the cross-sign of Root YR" in first.stdout


# -- live, on loopback, with a synthetic catalog ----------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Hierarchy:
    return build_hierarchy(tmp_path_factory.mktemp("catalog"))


def suggested_domain(stdout: str, pki: Hierarchy, provider: str | None) -> Domain:
    names = re.findall(r"(?m)^    - root: (.+)$", stdout)
    pins = tuple(Pin(pin_of_certificate(lookup_root(n, pki.catalog)), PinSource.ROOT, n,
                     Level.ROOT) for n in names)
    return Domain("app.example.test", False, True, PinSet(pins, None), provider=provider)


@pytest.mark.parametrize(("served_by", "provider"), [("YR1", None), ("E2", None),
                                                      ("YE1", "google-managed")])
def test_suggest_live_chain_survives_every_family(
    run_pingen: CliRunner, pki: Hierarchy, served_by: str, provider: str | None
) -> None:
    leaf = pki.leaf(served_by)
    identity_chain = (leaf.cert, *pki.upper(served_by))
    with tls_server(Identity(identity_chain, leaf.key)) as (host, port):
        args = ["suggest", "app.example.test", "--connect", f"{host}:{port}",
                "--catalog", str(pki.catalog_path)]
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
        result = run_pingen("suggest", "app.example.test", "--connect", f"{host}:{port}",
                            "--timeout", "2")
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
    result = run_pingen("suggest", HOST, "--chain", str(APP_ENGINE_CHAIN),
                        "--catalog", "catalog.json", cwd=workdir)
    assert result.exit_code == 2
    assert result.stderr.startswith("catalog.json")
    assert "pingen-ca-catalog/1" in result.stderr


def test_suggest_for_a_ca_outside_the_catalog_pins_the_chain_root(run_pingen: CliRunner) -> None:
    chain = REAL / "Sectigo_RSA_Domain_Validation_Secure_Server_CA-2024-08-01-1.pem"
    result = run_pingen("suggest", "spotaxis.com", "--chain", str(chain), "--at", "2024-01-01")
    assert result.exit_code == 0, result.stderr
    assert "    - root: USERTrust RSA Certification Authority\n" in result.stdout
