"""Each platform's pin lookup, ported line by line from its source (each citing it) and
run on a generated file read back as that platform reads it; the platform model's
answer beside it; and the Hypothesis configs the differential tests compare them on:
overlapping domains, include_subdomains at several depths, leaf and CA pins, expiry and
report-only. For every configured host, a subdomain one and two labels below each, and an
unrelated host, on a day before any expiry and on each expiry day, `agree` checks that the
pins the file makes the platform enforce are what the model says.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pingen.model import Config, Domain, Level
from pingen.render import platforms
from pingen.render.platforms import Entry, Position
from pingen.render.trustkit_rules import registry_length
from tests.support.models import config, domain, fake_pin, pin

DIFFERENTIAL = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
DAY_BEFORE = dt.date(2028, 1, 1)
EXPIRY_DAYS = [dt.date(2029, 1, 1), dt.date(2030, 1, 1)]
POOL = [fake_pin(f"pool-{i}") for i in range(6)]

# A host's pins: the set of (position, frozenset of hashes) it must satisfy; empty: not pinned.
Requirements = frozenset[tuple[str, frozenset[str]]]
Lookup = Callable[[str, dt.date], Requirements]


def any_of(hashes: list[str]) -> Requirements:
    return frozenset({("any", frozenset(hashes))}) if hashes else frozenset()


# -- Android NSC: the XML reader and ApplicationConfig.getConfigForHostname ------------------


def nsc_lookup(xml: bytes) -> Lookup:
    configs = []
    for block in ET.fromstring(xml).iter("domain-config"):
        element = block.find("domain")
        assert element is not None and element.text is not None
        pin_set = block.find("pin-set")
        assert pin_set is not None
        expiration = pin_set.get("expiration")
        configs.append(
            (
                element.text,
                element.get("includeSubdomains") == "true",
                [p.text or "" for p in pin_set.iter("pin")],
                dt.date.fromisoformat(expiration) if expiration else None,
            )
        )

    def lookup(host: str, day: dt.date) -> Requirements:
        # aosp-mirror/platform_frameworks_base@4850a8b1:core/java/android/security/net/
        # config/ApplicationConfig.java#L94-L115
        best = None
        for name, subdomains, pins, expires in configs:
            if name == host:
                best = (name, subdomains, pins, expires)
                break
            subdomain = subdomains and host.endswith(name) and host[-len(name) - 1] == "."
            if subdomain and (best is None or len(name) > len(best[0])):
                best = (name, subdomains, pins, expires)
        if best is None or (best[3] is not None and day >= best[3]):
            return frozenset()  # NetworkSecurityTrustManager.checkPins: expired, no pins
        return any_of(best[2])

    return lookup


# -- OkHttp: the Kotlin patterns and CertificatePinner.findMatchingPins ----------------------

_ADD = re.compile(
    r'(?:if \(now < (\d+)L\) \{\s*)?builder\.add\(\s*"([^"]+)",((?:\s*"sha256/[^"]+",'
    r"(?: //[^\n]*)?)+)"
)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def okhttp_patterns(kotlin: str) -> list[tuple[str, list[str], int | None]]:
    found = []
    for millis, pattern, pins in _ADD.findall(kotlin):
        hashes = re.findall(r'"sha256/([^"]+)"', pins)
        found.append((pattern, hashes, int(millis) if millis else None))
    return found


def okhttp_lookup(patterns: list[tuple[str, list[str], int | None]]) -> Lookup:
    def lookup(host: str, day: dt.date) -> Requirements:
        now = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC) - EPOCH
        now_millis = now // dt.timedelta(milliseconds=1)
        pooled: list[str] = []
        for pattern, hashes, until in patterns:
            if until is not None and not now_millis < until:
                continue  # left out of the builder at run time
            # square/okhttp@parent-4.12.0:okhttp/src/main/kotlin/okhttp3/
            # CertificatePinner.kt#L276-L296 (matchesHostname) and #L216 (pooled)
            if pattern.startswith("**."):
                suffix = pattern[3:]
                matches = host == suffix or host.endswith("." + suffix)
            else:
                matches = host == pattern
            if matches:
                pooled.extend(hashes)
        return any_of(pooled)

    return lookup


# -- TrustKit (iOS): the Swift dictionary and getPinningConfigurationKeyForDomain -----------


def is_subdomain(domain: str, subdomain: str) -> int:
    """datatheorem/TrustKit@c48790f3:TrustKit/configuration_utils.m#L18-L56, line by line."""
    if len(subdomain) <= len(domain):
        return 0
    domain_registry = registry_length(domain)
    if registry_length(subdomain) != domain_registry:
        return 0
    if domain[len(domain) - domain_registry :] != subdomain[len(subdomain) - domain_registry :]:
        return 0
    domain_label = "." + domain[: len(domain) - domain_registry - 1]
    subdomain_label = subdomain[: len(subdomain) - domain_registry - 1]
    return len(domain_label) if subdomain_label.split(domain_label)[-1] == "" else 0


def trustkit_lookup(policies: dict[str, dict[str, Any]]) -> Lookup:
    def lookup(host: str, day: dt.date) -> Requirements:
        # datatheorem/TrustKit@c48790f3:TrustKit/configuration_utils.m#L58-L100
        key = host if host in policies else None
        if key is None:
            best = 0
            for name, policy in policies.items():
                match = is_subdomain(name, host) if policy["TSKIncludeSubdomains"] else 0
                if match > best:
                    best, key = match, name
        if key is None:
            return frozenset()
        expires = policies[key].get("TSKExpirationDate")
        # TSKPinningValidator.m#L111-L115: an expired policy is not pinned.
        if expires is not None and day >= dt.date.fromisoformat(expires):
            return frozenset()
        return any_of(list(policies[key]["TSKPublicKeyHashes"]))

    return lookup


# -- NSPinnedDomains: the plist and SecPolicy.c parseNSPinnedDomains -------------------------


def ats_lookup(pinned: dict[str, Any]) -> Lookup:
    def identities(host: str, kind: str) -> list[str] | None:
        # apple-oss-distributions/Security@db15acbe:OSX/sec/Security/SecPolicy.c#L1517-L1585
        found: list[str] | None = None
        parent = host.split(".", 1)[1] if "." in host else None
        for name, value in pinned.items():
            matched = name.lower() == host
            if not matched:
                if value.get("NSIncludesSubdomains") is not True or parent is None:
                    continue
                matched = name.lower() == parent
            if not matched or kind not in value:
                continue
            found = (found or []) + [item["SPKI-SHA256-BASE64"] for item in value[kind]]
        return found

    def lookup(host: str, day: dt.date) -> Requirements:
        leaf = identities(host, "NSPinnedLeafIdentities")
        ca = identities(host, "NSPinnedCAIdentities")
        return frozenset(
            {
                (name, frozenset(ids))
                for name, ids in (("leaf", leaf), ("ca", ca))
                if ids is not None
            }
        )

    return lookup


# -- the model's side ------------------------------------------------------------------------


def model_lookup(platform: platforms.Platform, cfg: Config) -> Lookup:
    entries = [Entry.of(d) for d in cfg.domains]

    def lookup(host: str, day: dt.date) -> Requirements:
        eff = platforms.effective(platform, entries, host, day)
        names = {Position.ANY: "any", Position.LEAF: "leaf", Position.CA: "ca"}
        return frozenset((names[r.position], r.hashes) for r in eff.requirements)

    return lookup


def hosts_of(cfg: Config) -> list[str]:
    hosts = platforms.representative_hosts([Entry.of(d) for d in cfg.domains])
    return [*hosts, "example.org", "www.example.net"]


def agree(expected: Lookup, actual: Lookup, cfg: Config) -> None:
    for day in [DAY_BEFORE, *EXPIRY_DAYS]:
        for host in hosts_of(cfg):
            assert actual(host, day) == expected(host, day), (host, day, cfg.domains)


# -- generated configs -----------------------------------------------------------------------

HOSTS = [
    "example.com",
    "api.example.com",
    "www.example.com",
    "v1.api.example.com",
    "a.b.example.com",
    "example.net",
]


@st.composite
def configs(draw: st.DrawFn, *, same_level: bool, report_only: bool) -> Config:
    hosts = draw(st.lists(st.sampled_from(HOSTS), min_size=1, max_size=5, unique=True))
    domains: list[Domain] = []
    for host in hosts:
        hashes = draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=3, unique=True))
        level = draw(st.sampled_from([Level.LEAF, Level.ROOT, Level.INTERMEDIATE]))
        levels = (
            [level] * len(hashes)
            if same_level
            else [draw(st.sampled_from(list(Level))) for _ in hashes]
        )
        domains.append(
            domain(
                host,
                [pin(h, None, lv) for h, lv in zip(hashes, levels, strict=True)],
                include_subdomains=draw(st.booleans()),
                expires=draw(st.sampled_from([None, *EXPIRY_DAYS])),
                enforce=draw(st.booleans()) if report_only else True,
            )
        )
    return config(domains)
