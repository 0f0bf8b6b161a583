"""The pin itself: RFC 7469's base64(SHA-256(DER SubjectPublicKeyInfo))."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

# 32 bytes always encode to 44 characters ending in one `=`; the 43rd character has
# its low two bits zero. Anything else is not a canonical SHA-256 pin.
CANONICAL_PIN = re.compile(r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")
OKHTTP_PREFIX = "sha256/"


def pin_of_der_spki(spki_der: bytes) -> str:
    return base64.b64encode(hashlib.sha256(spki_der).digest()).decode("ascii")


def pin_of_public_key(key: PublicKeyTypes) -> str:
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pin_of_der_spki(der)


@functools.lru_cache(maxsize=4096)  # verify describes a leaf, then judges its futures
def pin_of_certificate(cert: x509.Certificate) -> str:
    return pin_of_public_key(cert.public_key())


# SHA-1, SHA-256 or SHA-384 as hex digits, plain or colon-separated (AB:CD:...).
_HEX_FINGERPRINT = re.compile(
    r"(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}|[0-9A-Fa-f]{96}"
    r"|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){19}|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31}"
    r"|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){47})"
)


@functools.lru_cache(maxsize=4096)  # the same pins repeat across a config's domains
def normalize_pin(text: str) -> str:
    """Return the canonical pin for `text`, or raise ValueError saying what is wrong.

    Accepts OkHttp's `sha256/` prefix. Rejects anything that does not decode to
    exactly 32 bytes, and non-canonical spellings that some platforms would read
    differently.
    """
    value = text.strip()
    if value.startswith(OKHTTP_PREFIX):
        value = value[len(OKHTTP_PREFIX) :]
    if value.startswith("sha1/"):
        raise ValueError("SHA-1 pins are not supported: use the SHA-256 pin of the same key")
    if _HEX_FINGERPRINT.fullmatch(value):
        raise ValueError(
            f"{text!r} is a hex fingerprint (as openssl and browsers show a certificate's), "
            "not a pin: a pin is the base64 SHA-256 of the public key (SubjectPublicKeyInfo). "
            "Get it with `pingen pin CERT.pem` or `pingen pin HOST:443`"
        )
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            f"{text!r} is not standard base64 (A-Z a-z 0-9 + / and '=' padding); "
            "a pin is base64(SHA-256(SubjectPublicKeyInfo)), 44 characters"
        ) from None
    if len(raw) != 32:
        raise ValueError(
            f"{text!r} decodes to {len(raw)} bytes, but a SHA-256 pin is exactly 32 bytes "
            "(44 base64 characters)"
        )
    canonical = base64.b64encode(raw).decode("ascii")
    if canonical != value:
        raise ValueError(f"{text!r} is not canonical base64; write it as {canonical!r}")
    return canonical


# -- key types ----------------------------------------------------------------------

RSA_F4 = 65537  # the public exponent of nearly every RSA key; see KeyType.exponent
# What `key:` accepts: rsa-BITS, ec-p256/p384/p521, ed25519, ed448 (keygen's spelling).
KEY_TYPE_NAME = re.compile(r"^(rsa-[1-9][0-9]{2,4}|ec-p(256|384|521)|ed25519|ed448)$")
KEY_TYPE_EXAMPLES = "ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096, ed25519"
_NIST_CURVES = {"secp256r1": "p256", "secp384r1": "p384", "secp521r1": "p521"}
_CURVE_BITS = {"p256": 256, "p384": 384, "p521": 521}


@dataclass(frozen=True)
class KeyType:
    """A public key's algorithm and size: what a pin's key is, where its source tells.

    Platforms that hash a fixed SubjectPublicKeyInfo header per key type (TrustKit)
    can pin only some of them; see `pingen.trustkit_keys`.
    """

    algorithm: str  # "rsa", "ec", "ed25519", "ed448", "dsa", or another algorithm's name
    bits: int | None = None  # RSA/DSA modulus length; EC curve size; None for EdDSA
    curve: str | None = None  # EC only: "p256", "p384", "p521", or the curve's own name
    exponent: int | None = None  # RSA only: the public exponent when it is NOT 65537

    @property
    def name(self) -> str:
        """The `key:` spelling: `rsa-2048`, `ec-p256`, `ed25519` (pingen keygen's too)."""
        if self.algorithm == "ec":
            return f"ec-{self.curve}"
        return f"{self.algorithm}-{self.bits}" if self.bits else self.algorithm

    def __str__(self) -> str:
        """For people: `RSA-2048`, `EC P-256`, `Ed25519`, `RSA-2048 (exponent 3)`."""
        if self.algorithm == "ec":
            curve = self.curve or "?"
            return f"EC P-{curve[1:]}" if curve in _CURVE_BITS else f"EC {curve}"
        if self.algorithm in ("ed25519", "ed448"):
            return "Ed" + self.algorithm[2:]
        text = f"{self.algorithm.upper()}-{self.bits}" if self.bits else self.algorithm
        return f"{text} (exponent {self.exponent})" if self.exponent is not None else text

    @classmethod
    def parse(cls, text: str) -> KeyType:
        """A `key:` value (`ec-p256`, `rsa-2048`, ...), or ValueError saying what is allowed."""
        value = text
        if not KEY_TYPE_NAME.match(value):
            raise ValueError(
                f"{text!r} is not a key type; write one of {KEY_TYPE_EXAMPLES} "
                "(or rsa-BITS, ed448), in lower case"
            )
        if value.startswith("rsa-"):
            return cls("rsa", int(value[4:]))
        if value.startswith("ec-"):
            curve = value[3:]
            return cls("ec", _CURVE_BITS[curve], curve)
        return cls(value)


def key_type_of(key: PublicKeyTypes) -> KeyType:
    """The KeyType of a public key from `cryptography`."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPublicKey):
        exponent = key.public_numbers().e
        return KeyType("rsa", key.key_size, exponent=None if exponent == RSA_F4 else exponent)
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = _NIST_CURVES.get(key.curve.name, key.curve.name)
        return KeyType("ec", key.curve.key_size, curve)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeyType("ed25519")
    if isinstance(key, ed448.Ed448PublicKey):
        return KeyType("ed448")
    if isinstance(key, dsa.DSAPublicKey):
        return KeyType("dsa", key.key_size)
    return KeyType(type(key).__name__.removesuffix("PublicKey").lower())
