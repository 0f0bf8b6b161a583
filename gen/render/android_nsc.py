"""`android-nsc`: Android's network security config (`res/xml/network_security_config.xml`).

One `<domain-config>` per domain, in the order of pins.yaml, each with exactly one
`<domain>` (TrustKit-Android keeps only the last `<domain>` of a block) and one
`<pin-set>`. What the platform cannot say:

- report-only: NSC always enforces. `enforce: false` is an error unless the output
  adds TrustKit-Android (`trustkit: true`), whose `enforcePinning="false"` is the
  platform's own report-only mode; then a warning says that the OS still enforces the
  pin-set for connections that do not go through TrustKit.
- reports: NSC sends none; `report_uris` without `trustkit` are a warning.
- debug builds: a user CA under `<debug-overrides>` overrides the pins unless
  `overridePins="false"` says otherwise (`debug_overrides_keep_pins`; see
  `KEEP_PINS_SOURCE`).
- TrustKit-Android's own rules (two distinct pins when enforcing, host names under a
  top-level domain its 2016 DomainValidator knows — pingen.render.trustkit_rules —, report URIs
  that are URLs) are errors, since its initialisation would throw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pingen.model import Config, Domain, Output
from pingen.render import Rendering, bool_option, domain_fields, notice
from pingen.render.capability import Findings, pin_comment
from pingen.render.trustkit_rules import android_refusal

TEMPLATE = "android-nsc.xml.j2"
# A <certificates> entry's overridePins defaults to true inside <debug-overrides>, so
# a debug build that trusts user CAs skips every pin-set for them:
# `boolean defaultOverridePins = configType == CONFIG_DEBUG;` (parseConfigEntry) and
# `getAttributeBooleanValue(null, "overridePins", defaultOverridePins)`
# (parseCertificatesEntry). `debug_overrides_keep_pins` writes overridePins="false".
KEEP_PINS_SOURCE = (
    "aosp-mirror/platform_frameworks_base@0172a23b1af4735bcca3580bc53e37f57a639c7a:"
    "core/java/android/security/net/config/XmlConfigSource.java#L228 (and #L178)"
)


@dataclass(frozen=True)
class NscOptions:
    cleartext_permitted: bool
    debug_overrides: bool
    debug_overrides_keep_pins: bool
    trustkit: bool
    default_report_uri: bool


def options_of(output: Output) -> NscOptions:
    return NscOptions(
        cleartext_permitted=bool_option(output, "cleartext_permitted"),
        debug_overrides=bool_option(output, "debug_overrides"),
        debug_overrides_keep_pins=bool_option(output, "debug_overrides_keep_pins"),
        trustkit=bool_option(output, "trustkit"),
        default_report_uri=bool_option(output, "default_report_uri"),
    )


def context(config: Config, output: Output) -> Rendering:
    options = options_of(output)
    findings = Findings(output)
    for domain in config.domains:
        check_domain(domain, options, findings)
    if options.debug_overrides_keep_pins and not options.debug_overrides:
        findings.error(
            "`debug_overrides_keep_pins: true` needs `debug_overrides: true`: it keeps the "
            "pins enforced for the user CAs that debug-overrides trusts. Add "
            "`debug_overrides: true` to this output, or remove the option",
            output.location,
        )
    warn_about_all(config, options, findings)
    findings.raise_errors()
    return Rendering(
        context={
            "notice": notice(config),
            "cleartext_permitted": options.cleartext_permitted,
            "debug_overrides": options.debug_overrides,
            "debug_overrides_keep_pins": options.debug_overrides_keep_pins,
            "trustkit": options.trustkit,
            # TrustKit-Android adds its default report URL unless the attribute is "true"
            # (datatheorem/TrustKit-Android@230582d:trustkit/src/main/java/com/datatheorem/
            # android/trustkit/config/DomainPinningPolicy.java#L127-L130, read by
            # TrustKitConfigurationParser.java#L195-L199 with Boolean.parseBoolean).
            "disable_default_report_uri": not options.default_report_uri,
            "domains": [domain_context(d) for d in config.domains],
        },
        warnings=findings.warnings,
    )


def check_domain(domain: Domain, options: NscOptions, findings: Findings) -> None:
    if not domain.enforce and not options.trustkit:
        findings.error(
            f"{domain.host} has `enforce: false` (report only), but Android's network "
            "security config has no report-only mode: the OS would enforce these pins and "
            "refuse the connections you asked only to report. Set `enforce: true` for "
            f"{domain.host}, or add `trustkit: true` to this output to report through "
            'TrustKit-Android (enforcePinning="false")',
            domain.location,
        )
    if options.trustkit:
        check_trustkit_android(domain, findings)


def check_trustkit_android(domain: Domain, findings: Findings) -> None:
    """TrustKit-Android throws at initialisation on these, so the app would crash."""
    distinct = set(domain.pin_set.hashes)
    if domain.enforce and len(distinct) < 2:
        findings.error(
            f"{domain.host} has {len(distinct)} distinct pin(s); TrustKit-Android refuses "
            "fewer than two when enforcing: add a backup pin",
            domain.location,
        )
    refusal = android_refusal(domain.host)
    if refusal:
        findings.error(
            f"{refusal}. Remove `trustkit: true` from this output, or pin a host "
            "name under a top-level domain TrustKit-Android knows",
            domain.location,
        )
    for uri in domain.report_uris:
        if any(c.isspace() or not c.isprintable() for c in uri):
            findings.error(
                f"{domain.host}: the report URI {uri!r} holds whitespace or a control "
                "character, which TrustKit-Android cannot use as a URL: percent-encode it",
                domain.location,
            )


def warn_about_all(config: Config, options: NscOptions, findings: Findings) -> None:
    if options.trustkit:
        findings.warn_domains(
            [d for d in config.domains if not d.enforce],
            "{hosts}: `enforce: false` is report-only in TrustKit-Android only for "
            "connections made through TrustKit's getSSLSocketFactory(host) or "
            "getTrustManager(host); on Android 7+ the OS enforces the same pin-set for "
            "every other connection. Route all traffic to these hosts through TrustKit",
        )
    else:
        if options.default_report_uri:
            findings.warn(
                "`default_report_uri: true` does nothing without `trustkit: true`: "
                "only TrustKit-Android sends reports; add `trustkit: true` or "
                "remove the option"
            )
        findings.warn_domains(
            [d for d in config.domains if d.report_uris],
            "{hosts}: `report_uris` are not used: Android's network security config sends "
            "no reports. Add `trustkit: true` to this output to report with TrustKit-Android",
        )


def domain_context(domain: Domain) -> dict[str, Any]:
    pins = [{"sha256": p.sha256, "comment": pin_comment(p)} for p in domain.pins]
    return {**domain_fields(domain), "pins": pins}
