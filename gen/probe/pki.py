"""The certificates `pingen probe` serves: a throwaway probe CA and leaves it issues.

Every run makes a fresh CA (EC P-256) unless `--ca-dir` keeps one: its private key
is written with keygen's rules (mode 0600 from creation, never overwritten) and never
goes into a folder pins.yaml renders app files into. The leaf key of refuse mode is
fresh every run; in accept mode the leaf carries the public key of the user's
`--key`. (The server writes the leaf keys to its private temporary folder only,
because Python's `ssl` loads keys from files.)

Leaves follow what iOS and Android demand of a server certificate from a user-trusted
CA: a subjectAltName, serverAuth EKU, a validity of days (not years), and an issuer
that is a CA with keyCertSign.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pingen.author import keys
from pingen.pki.sources import SourceError, read_small_file
from pingen.spki import pin_of_public_key

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import (
        CertificateIssuerPrivateKeyTypes,
        PrivateKeyTypes,
    )

CA_NAME_PREFIX = "pingen probe CA"
CA_CERT_FILE = "probe-ca.pem"
CA_KEY_FILE = "probe-ca.key.pem"
FRESH_CA_DAYS = 2
KEPT_CA_DAYS = 825  # iOS refuses longer-lived certificates from user-trusted CAs
LEAF_DAYS = 7
_BACKDATE = dt.timedelta(hours=1)  # a device whose clock is a little behind still accepts


class ProbePkiError(Exception):
    """A CA folder or key file the probe cannot use; the message says what to do."""


@dataclass(frozen=True)
class ProbeCA:
    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    @property
    def pin(self) -> str:
        return pin_of_public_key(self.cert.public_key())

    def pem(self) -> bytes:

        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, names: list[str], key: PrivateKeyTypes, now: dt.datetime) -> x509.Certificate:
        """A server certificate for `names` (DNS names) carrying `key`'s public key."""

        # `key` is pingen's own or --key, whose pin pins.yaml must hold (commands.probe):
        # the key of a certificate, though PrivateKeyTypes also spans DH, X25519 and ML-DSA
        # keys, which cryptography would refuse here with a TypeError.
        public = key.public_key()
        is_rsa = isinstance(public, rsa.RSAPublicKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.cert.subject)
            .public_key(public)  # type: ignore[arg-type]  # a certificate's key: see above
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False, key_encipherment=is_rsa), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(public),  # type: ignore[arg-type]
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        return builder.sign(self.key, _digest_for(self.key))

    def intermediate(self, key: CertificateIssuerPrivateKeyTypes, now: dt.datetime) -> ProbeCA:
        """An intermediate CA for `key`, issued by this CA: accept mode's chain when the
        pinned key is a CA's (NSPinnedCAIdentities looks for it above the leaf)."""

        name = x509.Name(
            [
                x509.NameAttribute(
                    NameOID.COMMON_NAME, "pingen probe intermediate (the pinned test key)"
                ),
            ]
        )
        days = (self.cert.not_valid_after_utc - now).days
        cert = _ca_certificate(
            name, key, self, now, days=max(1, min(days, LEAF_DAYS)), path_length=0
        )
        return ProbeCA(cert, key)


def _digest_for(key: CertificateIssuerPrivateKeyTypes) -> hashes.SHA256 | None:
    """SHA-256, except for Ed25519/Ed448 keys, which sign without a separate hash."""

    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    return hashes.SHA256()


def issuer_key(key: PrivateKeyTypes) -> CertificateIssuerPrivateKeyTypes | None:
    """`key` if it can sign certificates (RSA, EC, Ed25519, Ed448), else None."""

    kinds = (
        rsa.RSAPrivateKey,
        ec.EllipticCurvePrivateKey,
        ed25519.Ed25519PrivateKey,
        ed448.Ed448PrivateKey,
    )
    return key if isinstance(key, kinds) else None


def _ca_certificate(
    name: x509.Name,
    key: CertificateIssuerPrivateKeyTypes,
    issuer: ProbeCA | None,
    now: dt.datetime,
    *,
    days: int,
    path_length: int,
) -> x509.Certificate:
    """A CA certificate for `key` named `name`, self-signed when `issuer` is None."""

    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(cert_sign=True, key_encipherment=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    signer = issuer.key if issuer else key
    return builder.sign(signer, _digest_for(signer))


def _key_usage(*, cert_sign: bool, key_encipherment: bool) -> x509.KeyUsage:

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def new_key() -> PrivateKeyTypes:

    return ec.generate_private_key(ec.SECP256R1())


def fresh_ca(now: dt.datetime, *, days: int = FRESH_CA_DAYS) -> ProbeCA:
    """A new self-signed CA whose name says what it is and is unique to this run."""

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{CA_NAME_PREFIX} {secrets.token_hex(4)}"),
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME,
                "pingen probe - for tests only - never trust in production",
            ),
        ]
    )
    # path length 1: accept mode may put an intermediate with the pinned key under it
    return ProbeCA(_ca_certificate(name, key, None, now, days=days, path_length=1), key)


def is_probe_ca(cert: x509.Certificate) -> bool:

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return bool(names) and str(names[0].value).startswith(CA_NAME_PREFIX)


def kept_ca(folder: Path, now: dt.datetime) -> tuple[ProbeCA, bool]:
    """The CA kept in `folder` (created there, mode 0700/0600, when it holds none).

    Returns the CA and whether it was created now.
    """

    cert_path, key_path = folder / CA_CERT_FILE, folder / CA_KEY_FILE
    present = [path for path in (cert_path, key_path) if os.path.lexists(path)]
    if len(present) == 2:
        return _read_kept(cert_path, key_path, now), False
    if present:
        missing = key_path if present[0] == cert_path else cert_path
        raise ProbePkiError(
            f"{present[0]} exists but {missing} does not: the probe CA is "
            f"kept as the pair; remove {present[0]} or restore {missing.name}"
        )
    ca = fresh_ca(now, days=KEPT_CA_DAYS)
    try:
        keys.make_folder(folder)
        keys.write_files(
            [
                (key_path, _private_pem(ca.key), keys.PRIVATE_MODE),
                (cert_path, ca.pem(), keys.PUBLIC_MODE),
            ]
        )
    except keys.KeyFileError as error:
        raise ProbePkiError(str(error)) from None
    return ca, True


def _private_pem(key: PrivateKeyTypes) -> bytes:

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _read_kept(cert_path: Path, key_path: Path, now: dt.datetime) -> ProbeCA:

    mode = os.lstat(key_path).st_mode
    if not stat.S_ISREG(mode):
        raise ProbePkiError(f"{key_path} is not a regular file")
    if mode & 0o077:
        raise ProbePkiError(
            f"{key_path} is readable by others (mode {stat.S_IMODE(mode):o}): "
            f"run `chmod 600 {key_path}`, or remove the --ca-dir folder to "
            "start a new probe CA"
        )
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as error:
        raise ProbePkiError(
            f"{cert_path.parent}: the kept probe CA does not load ({error}); "
            "remove the folder to start a new one"
        ) from None
    issuer = issuer_key(key)  # None for a key that signs no certificate (DH, X25519, …)
    if (
        issuer is None
        or not is_probe_ca(cert)
        or pin_of_public_key(key.public_key()) != pin_of_public_key(cert.public_key())
    ):
        raise ProbePkiError(
            f"{cert_path.parent} does not hold a probe CA made by pingen "
            "(certificate and key must be its pair); use another --ca-dir"
        )
    if cert.not_valid_after_utc <= now + dt.timedelta(days=LEAF_DAYS):
        raise ProbePkiError(
            f"the probe CA in {cert_path.parent} ends "
            f"{cert.not_valid_after_utc:%Y-%m-%d}: remove the folder to "
            "make a new one (and install the new CA on the devices)"
        )
    return ProbeCA(cert, issuer)


def read_private_key(path: Path) -> PrivateKeyTypes:
    """`--key FILE`: an unencrypted private key, PEM or DER."""

    try:
        data = read_small_file(path, "private key file")
    except SourceError as error:
        raise ProbePkiError(str(error)) from None
    loaders = (serialization.load_pem_private_key, serialization.load_der_private_key)
    for loader in loaders:
        try:
            return loader(data, password=None)
        except TypeError:
            raise ProbePkiError(
                f"{path}: the private key is encrypted; give the probe a "
                "decrypted copy of a dedicated test key"
            ) from None
        except (ValueError, UnsupportedAlgorithm):
            continue  # not this encoding
    raise ProbePkiError(
        f"{path}: holds no private key (PEM or DER); accept mode needs the "
        "private key of a key pins.yaml pins"
    )
