"""Pin sources: read certificates, keys and CSRs (PEM or DER) and say what they pin.

Used by the loader for `file:` pins and by `pingen pin`. Every problem is a
`SourceError` with a message that says what to do; the caller adds the location.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pingen.errors import first_line
from pingen.model import Level
from pingen.spki import KeyType, key_type_of, pin_of_certificate, pin_of_public_key

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

MAX_KEY_FILE_BYTES = 1024 * 1024

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


class SourceError(Exception):
    """A key file that cannot be pinned; the message says why and what to do."""


@dataclass(frozen=True)
class KeyInfo:
    """One pinnable key found in a file."""

    sha256: str
    kind: str  # "certificate", "public key", "private key", "CSR"
    level: Level
    key: KeyType
    subject: str | None = None  # certificates and CSRs
    not_after: dt.datetime | None = None  # certificates

    @property
    def is_private_key(self) -> bool:
        return self.kind == "private key"

    @property
    def key_type(self) -> str:
        """For people: "RSA-2048", "EC P-256", "Ed25519", ..."""
        return str(self.key)


def read_key_file(path: Path, *, streams: bool = False) -> list[KeyInfo]:
    """Every key in `path`: one for a key or CSR, one per certificate in a bundle.

    `streams`: also read a pipe or device (`/dev/stdin`, `<(openssl ...)`), up to the
    same size cap; only for a file the user names on the command line.
    """
    data = read_small_file(path, "certificate or key file", streams=streams)
    return keys_in(data, path)


def keys_in(data: bytes, source: Path | str) -> list[KeyInfo]:
    """Every key in `data`, read from `source`; SourceError("SOURCE: why not")."""
    if not data.strip():
        raise SourceError(
            f"{source}: an empty file; it should hold a certificate, public key or CSR (PEM or DER)"
        )
    try:
        keys = read_key_bytes(data)
    except SourceError as error:
        raise SourceError(f"{source}: {error}") from None
    if not keys:
        raise SourceError(
            f"{source}: holds no certificate, public key, private key or CSR (PEM or DER)"
        )
    return keys


def read_small_file(path: Path, what: str, *, streams: bool = False) -> bytes:
    """The bytes of a certificate, key or chain file the user named (at most 1 MiB), or
    SourceError("PATH: why not"); `what` names what the file should be. `streams`
    also admits pipes and devices (read up to the cap, so /dev/zero ends too)."""
    try:
        # Check the kind before opening: opening a FIFO blocks, and a device such as
        # /dev/zero never ends.
        kind = path.stat().st_mode
        if stat.S_ISDIR(kind):
            raise SourceError(f"{path}: is a folder, not a {what}")
        stream = stat.S_ISFIFO(kind) or stat.S_ISCHR(kind)
        if not (stat.S_ISREG(kind) or (streams and stream)):
            raise SourceError(
                f"{path}: not a regular file (a device, FIFO or socket); name a {what}"
            )
        data = _read_capped(path)
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot read it ({error.strerror})") from None
    except ValueError:  # a NUL character in the name
        shown = str(path).replace("\0", "\\0")
        raise SourceError(f"{shown}: a file name cannot hold a NUL character") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise SourceError(f"{path}: larger than 1 MiB; that is no {what}")
    return data


def _read_capped(path: Path) -> bytes:
    """Up to 1 MiB and a byte. Opened non-blocking, so a FIFO that nobody writes to
    reads as empty instead of blocking; then read normally, to the end or the cap."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read(MAX_KEY_FILE_BYTES + 1)
    finally:
        os.close(fd)


def read_key_bytes(data: bytes) -> list[KeyInfo]:
    blocks = _PEM_BLOCK.findall(data)
    if blocks:
        return [info for label, body in blocks if (info := _read_pem_block(label, data, body))]
    if b"-----BEGIN" in data:
        raise SourceError("a PEM block is cut short or malformed (BEGIN without matching END)")
    return [_read_der(data)]


def _read_pem_block(label: bytes, data: bytes, body: bytes) -> KeyInfo | None:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    kind = label.decode("ascii")
    pem = b"-----BEGIN %s-----\n%s-----END %s-----\n" % (label, body, label)
    try:
        if kind in ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"):
            return certificate_info(x509.load_pem_x509_certificate(pem))
        if kind in ("PUBLIC KEY", "RSA PUBLIC KEY"):
            return _key_info(serialization.load_pem_public_key(pem), "public key")
        if kind in ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"):
            return _csr_info(x509.load_pem_x509_csr(pem))
        if kind == "ENCRYPTED PRIVATE KEY" or b"ENCRYPTED" in body[:200]:
            raise SourceError(_ENCRYPTED_KEY)
        if kind.endswith("PRIVATE KEY"):
            key = serialization.load_pem_private_key(pem, password=None)
            return _key_info(key.public_key(), "private key")
    except SourceError:
        raise
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise SourceError(f"the {kind} block cannot be read: {first_line(error)}") from None
    return None  # other PEM blocks (EC PARAMETERS, DH PARAMETERS) carry no key


_ENCRYPTED_KEY = (
    "an encrypted private key: pingen does not ask for passphrases. Pin its public key "
    "instead (`openssl pkey -in KEY -pubout -out KEY.pub.pem`)"
)


def _read_der(data: bytes) -> KeyInfo:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    readers: tuple[Callable[[], KeyInfo], ...] = (
        lambda: certificate_info(x509.load_der_x509_certificate(data)),
        lambda: _key_info(serialization.load_der_public_key(data), "public key"),
        lambda: _csr_info(x509.load_der_x509_csr(data)),
    )
    for read in readers:
        try:
            return read()
        except (ValueError, TypeError):
            continue
        except UnsupportedAlgorithm as error:  # well-formed, but of a key type unknown here
            raise SourceError(f"a key pingen cannot read: {first_line(error)}") from None
    try:
        key = serialization.load_der_private_key(data, password=None)
    except TypeError:
        raise SourceError(_ENCRYPTED_KEY) from None
    except ValueError:
        raise SourceError(
            "neither PEM nor a DER certificate, public key, private key or CSR"
        ) from None
    except UnsupportedAlgorithm as error:
        raise SourceError(f"a key pingen cannot read: {first_line(error)}") from None
    return _key_info(key.public_key(), "private key")


def certificate_info(cert: x509.Certificate) -> KeyInfo:
    return KeyInfo(
        sha256=pin_of_certificate(cert),
        kind="certificate",
        level=certificate_level(cert),
        key=key_type_of(cert.public_key()),
        subject=common_name(cert.subject),
        not_after=cert.not_valid_after_utc,
    )


def _csr_info(csr: x509.CertificateSigningRequest) -> KeyInfo:
    return KeyInfo(
        sha256=pin_of_public_key(csr.public_key()),
        kind="CSR",
        level=Level.LEAF,
        key=key_type_of(csr.public_key()),
        subject=common_name(csr.subject),
    )


def _key_info(key: PublicKeyTypes, kind: str) -> KeyInfo:
    return KeyInfo(sha256=pin_of_public_key(key), kind=kind, level=Level.LEAF, key=key_type_of(key))


def certificate_level(cert: x509.Certificate) -> Level:
    """root: a self-issued CA certificate; intermediate: any other CA; else leaf."""
    from cryptography import x509

    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        return Level.LEAF
    return Level.ROOT if cert.subject == cert.issuer else Level.INTERMEDIATE


def common_name(name: x509.Name) -> str:
    from cryptography.x509.oid import NameOID

    for attribute in name.get_attributes_for_oid(NameOID.COMMON_NAME):
        value = attribute.value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return name.rfc4514_string()


def key_type(key: PublicKeyTypes) -> str:
    """For people: "RSA-2048", "EC P-256", "Ed25519", ..."""
    return str(key_type_of(key))
