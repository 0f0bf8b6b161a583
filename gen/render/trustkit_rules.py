"""What TrustKit (iOS) and TrustKit-Android accept, exactly as their source does it.

Domains. Neither library uses today's Public Suffix List:
- TrustKit (iOS) judges every pinned domain with `GetRegistryLength` over the suffix
  rules compiled into it in 2018 (`pingen.data/trustkit_ios_registry.json`), a trie walk
  that is not plain PSL matching (`registry_length` below). A length of 0 raises "TrustKit
  was initialized with an invalid domain"; `includeSubdomains` on a domain that is its
  own registry raises too (datatheorem/TrustKit@c48790f:TrustKit/parse_configuration.m#L72
  and #L120). react-native-ssl-public-key-pinning's iOS side hands its domains to TrustKit.
- TrustKit-Android accepts a host whose top-level label is in its DomainValidator's
  2016 arrays (`pingen.data/trustkit_android_tlds.json`), else ConfigurationException
  "Tried to pin an invalid domain" (datatheorem/TrustKit-Android@230582d:trustkit/src/
  main/java/com/datatheorem/android/trustkit/config/DomainPinningPolicy.java#L66-L68).

Keys. TrustKit (iOS) re-builds each certificate's SubjectPublicKeyInfo from the raw key
and a fixed ASN.1 header it knows only for RSA 2048/3072/4096 and EC P-256/P-384
(datatheorem/TrustKit@c48790f:TrustKit/Pinning/TSKSPKIHashCache.m#L22-L77); any other
key gets no hash (#L270-L274), and the pin check stops there with an error
(TrustKit/Pinning/ssl_pin_verifier.m#L83-L88). The RSA headers encode the length of a
3-byte public exponent (65537): another exponent is hashed under a wrong header, so its
pin never matches.

The data files carry their provenance; both lists were checked entry by entry against
the upstream files named there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

from pingen.spki import KeyType

# -- TrustKit (iOS): the registry lookup ----------------------------------------------


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    is_rule: bool = False  # "terminal" in TrustKit's trie (trie_node.h)


@cache
def _ios_trie() -> _Node:
    text = files("pingen.data").joinpath("trustkit_ios_registry.json").read_text("utf-8")
    root = _Node()
    for rule in json.loads(text)["rules"]:
        node = root
        for label in reversed(rule.split(".")):
            node = node.children.setdefault(label, _Node())
        node.is_rule = True
    return root


def registry_length(host: str) -> int:
    """TrustKit's `GetRegistryLength(host)`: the length of the host's registry (public
    suffix) as TrustKit finds it, 0 when it finds none.

    The walk of datatheorem/TrustKit@c48790f:TrustKit/Dependencies/domain_registry/
    private/registry_search.c#L167-L211 (GetRegistryForHostname) with trie_search.c#L132-L203
    (FindRegistryNode): labels from the right; at each, the exact child, else the `*`
    child (an `!label` exception beside it wins, and ends the match at its parent); a
    child that is a rule makes all labels walked so far the match, a child that is not
    a rule DROPS the match so far (#L187-L192); no child ends the walk. Unknown
    top-level domains get 0 (registry_search.c#L288: allow_unknown_registries = 0).
    """
    labels = host.lower().split(".")
    node = _ios_trie()
    match = 0
    walked = 0  # characters of the labels walked so far, dots between them included
    for label in reversed(labels):
        child = node.children.get(label)
        if child is None:
            wildcard = node.children.get("*")
            if wildcard is None:
                break
            if f"!{label}" in node.children:  # the exception's parent is the registry
                return walked
            child = wildcard
        walked += len(label) + (1 if walked else 0)
        match = walked if child.is_rule else 0
        node = child
    return match


def ios_refusal(host: str, include_subdomains: bool) -> str | None:
    """Why TrustKit (iOS) raises at launch on this domain, or None when it accepts it."""
    length = registry_length(host)
    if length == 0:
        return (
            f'TrustKit refuses {host} ("TrustKit was initialized with an invalid '
            f'domain", an exception at launch): {_no_registry_reason(host)}. TrustKit '
            "cannot pin this host: pin a host name TrustKit knows the suffix of, or keep "
            "this one out of the pins.yaml your TrustKit-based outputs are built from"
        )
    if include_subdomains and length == len(host):
        return (
            f'TrustKit refuses `include_subdomains: true` on {host} ("initialized with '
            'includeSubdomains for a domain suffix", an exception at launch): it is a '
            "public suffix in TrustKit's list, so it would pin other people's domains; set "
            "it to false, or pin your own domain under it"
        )
    return None


def _no_registry_reason(host: str) -> str:
    """Say where TrustKit's walk lost the host: an unknown top-level domain, or a
    name that its 2018 list holds only as part of longer rules."""
    labels = host.split(".")
    node = _ios_trie()
    if labels[-1] not in node.children:
        return (
            f"its 2018 suffix list has no `.{labels[-1]}` (a top-level domain added "
            "since, or not public)"
        )
    deepest = ""
    for label in reversed(labels):
        child = node.children.get(label)
        if child is None:
            break
        deepest = f"{label}.{deepest}" if deepest else label
        node = child
    example = min(_rules_under(node, deepest), default=deepest)
    return (
        f"no rule of its 2018 suffix list covers it: the lookup reaches `{deepest}`, "
        f"which the list holds only as the parent of longer rules such as `{example}`, "
        "and then keeps no match (registry_search.c)"
    )


def _rules_under(node: _Node, suffix: str) -> Iterable[str]:
    for label, child in node.children.items():
        name = f"{label}.{suffix}"
        if child.is_rule:
            yield name
        yield from _rules_under(child, name)


# -- TrustKit-Android: DomainValidator ----------------------------------------------------

# DomainValidator.java#L64-L74: a domain is LABEL(.LABEL)* with a top label starting with
# a letter; pingen's hosts are already normalised A-labels.
_ANDROID_TOP_LABEL = re.compile(r"^[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@cache
def android_tlds() -> frozenset[str]:
    text = files("pingen.data").joinpath("trustkit_android_tlds.json").read_text("utf-8")
    data = json.loads(text)
    return frozenset(data["infrastructure"] + data["generic"] + data["country_code"])


def android_refusal(host: str) -> str | None:
    """Why TrustKit-Android throws at initialisation on this host, or None.

    DomainValidator.isValid (datatheorem/TrustKit-Android@230582d:trustkit/src/main/java/
    com/datatheorem/android/trustkit/config/DomainValidator.java#L119-L135): at most 253
    characters, the domain syntax, then isValidTld (#L161-L168) on the top label, lower
    case, against the three arrays of list version 2016042500 (#L238-L1266).
    """
    top = host.rsplit(".", 1)[-1].lower()
    if len(host) > 253 or not _ANDROID_TOP_LABEL.match(top):
        return (
            f'TrustKit-Android refuses {host} ("Tried to pin an invalid domain", an '
            "exception at initialisation): its DomainValidator refuses the syntax"
        )
    if top not in android_tlds():
        return (
            f'TrustKit-Android refuses {host} ("Tried to pin an invalid domain", an '
            "exception at initialisation): its DomainValidator knows the top-level "
            f"domains of 2016 only, and `.{top}` is not among them"
        )
    return None


# -- TrustKit (iOS): which keys it can hash ----------------------------------------------

HASHABLE = frozenset(
    KeyType.parse(name) for name in ("rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384")
)


def hash_refusal(key: KeyType) -> str | None:
    """Why TrustKit (iOS) can never match a pin of this key, or None when it can."""
    if (
        key.algorithm == "rsa"
        and key.exponent is not None
        and KeyType("rsa", key.bits) in (HASHABLE)
    ):
        return (
            f"TrustKit hashes {key} keys under a fixed header written for the exponent "
            "65537 (TSKSPKIHashCache.m), so the hash it computes is not this pin"
        )
    if key not in HASHABLE:
        return (
            f"TrustKit cannot hash {key} keys: it knows only RSA-2048, RSA-3072, "
            "RSA-4096, EC P-256 and EC P-384 (TSKSPKIHashCache.m), and stops the pin "
            "check at a certificate with another key"
        )
    return None


@dataclass(frozen=True)
class VersionNeed:
    version: str  # "3.0.5"
    reason: str


# Where a key type needs a newer TrustKit than the oldest 3.x:
# - RSA-3072: added by datatheorem/TrustKit@84508a8 ("Adds support for RSA with 3072 bit
#   length"), first in tag 3.0.5.
# - RSA-2048: TrustKit 3.0.4 was reported to fail RSA-2048 keys ("could not generate the
#   SPKI hash"), confirmed fixed in 3.0.7 (datatheorem/TrustKit#352). TSKSPKIHashCache.m's
#   RSA-2048 code is the same in 3.0.3 and 3.0.7, so the cause is elsewhere; 3.0.7 is
#   the first release reported to work.
_VERSION_NEEDS = {
    KeyType("rsa", 3072): VersionNeed("3.0.5", "RSA-3072 keys are hashed since 3.0.5"),
    KeyType("rsa", 2048): VersionNeed(
        "3.0.7",
        "RSA-2048 keys failed to hash in 3.0.4 (datatheorem/TrustKit#352), reported fixed in 3.0.7",
    ),
}


def minimum_version(keys: Iterable[KeyType | None]) -> list[VersionNeed]:
    """What the pins' key types need of TrustKit, newest version first; [] when any 3.x
    will do."""
    needs = {_VERSION_NEEDS[k] for k in keys if k is not None and k in _VERSION_NEEDS}
    return sorted(
        needs, key=lambda need: tuple(int(p) for p in need.version.split(".")), reverse=True
    )


# The output types whose pins TrustKit (iOS) enforces: `trustkit`, and `json` (the iOS
# side of react-native-ssl-public-key-pinning is TrustKit).
IOS_OUTPUT_TYPES = frozenset({"trustkit", "json"})


def uses_trustkit_ios(output_types: Iterable[str | None]) -> bool:
    return any(kind in IOS_OUTPUT_TYPES for kind in output_types)


@dataclass(frozen=True)
class ChainCheck:
    """What TrustKit's pin check does with one chain (indexes count from the leaf)."""

    matched: int | None  # the certificate whose key TrustKit matches to a pin
    stopped_at: int | None  # the certificate whose key it cannot hash: the check errs


def check_chain(chain_keys: Sequence[tuple[str, KeyType]], pins: Iterable[str]) -> ChainCheck:
    """Run TrustKit's pin check over a verified chain, leaf first, as (pin, key type).

    verifyPublicKeyPin (datatheorem/TrustKit@c48790f:TrustKit/Pinning/
    ssl_pin_verifier.m#L64-L98) walks from the root down to the leaf and succeeds at the
    first pinned hash; a key it cannot hash ends the check there with
    TSKTrustEvaluationErrorCouldNotGenerateSpkiHash (#L83-L88), and TSKPinningValidator
    then blocks the connection whatever TSKEnforcePinning says
    (TrustKit/TSKPinningValidator.m#L164-L168). An RSA key with another exponent than
    65537 is hashed under the wrong header: it matches no pin.
    """
    wanted = frozenset(pins)
    for index in reversed(range(len(chain_keys))):
        sha256, key = chain_keys[index]
        if KeyType(key.algorithm, key.bits, key.curve) not in HASHABLE:
            return ChainCheck(None, index)
        if key in HASHABLE and sha256 in wanted:
            return ChainCheck(index, None)
    return ChainCheck(None, None)
