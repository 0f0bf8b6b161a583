"""Build the verified chain: from what a server sent to a root the trust store holds.

    store = load_trust_store(config.trust)        # certifi's roots, or trust.ca_file
    chain = build_verified_chain(served, store, "api.example.com", at)
    # -> [leaf, intermediate..., root]; raises UntrustedChain saying why not
    levels(chain)                                  # [Level.LEAF, ..., Level.ROOT]

The server's chain is taken without trusting it (see pingen.pki.fetch); trust is decided
here, with cryptography's Web PKI verifier, at a chosen time (`at` may lie in the past
for recorded chains, `verify --chain --at`). The root usually is not sent by the
server: it comes from the store, so root pins can match it.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from pingen import hosts
from pingen.errors import ConfigError, Location, display_path
from pingen.model import Level, Trust
from pingen.pki.sources import SourceError, read_small_file

MAX_CHAIN_DEPTH = 8


class UntrustedChain(Exception):
    """The served chain does not verify; `reason` says why, for a person.
    `no_anchor`: no root of the trust store issued it, the one case where adding
    a root (--ca-file) could help."""

    def __init__(self, reason: str, *, no_anchor: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.no_anchor = no_anchor


@dataclass(frozen=True)
class TrustStore:
    store: Store
    roots: tuple[x509.Certificate, ...]
    description: str  # "certifi's Mozilla roots" or the CA file's path

    def holds(self, cert: x509.Certificate) -> bool:
        return any(root == cert for root in self.roots)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in PEM `data` (any number), or the one DER certificate."""

    if b"-----BEGIN" in data:
        with warnings.catch_warnings():
            # certifi still ships a few roots with non-positive serial numbers
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return list(x509.load_pem_x509_certificates(data))
    return [x509.load_der_x509_certificate(data)]


def read_chain_file(path: Path) -> list[x509.Certificate]:
    """The certificates of a chain file given on the command line (PEM, leaf first, or
    one DER certificate); ConfigError at the file when it holds none."""

    try:
        data = read_small_file(path, "chain file")
    except SourceError as error:
        reason = str(error).removeprefix(f"{path}: ")
        raise ConfigError(f"cannot read the chain file: {reason}", Location(path)) from None
    try:
        certs = load_certificates(data)
    except ValueError as error:
        if b"-----BEGIN" not in data:  # neither PEM nor DER: say what a chain file is
            certs = []
        else:
            reason = str(error).split(". See ")[0]  # cryptography appends a FAQ link
            raise ConfigError(
                f"not a certificate chain ({reason}); give PEM certificates, leaf first",
                Location(path),
            ) from None
    if not certs:
        raise ConfigError(
            "holds no certificate; give PEM certificates, leaf first (or one DER certificate)",
            Location(path),
        )
    return certs


def load_trust_store(trust: Trust, *, named: str = "trust.ca_file") -> TrustStore:
    """The roots chains are built to: `trust.ca_file`, else certifi's Mozilla store.

    `named` is how messages call the CA file: the config key, or the flag (`--ca-file`)
    it came from. A file is read again only when it changed (its mtime)."""
    if trust.ca_file is None:
        return _certifi_store()
    path = Path(trust.ca_file)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise ConfigError(
            f"{named} cannot be read ({error.strerror}); point it at a PEM file of "
            "root certificates",
            Location(path),
        ) from None
    return _cached_store(str(path), stamp, named)


@lru_cache(maxsize=1)
def certifi_roots() -> tuple[x509.Certificate, ...]:
    """certifi's Mozilla roots, parsed once per process (the default trust store and the
    catalog's Mozilla index both read them)."""
    import certifi

    return tuple(load_certificates(Path(certifi.where()).read_bytes()))


@lru_cache(maxsize=1)
def _certifi_store() -> TrustStore:

    roots = certifi_roots()
    return TrustStore(Store(list(roots)), roots, "certifi's Mozilla roots")


@lru_cache(maxsize=8)
def _cached_store(path: str, _stamp: int, named: str) -> TrustStore:

    return _store_from_file(path, str(display_path(Path(path))), named)


def _store_from_file(path: str, description: str, named: str) -> TrustStore:

    try:  # like a `file:` pin: a regular file of at most 1 MiB
        roots = load_certificates(read_small_file(Path(path), "PEM file of root certificates"))
    except SourceError as error:
        raise ConfigError(
            f"{named}: {str(error).removeprefix(f'{path}: ')}", Location(Path(path))
        ) from None
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"{named} holds no readable certificates ({error}); it must be PEM root certificates",
            Location(Path(path)),
        ) from None
    if not roots:
        raise ConfigError(f"{named} holds no certificates", Location(Path(path)))
    return TrustStore(Store(roots), tuple(roots), description)


def build_verified_chain(
    served: Sequence[x509.Certificate],
    store: TrustStore,
    host: str | None,
    at: dt.datetime,
) -> list[x509.Certificate]:
    """The chain from the served leaf to a trusted root (leaf first, root last).

    `served` is leaf first, as a server sends it; the other certificates are only
    candidates for intermediates (order and extras do not matter). `host` is checked
    against the leaf's names (None: the leaf's first DNS name). Raises UntrustedChain.
    """

    if not served:
        raise UntrustedChain("the server sent no certificate")
    at = as_utc(at)
    leaf, *others = served
    _check_validity(leaf, at)
    subject = _subject(host or _first_dns_name(leaf))
    key = (id(store.store), at, tuple(others))
    shared = _VERIFIED_ISSUERS.get(key)
    if shared is not None and shared.store is store.store:
        chain = _verify_under(leaf, shared, subject, at)
        if chain is not None:
            return chain
    try:
        chain = list(_verifier(store.store, subject, at).verify(leaf, others))
    except VerificationError as error:
        reason, no_anchor = _explain(served, store, host, error)
        raise UntrustedChain(reason, no_anchor=no_anchor) from None
    if len(chain) > 2:
        if len(_VERIFIED_ISSUERS) >= 4096:  # a long-lived process: forget old runs
            _VERIFIED_ISSUERS.clear()
        _VERIFIED_ISSUERS[key] = _VerifiedPath(store.store, tuple(chain[1:]))
    return chain


# Hosts behind one CA serve the same intermediates: the path from the issuing
# intermediate to the root, verified once (as of one time, against one store), is
# reused for every leaf served with them, and only the leaf is verified again, under
# that intermediate. Keyed by the store object, the time and the served certificates.
@dataclass(frozen=True)
class _VerifiedPath:
    store: Store  # the store it was verified against (kept: the cache is keyed by its id)
    tail: tuple[x509.Certificate, ...]  # the issuing intermediate first, the root last

    @cached_property
    def issuer(self) -> Store:
        """The issuing intermediate alone, as the anchor a leaf is verified under."""

        return Store([self.tail[0]])


_VERIFIED_ISSUERS: dict[tuple[int, dt.datetime, tuple[x509.Certificate, ...]], _VerifiedPath] = {}


def _verifier(
    store: Store, subject: x509.verification.Subject, at: dt.datetime
) -> x509.verification.ServerVerifier:

    return (
        PolicyBuilder()
        .store(store)
        .time(at)
        .max_chain_depth(MAX_CHAIN_DEPTH)
        .build_server_verifier(subject)
    )


def _verify_under(
    leaf: x509.Certificate, path: _VerifiedPath, subject: x509.verification.Subject, at: dt.datetime
) -> list[x509.Certificate] | None:
    """The verified chain of `leaf` through `path` (verified already), or None when the
    leaf is not valid under its issuing intermediate (another issuer, a bad signature,
    another name): the full verification then says why."""

    try:
        verified = _verifier(path.issuer, subject, at).verify(leaf, [])
    except VerificationError:
        return None
    return [verified[0], *path.tail]


def levels(chain: Sequence[x509.Certificate]) -> list[Level]:
    """Leaf first, root last: the level of each certificate of a verified chain."""
    if not chain:
        return []
    if len(chain) == 1:
        return [Level.LEAF]
    return [Level.LEAF, *[Level.INTERMEDIATE] * (len(chain) - 2), Level.ROOT]


def served_levels(served: Sequence[x509.Certificate]) -> list[Level]:
    """Levels of an unverified chain: leaf first; a self-signed CA at the end is a root."""
    result = [Level.LEAF] + [Level.INTERMEDIATE] * (len(served) - 1)
    if len(served) > 1 and served[-1].issuer == served[-1].subject:
        result[-1] = Level.ROOT
    return result[: len(served)]


def as_utc(at: dt.datetime) -> dt.datetime:
    """`at`, read as UTC when it names no time zone (certificate times are UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer`'s key signed `cert` (names and signature; not dates or trust)."""

    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _check_validity(leaf: x509.Certificate, at: dt.datetime) -> None:
    when = at.date().isoformat()
    if leaf.not_valid_after_utc < at:
        raise UntrustedChain(
            f"the leaf certificate expired on {leaf.not_valid_after_utc.date().isoformat()} "
            f"(judged as of {when}); the server must renew it"
        )
    if leaf.not_valid_before_utc > at:
        raise UntrustedChain(
            f"the leaf certificate is not valid before "
            f"{leaf.not_valid_before_utc.date().isoformat()} (judged as of {when})"
        )


def _first_dns_name(leaf: x509.Certificate) -> str:
    names = dns_names(leaf)
    if not names:
        raise UntrustedChain("the leaf certificate names no DNS host (in a subjectAltName)")
    return names[0].removeprefix("*.")


def _subject(host: str) -> x509.verification.Subject:

    ip = hosts.ip_address(host)  # an IP literal (IPv6 may end in a letter: 2001:db8::beef)
    return x509.DNSName(host) if ip is None else x509.IPAddress(ip)


def _explain(
    served: Sequence[x509.Certificate], store: TrustStore, host: str | None, error: Exception
) -> tuple[str, bool]:
    """Why the verifier refused the chain, for a person; and whether no root of the
    store anchors it."""
    detail = _verifier_detail(error)
    if "no matching subjectAltName" in detail:
        names = ", ".join(dns_names(served[0])) or "none"
        return f"the leaf certificate does not cover {host} (it names: {names})", False
    if "subjectAltName MUST NOT be critical" in detail:
        # RFC 5280 section 4.2.1.6: the SAN extension is critical only when the subject
        # is empty; clients that follow it (cryptography's verifier, Go) refuse the leaf.
        return (
            "the leaf certificate's subjectAltName is marked critical while its subject "
            "is not empty, which RFC 5280 (4.2.1.6) forbids and strict verifiers (pingen's, "
            "Go's) refuse: reissue it with a non-critical subjectAltName (or an empty "
            "subject)"
        ), False
    top = served[-1]
    anchored = any(root.subject == top.issuer for root in store.roots) or store.holds(top)
    if not anchored:
        return (
            f"no root in the trust store ({store.description}) issued "
            f"{top.issuer.rfc4514_string()!r}: the server sends an incomplete chain or one "
            "from a CA the store does not trust"
        ), True
    return f"the chain does not verify against {store.description}: {detail}", False


def _verifier_detail(error: Exception) -> str:
    """The verifier's reason without its prefix and the certificate's repr."""
    detail = str(error).removeprefix("validation failed: ")
    return detail.split(" (encountered processing ", 1)[0]


def dns_names(item: x509.Certificate | x509.CertificateSigningRequest) -> tuple[str, ...]:
    """The DNS names in its subjectAltName, lower case; none without one."""

    try:
        names = item.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(name.lower() for name in names.get_values_for_type(x509.DNSName))
