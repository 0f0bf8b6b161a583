"""The `trustkit` output: a Swift enum holding TrustKit's (iOS) configuration dictionary.

Keys are written as the string values of TrustKit's `kTSK…` constants
(`TrustKit/TSKTrustKitConfig.m`), so the file compiles with or without `import TrustKit`
and can be checked here. TrustKit validates the dictionary in `parseTrustKitConfiguration`
and throws an NSException (a crash at app start) on what it refuses; every such rule is
checked here first and reported as a ConfigError that says what to change
(reference/platforms.md §3.3).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pingen.errors import ConfigError, Location
from pingen.model import Config, Domain, Output
from pingen.render import Rendering, bool_option, domain_fields, notice, string_option
from pingen.render.names import SWIFT_RESERVED, check_each, is_identifier, swift_identifier
from pingen.render.suffixes import is_public_suffix, public_suffix

TEMPLATE = "trustkit.swift.j2"
DEFAULT_NAME = "TrustKitConfig"

# RFC 3986 characters: NSURL's URLWithString: gives nil (TrustKit: "invalid report URI")
# for anything else on the iOS versions TrustKit supports.
_URI_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)


def context(config: Config, output: Output) -> Rendering:
    name = swift_enum_name(string_option(output, "name", DEFAULT_NAME), output)
    swizzle = bool_option(output, "swizzle_network_delegates", False)
    default_report_uri = bool_option(output, "default_report_uri", False)
    if not config.domains:
        raise ConfigError(
            "TrustKit refuses a configuration with no pinned domains (an exception at app "
            f"start): add a domain to pins.yaml or remove the trustkit output "
            f"({output.path.as_posix()})",
            output.location,
        )
    check_each(config.domains, lambda domain: check_domain(domain, output))
    return Rendering(
        context={
            "notice": notice(config),
            "name": name,
            "swizzle_network_delegates": swizzle,
            "disable_default_report_uri": not default_report_uri,
            "domains": [domain_context(domain) for domain in config.domains],
        }
    )


def swift_enum_name(text: str, output: Output) -> str:
    if not is_identifier(text) or text in SWIFT_RESERVED or text == "String":
        raise ConfigError(
            f"`name: {text}` is not a usable Swift type name: use ASCII letters, digits and "
            f"`_`, not starting with a digit, and not Any, Self, Type, Protocol or String "
            f"(default {DEFAULT_NAME})",
            output.location,
        )
    return swift_identifier(text)


def check_domain(domain: Domain, output: Output) -> None:
    """Apply the rules of TrustKit's parse_configuration.m to one domain."""
    where = domain.location or output.location
    host = domain.host
    if public_suffix(host) is None:
        raise ConfigError(
            f"TrustKit refuses {host} (\"invalid domain\"): its top-level domain is not in "
            "the Public Suffix List; pin a public host name, or remove the trustkit output",
            where,
        )
    if domain.include_subdomains and is_public_suffix(host):
        raise ConfigError(
            f"TrustKit refuses `include_subdomains: true` on {host}: it is a public suffix, "
            "so it would pin other people's domains; pin your own domain under it instead",
            where,
        )
    check_pins(domain, where)
    for uri in domain.report_uris:
        check_report_uri(uri, host, where)


def check_pins(domain: Domain, where: Location | None) -> None:
    for pin in domain.pins:
        if not _is_sha256(pin.sha256):
            raise ConfigError(
                f"TrustKit refuses the pin {pin.sha256!r} of {domain.host}: a pin must be "
                "standard base64 of 32 bytes (a SHA-256 digest)",
                pin.location or where,
            )
    distinct = len(set(domain.pin_set.hashes))
    needed = 2 if domain.enforce else 1
    if distinct < needed:
        reason = (
            "at least two distinct pins when enforcing (a backup pin)" if domain.enforce
            else "at least one pin"
        )
        raise ConfigError(
            f"TrustKit refuses {domain.host} with {distinct} distinct pin(s): it needs "
            f"{reason}; add a backup key (`pingen keygen NAME`) or a second CA's pin",
            where,
        )


def _is_sha256(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def check_report_uri(uri: str, host: str, where: Location | None) -> None:
    scheme = uri.split(":", 1)[0].lower()
    if scheme not in ("http", "https") or not uri.isascii() or set(uri) - _URI_CHARACTERS:
        raise ConfigError(
            f"TrustKit cannot use the report URI {uri!r} of {host}: write an http(s) URL "
            "with URL characters only (percent-encode spaces and other characters)",
            where,
        )


def domain_context(domain: Domain) -> dict[str, Any]:
    pins = [{"value": pin.sha256, "label": pin.label} for pin in domain.pins]
    return {**domain_fields(domain), "pins": pins}
