"""Test PKI: roots, intermediates, leaves and cross-signs, built with `cryptography`.

Every certificate follows the Web PKI profile that `cryptography.x509.verification`
enforces (critical basicConstraints, keyUsage, AKI/SKI, SAN, serverAuth EKU), so the
resolver verifies them exactly as it verifies real chains.

    from tests.support.pki import CA, Identity, pem_of, write_pem

    root = CA.root("Test Root R1")                      # self-signed, EC P-256
    inter = root.intermediate("Test Issuing CA 1")      # signed by root
    leaf = inter.issue_leaf("api.example.test")         # SAN dNSName, serverAuth
    leaf.chain()          # [leaf, inter]           (as a server sends it: no root)
    leaf.chain(include_root=True)   # [leaf, inter, root]
    leaf.identity()       # Identity(chain=(leaf, inter), key=leaf.key) for servers.py
    root.pin, inter.pin, leaf.pin   # RFC 7469 pins (base64 SHA-256 of the SPKI)
    write_pem(tmp / "roots.pem", root.cert)             # a `trust: ca_file:`

Options:
- `key_type`: "ec-p256" (default, fast), "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096".
- `key=`: reuse an existing private key (a renewal that keeps the key; or a CA
  re-issued under a new name/root with the same key).
- `not_before=` / `not_after=` (aware datetimes) or `days=` for validity.
- `root.cross_sign(other_ca)`: a certificate for `other_ca`'s subject and key, issued
  by `root` (as ISRG Root X2 is cross-signed by X1). Serve it with
  `Identity((leaf.cert, inter.cert, cross), leaf.key)`.
- `leaf.renewed(new_key=True)`: the same names from the same issuer, with a new key
  (rotation) or the old one (`new_key=False`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pingen.spki import pin_of_certificate

KeyType = Literal["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

DEFAULT_DAYS = 90
_CA_DAYS = 3650


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def new_key(key_type: KeyType = "ec-p256") -> PrivateKey:
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    bits = int(key_type.split("-")[1])
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _validity(
    not_before: dt.datetime | None, not_after: dt.datetime | None, days: int
) -> tuple[dt.datetime, dt.datetime]:
    start = not_before or (now() - dt.timedelta(days=1))
    end = not_after or (start + dt.timedelta(days=days))
    return start, end


@dataclass(frozen=True)
class _Issuer:
    name: x509.Name
    key: PrivateKey
    ski: x509.SubjectKeyIdentifier


def _ca_certificate(
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    issuer: _Issuer | None,
    signing_key: PrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    path_length: int | None,
) -> x509.Certificate:
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    aki_source = issuer.ski if issuer else ski
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.name if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(aki_source),
            critical=False,
        )
    )
    return builder.sign(signing_key, _hash_for(signing_key))


@dataclass
class CA:
    """A certificate authority: its certificate, its key, and who issued it."""

    cert: x509.Certificate
    key: PrivateKey
    issuer: CA | None = None  # None: a self-signed root
    children: list[CA] = field(default_factory=list, repr=False)

    @classmethod
    def root(
        cls,
        name: str = "pingen Test Root",
        *,
        key_type: KeyType = "ec-p256",
        key: PrivateKey | None = None,
        organization: str | None = "pingen tests",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        days: int = _CA_DAYS,
    ) -> CA:
        key = key or new_key(key_type)
        start, end = _validity(not_before, not_after, days)
        cert = _ca_certificate(
            _name(name, organization), key.public_key(), None, key, start, end, None
        )
        return cls(cert, key)

    def intermediate(
        self,
        name: str = "pingen Test Issuing CA",
        *,
        key_type: KeyType = "ec-p256",
        key: PrivateKey | None = None,
        organization: str | None = "pingen tests",
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        days: int = _CA_DAYS // 2,
        path_length: int | None = 0,
    ) -> CA:
        key = key or new_key(key_type)
        start, end = _validity(not_before, not_after, days)
        cert = _ca_certificate(
            _name(name, organization),
            key.public_key(),
            self._as_issuer(),
            self.key,
            start,
            end,
            path_length,
        )
        child = CA(cert, key, issuer=self)
        self.children.append(child)
        return child

    def cross_sign(
        self,
        other: CA,
        *,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        days: int = _CA_DAYS // 2,
    ) -> x509.Certificate:
        """A certificate for `other`'s subject and key, issued by this CA."""
        start, end = _validity(not_before, not_after, days)
        return _ca_certificate(
            other.cert.subject,
            other.key.public_key(),
            self._as_issuer(),
            self.key,
            start,
            end,
            None if other.issuer is None else 0,
        )

    def issue_leaf(
        self,
        *hosts: str,
        key_type: KeyType = "ec-p256",
        key: PrivateKey | None = None,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        days: int = DEFAULT_DAYS,
    ) -> Leaf:
        if not hosts:
            raise ValueError("a leaf needs at least one host name")
        key = key or new_key(key_type)
        start, end = _validity(not_before, not_after, days)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(hosts[0]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(x509.SubjectAlternativeName(_general_names(hosts)), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                    self._as_issuer().ski
                ),
                critical=False,
            )
            .sign(self.key, _hash_for(self.key))
        )
        return Leaf(cert, key, self, tuple(hosts))

    def _as_issuer(self) -> _Issuer:
        return _Issuer(
            self.cert.subject,
            self.key,
            x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
        )

    @property
    def lineage(self) -> list[CA]:
        """This CA and its issuers, up to the root."""
        cas: list[CA] = [self]
        while cas[-1].issuer is not None:
            cas.append(cas[-1].issuer)
        return cas

    @property
    def pin(self) -> str:
        return pin_of_certificate(self.cert)

    @property
    def pem(self) -> bytes:
        return pem_of([self.cert])

    @property
    def name(self) -> str:
        return str(self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def _general_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


@dataclass(frozen=True)
class Identity:
    """What a TLS server presents: the chain it sends (leaf first) and the leaf's key."""

    chain: tuple[x509.Certificate, ...]
    key: PrivateKey

    def chain_pem(self) -> bytes:
        return pem_of(self.chain)

    def key_pem(self) -> bytes:
        return key_pem(self.key)


@dataclass(frozen=True)
class Leaf:
    cert: x509.Certificate
    key: PrivateKey
    issuer: CA
    hosts: tuple[str, ...]

    def chain(self, *, include_root: bool = False) -> list[x509.Certificate]:
        """Leaf first, then the issuing CAs; the root only with include_root."""
        cas = self.issuer.lineage
        if not include_root:
            cas = [ca for ca in cas if ca.issuer is not None]
        return [self.cert, *(ca.cert for ca in cas)]

    def identity(self, *, include_root: bool = False) -> Identity:
        return Identity(tuple(self.chain(include_root=include_root)), self.key)

    def renewed(self, *, new_key: bool = True, days: int = DEFAULT_DAYS) -> Leaf:
        """The next certificate for the same hosts: a new key unless new_key=False."""
        key = None if new_key else self.key
        key_type: KeyType = "rsa-2048" if isinstance(self.key, rsa.RSAPrivateKey) else "ec-p256"
        return self.issuer.issue_leaf(*self.hosts, key=key, key_type=key_type, days=days)

    @property
    def pin(self) -> str:
        return pin_of_certificate(self.cert)

    @property
    def pem(self) -> bytes:
        return pem_of([self.cert])


def pem_of(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_pem(path: Path, *certs: x509.Certificate) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pem_of(certs))
    return path
