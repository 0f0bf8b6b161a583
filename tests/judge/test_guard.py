"""`pingen guard`: may this certificate go live? Real chains from tests/support/pki."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any  # a parsed JSON report: its shape is what the test asserts

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from pingen.judge.guard import ConfigReport
from pingen.model import Domain
from pingen.pki.chain import TrustStore
from tests.conftest import CliRunner
from tests.support.docs import docs_text
from tests.support.folders import snapshot
from tests.support.pki import (
    CA,
    Leaf,
    PrivateKey,
    key_pem,
    pem_of,
    public_key_pem,
    write_pem,
)

HOST = "api.example.test"
TWO_DOMAINS = """\
version: 1
defaults:
  expires: never
domains:
  a.example.test:
    pins: &pins
      - sha256: jQJTbIh0grw0/1TkHSumWb+Fs0Ggogr621gT3PvPKG0=
      - {sha256: YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg=, backup: true}
  b.example.test:
    pins: *pins
"""


@dataclass
class Pki:
    root: CA
    inter: CA
    leaf: Leaf


@pytest.fixture(scope="module")
def pki() -> Pki:
    root = CA.root("Guard Test Root")
    inter = root.intermediate("Guard Issuing CA 1")
    return Pki(root, inter, inter.issue_leaf(HOST, "www.example.test"))


def pin_line(pin: str, label: str, *, backup: bool = False, level: str | None = None) -> str:
    return (
        f"      - sha256: {pin}\n        label: {label}\n"
        + (f"        level: {level}\n" if level else "")
        + ("        backup: true\n" if backup else "")
    )


def write_config(
    folder: Path,
    domains: dict[str, Sequence[str]],
    *,
    name: str = "pins.yaml",
    roots: Sequence[CA] = (),
    subdomains: Sequence[str] = (),
    expires: str = "never",
) -> Path:
    """A pins.yaml with `trust: ca_file` holding the test roots; domains -> pin lines."""
    folder.mkdir(parents=True, exist_ok=True)
    write_pem(folder / "roots.pem", *(ca.cert for ca in roots))
    text = f"version: 1\ndefaults:\n  expires: {expires}\ntrust:\n  ca_file: roots.pem\ndomains:\n"
    for host, pins in domains.items():
        text += f"  {host}:\n"
        if host in subdomains:
            text += "    include_subdomains: true\n"
        text += "    pins:\n" + "".join(pins)
    path = folder / name
    path.write_text(text)
    return path


def backup_pin(n: int = 1) -> str:
    from tests.support.pki import new_key

    return pin_line(_pin_of_key(new_key()), f"offline backup {n}", backup=True)


def _pin_of_key(key: PrivateKey) -> str:
    from pingen.spki import pin_of_public_key

    return pin_of_public_key(key.public_key())


def write_chain(folder: Path, leaf: Leaf, name: str = "new.pem") -> Path:
    return write_pem(folder / name, *leaf.chain())


# -- certificates -----------------------------------------------------------------


def test_renewal_that_keeps_the_key_is_safe(run_pingen: CliRunner, workdir: Path, pki: Pki) -> None:
    write_config(
        workdir, {HOST: [pin_line(pki.leaf.pin, "current leaf"), backup_pin()]}, roots=[pki.root]
    )
    renewed = pki.leaf.renewed(new_key=False)
    write_chain(workdir, renewed)
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"ok       {HOST}  matches current leaf" in result.stdout
    assert "SAFE" in result.stdout
    # the chain was completed with the root the server did not send
    assert f"root          {pki.root.pin}  Guard Test Root" in result.stdout


def test_a_new_key_that_no_app_pins_is_unsafe(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    write_config(
        workdir, {HOST: [pin_line(pki.leaf.pin, "current leaf"), backup_pin()]}, roots=[pki.root]
    )
    write_chain(workdir, pki.leaf.renewed(new_key=True))
    before = snapshot(workdir)
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 1
    assert f"BREAKS   {HOST}  none of its 2 pins is in the new chain" in result.stdout
    assert (
        f"UNSAFE: do not deploy. It would break:\n  {HOST} in the apps built from pins.yaml"
        in result.stdout
    )
    assert "--reuse-key" in result.stdout and "ship an app update" in result.stdout
    assert snapshot(workdir) == before  # guard writes nothing


@pytest.mark.parametrize("provider", ["google-managed", "aws-acm", "cloudflare"])
def test_the_way_out_where_the_provider_re_keys_is_to_pin_the_ca(
    run_pingen: CliRunner, workdir: Path, pki: Pki, provider: str
) -> None:
    """The platform makes a new key at every renewal: `--reuse-key` or pinning the new
    key cannot last, so guard says to pin the CA."""
    path = write_config(
        workdir, {HOST: [pin_line(pki.leaf.pin, "current leaf"), backup_pin()]}, roots=[pki.root]
    )
    text = path.read_text().replace(f"  {HOST}:\n", f"  {HOST}:\n    provider: {provider}\n")
    path.write_text(text)
    write_chain(workdir, pki.leaf.renewed(new_key=True))
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 1
    said = " ".join(result.stdout.split())
    assert f"The way out for {HOST}: pin the CA. Provider {provider} makes a new key" in said
    assert "--reuse-key" not in said and "pins the new key" not in said
    assert "reuse_key" not in said and "rotationPolicy" not in said
    assert f"`pingen suggest {HOST} --provider {provider}`" in said
    data = json.loads(run_pingen("guard", "--chain", "new.pem", "--format", "json").stdout)
    assert [step["code"] for step in data["way_out"]] == ["pin-the-ca"]


def test_a_new_key_pinned_as_backup_is_safe(run_pingen: CliRunner, workdir: Path, pki: Pki) -> None:
    promoted = pki.inter.issue_leaf(HOST)
    write_config(
        workdir,
        {
            HOST: [
                pin_line(pki.leaf.pin, "current leaf"),
                pin_line(promoted.pin, "spare key", backup=True),
            ]
        },
        roots=[pki.root],
    )
    write_chain(workdir, promoted)
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "matches spare key (backup)" in result.stdout


def test_a_new_intermediate_breaks_an_intermediate_pin_but_not_a_root_pin(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    sibling = pki.root.intermediate("Guard Issuing CA 2")
    write_chain(workdir, sibling.issue_leaf(HOST))
    write_config(
        workdir / "old",
        {HOST: [pin_line(pki.inter.pin, "Issuing CA 1"), backup_pin()]},
        roots=[pki.root],
    )
    unsafe = run_pingen("guard", "--chain", "new.pem", "-c", "old/pins.yaml")
    assert unsafe.exit_code == 1
    assert f"BREAKS   {HOST}" in unsafe.stdout
    assert "Guard Issuing CA 2" in unsafe.stdout  # the chain it judged is shown
    rooted = [
        pin_line(pki.inter.pin, "Issuing CA 1"),
        pin_line(pki.root.pin, "Guard Test Root", level="root"),
    ]
    write_config(workdir / "rooted", {HOST: rooted}, roots=[pki.root])
    safe = run_pingen("guard", "--chain", "new.pem", "-c", "rooted/pins.yaml")
    assert safe.exit_code == 0, safe.stdout
    assert "matches Guard Test Root (root)" in safe.stdout


def test_an_older_app_version_without_the_new_key_is_unsafe(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    new = pki.inter.issue_leaf(HOST)
    old_pins = [pin_line(pki.leaf.pin, "current leaf"), backup_pin()]
    write_config(workdir / "v1", {HOST: old_pins}, roots=[pki.root])
    write_config(
        workdir / "v2", {HOST: [*old_pins, pin_line(new.pin, "next key")]}, roots=[pki.root]
    )
    write_chain(workdir, new)
    newest_only = run_pingen("guard", "--chain", "new.pem", "-c", "v2/pins.yaml")
    assert newest_only.exit_code == 0
    both = run_pingen("guard", "--chain", "new.pem", "-c", "v2/pins.yaml", "-c", "v1/pins.yaml")
    assert both.exit_code == 1
    assert f"{HOST} in the apps built from v1/pins.yaml" in both.stdout
    assert "built from v2/pins.yaml" not in both.stdout
    assert "v2/pins.yaml: the new chain" in both.stdout


def test_every_covered_domain_is_judged(run_pingen: CliRunner, workdir: Path, pki: Pki) -> None:
    write_config(
        workdir,
        {
            HOST: [pin_line(pki.root.pin, "root"), backup_pin()],
            "www.example.test": [backup_pin(1), backup_pin(2)],
            "other.example.test": [backup_pin(3), backup_pin(4)],
        },
        roots=[pki.root],
    )
    write_chain(workdir, pki.leaf)
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 1
    assert f"ok       {HOST}" in result.stdout
    assert "BREAKS   www.example.test" in result.stdout
    assert "other.example.test" not in result.stdout  # not covered by the leaf


# -- names: wildcards and include_subdomains ----------------------------------------------


def test_wildcard_leaf_covers_one_label(run_pingen: CliRunner, workdir: Path, pki: Pki) -> None:
    write_config(
        workdir,
        {
            HOST: [backup_pin(1), backup_pin(2)],
            "deep.api.example.test": [backup_pin(3), backup_pin(4)],
            "example.test": [backup_pin(5), backup_pin(6)],
        },
        roots=[pki.root],
    )
    write_chain(workdir, pki.inter.issue_leaf("*.example.test"))
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 1
    assert f"BREAKS   {HOST}" in result.stdout
    assert "deep.api.example.test" not in result.stdout  # two labels down
    assert "BREAKS   example.test" not in result.stdout  # a wildcard does not cover the apex


def test_wildcard_leaf_affects_a_parent_with_subdomains(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    write_config(
        workdir,
        {"example.test": [pin_line(pki.root.pin, "root"), backup_pin()]},
        roots=[pki.root],
        subdomains=["example.test"],
    )
    write_chain(workdir, pki.inter.issue_leaf("*.example.test"))
    assert run_pingen("guard", "--chain", "new.pem").exit_code == 0
    write_config(
        workdir,
        {"example.test": [backup_pin(1), backup_pin(2)]},
        roots=[pki.root],
        subdomains=["example.test"],
    )
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 1
    assert "BREAKS   example.test" in result.stdout


def test_subdomain_leaf_is_judged_by_the_most_specific_domain(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    leaf = pki.inter.issue_leaf("v2.api.example.test")
    write_config(
        workdir,
        {
            "example.test": [backup_pin(1), backup_pin(2)],
            HOST: [pin_line(leaf.pin, "v2 leaf"), backup_pin(3)],
        },
        roots=[pki.root],
        subdomains=["example.test", HOST],
    )
    write_chain(workdir, leaf)
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 0, result.stdout
    assert f"ok       {HOST}" in result.stdout
    assert "example.test  " not in result.stdout.replace(HOST, "")


def test_a_chain_that_covers_no_configured_domain_is_bad_input(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    write_config(workdir, {HOST: [backup_pin(1), backup_pin(2)]}, roots=[pki.root])
    write_chain(workdir, pki.inter.issue_leaf("unrelated.example.org"))
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 2
    assert "new.pem: covers none of the domains in pins.yaml" in result.stderr
    assert "unrelated.example.org" in result.stderr and HOST in result.stderr
    assert result.stdout == ""


def test_an_app_version_without_the_domain_is_not_affected(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    write_config(
        workdir / "v1", {"old.example.test": [backup_pin(1), backup_pin(2)]}, roots=[pki.root]
    )
    write_config(
        workdir / "v2", {HOST: [pin_line(pki.root.pin, "root"), backup_pin()]}, roots=[pki.root]
    )
    write_chain(workdir, pki.leaf)
    result = run_pingen("guard", "--chain", "new.pem", "-c", "v1/pins.yaml", "-c", "v2/pins.yaml")
    assert result.exit_code == 0
    assert "v1/pins.yaml: pins none of the names" in result.stdout


# -- trust and time ----------------------------------------------------------------------------


def test_a_chain_the_trust_store_does_not_trust_is_unsafe(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    stranger = CA.root("Stranger Root").intermediate("Stranger CA")
    leaf = stranger.issue_leaf(HOST)
    write_config(workdir, {HOST: [pin_line(leaf.pin, "leaf"), backup_pin()]}, roots=[pki.root])
    write_chain(workdir, leaf)
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 1
    assert "the new chain does not verify" in result.stdout
    assert "every app refuses an untrusted chain" in result.stdout


def test_an_expired_pin_set_no_longer_pins(run_pingen: CliRunner, workdir: Path, pki: Pki) -> None:
    write_config(
        workdir, {HOST: [backup_pin(1), backup_pin(2)]}, roots=[pki.root], expires="2020-01-31"
    )
    write_chain(workdir, pki.leaf)
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (
        f"expired  {HOST}  no pin matches, but the pin set expired on 2020-01-31" in result.stdout
    )


def test_the_root_comes_from_the_store_when_the_server_sends_only_the_leaf(
    run_pingen: CliRunner, workdir: Path
) -> None:
    root = CA.root("Direct Root")
    leaf = root.issue_leaf(HOST)
    write_config(
        workdir,
        {HOST: [pin_line(root.pin, "Direct Root", level="root"), backup_pin()]},
        roots=[root],
    )
    write_pem(workdir / "new.pem", leaf.cert)
    result = run_pingen("guard", "--chain", "new.pem")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "matches Direct Root (root)" in result.stdout


# -- --key: a planned key ------------------------------------------------------------


def _csr(key: CertificateIssuerPrivateKeyTypes, *names: str) -> bytes:
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_planned_key_pinned_as_backup_with_the_current_chain(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    from tests.support.pki import new_key

    spare = new_key()
    (workdir / "spare.pub.pem").write_bytes(public_key_pem(spare))
    write_config(
        workdir,
        {
            HOST: [
                pin_line(pki.leaf.pin, "current leaf"),
                pin_line(_pin_of_key(spare), "spare", backup=True),
            ]
        },
        roots=[pki.root],
    )
    write_chain(workdir, pki.leaf, "current.pem")
    result = run_pingen("guard", "--key", "spare.pub.pem", "--chain", "current.pem")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "matches spare (backup)" in result.stdout
    assert "to be issued like the current leaf" in result.stdout
    assert f"covers: {HOST}, www.example.test" in result.stdout
    # a key nobody pins, same chain: unsafe, and the current leaf pin does not count
    (workdir / "other.key.pem").write_bytes(key_pem(new_key()))
    unsafe = run_pingen("guard", "--key", "other.key.pem", "--chain", "current.pem")
    assert unsafe.exit_code == 1
    assert f"BREAKS   {HOST}" in unsafe.stdout


def test_planned_key_with_the_issuing_ca_counts_root_pins(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    from tests.support.pki import new_key

    write_config(
        workdir, {HOST: [pin_line(pki.root.pin, "Guard Test Root"), backup_pin()]}, roots=[pki.root]
    )
    write_pem(workdir / "ca.pem", pki.inter.cert)  # the intermediate; the root from the store
    (workdir / "next.csr.pem").write_bytes(_csr(new_key(), HOST))
    result = run_pingen("guard", "--key", "next.csr.pem", "--chain", "ca.pem")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "to be issued by: Guard Issuing CA 1" in result.stdout
    assert f"covers: {HOST}" in result.stdout
    assert f"root          {pki.root.pin}" in result.stdout
    # the same with the root in the file too
    write_pem(workdir / "ca+root.pem", pki.inter.cert, pki.root.cert)
    assert run_pingen("guard", "--key", "next.csr.pem", "--chain", "ca+root.pem").exit_code == 0


def test_planned_key_from_a_ca_the_store_does_not_trust(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    from tests.support.pki import new_key

    write_config(workdir, {HOST: [pin_line(pki.root.pin, "root"), backup_pin()]}, roots=[pki.root])
    write_pem(workdir / "ca.pem", CA.root("Elsewhere").intermediate("Elsewhere CA").cert)
    (workdir / "k.pub.pem").write_bytes(public_key_pem(new_key()))
    result = run_pingen("guard", "--key", "k.pub.pem", "--chain", "ca.pem", "--domain", HOST)
    assert result.exit_code == 1
    assert "no root in the trust store" in result.stdout and "Elsewhere CA" in result.stdout


def test_planned_key_alone_counts_only_leaf_pins(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    from tests.support.pki import new_key

    key = new_key()
    (workdir / "k.pub.pem").write_bytes(public_key_pem(key))
    write_config(workdir, {HOST: [pin_line(pki.root.pin, "root"), backup_pin()]}, roots=[pki.root])
    unsafe = run_pingen("guard", "--key", "k.pub.pem", "--domain", HOST.upper())
    assert unsafe.exit_code == 1
    assert "only leaf pins can match" in unsafe.stdout
    assert "pins.yaml: the new leaf (its CA is unknown):" in unsafe.stdout
    assert "completed to a trusted root" not in unsafe.stdout
    write_config(
        workdir,
        {HOST: [pin_line(pki.root.pin, "root"), pin_line(_pin_of_key(key), "planned")]},
        roots=[pki.root],
    )
    assert run_pingen("guard", "--key", "k.pub.pem", "--domain", HOST).exit_code == 0


# -- --format json ------------------------------------------------------------------------

CHAIN_ENTRY_KEYS = ["level", "subject", "issuer", "not_after", "sha256"]  # as verify's


def guard_json(run_pingen: CliRunner, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_pingen("guard", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)  # stdout holds the json alone
    return result.exit_code, data


def entry_of(cert: x509.Certificate, level: str) -> dict[str, Any]:
    return {
        "level": level,
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": _pin_of_cert(cert),
    }


def _pin_of_cert(cert: x509.Certificate) -> str:
    from pingen.spki import pin_of_certificate

    return pin_of_certificate(cert)


def test_json_of_a_safe_switch(run_pingen: CliRunner, workdir: Path, pki: Pki) -> None:
    write_config(
        workdir,
        {HOST: [pin_line(pki.root.pin, "Guard Test Root", level="root"), backup_pin()]},
        roots=[pki.root],
    )
    write_chain(workdir, pki.leaf)
    code, data = guard_json(run_pingen, "--chain", "new.pem")
    assert code == 0
    assert list(data) == ["safe", "covers", "leaf", "planned_key", "configs", "way_out"]
    assert data["safe"] is True and data["way_out"] == [] and data["planned_key"] is None
    assert data["covers"] == [HOST, "www.example.test"]
    assert data["leaf"] == entry_of(pki.leaf.cert, "leaf")
    (config,) = data["configs"]
    assert list(config) == ["config", "safe", "untrusted_reason", "chain", "domains"]
    assert config["config"] == "pins.yaml" and config["safe"] is True
    assert config["untrusted_reason"] is None
    # the chain completed with the root from the store, described as verify describes it
    assert config["chain"] == [
        entry_of(pki.leaf.cert, "leaf"),
        entry_of(pki.inter.cert, "intermediate"),
        entry_of(pki.root.cert, "root"),
    ]
    assert all(list(entry) == CHAIN_ENTRY_KEYS for entry in config["chain"])
    assert config["domains"] == [
        {
            "domain": HOST,
            "status": "safe",
            "matched": [{"sha256": pki.root.pin, "label": "Guard Test Root", "level": "root"}],
            "message": "matches Guard Test Root (root)",
        }
    ]
    again = run_pingen("guard", "--chain", "new.pem", "--format", "json")
    assert again.stdout == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_json_of_an_unsafe_switch_names_each_config_and_the_way_out(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    new = pki.leaf.renewed(new_key=True)
    old_pins = [pin_line(pki.leaf.pin, "current leaf"), backup_pin()]
    write_config(workdir / "v1", {HOST: old_pins}, roots=[pki.root])
    write_config(
        workdir / "v2", {HOST: [*old_pins, pin_line(new.pin, "next key")]}, roots=[pki.root]
    )
    write_config(workdir / "v0", {HOST: old_pins}, roots=[pki.root], expires="2020-01-31")
    write_config(
        workdir / "other", {"other.example.test": [backup_pin(1), backup_pin(2)]}, roots=[pki.root]
    )
    write_chain(workdir, new)
    configs = [
        "-c",
        "v0/pins.yaml",
        "-c",
        "v1/pins.yaml",
        "-c",
        "v2/pins.yaml",
        "-c",
        "other/pins.yaml",
    ]
    text = run_pingen("guard", "--chain", "new.pem", *configs)
    code, data = guard_json(run_pingen, "--chain", "new.pem", *configs)
    assert code == text.exit_code == 1 and data["safe"] is False
    by_path = {c["config"]: c for c in data["configs"]}
    assert list(by_path) == ["v0/pins.yaml", "v1/pins.yaml", "v2/pins.yaml", "other/pins.yaml"]
    status = {
        path: [(d["domain"], d["status"]) for d in c["domains"]] for path, c in by_path.items()
    }
    assert status == {
        "v0/pins.yaml": [(HOST, "expired")],
        "v1/pins.yaml": [(HOST, "breaks")],
        "v2/pins.yaml": [(HOST, "safe")],
        "other/pins.yaml": [],
    }
    assert [c["safe"] for c in by_path.values()] == [True, False, True, True]
    assert by_path["other/pins.yaml"]["chain"] == []  # not affected: nothing was judged
    assert by_path["v2/pins.yaml"]["domains"][0]["matched"] == [
        {"sha256": new.pin, "label": "next key", "level": "leaf"}
    ]
    # each message is the text report's, word for word
    for domain in (d for c in by_path.values() for d in c["domains"]):
        assert f"{domain['domain']}  {domain['message']}\n" in text.stdout
    way_out = data["way_out"]
    assert [step["code"] for step in way_out] == ["keep-pinned-key", "pin-new-key"]
    assert "--reuse-key" in way_out[0]["message"]
    assert f"(sha256: {new.pin})" in way_out[1]["message"]
    assert all("\n" not in step["message"] for step in way_out)


def test_json_of_an_untrusted_chain(run_pingen: CliRunner, workdir: Path, pki: Pki) -> None:
    stranger = CA.root("Stranger Root").intermediate("Stranger CA")
    leaf = stranger.issue_leaf(HOST)
    write_config(workdir, {HOST: [pin_line(leaf.pin, "leaf"), backup_pin()]}, roots=[pki.root])
    write_chain(workdir, leaf)
    code, data = guard_json(run_pingen, "--chain", "new.pem")
    assert code == 1 and data["safe"] is False
    assert data["leaf"] == entry_of(leaf.cert, "leaf")  # what was judged, though untrusted
    (config,) = data["configs"]
    assert "no root in the trust store" in config["untrusted_reason"]
    assert config["chain"] == []
    assert [(d["status"], d["matched"]) for d in config["domains"]] == [("untrusted", [])]
    assert [step["code"] for step in data["way_out"]] == ["make-chain-verify"]


def test_json_of_a_planned_key(run_pingen: CliRunner, workdir: Path, pki: Pki) -> None:
    from tests.support.pki import new_key

    spare = new_key()
    (workdir / "spare.pub.pem").write_bytes(public_key_pem(spare))
    write_config(
        workdir,
        {
            HOST: [
                pin_line(pki.leaf.pin, "current leaf"),
                pin_line(_pin_of_key(spare), "spare", backup=True),
            ]
        },
        roots=[pki.root],
    )
    write_pem(workdir / "ca.pem", pki.inter.cert)
    code, data = guard_json(
        run_pingen, "--key", "spare.pub.pem", "--chain", "ca.pem", "--domain", HOST
    )
    assert code == 0 and data["safe"] is True and data["leaf"] is None
    assert data["planned_key"] == {
        "file": "spare.pub.pem",
        "kind": "public key",
        "key_type": "EC P-256",
        "sha256": _pin_of_key(spare),
    }
    (config,) = data["configs"]
    # no certificate yet: no subject or date, but the CA that will issue it
    assert config["chain"] == [
        {
            "level": "leaf",
            "subject": None,
            "issuer": pki.inter.cert.subject.rfc4514_string(),
            "not_after": None,
            "sha256": _pin_of_key(spare),
        },
        entry_of(pki.inter.cert, "intermediate"),
        entry_of(pki.root.cert, "root"),
    ]
    assert config["domains"][0]["matched"] == [
        {"sha256": _pin_of_key(spare), "label": "spare", "level": "leaf"}
    ]
    # the same key as the current leaf's: still the planned key, not the old certificate
    (workdir / "same.key.pem").write_bytes(key_pem(pki.leaf.key))
    write_chain(workdir, pki.leaf, "current.pem")
    code, same = guard_json(run_pingen, "--key", "same.key.pem", "--chain", "current.pem")
    assert code == 0
    leaf_entry = same["configs"][0]["chain"][0]
    assert leaf_entry["subject"] is None and leaf_entry["sha256"] == pki.leaf.pin
    assert leaf_entry["issuer"] == pki.inter.cert.subject.rfc4514_string()


def test_json_names_the_certificates_of_the_chain_not_a_cross_signed_copy(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    """A server may also send a copy of its intermediate cross-signed by an older root;
    the chain verified against this store goes through the copy its root issued."""
    old_root = CA.root("Guard Old Root")
    cross = old_root.cross_sign(pki.inter)
    write_config(
        workdir, {HOST: [pin_line(pki.inter.pin, "Issuing CA 1"), backup_pin()]}, roots=[pki.root]
    )
    write_pem(workdir / "new.pem", pki.leaf.cert, cross, pki.inter.cert)
    code, data = guard_json(run_pingen, "--chain", "new.pem")
    assert code == 0
    assert data["configs"][0]["chain"][1:] == [
        entry_of(pki.inter.cert, "intermediate"),
        entry_of(pki.root.cert, "root"),
    ]


def test_json_when_the_chain_covers_nothing_is_exit_2_and_no_json(
    run_pingen: CliRunner, workdir: Path, pki: Pki
) -> None:
    write_config(workdir, {HOST: [backup_pin(1), backup_pin(2)]}, roots=[pki.root])
    write_chain(workdir, pki.inter.issue_leaf("unrelated.example.org"))
    result = run_pingen("guard", "--chain", "new.pem", "--format", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "new.pem: covers none of the domains in pins.yaml" in result.stderr


def test_help_and_readme_name_every_json_status_and_way_out_code(run_pingen: CliRunner) -> None:
    from pingen.judge.findings import Command, codes_of
    from pingen.judge.guard import Outcome

    help_text = " ".join(run_pingen("guard", "--help").stdout.split())
    readme = docs_text()
    for code in [*(o.value for o in Outcome), *(c.name for c in codes_of(Command.GUARD))]:
        assert code in help_text and f"`{code}`" in readme, code


# -- bad input: exit 2, a message, nothing written ---------------------------------------------


@pytest.fixture
def configured(workdir: Path, pki: Pki) -> Path:
    write_config(workdir, {HOST: [pin_line(pki.leaf.pin, "leaf"), backup_pin()]}, roots=[pki.root])
    write_chain(workdir, pki.leaf)
    return workdir


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (["--chain", "missing.pem"], {}, "missing.pem: no such file"),
        (
            ["--chain", "junk.pem"],
            {"junk.pem": b"not a certificate\n"},
            "junk.pem: not a PEM or DER certificate chain; give PEM certificates, leaf first",
        ),
        (["--chain", "cut.pem"], {"cut.pem": b"-----BEGIN CERTIFICATE-----\nMIIB\n"}, "cut.pem:"),
        (["--chain", "empty.pem"], {"empty.pem": b""}, "empty.pem:"),
        (["--chain", "key-only.pem"], {"key-only.pem": b"KEY"}, "key-only.pem:"),
        (["--chain", "ca-first.pem"], {"ca-first.pem": b"CA"}, "the first certificate is a CA"),
        (["--chain", "new.pem", "-c", "nope.yaml"], {}, "nope.yaml: no such file"),
        (["--chain", "new.pem", "-c", "bad.yaml"], {"bad.yaml": b"version: 2\n"}, "bad.yaml:1"),
        (["--chain", "new.pem", "--domain", HOST], {}, "--domain goes with --key"),
        ([], {}, "give --chain NEW.pem"),
        # (with one configured domain, the key is for it: see test_rough_edges.py)
        (
            ["--key", "k.pub.pem", "-c", "two.yaml"],
            {"k.pub.pem": b"PUB", "two.yaml": b"TWO"},
            "a key names no host",
        ),
        (
            ["--key", "k.pub.pem", "--domain", "https://x.example.test"],
            {"k.pub.pem": b"PUB"},
            "--domain https://x.example.test",
        ),
        (["--key", "enc.pem", "--domain", HOST], {"enc.pem": b"ENC"}, "encrypted private key"),
        (["--key", "junk.pem", "--domain", HOST], {"junk.pem": b"\x00\x01junk"}, "junk.pem:"),
        (["--key", "new.pem", "--domain", HOST], {}, "holds 2 keys"),
        (["--chain", "."], {}, "."),
    ],
)
def test_bad_input(
    run_pingen: CliRunner,
    configured: Path,
    pki: Pki,
    args: list[str],
    files: dict[str, bytes],
    message: str,
) -> None:
    special = {
        b"KEY": key_pem(pki.leaf.key),
        b"CA": pem_of([pki.inter.cert, pki.root.cert]),
        b"PUB": public_key_pem(pki.leaf.key),
        b"ENC": _encrypted(pki),
        b"TWO": TWO_DOMAINS.encode(),
    }
    for name, data in files.items():
        (configured / name).write_bytes(special.get(data, data))
    before = snapshot(configured)
    result = run_pingen("guard", *args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "ParseError" not in result.stderr
    assert snapshot(configured) == before


def _encrypted(pki: Pki) -> bytes:
    return pki.leaf.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    )


# -- units: which domains a name covers --------------------------------------------------------


def _domains(*specs: tuple[str, bool]) -> list[Domain]:
    from pingen.model import Domain, PinSet

    return [Domain(host, subs, True, PinSet((), None)) for host, subs in specs]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["a.example.test"], ["a.example.test"]),
        (["A.Example.Test."], ["a.example.test"]),
        (["b.a.example.test"], ["a.example.test"]),  # a has include_subdomains
        (["c.b.example.test"], ["example.test"]),  # b does not
        (["*.example.test"], ["a.example.test", "b.example.test", "example.test"]),
        (["*.a.example.test"], ["a.example.test"]),
        (["*.other.test"], []),
        (["example.test"], ["example.test"]),
        (["zexample.test"], []),
    ],
)
def test_affected_domains(names: list[str], expected: list[str]) -> None:
    from pingen.judge.guard import affected_domains

    domains = _domains(("example.test", True), ("a.example.test", True), ("b.example.test", False))
    hosts = [d.host for d in affected_domains(names, domains)]
    assert sorted(hosts) == sorted(expected)


def test_a_not_yet_valid_intermediate_is_untrusted(pki: Pki) -> None:
    from pingen.judge.guard import issuers_above
    from pingen.pki.chain import UntrustedChain

    future = pki.root.intermediate(
        "Future CA", not_before=dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    )
    leaf = future.issue_leaf(HOST)
    store = _store(pki.root)
    with pytest.raises(UntrustedChain, match="Future CA"):
        issuers_above(leaf.cert, [future.cert], store, dt.datetime.now(dt.UTC))
    assert isinstance(store, TrustStore)


def _store(*roots: CA) -> TrustStore:
    from cryptography.x509.verification import Store

    return TrustStore(Store([r.cert for r in roots]), tuple(r.cert for r in roots), "test roots")


# -- real Let's Encrypt intermediates (pingen's catalog) against certifi's roots -----------


def _catalog_cert(name: str) -> x509.Certificate:
    from importlib import resources

    data = resources.files("pingen.data").joinpath(f"catalog/letsencrypt/{name}.pem")
    return x509.load_pem_x509_certificate(data.read_bytes())


def _planned(pins: list[str], issuer: str, at: dt.datetime) -> ConfigReport:
    from pingen.judge.guard import Plan, judge
    from pingen.model import Config, Domain, Level, Pin, PinSet, PinSource, Trust
    from pingen.pki.sources import KeyInfo
    from pingen.spki import KeyType
    from tests.support.pki import new_key

    key = KeyInfo(_pin_of_key(new_key()), "public key", Level.LEAF, KeyType.parse("ec-p256"))
    domain = Domain(HOST, False, True, PinSet(tuple(Pin(p, PinSource.ROOT) for p in pins), None))
    config = Config(Path("pins.yaml").absolute(), 1, (domain,), (), Trust())
    plan = Plan(
        names=(HOST,), served=(_catalog_cert(issuer),), planned_key=key, planned_from="k.pub.pem"
    )
    return judge(plan, config, at)


def test_a_planned_key_from_lets_encrypt_r12_reaches_isrg_root_x1_in_certifi() -> None:
    from pingen.judge.guard import Outcome
    from pingen.pki.catalog import lookup_root
    from pingen.spki import pin_of_certificate

    x1, x2 = (pin_of_certificate(lookup_root(n)) for n in ("ISRG Root X1", "ISRG Root X2"))
    at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    report = _planned([x1, x2], "2024_r12", at)
    assert [k.subject for k in report.chain[1:]] == ["R12", "ISRG Root X1"]
    assert report.verdicts[0].outcome is Outcome.SAFE
    # E7 is issued by ISRG Root X2: a set that pins only X1 breaks on an ECDSA switch
    ecdsa = _planned([x1], "2024_e7", at)
    assert [k.subject for k in ecdsa.chain[1:]] == ["E7", "ISRG Root X2"]
    assert ecdsa.verdicts[0].outcome is Outcome.BREAKS
    # after the intermediate expires, nothing built on it is trusted
    late = _planned([x1], "2024_r12", dt.datetime(2027, 6, 1, tzinfo=dt.UTC))
    assert late.untrusted_reason and "R12" in late.untrusted_reason
