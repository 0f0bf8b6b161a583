"""The `urlsession` output: native iOS pinning in one Swift file, Apple's frameworks only.

The file holds the policy table, a `URLSessionDelegate`, SPKI hashing and (with
`alamofire: true`) an Alamofire 5 evaluator and `ServerTrustManager`. What it does on a
connection is decided by one pure function, `decide`, whose Python mirror is
`decide` below; tests/render/test_render_urlsession.py keeps the two in step.

Platform facts the generated code relies on (each cited where it is used):
- iOS has no API returning a key's SubjectPublicKeyInfo, so the SPKI is rebuilt as a
  fixed DER header per key type followed by `SecKeyCopyExternalRepresentation`'s bytes
  (PKCS#1 RSAPublicKey for RSA, the X9.63 uncompressed point for EC), as TrustKit does
  (datatheorem/TrustKit@3.0.7:TrustKit/Pinning/TSKSPKIHashCache.m). The RSA headers
  count the lengths of a 65537 exponent: a pin of another exponent is refused here.
- Host matching: the exact host, else the longest listed parent with
  include_subdomains, at any depth (TrustKit: datatheorem/TrustKit@3.0.7:TrustKit/
  configuration_utils.m `getPinningConfigurationKeyForDomain`; Android's network
  security config: `ApplicationConfig.getConfigForHostname`), not OkHttp's pooling of
  every matching pattern.
- Expiry: pinning stops at 00:00 UTC on the expiry date (TrustKit's TSKExpirationDate is
  read in UTC), and an unlisted or expired host gets the system's default handling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pingen.errors import ConfigError
from pingen.model import Config, Domain, Output, Pin
from pingen.render import Rendering, bool_option, domain_fields, notice, string_option
from pingen.render.capability import Findings, pin_comment
from pingen.render.names import SWIFT_RESERVED, is_identifier, swift_identifier
from pingen.render.okhttp import expiry_millis
from pingen.render.trustkit import is_http_url
from pingen.spki import KeyType

TEMPLATE = "urlsession.swift.j2"
DEFAULT_NAME = "PinnedTrust"
DEFAULT_MINIMUM_IOS = 13
# SecTrustEvaluateWithError and SecCertificateCopyKey: iOS 12.
LOWEST_MINIMUM_IOS = 12
# CryptoKit's SHA256: iOS 13; SecTrustCopyCertificateChain: iOS 15.
CRYPTOKIT_IOS = 13
CERTIFICATE_CHAIN_IOS = 15
# Type names the generated file declares after the `name:` prefix.
DECLARED_SUFFIXES = ("", "Delegate", "Evaluator", "ServerTrustManager")
# Names the generated file declares inside its namespace enum.
NESTED_NAMES = frozenset(
    {"Policy", "Violation", "Decision", "Failure", "SPKIHeader", "ReportLimiter"}
)
# Names the generated file takes from Swift, Apple's frameworks and Alamofire,
# unqualified: a type of the user's name must not shadow one of them (tests keep this
# list a superset of what the template uses).
FOREIGN_NAMES = frozenset(
    {
        "Alamofire",
        "AFError",
        "Any",
        "Bool",
        "Bundle",
        "CC_LONG",
        "CC_SHA256",
        "CC_SHA256_DIGEST_LENGTH",
        "CFString",
        "CommonCrypto",
        "CryptoKit",
        "Data",
        "Date",
        "DefaultTrustEvaluator",
        "Dictionary",
        "Equatable",
        "Error",
        "Foundation",
        "Int",
        "ISO8601DateFormatter",
        "JSONSerialization",
        "NSLock",
        "NSObject",
        "NSURLAuthenticationMethodServerTrust",
        "SHA256",
        "SecCertificate",
        "SecCertificateCopyKey",
        "SecKeyCopyAttributes",
        "SecKeyCopyExternalRepresentation",
        "SecPolicyCreateSSL",
        "SecTrust",
        "SecTrustCopyCertificateChain",
        "SecTrustEvaluateWithError",
        "SecTrustGetCertificateAtIndex",
        "SecTrustGetCertificateCount",
        "SecTrustSetPolicies",
        "Security",
        "Sendable",
        "ServerTrustEvaluating",
        "ServerTrustManager",
        "Session",
        "String",
        "Substring",
        "UInt8",
        "URL",
        "URLAuthenticationChallenge",
        "URLCredential",
        "URLRequest",
        "URLSession",
        "URLSessionDelegate",
        "Void",
        "errSecSuccess",
        "kSecAttrKeySizeInBits",
        "kSecAttrKeyType",
        "kSecAttrKeyTypeECSECPrimeRandom",
        "kSecAttrKeyTypeRSA",
    }
)


@dataclass(frozen=True)
class SpkiHeader:
    """A key type the generated file can hash, and how iOS describes it."""

    key_type: KeyType  # the pin model's key type (65537 exponent for RSA)
    name: str  # "RSA 2048", "EC P-256"
    sec_key_type: str  # the kSecAttrKeyType constant's Swift name
    bits: int  # kSecAttrKeySizeInBits
    key_length: int  # bytes of SecKeyCopyExternalRepresentation the header's lengths count
    header: bytes  # DER SubjectPublicKeyInfo up to the external representation

    def swift_bytes(self) -> list[str]:
        """The header as Swift `UInt8` literals, twelve to a line."""
        literals = [f"0x{byte:02x}" for byte in self.header]
        return [", ".join(literals[i : i + 12]) for i in range(0, len(literals), 12)]


_RSA = "kSecAttrKeyTypeRSA"
_EC = "kSecAttrKeyTypeECSECPrimeRandom"
# SEQUENCE { SEQUENCE { OID, parameters }, BIT STRING { 0 unused bits, key } }: RSA's
# parameters are NULL (RFC 3279 §2.3.1), EC's the named curve (RFC 5480 §2.1.1).
SPKI_HEADERS: tuple[SpkiHeader, ...] = (
    SpkiHeader(
        KeyType("rsa", 2048),
        "RSA 2048",
        _RSA,
        2048,
        270,
        bytes.fromhex("30820122300d06092a864886f70d01010105000382010f00"),
    ),
    SpkiHeader(
        KeyType("rsa", 3072),
        "RSA 3072",
        _RSA,
        3072,
        398,
        bytes.fromhex("308201a2300d06092a864886f70d01010105000382018f00"),
    ),
    SpkiHeader(
        KeyType("rsa", 4096),
        "RSA 4096",
        _RSA,
        4096,
        526,
        bytes.fromhex("30820222300d06092a864886f70d01010105000382020f00"),
    ),
    SpkiHeader(
        KeyType("ec", 256, "p256"),
        "EC P-256",
        _EC,
        256,
        65,
        bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200"),
    ),
    SpkiHeader(
        KeyType("ec", 384, "p384"),
        "EC P-384",
        _EC,
        384,
        97,
        bytes.fromhex("3076301006072a8648ce3d020106052b81040022036200"),
    ),
    SpkiHeader(
        KeyType("ec", 521, "p521"),
        "EC P-521",
        _EC,
        521,
        133,
        bytes.fromhex("30819b301006072a8648ce3d020106052b8104002303818600"),
    ),
)
_HEADER_OF = {header.key_type: header for header in SPKI_HEADERS}


def context(config: Config, output: Output) -> Rendering:
    prefix = type_name_prefix(string_option(output, "name", DEFAULT_NAME), output)
    alamofire = bool_option(output, "alamofire", False)
    minimum_ios = minimum_ios_option(output)
    findings = Findings(output)
    headers = needed_headers(config.domains, findings)
    for domain in config.domains:
        check_report_uris(domain, findings)
    findings.raise_errors()
    return Rendering(
        context={
            "notice": notice(config),
            "name": swift_identifier(prefix),
            "prefix": prefix,
            "alamofire": alamofire,
            "minimum_ios": minimum_ios,
            "cryptokit": minimum_ios >= CRYPTOKIT_IOS,
            "chain_api_only": minimum_ios >= CERTIFICATE_CHAIN_IOS,
            "key_types": [header_context(h) for h in headers],
            "domains": [domain_context(d) for d in sorted(config.domains, key=lambda d: d.host)],
        },
        warnings=findings.warnings,
    )


# -- options -------------------------------------------------------------------------------


def type_name_prefix(text: str, output: Output) -> str:
    """`name:` prefixes every type the file declares; none may shadow a name it uses."""
    declared = {text + suffix for suffix in DECLARED_SUFFIXES}
    clash = declared & (FOREIGN_NAMES | SWIFT_RESERVED | NESTED_NAMES)
    if not is_identifier(text) or clash:
        raise ConfigError(
            f"`name: {text}` is not a usable prefix of Swift type names: use ASCII letters, "
            "digits and `_`, not starting with a digit, and no name the file uses from "
            f"Swift, Apple's frameworks or Alamofire (default {DEFAULT_NAME})",
            output.location,
        )
    return text


def minimum_ios_option(output: Output) -> int:
    value = output.options.get("minimum_ios", DEFAULT_MINIMUM_IOS)
    if value is None:
        return DEFAULT_MINIMUM_IOS
    if isinstance(value, bool) or not isinstance(value, int) or not 12 <= value <= 99:
        raise ConfigError(
            f"`minimum_ios: {value}` of the urlsession output must be a whole iOS version, "
            f"at least {LOWEST_MINIMUM_IOS} (SecTrustEvaluateWithError and "
            f"SecCertificateCopyKey need iOS 12); default {DEFAULT_MINIMUM_IOS}",
            output.location,
        )
    return value


# -- key types -----------------------------------------------------------------------------


def needed_headers(domains: Sequence[Domain], findings: Findings) -> list[SpkiHeader]:
    """The headers the file carries: those of the pins' key types; all of them when a pin's
    key type is unknown (a bare `sha256:` without `key:`), so that pin still matches if it
    is one of them. A pin of a key type the file cannot hash is an error: it could never
    match, so a backup key of that type would not save the app at a rotation."""
    for domain in domains:
        for pin in domain.pins:
            if pin.key is not None and not hashes(pin.key):
                findings.error(unhashable(domain, pin, pin.key), pin.location or domain.location)
    unknown = [d for d in domains if any(p.key is None for p in d.pins)]
    findings.warn_domains(
        unknown,
        "{hosts}: the key type of some pins is unknown (a `sha256:` without `key:`), so the "
        "file carries the SPKI headers of every key type it can hash (" + _HASHABLE + "); a "
        "pin of another key type would never match: add `key:` to such pins",
    )
    if unknown:
        return list(SPKI_HEADERS)
    used = {p.key for d in domains for p in d.pins}
    return [header for header in SPKI_HEADERS if header.key_type in used]


_HASHABLE = "RSA 2048/3072/4096 with exponent 65537, EC P-256/P-384/P-521"


def hashes(key: KeyType | None) -> bool:
    """Whether the generated Swift can hash a key of this type (None: unknown, assumed so)."""
    return key is None or key in _HEADER_OF


def unhashable(domain: Domain, pin: Pin, key: KeyType) -> str:
    what = f"{pin.label!r} ({pin.sha256})" if pin.label else pin.sha256
    if key.algorithm == "rsa" and key.exponent is not None and key.bits in (2048, 3072, 4096):
        reason = (
            f"its RSA exponent is {key.exponent}, and the file's fixed DER header "
            "counts the lengths of exponent 65537"
        )
    else:
        reason = f"iOS cannot hash a {key} key here (the file hashes {_HASHABLE})"
    return (
        f"{domain.host}: the pin {what} could never match on iOS: {reason}. Pin a key of "
        "a type the file hashes (e.g. a new `pingen keygen` key) or the CA's key instead"
    )


def header_context(key_type: SpkiHeader) -> dict[str, Any]:
    return {
        "name": key_type.name,
        "sec_key_type": key_type.sec_key_type,
        "bits": key_type.bits,
        "key_length": key_type.key_length,
        "header_length": len(key_type.header),
        "bytes": key_type.swift_bytes(),
    }


# -- domains -------------------------------------------------------------------------------


def check_report_uris(domain: Domain, findings: Findings) -> None:
    for uri in domain.report_uris:
        if not is_http_url(uri):
            findings.error(
                f"{domain.host}: the report URI {uri!r} is not an http(s) URL that "
                "Foundation's URL(string:) reads: write one with URL characters only "
                "(percent-encode spaces and other characters)",
                domain.location,
            )


def domain_context(domain: Domain) -> dict[str, Any]:
    expires = domain.expires
    return {
        **domain_fields(domain),
        "expires_seconds": expiry_millis(expires) // 1000 if expires else None,
        "pins": [{"value": p.sha256, "comment": pin_comment(p)} for p in domain.pins],
    }


# -- the decision, mirrored from the generated Swift ---------------------------------------


@dataclass(frozen=True)
class Violation:
    host: str
    policy_host: str
    served_pins: tuple[str, ...]
    expected_pins: tuple[str, ...]
    enforced: bool


@dataclass(frozen=True)
class Decision:
    """`kind` is the Swift case: notPinned, untrusted, pinned, refused or reportOnly."""

    kind: str
    violation: Violation | None = None


def policy_for_host(domains: Sequence[Domain], host: str) -> Domain | None:
    """`policy(forHost:)` of the generated Swift, step by step (same comments)."""
    by_host = {d.host: d for d in domains}
    # Compare as pins.yaml writes hosts: lower case, without a trailing dot.
    name = host.lower()[:-1] if host.endswith(".") else host.lower()
    # The host's own policy wins, whatever its includeSubdomains.
    if name in by_host:
        return by_host[name]
    # Else drop one leading label at a time: the nearest parent with includeSubdomains.
    rest = name
    while "." in rest:
        rest = rest[rest.index(".") + 1 :]
        parent = by_host.get(rest)
        if parent is not None and parent.include_subdomains:
            return parent
    # No policy: the host is not pinned.
    return None


def decide(
    domains: Sequence[Domain],
    host: str,
    now: dt.datetime,
    system_trusts: Callable[[], bool],
    served_pins: Callable[[], Sequence[str]],
) -> Decision:
    """`decide(host:now:systemTrusts:servedPins:)` of the generated Swift (same comments)."""
    # No policy for this host: the system decides, as if this file did not exist.
    policy = policy_for_host(domains, host)
    if policy is None:
        return Decision("notPinned")
    # An expired pin set stops at 00:00 UTC on its expiry date: the system decides (fail open).
    if policy.expires is not None and now >= expiry_instant(policy.expires):
        return Decision("notPinned")
    # A chain the system does not trust for this host is refused, report-only or not.
    if not system_trusts():
        return Decision("untrusted")
    # A certificate of the verified chain (leaf, intermediate or anchor) with a pinned key.
    served = tuple(served_pins())
    expected = policy.pin_set.hashes
    if any(pin in expected for pin in served):
        return Decision("pinned")
    # Otherwise a violation: refused when enforcing, reported and let through when not.
    violation = Violation(host, policy.host, served, expected, policy.enforce)
    return Decision("refused" if policy.enforce else "reportOnly", violation)


def expiry_instant(day: dt.date) -> dt.datetime:
    """00:00 UTC on `day`: the generated `Date(timeIntervalSince1970:)`."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
