"""The `okhttp` output: a Kotlin object holding an OkHttp 4.x `CertificatePinner`.

Platform facts (square/okhttp@parent-4.12.0:okhttp/src/main/kotlin/okhttp3/CertificatePinner.kt):
- `**.host` matches the host itself and every subdomain at any depth (OkHttp >= 4.3), so
  one pattern carries `include_subdomains`; `host` alone is exact.
- OkHttp has no expiry: the generated code compares the clock with each domain's expiry
  and leaves an expired domain out (fails open, as Android and TrustKit do). The instant
  is 00:00 UTC on the expiry date, TrustKit's rule (Android uses the device's local
  midnight), so no time zone database is needed and no java.time (minSdk 24).
- OkHttp has no report-only mode: `enforce: false` is an error, because enforcing pins
  the user only wanted reported can lock the app out of its own servers.
- OkHttp sends no reports: `report_uris` are a warning, as for the other outputs that
  cannot use them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pingen.errors import ConfigError
from pingen.model import Config, Domain, Output
from pingen.render import Rendering, notice, string_option
from pingen.render.capability import Findings
from pingen.render.names import check_each, is_identifier, kotlin_identifier

TEMPLATE = "okhttp.kt.j2"
DEFAULT_NAME = "CertificatePins"
# Domains per generated function: the JVM limits a method to 64 KiB of bytecode, and
# one `add` with a few pins costs ~50 bytes, so large configs are split.
DOMAINS_PER_FUNCTION = 100
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def context(config: Config, output: Output) -> Rendering:
    package = kotlin_package(string_option(output, "package"), output)
    name = kotlin_object_name(string_option(output, "name", DEFAULT_NAME), output)
    check_each(config.domains, lambda domain: check_domain(domain, output))
    domains = [domain_context(domain) for domain in config.domains]
    findings = Findings(output)
    findings.warn_domains(
        [d for d in config.domains if d.report_uris],
        "{hosts}: `report_uris` are not used: OkHttp's CertificatePinner sends no reports "
        "(catch SSLPeerUnverifiedException in the app, or report with TrustKit-Android: "
        "`trustkit: true` on an android-nsc output)",
    )
    return Rendering(
        context={
            "notice": notice(config),
            "package": package,
            "name": name,
            "chunks": chunked(domains),
        },
        warnings=findings.warnings,
    )


def kotlin_package(text: str, output: Output) -> str:
    parts = text.split(".")
    if not all(is_identifier(part) for part in parts):
        raise ConfigError(
            f"`package: {text}` is not a Kotlin package name: write dot-separated names "
            "that start with a letter or `_` and hold only ASCII letters, digits and `_` "
            "(e.g. `package: com.example.net`)",
            output.location_of("package"),
        )
    return ".".join(kotlin_identifier(part) for part in parts)


def kotlin_object_name(text: str, output: Output) -> str:
    # `Long` would shadow kotlin.Long, which the generated code uses unqualified.
    if not is_identifier(text) or text == "Long":
        raise ConfigError(
            f"`name: {text}` is not a usable Kotlin object name: use ASCII letters, digits "
            f"and `_`, not starting with a digit, and not Long (default {DEFAULT_NAME})",
            output.location_of("name"),
        )
    return kotlin_identifier(text)


def check_domain(domain: Domain, output: Output) -> None:
    where = f"the okhttp output ({output.path.as_posix()})"
    if not domain.enforce:
        raise ConfigError(
            f"{domain.host} has `enforce: false` (report only), but OkHttp's "
            f"CertificatePinner has no report-only mode: {where} would block every "
            "connection whose chain misses the pins. Set `enforce: true` on this domain once "
            "its pins are proven (`pingen verify`), or remove the okhttp output",
            domain.location or output.location,
        )
    if not domain.pins:
        raise ConfigError(
            f"{domain.host} has no pins: OkHttp would silently leave it unpinned in {where}; "
            "add its pins",
            domain.location or output.location,
        )


def domain_context(domain: Domain) -> dict[str, Any]:
    expires = domain.expires
    return {
        "host": domain.host,
        "pattern": f"**.{domain.host}" if domain.include_subdomains else domain.host,
        "expires": expires.isoformat() if expires else None,
        "expires_millis": expiry_millis(expires) if expires else None,
        "pins": [{"value": pin.okhttp, "label": pin.label} for pin in domain.pins],
    }


def expiry_millis(day: dt.date) -> int:
    """Milliseconds since the epoch at 00:00 UTC on `day`: pins apply before it."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return (midnight - _EPOCH) // dt.timedelta(milliseconds=1)


def chunked(domains: list[dict[str, Any]]) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    for start in range(0, len(domains), DOMAINS_PER_FUNCTION):
        part = domains[start : start + DOMAINS_PER_FUNCTION]
        chunks.append(
            {
                "index": len(chunks),
                "domains": part,
                "uses_clock": any(d["expires"] is not None for d in part),
            }
        )
    return chunks
