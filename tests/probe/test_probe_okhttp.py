"""`pingen probe` against the real OkHttp: the generated `certificatePinner`, compiled by
kotlinc with the test client tests/support/PinningProbe.kt (ONE compile for the module),
run on a JVM that trusts the probe CA and resolves every host to 127.0.0.1.

- refuse mode: the pinned client fails on every pinned host, and probe says PASS;
- the same client without the pinner completes its requests, and probe says FAIL,
  naming the host;
- accept mode with the backup key: the pinned client connects, and probe says PASS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pingen.cli import main
from tests.support import kotlin
from tests.support.models import fake_pin
from tests.support.probe import running_probe

API, CDN = "api.example.test", "cdn.example.test"
PINNER = "com.example.net.CertificatePins"


@dataclass(frozen=True)
class App:
    project: Path
    classes: Path
    backup_key: Path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """An app project: pins.yaml (a live root pin and a backup key per host), the
    generated Kotlin, compiled once."""
    project = tmp_path_factory.mktemp("probe-app")
    keys = project / "keys"
    keys.mkdir(mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    backup_key = keys / "backup.key.pem"
    backup_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    backup_key.chmod(0o600)
    (keys / "backup.pub.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    pins = (
        f"      - sha256: {fake_pin('live root')}\n        level: root\n"
        "      - file: keys/backup.pub.pem\n        backup: true\n"
    )
    (project / "pins.yaml").write_text(
        "version: 1\ndefaults:\n  expires: 2099-12-31\ndomains:\n"
        + "".join(f"  {host}:\n    pins:\n{pins}" for host in (API, CDN))
        + "outputs:\n  - type: okhttp\n    path: gen/CertificatePins.kt\n"
        "    package: com.example.net\n"
    )
    assert main(["build", "-q", "-c", str(project / "pins.yaml")]) == 0
    classes = kotlin.compile_sources(
        [project / "gen" / "CertificatePins.kt", kotlin.PROBE], project / "classes"
    )
    yield App(project, classes, backup_key)


def okhttp_gets(app: App, ca: Path, port: int, *requests: tuple[str, str]) -> list[str]:
    """Each (pinner class or "-", host) as one GET https://host:port/; the answers."""
    lines = [f"{i}\tGET\t{pinner}\t{host}\t{port}" for i, (pinner, host) in enumerate(requests)]
    result = kotlin.run(app.classes, kotlin.PROBE_MAIN, [str(ca)], stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    answers = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    return [answers[str(i)] for i in range(len(requests))]


def test_the_pinned_okhttp_client_refuses_every_host_and_probe_passes(app: App) -> None:
    with running_probe(app.project, "--connections", "2") as probe:
        answers = okhttp_gets(app, probe.ca, probe.port, (PINNER, API), (PINNER, CDN))
    assert [a.split("\t")[0] for a in answers] == ["PINNING_FAILURE", "PINNING_FAILURE"]
    result = probe.result
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.verdicts() == {API: "PASS", CDN: "PASS"}
    assert result.report is not None
    details = [a["detail"] for h in result.report["hosts"] for a in h["attempts"]]
    assert details and all(d.startswith("handshake completed; the client closed") for d in details)


def test_without_the_pinner_requests_arrive_and_probe_fails_naming_the_host(app: App) -> None:
    with running_probe(app.project, "--connections", "2") as probe:
        answers = okhttp_gets(app, probe.ca, probe.port, ("-", API), (PINNER, CDN))
    assert answers[0] == "OK\t200" and answers[1].startswith("PINNING_FAILURE")
    result = probe.result
    assert result.exit_code == 1
    assert result.verdicts() == {API: "FAIL", CDN: "PASS"}
    failed = next(line for line in result.stdout.splitlines() if line.startswith(API))
    assert "a request arrived (GET /)" in failed and "does not enforce pinning" in failed


def test_accept_mode_with_the_backup_key_lets_the_pinned_client_connect(app: App) -> None:
    args = ("--mode", "accept", "--key", str(app.backup_key), "--domain", API, "--connections", "1")
    with running_probe(app.project, *args) as probe:
        answers = okhttp_gets(app, probe.ca, probe.port, (PINNER, API))
    assert answers == ["OK\t200"]
    assert probe.result.exit_code == 0, probe.result.stdout + probe.result.stderr
    assert probe.result.verdicts() == {API: "PASS"}
    assert "the client accepted the pinned key and sent GET /" in probe.result.stdout
