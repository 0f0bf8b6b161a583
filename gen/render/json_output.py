"""`json`: the options object of react-native-ssl-public-key-pinning's `initializeSslPinning`.

`{host: {"expirationDate": "yyyy-MM-dd", "includeSubdomains": bool, "publicKeyHashes":
[...]}}`, keys sorted (hosts too: a JSON object's order means nothing, and sorted keys
are what `json.dumps(sort_keys=True)` gives), 2-space indent, `expirationDate` left out
for `never`. JSON has no comments, so no header and no labels.

What the library cannot say: it always enforces (no report-only, so `enforce: false`
is an error) and sends no reports (`report_uris` are a warning); its iOS side is
TrustKit with enforcement on, which refuses fewer than two distinct pins, host names its
2018 registry lookup finds no suffix for, and `include_subdomains` on a suffix (errors:
initializeSslPinning would reject and pin nothing; pingen.render.trustkit_rules), and can
never match a pin of a key TrustKit cannot hash (an error at the pin; a sha256 pin
without `key:` is a warning).
"""

from __future__ import annotations

from typing import Any

from pingen.model import Config, Domain, Output
from pingen.render import Rendering, domain_fields, trustkit_rules
from pingen.render.capability import Findings
from pingen.render.trustkit import unhashable_pins, warn_unknown_key_types

LIBRARY = "react-native-ssl-public-key-pinning"
PLATFORM = f"{LIBRARY} on iOS"  # how messages name what runs TrustKit here

TEMPLATE = "json.json.j2"


def context(config: Config, output: Output) -> Rendering:
    findings = Findings(output)
    for domain in config.domains:
        check_domain(domain, findings)
    warn_unknown_key_types(config.domains, findings, PLATFORM)
    findings.warn_domains(
        [d for d in config.domains if d.report_uris],
        "{hosts}: `report_uris` are not used: react-native-ssl-public-key-pinning sends no "
        "reports (listen with addSslPinningErrorListener in the app instead)",
    )
    findings.raise_errors()
    domains = sorted(config.domains, key=lambda d: d.host)
    return Rendering(
        context={"domains": [domain_context(d) for d in domains]},
        warnings=findings.warnings,
    )


def check_domain(domain: Domain, findings: Findings) -> None:
    if not domain.enforce:
        findings.error(
            f"{domain.host} has `enforce: false` (report only), but "
            "react-native-ssl-public-key-pinning has no report-only mode: it would refuse "
            f"the connections you asked only to report. Set `enforce: true` for {domain.host}, "
            "or remove this output",
            domain.location,
        )
    check_trustkit_ios(domain, findings)


def check_trustkit_ios(domain: Domain, findings: Findings) -> None:
    """The library's iOS side hands every domain to TrustKit, which throws on these, and
    initializeSslPinning then rejects: no domain is pinned at all."""
    refusal = trustkit_rules.ios_refusal(domain.host, domain.include_subdomains)
    if refusal:
        findings.error(
            f"on iOS {LIBRARY} hands its domains to TrustKit, and "
            f"initializeSslPinning then pins nothing: {refusal}",
            domain.location,
        )
    for pin, message in unhashable_pins(domain, PLATFORM):
        findings.error(message, pin.location or domain.location)
    distinct = set(domain.pin_set.hashes)
    if len(distinct) < 2:
        findings.error(
            f"{domain.host} has {len(distinct)} distinct pin(s); on iOS "
            "react-native-ssl-public-key-pinning (TrustKit) needs at least two: add a backup pin",
            domain.location,
        )


def domain_context(domain: Domain) -> dict[str, Any]:
    return {**domain_fields(domain), "hashes": list(domain.pin_set.hashes)}
