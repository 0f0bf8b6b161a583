"""What each platform really enforces, host by host: one model for `build` and `explain`.

A generated file is a list of entries (host, include_subdomains, pins, expiry, enforce);
what the phone does with it depends on the platform's own lookup, which differs:

| platform            | which entries apply to a host                         | rule          |
|---------------------|-------------------------------------------------------|---------------|
| Android NSC         | the exact host, else the longest including parent     | most specific |
| TrustKit (iOS)      | the exact host, else the longest including parent     | most specific |
| TrustKit-Android    | the exact host, else the longest including parent     | most specific |
| OkHttp              | every matching pattern, pins pooled                   | pooled        |
| NSPinnedDomains     | the exact host and its immediate parent, unioned;     | unioned,      |
|                     | the leaf list and the CA list are each required       | leaf AND CA   |
| react-native-ssl-   | TrustKit on iOS, OkHttp patterns on Android           |               |
| public-key-pinning  |                                                       |               |

`effective(platform, entries, host)` applies one platform's rule and says which pins it
enforces for `host`, whether it enforces at all, until when, and which entries decided.
pins.yaml itself means "most specific" (`INTENDED`), which is what Android and TrustKit
do; `prove` compares every output's platforms with that meaning for every configured
host and a representative subdomain at depth 1 and 2 of every `include_subdomains`
domain, and reports where a platform would block a host pins.yaml allows (an error) or
pins it more weakly (a warning).

Adding an output type's semantics is one `Platform` (or a reuse of one) and one line
in `OUTPUT_PLATFORMS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from pingen.errors import ConfigError, Diagnostic, Location
from pingen.model import Config, Domain, Level, Output, Pin


class Lookup(StrEnum):
    """How a platform combines the entries that match a host."""

    MOST_SPECIFIC = "most specific"  # the exact entry, else the longest including parent
    POOLED = "pooled"  # every matching entry; any pin of any of them suffices
    UNIONED_BY_LIST = "unioned"  # every matching entry; leaf and CA lists each required


class Position(StrEnum):
    """Where in the verified chain a requirement's pin must be found."""

    ANY = "any certificate"
    LEAF = "the leaf"
    CA = "a CA certificate"


@dataclass(frozen=True)
class Platform:
    """One platform's lookup rules. `source` cites the line that decides them."""

    name: str
    lookup: Lookup
    depth: int | None  # how many labels below an including entry it reaches (None: any)
    expires: bool  # stops pinning at 00:00 on the expiry date (False: pins for ever)
    report_only: bool  # honours `enforce: false` (False: always enforces)
    source: str
    # A platform's own test that an including entry covers a subdomain, beyond the label
    # suffix every platform checks (None: the suffix alone).
    covers: Callable[[str, str], bool] | None = field(default=None, compare=False)


# -- the platforms ---------------------------------------------------------------------

INTENDED = Platform(
    name="pins.yaml",
    lookup=Lookup.MOST_SPECIFIC,
    depth=None,
    expires=True,
    report_only=True,
    source="README: a host takes its own entry, else its longest include_subdomains parent",
)

AOSP_NSC = Platform(
    name="Android network security config",
    lookup=Lookup.MOST_SPECIFIC,
    depth=None,
    expires=True,
    report_only=False,
    # getConfigForHostname returns an exact match at once (L98), else keeps the longest
    # `subdomainsIncluded` domain the host ends with (L103-L108).
    source="aosp-mirror/platform_frameworks_base@4850a8b14979f5a2d87625bc26ca6fbdad32513d:"
    "core/java/android/security/net/config/ApplicationConfig.java#L98-L108",
)

OKHTTP = Platform(
    name="OkHttp CertificatePinner",
    lookup=Lookup.POOLED,
    depth=None,  # `**.host`: the host and every subdomain at any depth
    expires=True,  # pingen's okhttp output leaves an expired domain out at run time
    report_only=False,
    # `findMatchingPins(hostname) = pins.filterList { matchesHostname(hostname) }` (L216);
    # KDoc: "If multiple patterns match a hostname, any match is sufficient" (L110).
    source="square/okhttp@parent-4.12.0:okhttp/src/main/kotlin/okhttp3/CertificatePinner.kt#L216",
)


def trustkit_is_subdomain(domain: str, host: str) -> bool:
    """TrustKit (iOS)'s isSubdomain: the host is longer, both have the same registry
    (public suffix by TrustKit's own 2018 rules), and the host's part before it ends with
    "." + the domain's part before it. So `amazonaws.com` with include_subdomains does
    not cover `x.s3.amazonaws.com`, whose registry is `s3.amazonaws.com`.

    datatheorem/TrustKit@c48790f306234926d66ed1eb04acf0c23b3df5a1:
    TrustKit/configuration_utils.m#L18-L56
    """
    from pingen.render.trustkit_rules import registry_length

    if len(host) <= len(domain):
        return False
    registry = registry_length(domain)
    if registry == 0 or registry_length(host) != registry:
        return False
    if domain[len(domain) - registry :] != host[len(host) - registry :]:
        return False
    domain_label = "." + domain[: len(domain) - registry - 1]
    return host[: len(host) - registry - 1].endswith(domain_label)


TRUSTKIT_IOS = Platform(
    name="TrustKit (iOS)",
    lookup=Lookup.MOST_SPECIFIC,
    depth=None,
    expires=True,  # TSKPinningValidator.m#L111-L115: an expired policy is "not pinned"
    report_only=True,
    # getPinningConfigurationKeyForDomain: the exact key (L61), else the including
    # entry with the longest match (L74-L80).
    source="datatheorem/TrustKit@c48790f306234926d66ed1eb04acf0c23b3df5a1:"
    "TrustKit/configuration_utils.m#L61-L80",
    covers=trustkit_is_subdomain,
)

TRUSTKIT_ANDROID = Platform(
    name="TrustKit-Android",
    lookup=Lookup.MOST_SPECIFIC,
    depth=None,
    expires=True,
    report_only=True,  # only for connections through TrustKit's own socket factory
    # getPolicyForHostname: an exact hostname breaks out (L100-L103), else the longest
    # including hostname wins (L107-L114).
    source="datatheorem/TrustKit-Android@230582dc4ac0b6e10087d29195c643cc0f881dcb:"
    "trustkit/src/main/java/com/datatheorem/android/trustkit/config/"
    "TrustKitConfiguration.java#L100-L114",
)

NS_PINNED_DOMAINS = Platform(
    name="NSPinnedDomains (iOS App Transport Security)",
    lookup=Lookup.UNIONED_BY_LIST,
    depth=1,
    expires=False,
    report_only=False,
    # parseNSPinnedDomains walks every entry: the host itself (L1540) or, when
    # NSIncludesSubdomains is exactly true (L1545), its immediate parent (L1550); every
    # match appends its identities (L1570). The leaf and the CA lists become two
    # separate policy checks (L1629, L1634), so both must match.
    source="apple-oss-distributions/Security@db15acbe6a7f257a859ad9a3bb86097bfe0679d9:"
    "OSX/sec/Security/SecPolicy.c#L1517-L1634",
)

RN_IOS = Platform(
    name="react-native-ssl-public-key-pinning on iOS (TrustKit)",
    lookup=Lookup.MOST_SPECIFIC,
    depth=None,
    expires=True,
    report_only=False,  # TSKEnforcePinning is never set, so TrustKit enforces
    # Each domain becomes a TrustKit policy with TSKIncludeSubdomains (L48); TrustKit's
    # lookup then decides (TRUSTKIT_IOS).
    source="frw/react-native-ssl-public-key-pinning@e35c227ab7b3b8f787d41ee8765535d972d05d8b:"
    "ios/SslPublicKeyPinning.mm#L48",
    covers=trustkit_is_subdomain,
)

RN_ANDROID = Platform(
    name="react-native-ssl-public-key-pinning on Android (OkHttp)",
    lookup=Lookup.POOLED,
    depth=None,
    expires=True,  # an expired domain is skipped at initialisation
    report_only=False,
    # `builder.add(includeSubdomains ? "**." + domain : domain, …)` (L102): OkHttp
    # patterns, so OkHttp pools them (OKHTTP).
    source="frw/react-native-ssl-public-key-pinning@e35c227ab7b3b8f787d41ee8765535d972d05d8b:"
    "android/src/main/java/com/sslpublickeypinning/SslPublicKeyPinningModule.java#L102",
)


URLSESSION = Platform(
    name="pingen's URLSession delegate (iOS)",
    lookup=Lookup.MOST_SPECIFIC,
    depth=None,
    expires=True,  # `now >= expires` (00:00 UTC on the expiry date): not pinned
    report_only=True,  # `enforce: false` reports and lets the connection through
    # The generated `policy(forHost:)`: the host's own entry, else the nearest parent with
    # includeSubdomains (templates/urlsession.swift.j2), TrustKit's rule (TRUSTKIT_IOS).
    source="datatheorem/TrustKit@c48790f306234926d66ed1eb04acf0c23b3df5a1:"
    "TrustKit/configuration_utils.m#L61-L80",
)


def _android_nsc(output: Output) -> tuple[Platform, ...]:
    trustkit = output.options.get("trustkit") is True
    return (AOSP_NSC, TRUSTKIT_ANDROID) if trustkit else (AOSP_NSC,)


# output type -> the platforms that read its file. A new output type adds one line.
OUTPUT_PLATFORMS: dict[str, Callable[[Output], tuple[Platform, ...]]] = {
    "android-nsc": _android_nsc,
    "okhttp": lambda output: (OKHTTP,),
    "trustkit": lambda output: (TRUSTKIT_IOS,),
    "ios-plist": lambda output: (NS_PINNED_DOMAINS,),
    "json": lambda output: (RN_IOS, RN_ANDROID),
    "urlsession": lambda output: (URLSESSION,),
}


def platforms_of(output: Output) -> tuple[Platform, ...]:
    """The platforms that read `output` (none for a user's template: pingen cannot know)."""
    semantics = OUTPUT_PLATFORMS.get(output.kind)
    return semantics(output) if semantics else ()


# -- entries and their effect --------------------------------------------------------------

PINS_YAML = "pins.yaml"


@dataclass(frozen=True)
class Entry:
    """One pinning entry as a platform reads it: a pins.yaml domain, or an entry that is
    in the file but not pingen's (an Info.plist's own NSPinnedDomains host)."""

    host: str
    include_subdomains: bool
    pins: tuple[Pin, ...]
    expires: dt.date | None = None
    enforce: bool = True
    origin: str = PINS_YAML  # where the entry comes from, for messages
    location: Location | None = field(default=None, compare=False)

    @classmethod
    def of(cls, domain: Domain) -> Entry:
        return cls(
            domain.host,
            domain.include_subdomains,
            domain.pins,
            domain.expires,
            domain.enforce,
            PINS_YAML,
            domain.location,
        )

    @property
    def described(self) -> str:
        return self.host if self.origin == PINS_YAML else f"{self.host} ({self.origin})"


@dataclass(frozen=True)
class Requirement:
    """The chain must hold one of `pins` at `position`."""

    position: Position
    pins: tuple[Pin, ...]

    @property
    def hashes(self) -> frozenset[str]:
        return frozenset(pin.sha256 for pin in self.pins)


@dataclass(frozen=True)
class Effective:
    """What `platform` enforces for `host`: every requirement must be met."""

    host: str
    platform: Platform
    requirements: tuple[Requirement, ...]  # empty: not pinned
    entries: tuple[Entry, ...]  # the entries that decided, the most specific first
    enforce: bool
    expires: dt.date | None  # when the platform stops pinning (None: never)

    @property
    def pinned(self) -> bool:
        return bool(self.requirements)

    @property
    def pins(self) -> tuple[Pin, ...]:
        return _unique(pin for requirement in self.requirements for pin in requirement.pins)

    @property
    def rule(self) -> str:
        """Which entries decided, and by which rule, in words."""
        if not self.entries:
            return f"no entry matches {self.host}"
        first = self.entries[0]
        if len(self.entries) == 1:
            if first.host == self.host:
                return f"{self.host}'s own entry"
            return f"the include_subdomains parent {first.described}"
        hosts = " and ".join(entry.described for entry in self.entries)
        if self.platform.lookup is Lookup.POOLED:
            return f"every matching entry, pins pooled (any one suffices): {hosts}"
        return f"every matching entry, identities unioned: {hosts}"

    @property
    def decided_by(self) -> str:
        """The rule, and what it requires of the chain when that is more than one pin."""
        if not self.entries:
            return self.rule
        if not self.pinned:
            return f"{self.rule} (expired): not pinned"
        if len(self.requirements) > 1 or self.requirements[0].position is not Position.ANY:
            return f"{self.rule}; requires {self.requires}"
        return self.rule

    @property
    def requires(self) -> str:
        return " AND ".join(
            f"{r.position.value} in [{_pin_list(r.pins)}]" for r in self.requirements
        )


def effective(
    platform: Platform, entries: Sequence[Entry] | EntryIndex, host: str, at: dt.date | None = None
) -> Effective:
    """What `platform` enforces for `host`, given the entries of one file.

    `at`: a day on which entries whose expiry has passed no longer pin (where the
    platform honours expiry); None: every entry in force.
    """
    matching = candidates(platform, entries, host)
    if platform.lookup is Lookup.MOST_SPECIFIC:
        matching = matching[:1]  # chosen before its expiry is looked at: no fallback
    elif platform.expires and at is not None:
        # A pooled or unioned platform keeps the entries still in force.
        matching = [entry for entry in matching if not _expired(entry, at)]
    live = [e for e in matching if not (platform.expires and at and _expired(e, at))]
    return Effective(
        host=host,
        platform=platform,
        requirements=_requirements(platform, live),
        entries=tuple(matching),
        enforce=bool(live) and (not platform.report_only or all(e.enforce for e in live)),
        expires=_until(platform, live),
    )


class EntryIndex:
    """Entries by host, built once for many lookups (a config may hold thousands)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.by_host: dict[str, list[Entry]] = {}
        for entry in entries:
            self.by_host.setdefault(entry.host, []).append(entry)


def candidates(platform: Platform, entries: Sequence[Entry] | EntryIndex, host: str) -> list[Entry]:
    """The entries that match `host` under `platform`'s rules, the most specific first:
    the exact entry, then including parents from the nearest out (up to `depth`)."""
    by_host = (entries if isinstance(entries, EntryIndex) else EntryIndex(entries)).by_host
    found = list(by_host.get(host, ()))
    labels = host.split(".")
    for skipped in range(1, len(labels)):
        if platform.depth is not None and skipped > platform.depth:
            break
        parent = ".".join(labels[skipped:])
        found.extend(
            e
            for e in by_host.get(parent, ())
            if e.include_subdomains and (platform.covers is None or platform.covers(parent, host))
        )
    return found


def _expired(entry: Entry, at: dt.date) -> bool:
    return entry.expires is not None and at >= entry.expires


def _requirements(platform: Platform, entries: list[Entry]) -> tuple[Requirement, ...]:
    if not entries:
        return ()
    if platform.lookup is not Lookup.UNIONED_BY_LIST:
        return (Requirement(Position.ANY, _unique(p for e in entries for p in e.pins)),)
    leaf = _unique(p for e in entries for p in e.pins if not _is_ca(p))
    ca = _unique(p for e in entries for p in e.pins if _is_ca(p))
    return tuple(
        Requirement(position, pins)
        for position, pins in ((Position.LEAF, leaf), (Position.CA, ca))
        if pins
    )


def _is_ca(pin: Pin) -> bool:
    return pin.level is not None and pin.level is not Level.LEAF


def _until(platform: Platform, entries: list[Entry]) -> dt.date | None:
    """The day the platform stops pinning: the latest expiry of what it enforces."""
    if not platform.expires or not entries or any(e.expires is None for e in entries):
        return None
    return max(e.expires for e in entries if e.expires is not None)


def _pin_list(pins: Sequence[Pin]) -> str:
    return ", ".join(pin.label or pin.sha256 for pin in pins)


def _unique(pins: Iterable[Pin]) -> tuple[Pin, ...]:
    seen: dict[str, Pin] = {}
    for pin in pins:
        seen.setdefault(pin.sha256, pin)
    return tuple(seen.values())


# -- proving an output against pins.yaml ---------------------------------------------------

SUBDOMAIN_LABEL = "pingen-sub"


def representative_hosts(entries: Sequence[Entry]) -> list[str]:
    """Every entry's host, and for an including one a subdomain at depth 1 and 2."""
    hosts: dict[str, None] = {}
    for entry in entries:
        hosts[entry.host] = None
        if entry.include_subdomains:
            hosts[f"{SUBDOMAIN_LABEL}.{entry.host}"] = None
            hosts[f"{SUBDOMAIN_LABEL}.{SUBDOMAIN_LABEL}.{entry.host}"] = None
    return list(hosts)


@dataclass(frozen=True)
class Divergence:
    """Where `platform` enforces something else than pins.yaml for `host`."""

    platform: Platform
    host: str
    intended: Effective
    actual: Effective
    blocking: bool
    at: dt.date | None  # None: while every entry is in force

    @property
    def kind(self) -> str:
        if not self.intended.pinned:
            return "pinned after expiry"
        return "blocking" if self.blocking else "weaker"

    @property
    def key(self) -> tuple[str, str, frozenset[str], str]:
        """Divergences of the same entries are one finding, whatever host showed them."""
        owner = self.intended.entries[0].host if self.intended.entries else self.host
        hosts = frozenset(e.host for e in self.actual.entries) | {owner}
        return (self.platform.name, owner, hosts, self.kind)


def divergences(
    platform: Platform, entries: Sequence[Entry], ours: Sequence[Entry]
) -> list[Divergence]:
    """Where `platform`, reading `entries`, enforces something else than pins.yaml (whose
    own entries are `ours`) for an overlapping host. A host matched by one entry only is
    left to the output's adapter, which already says what the platform cannot express
    (depth, expiry, report-only)."""
    found: dict[tuple[str, str, frozenset[str], str], Divergence] = {}
    every_index, our_index = EntryIndex(entries), EntryIndex(ours)
    for host in representative_hosts(entries):
        everyone = candidates(INTENDED, every_index, host)
        if len(everyone) < 2 or not candidates(INTENDED, our_index, host):
            continue
        days: list[dt.date | None] = [None]
        days.extend(sorted({e.expires for e in everyone if e.expires is not None}))
        for day in days:
            divergence = _compare(platform, every_index, our_index, host, day)
            if divergence is not None and divergence.key not in found:
                found[divergence.key] = divergence
    return list(found.values())


def _compare(
    platform: Platform, entries: EntryIndex, ours: EntryIndex, host: str, at: dt.date | None
) -> Divergence | None:
    intended = effective(INTENDED, ours, host, at)
    actual = effective(platform, entries, host, at)
    if not actual.pinned:
        return None  # less pinning than intended: the adapter's own warnings say why
    if not intended.pinned:
        if not platform.expires:
            return None  # it ignores every expiry: the adapter's own warning says so
        # Pinned after the entry pins.yaml chose has expired (a pooled parent).
        return Divergence(platform, host, intended, actual, blocking=False, at=at)
    wanted = frozenset(pin.sha256 for pin in intended.pins)
    blocking = any(not wanted <= requirement.hashes for requirement in actual.requirements) or (
        actual.enforce and not intended.enforce
    )
    weaker = frozenset(pin.sha256 for pin in actual.pins) != wanted or (
        intended.enforce and not actual.enforce
    )
    if blocking or weaker:
        return Divergence(platform, host, intended, actual, blocking, at)
    return None


@dataclass
class Proof:
    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)


def prove(config: Config, output: Output, foreign: Sequence[Entry] = ()) -> Proof:
    """Errors where a platform reading `output` would block a host pins.yaml allows,
    warnings where it would pin one more weakly. `foreign`: entries in the file that
    pingen does not own (they still take part in the platform's lookup)."""
    ours = [Entry.of(domain) for domain in config.domains]
    entries = [*ours, *foreign]
    proof = Proof()
    prefix = f"{output.kind} output {output.path.as_posix()}: "
    for platform in platforms_of(output):
        groups: dict[tuple[str, frozenset[str]], list[Divergence]] = {}
        for divergence in divergences(platform, entries, ours):
            location = _location(divergence) or output.location
            if divergence.blocking:
                message = prefix + explain_divergence(divergence)
                proof.errors.append(ConfigError(message, location))
            else:
                others = frozenset(e.described for e in _others(divergence))
                groups.setdefault((divergence.kind, others), []).append(divergence)
        for group in groups.values():
            # One line for many hosts weakened by the same entries: a config with a
            # thousand subdomains must not drown the real news.
            text = explain_divergence(group[0]) if len(group) == 1 else explain_group(group)
            proof.warnings.append(Diagnostic(prefix + text, _location(group[0]) or output.location))
    return proof


def _others(d: Divergence) -> list[Entry]:
    owner = d.intended.entries[0] if d.intended.entries else None
    return [e for e in d.actual.entries if owner is None or e.host != owner.host]


def explain_group(group: list[Divergence]) -> str:
    """One warning for several hosts that the same other entries weaken the same way."""
    first = group[0]
    others = _others(first)
    other_hosts = " and ".join(e.described for e in others)
    hosts = name_hosts(d.host for d in group)
    their_pins = _pin_list(_unique(p for e in others for p in e.pins))
    if first.kind == "pinned after expiry":
        return (
            f"{first.platform.name} still pins these hosts once their own entries expire, "
            f"where pins.yaml no longer pins them: {hosts}, with the pins of {other_hosts} "
            f"({their_pins}). Give them an expiry no earlier than {other_hosts}'s, or drop "
            f"include_subdomains from {other_hosts}"
        )
    return (
        f"{first.platform.name} pins these hosts more weakly than pins.yaml says: "
        f"{hosts}. It takes {first.actual.rule.split(':')[0]}, so they also accept the pins "
        f"of {other_hosts} ({their_pins}). Drop include_subdomains from {other_hosts}, "
        "give them the same pins, or put them in an output of their own"
    )


def _location(divergence: Divergence) -> Location | None:
    for entry in divergence.intended.entries:
        if entry.location is not None:
            return entry.location
    return None


def _extra(d: Divergence) -> list[Pin]:
    wanted = {pin.sha256 for pin in d.intended.pins}
    return [pin for pin in d.actual.pins if pin.sha256 not in wanted]


def explain_divergence(d: Divergence) -> str:
    """The message: the platform, both domains, what it enforces, and the way out."""
    owner = d.intended.entries[0] if d.intended.entries else None
    other_hosts = ", ".join(e.described for e in _others(d)) or "another entry"
    when = f" from {d.at.isoformat()} (when an entry expires)" if d.at else ""
    if owner is None or d.kind == "pinned after expiry":
        return (
            f"{d.platform.name} still pins {d.host}{when} with the pins of {other_hosts} "
            f"({_pin_list(d.actual.pins)}), where pins.yaml no longer pins it: it takes "
            f"{d.actual.rule}. Give {d.host} an expiry no earlier than "
            f"{other_hosts}'s, or drop include_subdomains from {other_hosts}"
        )
    own = owner.described
    if d.blocking:
        return (
            f"{d.platform.name} would block {d.host}{when}: pins.yaml pins it with "
            f"{own}'s pins ({_pin_list(d.intended.pins)}), but the platform takes "
            f"{d.actual.rule} and requires {d.actual.requires}, so a server pins.yaml "
            f"allows is refused. Drop include_subdomains from {other_hosts}, move {own}'s "
            f"pins to the same kind of key (leaf or CA) as {other_hosts}'s, or put {own} "
            "in an output of its own"
        )
    return (
        f"{d.platform.name} pins {d.host} more weakly than pins.yaml says{when}: pins.yaml "
        f"pins it with {own}'s pins ({_pin_list(d.intended.pins)}), but the platform "
        f"takes {d.actual.rule}, so it also accepts "
        f"{_pin_list(_extra(d))}. Drop "
        f"include_subdomains from {other_hosts}, give {own} the same pins, or put {own} "
        "in an output of its own"
    )


_HOSTS_NAMED = 5  # more hosts than this: name the first and count the rest


def name_hosts(hosts: Iterable[str]) -> str:
    """Hosts for a message: `a, b, c, d, e and 3 more`."""
    hosts = list(hosts)
    named = ", ".join(hosts[:_HOSTS_NAMED])
    if len(hosts) > _HOSTS_NAMED:
        named += f" and {len(hosts) - _HOSTS_NAMED} more"
    return named
