"""Random valid configs with hostile labels, IDN hosts and odd report URIs through
`render_all`: every output parses as its platform reads it, carries every host, pin and
report URI intact and every label as its comment, and is the same bytes on every run.

Kotlin is rendered too but not compiled here (kotlinc is slow; tests/render/test_render_okhttp.py
compiles hostile labels).
"""

from __future__ import annotations

import datetime as dt
import json
import plistlib
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingen.errors import ConfigError, ConfigErrors
from pingen.hosts import normalize_host
from pingen.model import Config, Domain, Level, Pin, PinSet, PinSource
from pingen.render import RenderedFile
from pingen.render.capability import pin_comment
from pingen.render.escape import comment_text, line_comment_text
from pingen.render.pipeline import render_all
from tests.support.android_nsc_rules import problems
from tests.support.models import config, fake_pin, output
from tests.support.swift import check_trustkit_types, configuration

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

HOSTILE_LABELS = [
    'say "hi"',
    "it's",
    "back\\slash",
    "trailing\\",
    "$x ${x} \\(x)",
    "*/ /* */",
    "-->",
    "<!-- x -->",
    "a--b---c",
    "-",
    "]]>",
    "<![CDATA[x]]>",
    "&amp; &lt; <tag/>",
    "\u2028x\u2029",
    "\u202eevil\u202c",
    "\u200f\u05e9\u05dc\u05d5\u05dd",
    "\U0001f512\U0001f600",
    "\x00nul",
    "\x07\x1b[31mred",
    "line\nbreak\r\nand\rmore",
    "\t tabs \t",
    "\x85next",
    "\ufeffbom",
    "\ufffe\uffff",
    "{{ x }} {% if %}",
    "%s %n %d",
    "'''\"\"\"",
    "\\u0041 \\n",
    "   ",
    "//",
    "#",
    "a" * 300,
    "ISRG Root X1",
]
LABELS = st.one_of(st.none(), st.sampled_from(HOSTILE_LABELS), st.text(max_size=30))

HOST_LABELS = st.one_of(
    st.sampled_from(
        [
            "api",
            "www",
            "a-b",
            "xn--bcher-kva",
            "b\u00fccher",
            "\u65e5\u672c",
            "\u043f\u0440\u0438\u043c\u0435\u0440",
            "ma\u00dfe",
            "0",
            "x1",
            "CDN",
        ]
    ),
    st.text(alphabet="abcxyz0189-\u00e4\u00f6\u00e9\u00f1\u03b1\u4e2d", min_size=1, max_size=12),
)
TLDS = st.sampled_from(["com", "org", "de", "jp", "co.uk", "xn--p1ai", "\u0440\u0444", "io"])

URI_PATHS = st.one_of(
    st.sampled_from(
        [
            'a"b',
            "a'b",
            "$x",
            "${x}",
            "\\(x)",
            "<x>",
            "&amp;",
            "*/",
            "-->",
            "]]>",
            "?a=1&b=2",
            "#frag",
            "%20",
            "\u00fcber",
            "\U0001f512",
            "\\",
        ]
    ),
    st.text(
        alphabet=st.characters(
            blacklist_categories=["Cc", "Cs", "Zs", "Zl", "Zp", "Cn", "Co", "Cf"]
        ),
        max_size=15,
    ),
)


@st.composite
def hosts(draw: st.DrawFn) -> str:
    labels = draw(st.lists(HOST_LABELS, min_size=1, max_size=3))
    try:
        return normalize_host(".".join([*labels, draw(TLDS)]))
    except ValueError:  # the loader would refuse it: not a valid config
        return normalize_host(f"h{len(labels)}.example.com")


@st.composite
def domains(draw: st.DrawFn, host: str, seed: int) -> Domain:
    level = draw(st.sampled_from([Level.LEAF, Level.INTERMEDIATE, Level.ROOT]))
    count = draw(st.integers(2, 4))
    pins = tuple(
        Pin(
            sha256=fake_pin(f"{seed}-{index}"),
            source=PinSource.SHA256,
            label=draw(LABELS),
            # one domain mixes no leaf and CA pins: NSPinnedDomains cannot say it
            level=level
            if level is Level.LEAF
            else draw(st.sampled_from([Level.INTERMEDIATE, Level.ROOT])),
            backup=draw(st.booleans()),
        )
        for index in range(count)
    )
    uris = draw(
        st.lists(
            st.builds(
                lambda scheme, path: f"{scheme}://reports.{host}/{path}",
                st.sampled_from(["https", "http"]),
                URI_PATHS,
            ),
            max_size=2,
            unique=True,
        )
    )
    expires = draw(st.one_of(st.none(), st.dates(dt.date(2027, 1, 1), dt.date(9999, 12, 31))))
    return Domain(
        host=host,
        include_subdomains=draw(st.booleans()),
        enforce=True,
        pin_set=PinSet(pins, expires),
        report_uris=tuple(uris),
    )


@st.composite
def configs(draw: st.DrawFn) -> Config:
    names = draw(st.lists(hosts(), min_size=1, max_size=4, unique=True))
    outputs = [
        output(
            "android-nsc",
            "nsc.xml",
            trustkit=draw(st.booleans()),
            debug_overrides=draw(st.booleans()),
            cleartext_permitted=draw(st.booleans()),
        ),
        output(
            "trustkit",
            "TrustKitConfig.swift",
            name="TrustKitConfig",
            swizzle_network_delegates=draw(st.booleans()),
            default_report_uri=draw(st.booleans()),
        ),
        output("ios-plist", "Pins.plist"),
        output("json", "pins.json"),
        output("okhttp", "Pins.kt", package="com.example.net", name="CertificatePins"),
    ]
    return config([draw(domains(host, seed)) for seed, host in enumerate(names)], outputs)


# -- reading each output back -------------------------------------------------------------
def comment_of(pin: Pin) -> str | None:
    """The comment a pin should carry: its label (and backup note), made comment-safe."""
    text = pin_comment(pin)
    return (comment_text(text) or None) if text else None


def xml_with_comments(content: bytes) -> ET.Element:
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    parser.feed(content)
    return parser.close()


def pin_comments(parent: ET.Element, pin_tag: str) -> list[tuple[str, str | None]]:
    """(pin text, the comment right after it or None) for each `pin_tag` under `parent`."""
    found: list[tuple[str, str | None]] = []
    for element in parent.iter():
        children = list(element)
        for index, child in enumerate(children):
            if child.tag != pin_tag:
                continue
            after = children[index + 1] if index + 1 < len(children) else None
            # typeshed types Element.tag as str; a comment's tag is the ET.Comment factory
            is_comment = after is not None and after.tag is ET.Comment  # type: ignore[comparison-overlap]
            comment = after.text if after is not None and is_comment else None
            # a label of only spaces or control characters leaves an empty comment
            found.append((child.text or "", comment.strip() or None if comment else None))
    return found


def check_android_nsc(cfg: Config, content: bytes, trustkit: bool) -> None:
    assert problems(content) == []
    root = xml_with_comments(content)
    blocks = root.findall("domain-config")
    assert len(blocks) == len(cfg.domains)
    for block, domain in zip(blocks, cfg.domains, strict=True):
        assert [d.text for d in block.findall("domain")] == [domain.host]
        pin_set = block.find("pin-set")
        assert pin_set is not None
        assert pin_comments(pin_set, "pin") == [(p.sha256, comment_of(p)) for p in domain.pins]
        if trustkit:
            uris = [u.text for u in block.iter("report-uri")]
            assert uris == list(domain.report_uris)


def check_ios_plist(cfg: Config, content: bytes) -> None:
    pinned = plistlib.loads(content)["NSAppTransportSecurity"]["NSPinnedDomains"]
    assert sorted(pinned) == sorted(d.host for d in cfg.domains)
    for domain in cfg.domains:
        policy = pinned[domain.host]
        key = (
            "NSPinnedLeafIdentities"
            if domain.pins[0].level is Level.LEAF
            else ("NSPinnedCAIdentities")
        )
        assert [i["SPKI-SHA256-BASE64"] for i in policy[key]] == list(domain.pin_set.hashes)
        assert policy["NSIncludesSubdomains"] is domain.include_subdomains
    comments = dict(pin_comments(xml_with_comments(content), "string"))
    for domain in cfg.domains:
        for pin in domain.pins:
            assert comments[pin.sha256] == comment_of(pin)


def check_json(cfg: Config, content: bytes) -> None:
    value = json.loads(content)
    assert sorted(value) == sorted(d.host for d in cfg.domains)
    for domain in cfg.domains:
        policy = value[domain.host]
        assert policy["publicKeyHashes"] == list(domain.pin_set.hashes)
        assert policy["includeSubdomains"] is domain.include_subdomains
        assert policy.get("expirationDate") == (
            domain.expires.isoformat() if domain.expires else None
        )


_SWIFT_PIN_LINE = re.compile(r'^ *"([A-Za-z0-9+/=]{44})",(?: // (.*))?$')


def check_trustkit(cfg: Config, content: bytes) -> None:
    text = content.decode()
    name, value = configuration(text)  # tree-sitter-swift: no ERROR or MISSING node
    assert name == "TrustKitConfig"
    check_trustkit_types(value)
    pinned = value["TSKPinnedDomains"]
    assert sorted(pinned) == sorted(d.host for d in cfg.domains)
    for domain in cfg.domains:
        assert pinned[domain.host]["TSKPublicKeyHashes"] == list(domain.pin_set.hashes)
        assert pinned[domain.host].get("TSKReportUris", []) == list(domain.report_uris)
    lines = [m for m in map(_SWIFT_PIN_LINE.match, text.split("\n")) if m]
    labels = {m.group(1): m.group(2) or None for m in lines}
    for domain in cfg.domains:
        for pin in domain.pins:
            expected = pin.label and line_comment_text(pin.label)  # `//`: `--` stays
            assert labels[pin.sha256] == (expected or None)


def check_okhttp(cfg: Config, content: bytes) -> None:
    text = content.decode()
    for domain in cfg.domains:
        for pin in domain.pins:
            assert f'"sha256/{pin.sha256}"' in text


CHECKS = {
    "android-nsc": lambda cfg, file: check_android_nsc(
        cfg, file.content, file.output.options["trustkit"]
    ),
    "ios-plist": lambda cfg, file: check_ios_plist(cfg, file.content),
    "json": lambda cfg, file: check_json(cfg, file.content),
    "trustkit": lambda cfg, file: check_trustkit(cfg, file.content),
    "okhttp": lambda cfg, file: check_okhttp(cfg, file.content),
}


_URL_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")


def refusal_is_expected(kind: str, error: ConfigError, cfg: Config) -> bool:
    """TrustKit (iOS) takes report URIs with URL characters only: pingen refuses others."""
    uris = [u for d in cfg.domains for u in d.report_uris]
    return (
        kind == "trustkit"
        and "report URI" in error.message
        and any(not _URL_CHARACTERS.match(u) for u in uris)
    )


def render_each(cfg: Config) -> dict[str, RenderedFile | list[ConfigError]]:
    """Each output alone through render_all: its file, or its errors (each located)."""
    results: dict[str, RenderedFile | list[ConfigError]] = {}
    for out in cfg.outputs:
        alone = replace(cfg, outputs=(out,))
        try:
            (results[out.kind],) = render_all(alone)
        except ConfigErrors as errors:
            results[out.kind] = errors.errors
        except ConfigError as error:
            results[out.kind] = [error]
    return results


def check_all(cfg: Config) -> int:
    """Check every output of `cfg`; return how many rendered."""
    rendered = 0
    for kind, result in render_each(cfg).items():
        if isinstance(result, list):
            for error in result:
                assert error.location is not None, error
                assert refusal_is_expected(kind, error, cfg), (kind, error.message)
            continue
        assert result.content.endswith(b"\n") and b"\r" not in result.content
        CHECKS[kind](cfg, result)
        rendered += 1
    return rendered


@FUZZ
@given(cfg=configs())
def test_every_output_reads_back_what_the_config_says(cfg: Config) -> None:
    assert check_all(cfg) >= len(CHECKS) - 1
    try:
        first = [f.content for f in render_all(cfg)]
    except ConfigError:
        return
    assert [f.content for f in render_all(cfg)] == first  # same input, same bytes


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_each_hostile_label_never_changes_the_structure(label: str) -> None:
    """Every label of the list, whatever hypothesis draws (U+FFFE in a label used to make
    the XML outputs unreadable: expat refuses it even in a comment)."""
    # hypothesis sets .hypothesis on a @given test when it decorates it
    test_a_hostile_label_never_changes_the_structure.hypothesis.inner_test(label)  # type: ignore[attr-defined]


@FUZZ
@given(label=st.sampled_from(HOSTILE_LABELS) | st.text(max_size=40))
def test_a_hostile_label_never_changes_the_structure(label: str) -> None:
    """One label at a time, every output: the most direct form of the property above."""
    domain = Domain(
        host="api.example.com",
        include_subdomains=False,
        enforce=True,
        pin_set=PinSet(
            (
                Pin(fake_pin("a"), PinSource.SHA256, label=label, level=Level.ROOT),
                Pin(fake_pin("b"), PinSource.SHA256, label=label, level=Level.ROOT, backup=True),
            ),
            dt.date(2030, 1, 1),
        ),
        report_uris=("https://r.example.com/x",),
    )
    cfg = config(
        [domain],
        [
            output("android-nsc", "nsc.xml", trustkit=True),
            output("trustkit", "TrustKitConfig.swift", name="TrustKitConfig"),
            output("ios-plist", "Pins.plist"),
            output("json", "pins.json"),
            output("okhttp", "Pins.kt", package="com.example.net", name="CertificatePins"),
        ],
    )
    assert check_all(cfg) == len(CHECKS)


def test_plain_labels_survive_verbatim() -> None:
    """Where nothing needs escaping the label is the comment, character for character."""
    label = "ISRG Root X1 (Let's Encrypt) \u2014 b\u00fccher \U0001f512 $5 & <more>"
    assert comment_text(label) == label
    pins: tuple[Any, ...] = (
        Pin(fake_pin("a"), PinSource.SHA256, label=label, level=Level.ROOT),
        Pin(fake_pin("b"), PinSource.SHA256, label="backup", level=Level.ROOT),
    )
    cfg = config(
        [Domain("api.example.com", False, True, PinSet(pins, None))],
        [
            output("android-nsc", "nsc.xml"),
            output("ios-plist", "Pins.plist"),
            output("trustkit", "TrustKitConfig.swift", name="TrustKitConfig"),
        ],
    )
    for file in render_all(cfg):
        assert label in file.content.decode(), file.output.kind


@FUZZ
@given(
    name=st.one_of(
        st.sampled_from(
            [
                "enum",
                "Type",
                "self",
                "Any",
                "_",
                "`x`",
                "a b",
                "1x",
                "x.y",
                "\u00e9t\u00e9",
                "TrustKitConfig",
                "Self",
                "protocol",
                "init",
                "x\ny",
                "",
            ]
        ),
        st.text(max_size=12),
    )
)
def test_a_hostile_swift_enum_name_is_refused_or_parses(name: str) -> None:
    domain = Domain(
        "api.example.com",
        False,
        True,
        PinSet(
            (
                Pin(fake_pin("a"), PinSource.SHA256, level=Level.ROOT),
                Pin(fake_pin("b"), PinSource.SHA256, level=Level.ROOT),
            ),
            None,
        ),
    )
    cfg = config([domain], [output("trustkit", "T.swift", name=name)])
    try:
        (file,) = render_all(cfg)
    except ConfigError as error:
        assert error.location is not None and "name" in str(error)
        return
    parsed_name, value = configuration(file.content.decode())
    assert parsed_name.strip("`") == name
    check_trustkit_types(value)
