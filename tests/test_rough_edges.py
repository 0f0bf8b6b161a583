"""Issue 12, "rough edges a new user hit": each one as a row of one table, with the
message the user now gets, the exit code, and nothing written where nothing should be.

Rows that dial run against one TLS server on loopback serving a private CA's chain for
`other.example.com` (so for `api.example.com` the name does not match); `{port}` in a
row is its port."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.conftest import CliRunner
from tests.support.docs import docs_text
from tests.support.folders import snapshot
from tests.support.paths import REPO
from tests.support.pki import CA, new_key, now, pem_of, public_key_pem
from tests.support.samples import PIN_C
from tests.support.servers import tls_server

HOST = "api.example.com"
ROOT = CA.root("Rough Edges Root")
INTER = ROOT.intermediate("Rough Edges CA")
API = INTER.issue_leaf(HOST)
OTHER = INTER.issue_leaf("other.example.com")


def _critical_san_leaf() -> x509.Certificate:
    """A private CA's leaf: subject CN set and the subjectAltName marked critical."""
    key = new_key()
    start = now() - dt.timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(INTER.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=True)
        .sign(INTER.key, hashes.SHA256())
    )


def _certificate_hash(cert: x509.Certificate) -> str:
    der = cert.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def _encrypted_key() -> bytes:
    return new_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )


def config(
    pins: str = f"      - sha256: {INTER.pin}\n",
    *,
    defaults: str = "never",
    domains_extra: str = "",
    outputs: str = "  - type: json\n    path: out.json\n",
    trust: bool = True,
) -> str:
    """pins.yaml with one domain, its pins (plus a backup), and `outputs`."""
    return (
        f"version: 1\ndefaults:\n  expires: {defaults}\n"
        + ("trust:\n  ca_file: roots.pem\n" if trust else "")
        + f"domains:\n  {HOST}:\n    pins:\n{pins}"
        + f"      - sha256: {PIN_C}\n        label: backup\n        backup: true\n"
        + domains_extra
        + f"outputs:\n{outputs}"
    )


@dataclass(frozen=True)
class Edge:
    name: str
    args: tuple[str, ...]
    exit_code: int
    says: tuple[str, ...]  # each appears in stderr (or stdout, for a report)
    never_says: tuple[str, ...] = ()
    files: dict[str, bytes | str] = field(default_factory=dict)


FILE_PIN = config("      - file: keys/k.pem\n")
EDGES = [
    Edge(
        "file: pin, empty file",
        ("build",),
        2,
        ("pins.yaml:9:15: keys/k.pem: an empty file",),
        files={"pins.yaml": FILE_PIN, "keys/k.pem": b""},
    ),
    Edge(
        "file: pin, garbage",
        ("build",),
        2,
        ("pins.yaml:9:15: keys/k.pem: neither PEM nor a DER certificate",),
        files={"pins.yaml": FILE_PIN, "keys/k.pem": b"\x00\x01garbage"},
    ),
    Edge(
        "file: pin, encrypted key",
        ("build",),
        2,
        ("pins.yaml:9:15: keys/k.pem: an encrypted private key", "Pin its public key"),
        files={"pins.yaml": FILE_PIN, "keys/k.pem": _encrypted_key()},
    ),
    Edge(
        "okhttp package: at its own key",
        ("build",),
        2,
        ("pins.yaml:16:14: `package: com.example.1bad` is not a Kotlin package name",),
        files={
            "pins.yaml": config(
                outputs="  - type: okhttp\n    path: P.kt\n    package: com.example.1bad\n"
            )
        },
    ),
    Edge(
        "a true/false option at its own key",
        ("build",),
        2,
        ("pins.yaml:17:26: `cleartext_permitted` must be true or false",),
        files={
            "pins.yaml": config(
                outputs="  - type: android-nsc\n    path: nsc.xml\n"
                "    debug_overrides: false\n"
                "    cleartext_permitted: maybe\n"
            )
        },
    ),
    Edge(
        "a bad defaults.expires is one error",
        ("build",),
        2,
        ("pins.yaml:3:12: `expires: 2030-13-45` is not a real calendar date",),
        never_says=("has no `expires:`",),
        files={"pins.yaml": config(defaults="2030-13-45")},
    ),
    Edge(
        "a hex fingerprint as a pin",
        ("build",),
        2,
        ("is a hex fingerprint", "`pingen pin CERT.pem`"),
        never_says=("decodes to",),
        files={"pins.yaml": config("      - sha256: " + "ab" * 32 + "\n")},
    ),
    Edge(
        "a colon-separated hex fingerprint as a pin",
        ("build",),
        2,
        ("is a hex fingerprint",),
        files={"pins.yaml": config("      - sha256: " + ":".join(["AB"] * 32) + "\n")},
    ),
    Edge(
        "root: names an intermediate",
        ("build",),
        2,
        ("pins.yaml:7:15: 'R12' is an intermediate, not a root: write `intermediate: R12`",),
        files={"pins.yaml": config("      - root: R12\n", trust=False)},
    ),
    Edge(
        "intermediate: names a root",
        ("build",),
        2,
        ("'ISRG Root X1' is a root, not an intermediate: write `root: ISRG Root X1`",),
        files={"pins.yaml": config("      - intermediate: ISRG Root X1\n", trust=False)},
    ),
    Edge(
        "provider: indented one level short",
        ("build",),
        2,
        ("pins.yaml:13:3: `provider:` sits directly under `domains:`", "indent it"),
        never_says=("single label",),
        files={"pins.yaml": config(domains_extra="  provider: google-managed\n")},
    ),
    Edge(
        "guard --key with one configured domain judges it",
        ("guard", "--key", "new.pub.pem"),
        1,
        (f"covers: {HOST}", f"BREAKS   {HOST}"),
        never_says=("--domain",),
        files={"pins.yaml": config(), "new.pub.pem": public_key_pem(new_key())},
    ),
    Edge(
        "verify --chain for another host is the wrong file, as in guard",
        ("verify", "--chain", "other.pem", "--domain", HOST),
        2,
        (f"other.pem: its leaf certificate covers other.example.com, not {HOST}",),
        files={"pins.yaml": config(), "other.pem": pem_of(OTHER.chain())},
    ),
    Edge(
        "a critical subjectAltName is not a name mismatch",
        ("verify", "--chain", "crit.pem", "--domain", HOST),
        1,
        ("subjectAltName is marked critical while its subject is not empty",),
        never_says=("does not cover",),
        files={"pins.yaml": config(), "crit.pem": pem_of([_critical_san_leaf(), INTER.cert])},
    ),
    Edge(
        "a certificate's hash used as a pin",
        ("verify", "--chain", "api.pem", "--domain", HOST),
        1,
        (
            f"is the SHA-256 of the whole intermediate certificate (Rough Edges CA), its "
            f"fingerprint, not of its public key: pin `sha256: {INTER.pin}`",
        ),
        files={
            "pins.yaml": config(f"      - sha256: {_certificate_hash(INTER.cert)}\n"),
            "api.pem": pem_of(API.chain()),
        },
    ),
    # dialling the loopback server ({port})
    Edge(
        "pin https://host:port/path takes the URL",
        ("pin", "https://127.0.0.1:{port}/x"),
        0,
        (OTHER.pin, "the chain does not verify"),
        never_says=("no such file",),
    ),
    Edge(
        "pin http:// says it is not TLS",
        ("pin", "http://127.0.0.1:{port}/"),
        2,
        ("http://127.0.0.1:{port}/: pin takes an https:// URL, host[:port] or a file",),
    ),
    Edge(
        "pin --ca-file says why the chain is untrusted",
        ("pin", "other.example.com=127.0.0.1:{port}", "--ca-file", "elsewhere.pem"),
        0,
        (
            "pingen: warning: other.example.com=127.0.0.1:{port}: the chain does not verify "
            "(no root in the trust store (elsewhere.pem)",
            "(untrusted chain)",
        ),
        files={"elsewhere.pem": CA.root("Elsewhere Root").pem},
    ),
    Edge(
        "init: no roots.pem hint on a name mismatch",
        ("init", f"{HOST}=127.0.0.1:{{port}}", "--ca-file", "roots.pem"),
        1,
        (f"the leaf certificate does not cover {HOST} (it names: other.example.com)",),
        never_says=("is its root in", "--ca-file)"),
    ),
]


@pytest.fixture(scope="module")
def server_port() -> Iterator[int]:
    with tls_server(OTHER.identity()) as (_, port):
        yield port


@pytest.mark.parametrize("edge", EDGES, ids=[edge.name for edge in EDGES])
def test_rough_edge(run_pingen: CliRunner, workdir: Path, server_port: int, edge: Edge) -> None:
    def fill(text: str) -> str:
        return text.replace("{port}", str(server_port))

    (workdir / "roots.pem").write_bytes(ROOT.pem)
    for name, content in edge.files.items():
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    before = snapshot(workdir)
    result = run_pingen(*(fill(arg) for arg in edge.args))
    said = result.stdout + result.stderr
    assert result.exit_code == edge.exit_code, said
    for text in edge.says:
        assert fill(text) in said, said
    for text in edge.never_says:
        assert fill(text) not in said, said
    assert snapshot(workdir) == before  # nothing written
    assert "Traceback" not in said


# -- the README's test command on a fresh machine: the OkHttp and Okio jars ----------------


def test_the_kotlin_jars_come_from_the_local_maven_repository() -> None:
    from tests.support import kotlin

    jars = kotlin.maven_jars()
    assert [jar.name for jar in jars] == ["okhttp-4.12.0.jar", "okio-jvm-3.6.0.jar"]
    assert all(jar.is_file() for jar in jars)


def test_a_missing_jar_without_maven_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support import kotlin

    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no mvn: nothing is fetched
    with pytest.raises(kotlin.ToolchainMissing) as missing:
        kotlin.maven_jars(tmp_path / "m2")
    message = str(missing.value)
    assert "Maven is not installed" in message
    assert (
        "`mvn -B -q dependency:get -Dartifact=com.squareup.okhttp3:okhttp:4.12.0 "
        f"-Dtransitive=false -Dmaven.repo.local={tmp_path / 'm2'}`"
    ) in message
    assert not (tmp_path / "m2").exists()


def test_the_readme_and_ci_name_the_jars() -> None:
    readme = docs_text()
    command = readme.index("pip install -e '.[test]' && npm ci && python3 -m pytest")
    assert "mvn dependency:get" in readme[command - 600 : command + 300]
    assert "\npython3 -m tests.support.kotlin\npython3 -m pytest" in (REPO / ".ci/run").read_text()


def test_the_example_tests_use_a_fixed_clock() -> None:
    text = (REPO / "tests" / "test_example.py").read_text()
    assert text.count('"--at", AS_OF') == 2 and "today" not in text.replace("never today", "")
