"""The rules Android's own parser applies to `network_security_config.xml`, as a checker.

Android reads the file with `XmlConfigSource` (AOSP, core/java/android/security/net/
config) on the first TLS check and crashes the app on any violation; TrustKit-Android
reads the same file with `TrustKitConfigurationParser` and throws at initialisation.
This checker applies both, as read in
aosp-mirror/platform_frameworks_base@0172a23b1af4735bcca3580bc53e37f57a639c7a:
  core/java/android/security/net/config/XmlConfigSource.java and
datatheorem/TrustKit-Android@230582dc4ac0b6e10087d29195c643cc0f881dcb:
  trustkit/src/main/java/com/datatheorem/android/trustkit/config/TrustKitConfigurationParser.java,
and is stricter than the device where the device silently ignores something (an unknown
element, a `*` in a host name, padding whitespace): those never do what a user meant.

`problems(xml)` lists every violation (empty when the file is valid);
`assert_valid(xml)` fails a test with that list.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.resources import files

ROOT = "network-security-config"

# parent -> {child: (min, max or None)}; a child not listed is not allowed there.
CHILDREN: dict[str, dict[str, tuple[int, int | None]]] = {
    ROOT: {"base-config": (0, 1), "domain-config": (0, None), "debug-overrides": (0, 1)},
    "base-config": {"trust-anchors": (0, 1), "certificateTransparency": (0, 1)},
    "domain-config": {
        "domain": (1, None),
        "trust-anchors": (0, 1),
        "pin-set": (0, 1),
        "domain-config": (0, None),
        "certificateTransparency": (0, 1),
        "trustkit-config": (0, 1),
    },
    "debug-overrides": {"trust-anchors": (0, 1)},
    "trust-anchors": {"certificates": (0, None)},
    "pin-set": {"pin": (0, None)},
    "trustkit-config": {"report-uri": (0, None)},
    "certificates": {},
    "certificateTransparency": {},
}
TEXT_ONLY = ("domain", "pin", "report-uri")

# Android's own error texts for children it forbids outright (§1.3).
FORBIDDEN = {
    ("base-config", "domain"): "domain element not allowed in base-config",
    ("base-config", "pin-set"): "pin-set element not allowed in base-config",
    ("base-config", "domain-config"): "Nested domain-config not allowed in base-config",
    ("debug-overrides", "domain"): "domain element not allowed in debug-overrides",
    ("debug-overrides", "pin-set"): "pin-set element not allowed in debug-overrides",
    ("debug-overrides", "domain-config"): "domain-config not allowed in debug-overrides",
}
MULTIPLE = {
    "base-config": "Only one base-config allowed",
    "debug-overrides": "Only one debug-overrides allowed",
    "trust-anchors": "Multiple trust-anchor elements not allowed",
    "pin-set": "Multiple pin-set elements not allowed",
}

BOOLEAN = "boolean"
DATE = "date"
DIGEST = "digest"
SOURCE = "source"
# element -> {attribute: kind}; attributes marked required below.
ATTRIBUTES: dict[str, dict[str, str]] = {
    ROOT: {},
    "base-config": {"cleartextTrafficPermitted": BOOLEAN, "hstsEnforced": BOOLEAN},
    "domain-config": {"cleartextTrafficPermitted": BOOLEAN, "hstsEnforced": BOOLEAN},
    "debug-overrides": {"cleartextTrafficPermitted": BOOLEAN, "hstsEnforced": BOOLEAN},
    "domain": {"includeSubdomains": BOOLEAN},
    "pin-set": {"expiration": DATE},
    "pin": {"digest": DIGEST},
    "trust-anchors": {},
    "certificates": {"src": SOURCE, "overridePins": BOOLEAN},
    "certificateTransparency": {"enabled": BOOLEAN},
    "trustkit-config": {"enforcePinning": BOOLEAN, "disableDefaultReportUri": BOOLEAN},
    "report-uri": {},
}
REQUIRED = {"pin": "digest", "certificates": "src"}
REQUIRED_TEXT = {"pin": "Missing pin digest", "domain": "Domain name missing"}

_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SOURCE = re.compile(r"^(system|user|wfa|@raw/[A-Za-z0-9_]+)$")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


@functools.cache
def _trustkit_android_tlds() -> frozenset[str]:
    """The arrays of TrustKit-Android's DomainValidator (list version 2016042500), from
    the data file pingen ships: the only top-level domains it accepts."""
    data = json.loads(files("pingen.data").joinpath("trustkit_android_tlds.json").read_text())
    return frozenset(data["infrastructure"] + data["generic"] + data["country_code"])


@dataclass
class _Policy:
    """What a domain-config inherits from its parent (TrustKit-Android §5.2)."""

    pins: list[str] | None = None
    enforce: bool = False  # TrustKit-Android's default


@dataclass
class Checker:
    problems: list[str] = field(default_factory=list)
    seen_domains: set[str] = field(default_factory=set)
    trustkit_hosts: set[str] = field(default_factory=set)

    def report(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    # -- the AOSP grammar ----------------------------------------------------------------
    def element(self, node: ET.Element, where: str) -> None:
        self.attributes(node, where)
        if node.tag in TEXT_ONLY:
            self.text_only(node, where)
            return
        if (node.text or "").strip():
            self.report(where, f"text {node.text!r} inside <{node.tag}>")
        counts: dict[str, int] = {}
        for index, child in enumerate(elements(node)):
            counts[child.tag] = counts.get(child.tag, 0) + 1
            child_where = f"{where}/{child.tag}[{index}]"
            if (child.tail or "").strip():
                self.report(child_where, f"text {child.tail!r} after <{child.tag}>")
            if not self.allowed(node.tag, child.tag, child_where):
                continue
            self.element(child, child_where)
        self.cardinality(node.tag, counts, where)

    def allowed(self, parent: str, child: str, where: str) -> bool:
        if (parent, child) in FORBIDDEN:
            self.report(where, FORBIDDEN[parent, child])
            return False
        if child not in CHILDREN.get(parent, {}):
            self.report(
                where,
                f"unknown element <{child}> in <{parent}> (Android skips it "
                "silently, so it does nothing)",
            )
            return False
        return True

    def cardinality(self, parent: str, counts: dict[str, int], where: str) -> None:
        for child, (least, most) in CHILDREN.get(parent, {}).items():
            count = counts.get(child, 0)
            if count < least:
                self.report(
                    where,
                    "No domain elements in domain-config"
                    if child == "domain"
                    else f"<{parent}> needs at least {least} <{child}>",
                )
            if most is not None and count > most:
                self.report(where, MULTIPLE.get(child, f"more than {most} <{child}> in <{parent}>"))

    def text_only(self, node: ET.Element, where: str) -> None:
        if len(node):
            self.report(where, f"{node.tag} contains additional elements")
            return
        text = node.text or ""
        if not text:
            self.report(where, REQUIRED_TEXT.get(node.tag, f"<{node.tag}> is empty"))
            return
        if text != text.strip():
            self.report(
                where, f"{text!r} has surrounding whitespace (Android 7.0 does not trim it)"
            )
        check = {"domain": self.domain_text, "pin": self.pin_text}.get(node.tag)
        if check:
            check(text.strip(), where)

    def attributes(self, node: ET.Element, where: str) -> None:
        known = ATTRIBUTES.get(node.tag, {})
        for name, value in node.attrib.items():
            if name not in known:
                self.report(where, f"unknown attribute {name}= on <{node.tag}>")
                continue
            self.attribute_value(known[name], name, value, where)
        required = REQUIRED.get(node.tag)
        if required and required not in node.attrib:
            self.report(
                where,
                "Unsupported pin digest algorithm: null"
                if node.tag == "pin"
                else f"{node.tag} element missing {required} attribute",
            )

    def attribute_value(self, kind: str, name: str, value: str, where: str) -> None:
        checks: dict[str, Callable[[str], str | None]] = {
            BOOLEAN: _boolean_problem,
            DATE: _date_problem,
            DIGEST: _digest_problem,
            SOURCE: _source_problem,
        }
        problem = checks[kind](value)
        if problem:
            self.report(where, f"{name}={value!r}: {problem}")

    def domain_text(self, text: str, where: str) -> None:
        name = text.lower()
        if name in self.seen_domains:
            self.report(where, f"{name} has already been specified")
        self.seen_domains.add(name)
        if "*" in name or name.endswith(".") or not name.isascii() or name != text:
            self.report(
                where,
                f"{text!r} can never match a host (wildcard, trailing dot, "
                "upper case or non-ASCII text)",
            )

    def pin_text(self, text: str, where: str) -> None:
        if not _BASE64.match(text):
            self.report(where, "Invalid pin digest (not canonical base64)")
            return
        try:
            length = len(base64.b64decode(text, validate=True))
        except binascii.Error:
            self.report(where, "Invalid pin digest")
            return
        if length != 32:
            self.report(
                where, f"digest length {length} does not match expected length for SHA-256 of 32"
            )

    # -- TrustKit-Android (§5) -----------------------------------------------------------
    def trustkit_config(self, node: ET.Element, where: str, inherited: _Policy) -> None:
        """Walk the domain-configs as TrustKitConfigurationParser does, with inheritance."""
        for index, config in enumerate(n for n in elements(node) if n.tag == "domain-config"):
            self.trustkit_domain_config(config, f"{where}/domain-config[{index}]", inherited)

    def trustkit_domain_config(self, node: ET.Element, where: str, inherited: _Policy) -> None:
        policy = _Policy(inherited.pins, inherited.enforce)
        for child in elements(node):
            if child.tag == "pin-set":
                policy.pins = [(p.text or "") for p in elements(child) if p.tag == "pin"]
                for pin in elements(child):
                    if pin.tag == "pin" and pin.get("digest") != "SHA-256":
                        self.report(where, f"Unexpected digest value: {pin.get('digest')}")
            if child.tag == "trustkit-config":
                policy.enforce = child.get("enforcePinning", "false").lower() == "true"
                for uri in (u for u in elements(child) if u.tag == "report-uri"):
                    if not _URL.match(uri.text or ""):
                        self.report(where, f"report-uri {uri.text!r} is not an http(s) URL")
        domains = [d for d in elements(node) if d.tag == "domain"]
        if policy.pins is not None:
            self.trustkit_policy(domains, policy, where)
        self.trustkit_config(node, where, policy)

    def trustkit_policy(self, domains: list[ET.Element], policy: _Policy, where: str) -> None:
        if len(domains) != 1:
            self.report(
                where,
                f"{len(domains)} <domain> elements: TrustKit-Android keeps only "
                "the last one of a domain-config",
            )
        for domain in domains[-1:]:
            host = domain.text or ""
            problem = _trustkit_host_problem(host)
            if problem:
                self.report(where, f"Tried to pin an invalid domain: {host!r} ({problem})")
            if host in self.trustkit_hosts:
                self.report(where, f"Policy contains the same domain defined twice: {host}")
            self.trustkit_hosts.add(host)
        assert policy.pins is not None
        if policy.enforce and not policy.pins:
            self.report(where, "An empty pin-set was supplied with enforcePinning set to true")
        elif policy.enforce and len(set(policy.pins)) < 2:
            self.report(where, "Less than two pins were supplied with enforcePinning true")


def elements(node: ET.Element) -> Iterator[ET.Element]:
    """Child elements, without comments and processing instructions."""
    return (child for child in node if isinstance(child.tag, str))


def _boolean_problem(value: str) -> str | None:
    return None if value in ("true", "false") else "not true or false"


def _date_problem(value: str) -> str | None:
    if not _DATE.match(value):
        return "Invalid expiration date in pin-set (not yyyy-MM-dd)"
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return "Invalid expiration date in pin-set (no such day)"
    return None


def _digest_problem(value: str) -> str | None:
    return None if value.upper() == "SHA-256" else f"Unsupported pin digest algorithm: {value}"


def _source_problem(value: str) -> str | None:
    if _SOURCE.match(value):
        return None
    return "Unknown certificates src. Should be one of system|user|@resourceVal"


def _trustkit_host_problem(host: str) -> str | None:
    labels = host.split(".")
    if host != host.strip() or len(labels) < 2:
        return "needs two or more labels and no whitespace"
    if not all(_LDH_LABEL.match(label) for label in labels):
        return "labels must be letters, digits and hyphens"
    tld = labels[-1]
    if not tld.isalpha() and not tld.startswith("xn--"):
        return "an IP address or a numeric top-level domain"
    if tld not in _trustkit_android_tlds():
        return f".{tld} is not a top-level domain TrustKit-Android's DomainValidator knows"
    return None


def parse(xml: bytes) -> ET.Element:
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    parser.feed(xml)
    root: ET.Element = parser.close()
    return root


def problems(xml: bytes) -> list[str]:
    """Every violation of Android's (and, where present, TrustKit-Android's) rules."""
    try:
        root = parse(xml)
    except ET.ParseError as error:
        return [f"not well-formed XML: {error}"]
    if root.tag != ROOT:
        return [f"root element is <{root.tag}>, expected <{ROOT}>"]
    checker = Checker()
    checker.element(root, ROOT)
    if any(True for _ in root.iter("trustkit-config")):
        checker.trustkit_config(root, ROOT, _Policy())
    return checker.problems


def assert_valid(xml: bytes) -> None:
    found = problems(xml)
    assert not found, "network security config breaks Android's rules:\n" + "\n".join(found)
