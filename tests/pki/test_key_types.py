"""Key types in the pin model: each pin knows its key's algorithm and size where its
source tells (`file:`, `root:`, `intermediate:`), and `key:` states it for a sha256 pin."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from pingen.config.load import load_config
from pingen.errors import ConfigError, ConfigErrors
from pingen.render.pipeline import domain_context
from pingen.spki import KeyType, key_type_of, pin_of_public_key
from tests.support.samples import PIN_A, PIN_B, TODAY


def config_with(folder: Path, first_pin: str, second_pin: str = f"sha256: {PIN_B}") -> Path:
    path = folder / "pins.yaml"
    path.write_text(f"""\
version: 1
defaults:
  expires: 2027-06-30
domains:
  api.example.com:
    pins:
      - {first_pin}
      - {second_pin}
        backup: true
""")
    return path


def public_pem(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    ("text", "expected", "shown"),
    [
        ("ec-p256", KeyType("ec", 256, "p256"), "EC P-256"),
        ("ec-p384", KeyType("ec", 384, "p384"), "EC P-384"),
        ("ec-p521", KeyType("ec", 521, "p521"), "EC P-521"),
        ("rsa-2048", KeyType("rsa", 2048), "RSA-2048"),
        ("rsa-3072", KeyType("rsa", 3072), "RSA-3072"),
        ("rsa-4096", KeyType("rsa", 4096), "RSA-4096"),
        ("ed25519", KeyType("ed25519"), "Ed25519"),
        ("ed448", KeyType("ed448"), "Ed448"),
    ],
)
def test_key_names_parse_round_trip_and_read_well(text: str, expected: KeyType, shown: str) -> None:
    parsed = KeyType.parse(text)
    assert parsed == expected
    assert parsed.name == text
    assert str(parsed) == shown


@pytest.mark.parametrize(
    "text", ["EC-P256", "ec-p255", "rsa", "rsa-2048 ", "ecdsa", "x25519", "rsa-0", "ec-secp256k1"]
)
def test_other_spellings_are_refused_with_the_list(text: str) -> None:
    with pytest.raises(ValueError, match="ec-p256, ec-p384, ec-p521, rsa-2048"):
        KeyType.parse(text)


def test_key_type_of_real_keys_records_an_odd_rsa_exponent() -> None:
    assert key_type_of(ec.generate_private_key(ec.SECP521R1()).public_key()) == KeyType.parse(
        "ec-p521"
    )
    assert key_type_of(ed25519.Ed25519PrivateKey.generate().public_key()).name == "ed25519"
    usual = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    assert key_type_of(usual) == KeyType("rsa", 2048)  # 65537 goes unsaid
    odd = rsa.generate_private_key(public_exponent=3, key_size=2048).public_key()
    assert key_type_of(odd) == KeyType("rsa", 2048, exponent=3)
    assert str(key_type_of(odd)) == "RSA-2048 (exponent 3)"
    assert key_type_of(ec.generate_private_key(ec.SECP256K1()).public_key()).name == (
        "ec-secp256k1"
    )


def test_a_sha256_pin_has_no_key_type_unless_key_states_it(tmp_path: Path) -> None:
    path = config_with(tmp_path, f"sha256: {PIN_A}\n        key: rsa-4096")
    first, second = load_config(path, today=TODAY).domains[0].pins
    assert first.key == KeyType("rsa", 4096)
    assert second.key is None


def test_a_bad_key_value_is_an_error_at_the_value(tmp_path: Path) -> None:
    path = config_with(tmp_path, f"sha256: {PIN_A}\n        key: ecdsa-256")
    with pytest.raises((ConfigError, ConfigErrors)) as caught:
        load_config(path, today=TODAY)
    assert "pins.yaml:8:14:" in str(caught.value)
    assert "'ecdsa-256' is not a key type; write one of ec-p256" in str(caught.value)


def test_file_pins_know_their_key_type(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    (tmp_path / "backup.pub.pem").write_bytes(public_pem(key))
    odd = rsa.generate_private_key(public_exponent=3, key_size=2048).public_key()
    (tmp_path / "odd.pub.pem").write_bytes(public_pem(odd))
    path = config_with(tmp_path, "file: backup.pub.pem", "file: odd.pub.pem")
    first, second = load_config(path, today=TODAY).domains[0].pins
    assert first.sha256 == pin_of_public_key(key) and first.key == KeyType.parse("ec-p384")
    assert second.key == KeyType("rsa", 2048, exponent=3)


def test_key_that_agrees_with_the_file_is_fine_and_one_that_contradicts_is_an_error(
    tmp_path: Path,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    (tmp_path / "backup.pub.pem").write_bytes(public_pem(key))
    agrees = config_with(tmp_path, "file: backup.pub.pem\n        key: ec-p256")
    assert load_config(agrees, today=TODAY).domains[0].pins[0].key == KeyType.parse("ec-p256")
    contradicts = config_with(tmp_path, "file: backup.pub.pem\n        key: rsa-2048")
    with pytest.raises((ConfigError, ConfigErrors)) as caught:
        load_config(contradicts, today=TODAY)
    assert "pins.yaml:8:14: `key: rsa-2048` contradicts the file, whose key is ec-p256" in str(
        caught.value
    )


def test_catalog_and_mozilla_names_know_their_key_type(tmp_path: Path) -> None:
    path = config_with(tmp_path, "root: ISRG Root X1", "intermediate: E7")
    root, intermediate = load_config(path, today=TODAY).domains[0].pins
    assert root.key == KeyType("rsa", 4096)
    assert intermediate.key == KeyType.parse("ec-p384")


def test_user_templates_see_the_key_name(tmp_path: Path) -> None:
    path = config_with(tmp_path, "root: ISRG Root X2", f"sha256: {PIN_A}")
    context = domain_context(load_config(path, today=TODAY).domains[0])
    assert [pin["key"] for pin in context["pins"]] == ["ec-p384", None]
