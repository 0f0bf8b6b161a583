"""The Public Suffix List, applied the way TrustKit applies it.

TrustKit (iOS) checks every pinned domain with Google's domain-registry code over its own
copy of the list (ICANN and private sections): a domain whose top-level label is not in
the list is refused ("initialized with an invalid domain"), and `TSKIncludeSubdomains`
on a domain that is itself a public suffix is refused too. Unlike browsers, unknown
top-level domains are not allowed (no implicit `*` rule).

The list ships inside pingen (`pingen.data/public_suffix_list.json`, a fixed snapshot), so
the verdict is the same on every machine.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files


@cache
def _rules() -> frozenset[str]:
    text = files("pingen.data").joinpath("public_suffix_list.json").read_text("utf-8")
    return frozenset(json.loads(text)["rules"])


def public_suffix(host: str) -> str | None:
    """The public suffix of `host` (A-labels, lower case), or None when its top-level
    label is not in the list."""
    rules = _rules()
    labels = host.lower().split(".")
    for index in range(len(labels)):
        candidate = ".".join(labels[index:])
        if "!" + candidate in rules:  # an exception: the parent is the suffix
            return ".".join(labels[index + 1:])
        if candidate in rules:
            return candidate
        parent = labels[index + 1:]
        if parent and "*." + ".".join(parent) in rules:
            return candidate
    return None


def is_public_suffix(host: str) -> bool:
    return public_suffix(host) == host.lower()
