"""`file:` pins: certificates, keys and CSRs, with levels inferred, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pingen.config.load import load_config
from pingen.errors import ConfigError
from pingen.model import Config, Level, PinSource
from pingen.spki import pin_of_certificate
from tests.conftest import CliRunner
from tests.support.samples import PIN_A, TODAY

CONFIG = """\
version: 1
domains:
  api.example.com:
    expires: never
    pins:
      - file: {first}
      - sha256: {other}
        backup: true
"""


@pytest.fixture(scope="module")
def hierarchy() -> tuple[trustme.CA, trustme.CA, trustme.LeafCert]:
    root = trustme.CA()
    intermediate = root.create_child_ca()
    return root, intermediate, intermediate.issue_cert("api.example.com")


def cert_of(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def load_with(folder: Path, name: str, data: bytes, other: str = PIN_A) -> Config:
    (folder / name).write_bytes(data)
    (folder / "pins.yaml").write_text(CONFIG.format(first=name, other=other))
    return load_config(folder / "pins.yaml", today=TODAY)


@pytest.mark.parametrize(
    ("which", "level"), [(0, Level.ROOT), (1, Level.INTERMEDIATE), (2, Level.LEAF)]
)
def test_certificate_levels_are_inferred(
    tmp_path: Path,
    hierarchy: tuple[trustme.CA, trustme.CA, trustme.LeafCert],
    which: int,
    level: Level,
) -> None:
    root, intermediate, leaf = hierarchy
    pem = [root.cert_pem.bytes(), intermediate.cert_pem.bytes(), leaf.cert_chain_pems[0].bytes()][
        which
    ]
    config = load_with(tmp_path, "cert.pem", pem)
    pin = config.domains[0].pins[0]
    assert pin.level is level and pin.source is PinSource.FILE
    assert pin.sha256 == pin_of_certificate(cert_of(pem))
    assert pin.label  # the certificate's subject name


def test_private_key_pins_its_public_key_with_a_warning(
    tmp_path: Path, hierarchy: tuple[trustme.CA, trustme.CA, trustme.LeafCert]
) -> None:
    _, _, leaf = hierarchy
    config = load_with(tmp_path, "leaf.key", leaf.private_key_pem.bytes())
    pin = config.domains[0].pins[0]
    assert pin.sha256 == pin_of_certificate(cert_of(leaf.cert_chain_pems[0].bytes()))
    assert pin.level is Level.LEAF
    (warning,) = config.warnings
    assert "private key does not belong in an app repository" in warning.message
    assert warning.location is not None and warning.location.line == 6


def test_bundle_is_an_error_listing_each_pin(
    tmp_path: Path, hierarchy: tuple[trustme.CA, trustme.CA, trustme.LeafCert]
) -> None:
    _, _, leaf = hierarchy
    bundle = b"".join(p.bytes() for p in leaf.cert_chain_pems)
    with pytest.raises(ConfigError) as raised:
        load_with(tmp_path, "chain.pem", bundle)
    message = str(raised.value)
    assert "pins.yaml:6:15: chain.pem holds 2 certificates" in message
    for pem in leaf.cert_chain_pems:
        assert pin_of_certificate(cert_of(pem.bytes())) in message


def test_encrypted_key_and_junk_are_errors_at_the_pin(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    encrypted = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(ConfigError, match=r"pins.yaml:6:15: enc.pem: an encrypted private key"):
        load_with(tmp_path, "enc.pem", encrypted)
    with pytest.raises(ConfigError, match=r"pins.yaml:6:15: .*neither PEM nor"):
        load_with(tmp_path, "junk.bin", b"\x00\x01junk")


def test_build_prints_the_private_key_warning(
    run_pingen: CliRunner, workdir: Path, hierarchy: tuple[trustme.CA, trustme.CA, trustme.LeafCert]
) -> None:
    _, _, leaf = hierarchy
    load_with(workdir, "leaf.key", leaf.private_key_pem.bytes())
    result = run_pingen("build")
    assert result.exit_code == 0
    assert "pins.yaml:6:15: warning: leaf.key holds a private key" in result.stderr
