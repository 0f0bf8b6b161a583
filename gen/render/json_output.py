"""`json`: the options object of react-native-ssl-public-key-pinning's `initializeSslPinning`.

`{host: {"expirationDate": "yyyy-MM-dd", "includeSubdomains": bool, "publicKeyHashes":
[...]}}`, keys sorted (hosts too: a JSON object's order means nothing, and sorted keys
are what `json.dumps(sort_keys=True)` gives), 2-space indent, `expirationDate` left out
for `never`. JSON has no comments, so no header and no labels.

What the library cannot say: it always enforces (no report-only, so `enforce: false`
is an error) and sends no reports (`report_uris` are a warning); its iOS side is
TrustKit with enforcement on, which refuses fewer than two distinct pins, host names
under a top-level domain outside the Public Suffix List, and `include_subdomains` on a
public suffix (errors: initializeSslPinning would reject and pin nothing).
"""

from __future__ import annotations

from typing import Any

from pingen.model import Config, Domain, Output
from pingen.render import Rendering, domain_fields
from pingen.render.capability import Findings
from pingen.render.suffixes import is_public_suffix, public_suffix

TEMPLATE = "json.json.j2"


def context(config: Config, output: Output) -> Rendering:
    findings = Findings(output)
    for domain in config.domains:
        check_domain(domain, findings)
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
    if public_suffix(domain.host) is None:
        findings.error(
            f"{domain.host}: its top-level domain is not in the Public Suffix List, so on iOS "
            "react-native-ssl-public-key-pinning (TrustKit) refuses it as an invalid domain "
            "and pins nothing; pin a public host name, or remove this output",
            domain.location,
        )
    elif domain.include_subdomains and is_public_suffix(domain.host):
        findings.error(
            f"{domain.host} is a public suffix: on iOS react-native-ssl-public-key-pinning "
            "(TrustKit) refuses `include_subdomains: true` on it; set it to false or pin "
            "the hosts below it",
            domain.location,
        )
    distinct = set(domain.pin_set.hashes)
    if len(distinct) < 2:
        findings.error(
            f"{domain.host} has {len(distinct)} distinct pin(s); on iOS "
            "react-native-ssl-public-key-pinning (TrustKit) needs at least two: add a backup pin",
            domain.location,
        )


def domain_context(domain: Domain) -> dict[str, Any]:
    return {**domain_fields(domain), "hashes": list(domain.pin_set.hashes)}
