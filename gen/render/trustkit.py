"""The `trustkit` output: a Swift enum holding TrustKit's (iOS) configuration dictionary.

Keys are written as the string values of TrustKit's `kTSK…` constants
(`TrustKit/TSKTrustKitConfig.m`), so the file compiles with or without `import TrustKit`
and can be checked here. TrustKit validates the dictionary in `parseTrustKitConfiguration`
and throws an NSException (a crash at app start) on what it refuses; every such rule is
checked here first and reported as a ConfigError that says what to change
(datatheorem/TrustKit@c48790f306234926d66ed1eb04acf0c23b3df5a1:TrustKit/parse_configuration.m).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pingen.errors import ConfigError, Location, raise_together
from pingen.model import Config, Domain, Output, Pin, PinSource
from pingen.render import (
    Rendering,
    bool_option,
    domain_fields,
    notice,
    string_option,
    trustkit_rules,
)
from pingen.render.capability import Findings
from pingen.render.names import SWIFT_RESERVED, check_each, is_identifier, swift_identifier

TEMPLATE = "trustkit.swift.j2"
DEFAULT_NAME = "TrustKitConfig"

# RFC 3986 characters: NSURL's URLWithString: gives nil (TrustKit: "invalid report URI")
# for anything else on the iOS versions TrustKit supports.
_URI_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)


def context(config: Config, output: Output) -> Rendering:
    name = swift_enum_name(string_option(output, "name", DEFAULT_NAME), output)
    delegate = f"{name}.SessionDelegate"  # nested: a prefix could not spoil the name
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
    findings = Findings(output)
    warn_unknown_key_types(config.domains, findings, "TrustKit")
    # The loader fills every option's default in, so "left unset" is "not written".
    if "swizzle_network_delegates" not in output.option_locations:
        findings.warn(
            "`swizzle_network_delegates` is not set, so it is false: TrustKit pins nothing "
            f"until the app's URLSession delegate calls TSKPinningValidator. Give every "
            f"session {delegate}() from this file (its header shows the code), or "
            "set `swizzle_network_delegates: true`; set it to true or false to say which you "
            "chose. Sessions without a delegate (URLSession.shared) are never pinned"
        )
    return Rendering(
        context={
            "notice": notice(config),
            "name": name,
            "swizzle_network_delegates": swizzle,
            "delegate": delegate,
            "disable_default_report_uri": not default_report_uri,
            "minimum_version": version_lines(config.domains),
            "domains": [domain_context(domain) for domain in config.domains],
        },
        warnings=findings.warnings,
    )


def swift_enum_name(text: str, output: Output) -> str:
    if not is_identifier(text) or text in SWIFT_RESERVED or text == "String":
        raise ConfigError(
            f"`name: {text}` is not a usable Swift type name: use ASCII letters, digits and "
            f"`_`, not starting with a digit, and not Any, Self, Type, Protocol or String "
            f"(default {DEFAULT_NAME})",
            output.location_of("name"),
        )
    return swift_identifier(text)


def check_domain(domain: Domain, output: Output) -> None:
    """Apply the rules of TrustKit's parse_configuration.m to one domain."""
    where = domain.location or output.location
    refusal = trustkit_rules.ios_refusal(domain.host, domain.include_subdomains)
    if refusal:
        raise ConfigError(refusal, where)
    check_pins(domain, where)
    raise_together(
        [
            ConfigError(message, pin.location or where)
            for pin, message in unhashable_pins(domain, "TrustKit")
        ]
    )
    for uri in domain.report_uris:
        check_report_uri(uri, domain.host, where)


def unhashable_pins(domain: Domain, platform: str) -> list[tuple[Pin, str]]:
    """The pins of `domain` whose key TrustKit (iOS) can never match, each with the
    message that says so; `platform` names what runs TrustKit."""
    found = []
    for pin in domain.pins:
        why = trustkit_rules.hash_refusal(pin.key) if pin.key else None
        if why:
            name = f"`{pin.label}`" if pin.label else pin.sha256
            found.append(
                (
                    pin,
                    f"the pin {name} of {domain.host} can never match on iOS "
                    f"({platform}): {why}. Pin an RSA-2048/3072/4096 or EC "
                    "P-256/P-384 key instead (another key of the chain, or a "
                    "backup key of such a type)",
                )
            )
    return found


def warn_unknown_key_types(domains: tuple[Domain, ...], findings: Findings, platform: str) -> None:
    """A sha256 pin without `key:`: nothing tells whether TrustKit can hash its key."""
    findings.warn_domains(
        [d for d in domains if any(p.key is None and p.source is PinSource.SHA256 for p in d.pins)],
        "{hosts}: sha256 pins without `key:`, so pingen cannot tell whether "
        + platform
        + " (TrustKit) can hash their keys: it matches only RSA-2048/3072/4096 and EC "
        "P-256/P-384 keys. Add `key:` (e.g. `key: ec-p256`) to those pins, or pin with "
        "`file:`, `root:` or `intermediate:`",
    )


def version_lines(domains: tuple[Domain, ...]) -> list[str]:
    """What the header says of the TrustKit version these pins' key types need."""
    keys = [pin.key for domain in domains for pin in domain.pins]
    needs = trustkit_rules.minimum_version(keys)
    if needs:
        return [f"Needs TrustKit {need.version} or later: {need.reason}." for need in needs]
    if any(key is None for key in keys):
        return [
            "Some pins have no `key:`, so the TrustKit version their keys need is "
            "unknown (RSA-3072 needs 3.0.5, RSA-2048 3.0.7 or later)."
        ]
    return ["Any TrustKit 3.x hashes the key types of these pins."]


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
            "at least two distinct pins when enforcing (a backup pin)"
            if domain.enforce
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


def is_http_url(uri: str) -> bool:
    """An http(s) URL of RFC 3986 characters only, which NSURL/URL(string:) reads."""
    scheme = uri.split(":", 1)[0].lower()
    return scheme in ("http", "https") and uri.isascii() and not set(uri) - _URI_CHARACTERS


def check_report_uri(uri: str, host: str, where: Location | None) -> None:
    if not is_http_url(uri):
        raise ConfigError(
            f"TrustKit cannot use the report URI {uri!r} of {host}: write an http(s) URL "
            "with URL characters only (percent-encode spaces and other characters)",
            where,
        )


def domain_context(domain: Domain) -> dict[str, Any]:
    pins = [{"value": pin.sha256, "label": pin.label} for pin in domain.pins]
    return {**domain_fields(domain), "pins": pins}
