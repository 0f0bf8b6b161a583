"""The pin itself: RFC 7469's base64(SHA-256(DER SubjectPublicKeyInfo))."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
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


def pin_of_certificate(cert: x509.Certificate) -> str:
    return pin_of_public_key(cert.public_key())


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
