"""`pingen pin` agrees with the openssl CLI for every key type, file kind and encoding."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from tests.conftest import CliRunner
from tests.support.openssl import openssl_pin

KEY_TYPES: dict[str, Callable[[], CertificateIssuerPrivateKeyTypes]] = {
    "rsa-2048": lambda: rsa.generate_private_key(65537, 2048),
    "ec-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ec-p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ec-p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
    "ed448": ed448.Ed448PrivateKey.generate,
}
PEM, DER = serialization.Encoding.PEM, serialization.Encoding.DER


def make_cert(
    key: CertificateIssuerPrivateKeyTypes, name: str = "leaf.example"
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    algorithm = (
        None
        if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
        else hashes.SHA256()
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=90))
        .sign(key, algorithm)
    )


def make_csr(key: CertificateIssuerPrivateKeyTypes) -> x509.CertificateSigningRequest:
    algorithm = (
        None
        if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
        else hashes.SHA256()
    )
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr.example")]))
        .sign(key, algorithm)
    )


def write_all_forms(
    folder: Path, key: CertificateIssuerPrivateKeyTypes
) -> dict[str, tuple[str, ...]]:
    """Write the key as every file kind and encoding; return the openssl command that
    extracts the SPKI DER from each file."""
    public = key.public_key()
    cert, csr = make_cert(key), make_csr(key)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pkcs8, nocrypt = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    files = {
        "cert.pem": cert.public_bytes(PEM),
        "cert.der": cert.public_bytes(DER),
        "pub.pem": public.public_bytes(PEM, spki),
        "pub.der": public.public_bytes(DER, spki),
        "key.pem": key.private_bytes(PEM, pkcs8, nocrypt),
        "key.der": key.private_bytes(DER, pkcs8, nocrypt),
        "csr.pem": csr.public_bytes(PEM),
        "csr.der": csr.public_bytes(DER),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)

    def to_der(*head: str) -> tuple[str, ...]:
        return (*head, "|pkey")

    return {
        "cert.pem": to_der("x509", "-pubkey", "-noout", "-in", "cert.pem"),
        "cert.der": to_der("x509", "-pubkey", "-noout", "-inform", "DER", "-in", "cert.der"),
        "pub.pem": ("pkey", "-pubin", "-outform", "DER", "-in", "pub.pem"),
        "pub.der": ("pkey", "-pubin", "-inform", "DER", "-outform", "DER", "-in", "pub.der"),
        "key.pem": ("pkey", "-pubout", "-outform", "DER", "-in", "key.pem"),
        "key.der": ("pkey", "-inform", "DER", "-pubout", "-outform", "DER", "-in", "key.der"),
        "csr.pem": to_der("req", "-pubkey", "-noout", "-in", "csr.pem"),
        "csr.der": to_der("req", "-pubkey", "-noout", "-inform", "DER", "-in", "csr.der"),
    }


def openssl_pin_of(folder: Path, command: tuple[str, ...]) -> str:
    if command[-1] == "|pkey":  # first print the PEM public key, then convert it to DER
        pem = subprocess.run(
            ["openssl", *command[:-1]], cwd=folder, capture_output=True, check=True
        ).stdout
        (folder / "_extracted.pem").write_bytes(pem)
        return openssl_pin(
            "pkey", "-pubin", "-outform", "DER", "-in", str(folder / "_extracted.pem")
        )
    return openssl_pin(*[str(folder / c) if c.endswith((".pem", ".der")) else c for c in command])


@pytest.mark.parametrize("key_type", list(KEY_TYPES))
def test_pin_agrees_with_openssl(run_pingen: CliRunner, tmp_path: Path, key_type: str) -> None:
    commands = write_all_forms(tmp_path, KEY_TYPES[key_type]())
    result = run_pingen("pin", "--format", "json", *commands, cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    rows = {row["source"]: row for row in json.loads(result.stdout)}
    for name, openssl_command in commands.items():
        assert rows[name]["sha256"] == openssl_pin_of(tmp_path, openssl_command), name
    assert len({row["sha256"] for row in rows.values()}) == 1  # one key in every form
    assert rows["cert.pem"]["level"] == "leaf" and rows["cert.pem"]["subject"] == "leaf.example"
    assert rows["key.pem"]["kind"] == "private key" and rows["csr.der"]["kind"] == "CSR"


def test_text_output_and_bundle(run_pingen: CliRunner, tmp_path: Path) -> None:
    root_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = rsa.generate_private_key(65537, 2048)
    bundle = make_cert(leaf_key).public_bytes(PEM) + make_cert(root_key, "Other").public_bytes(PEM)
    (tmp_path / "bundle.pem").write_bytes(bundle)
    result = run_pingen("pin", "bundle.pem", cwd=tmp_path)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert "RSA-2048" in lines[0] and "subject=leaf.example" in lines[0]
    assert "EC P-256" in lines[1] and "expires=2026-04-01" in lines[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello world\n", "neither PEM nor"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n", "cut short"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be read"),
        (b"", "an empty file"),
    ],
)
def test_bad_files_exit_2(
    run_pingen: CliRunner, tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "bad.pem").write_bytes(content)
    result = run_pingen("pin", "bad.pem", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("bad.pem: ") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_encrypted_private_key_is_a_clear_error(run_pingen: CliRunner, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    for name, fmt in (
        ("pkcs8.pem", serialization.PrivateFormat.PKCS8),
        ("legacy.pem", serialization.PrivateFormat.TraditionalOpenSSL),
    ):
        data = key.private_bytes(PEM, fmt, serialization.BestAvailableEncryption(b"secret"))
        (tmp_path / name).write_bytes(data)
        result = run_pingen("pin", name, cwd=tmp_path)
        assert result.exit_code == 2 and "encrypted private key" in result.stderr
    der = key.private_bytes(
        DER, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"secret")
    )
    (tmp_path / "enc.der").write_bytes(der)
    result = run_pingen("pin", "enc.der", cwd=tmp_path)
    assert result.exit_code == 2 and "encrypted private key" in result.stderr


def test_missing_file_exits_2(run_pingen: CliRunner, tmp_path: Path) -> None:
    result = run_pingen("pin", "missing.pem", cwd=tmp_path)
    assert result.exit_code == 2 and "no such file" in result.stderr
    assert run_pingen("pin", cwd=tmp_path).exit_code == 2  # no SOURCE: usage error


def test_standard_input_and_pipes(tmp_path: Path) -> None:
    """`pingen pin -` reads standard input; a pipe (as from `<(openssl ...)`) is read to
    its end; a pipe nobody writes to and an endless device end with exit 2, not a hang."""
    import os
    import sys

    key = ec.generate_private_key(ec.SECP256R1())
    pem = make_cert(key).public_bytes(PEM)
    run = [sys.executable, "-m", "pingen", "pin"]
    result = subprocess.run([*run, "-"], input=pem, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    (tmp_path / "c.pem").write_bytes(pem)
    from_file = subprocess.run([*run, str(tmp_path / "c.pem")], capture_output=True, timeout=30)
    assert result.stdout.split()[0] == from_file.stdout.split()[0]
    read_end, write_end = os.pipe()
    os.write(write_end, pem)
    os.close(write_end)
    piped = subprocess.run(
        [*run, f"/dev/fd/{read_end}"], pass_fds=(read_end,), capture_output=True, timeout=30
    )
    os.close(read_end)
    assert piped.returncode == 0 and piped.stdout.split()[0] == from_file.stdout.split()[0]
    os.mkfifo(tmp_path / "fifo")
    for source in (str(tmp_path / "fifo"), "/dev/zero"):
        result = subprocess.run([*run, source], capture_output=True, timeout=30)
        assert result.returncode == 2 and b"Traceback" not in result.stderr
