"""The `urlsession` output, proven without a Swift compiler.

- Syntax: tree-sitter-swift parses every generated file (every option combination,
  hostile labels, hosts and report URIs, 1,000 domains) with no ERROR or MISSING node.
- Structure: the delegate method has Apple's exact signature, the Alamofire evaluator and
  trust manager match Alamofire's exact requirements, and every name the file uses is its
  own, the Swift library's, or an Apple/Alamofire symbol of tests/support/apple_symbols.py
  available at the output's minimum iOS (or inside an `#available` check for it).
- SPKI: each header in the file, followed by the key bytes SecKeyCopyExternalRepresentation
  gives (PKCS #1 for RSA, the X9.63 point for EC), is the key's real SubjectPublicKeyInfo,
  and its SHA-256 is what `pingen pin` prints.
- Policy table: read back from the Swift, it equals pins.yaml host by host.
- Decision: the Swift `policy(forHost:)`/`decide` and their Python mirror carry the same
  step comments, and the mirror gives the expected decision on every case.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import inspect
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import tree_sitter
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import given

from pingen.errors import ConfigError
from pingen.model import Config, Domain, Output, Pin, PinSource
from pingen.render import platforms, urlsession
from pingen.render.pipeline import render_output
from pingen.spki import KeyType
from tests.conftest import CliRunner
from tests.support import platform_lookups, rendering
from tests.support.apple_symbols import ALAMOFIRE, APPLE, SWIFT
from tests.support.docs import docs_text
from tests.support.models import config, domain, fake_pin, output, pin
from tests.support.offline_verify import chain_problems
from tests.support.pki import CA, pem_of, write_pem
from tests.support.samples import TODAY
from tests.support.swift import parse, source_bytes, source_of, swift_string, walk

A, B, C, D = fake_pin("a"), fake_pin("b"), fake_pin("c"), fake_pin("d")
HOSTILE_LABEL = 'evil */ /* "q" $x \\(y) \\ back\nslash\r\u2028 end #endif'
HOSTILE_HOST = 'ev"il\\(x)\\\n$y.example.com'
HOSTILE_URI = "https://r.example.com/a%20b?x=$y&z='q'#\\(f)"
OUT = "ios/PinnedTrust.swift"


def render(cfg: Config, out: Output | None = None) -> str:
    return rendering.render(urlsession, cfg, out or output("urlsession", OUT)).text


def sample_config() -> Config:
    return config(
        [
            domain(
                "api.example.com",
                [pin(A, "ISRG Root X1"), pin(B, "backup key")],
                include_subdomains=True,
                expires=dt.date(2027, 6, 30),
                report_uris=("https://reports.example.com/pins", "http://r.example.net/a?b=c"),
            ),
            domain("www.example.co.uk", [pin(C), pin(D)], enforce=False),
            domain("cdn.xn--bcher-kva.de", [A, B, C], expires=dt.date(2030, 1, 2)),
        ]
    )


ALL_OPTIONS = [
    {"alamofire": alamofire, "minimum_ios": ios}
    for alamofire in (False, True)
    for ios in (12, 13, 14, 15, 17)
]


def options_id(options: dict[str, Any]) -> str:
    return "-".join(f"{k}={v}" for k, v in options.items())


# -- reading the Swift back ---------------------------------------------------------------


def named(root: tree_sitter.Node, node_type: str, name: str) -> tree_sitter.Node:
    """The one declaration of `node_type` whose name is `name`."""
    found = [n for n in walk(root) if n.type == node_type and declared_name(n) == name]
    assert len(found) == 1, (node_type, name, len(found))
    return found[0]


def declared_name(node: tree_sitter.Node) -> str | None:
    for child in node.children:
        if child.type in ("type_identifier", "simple_identifier"):
            return source_of(child)
    return None


def signature(function: tree_sitter.Node) -> str:
    """A function declaration up to its body, white space collapsed."""
    body = function.child_by_field_name("body")
    end = body.start_byte if body is not None else function.end_byte
    text = source_bytes(function)[: end - function.start_byte].decode()
    return " ".join(text.split())


def inherits(cls: tree_sitter.Node) -> list[str]:
    return [
        " ".join(source_of(c).split()) for c in cls.children if c.type == "inheritance_specifier"
    ]


def call_arguments(call: tree_sitter.Node) -> dict[str, tree_sitter.Node]:
    """label -> value of a call's labelled arguments."""
    arguments: dict[str, tree_sitter.Node] = {}
    for argument in walk(call):
        if argument.type != "value_argument" or argument.parent is None:
            continue
        if argument.parent.parent is None or argument.parent.parent.parent != call:
            continue
        label = next(c for c in argument.children if c.type == "value_argument_label")
        arguments[source_of(label)] = argument.children[-1]
    return arguments


def calls_of(root: tree_sitter.Node, callee: str) -> list[tree_sitter.Node]:
    return [
        n
        for n in walk(root)
        if n.type == "call_expression"
        and n.children[0].type == "simple_identifier"
        and n.children[0].text == callee.encode()
    ]


def policy_table(text: str) -> dict[str, dict[str, Any]]:
    """The `Policy(...)` entries of the file, as Python values."""
    table: dict[str, dict[str, Any]] = {}
    for call in calls_of(parse(text), "Policy"):
        args = call_arguments(call)
        assert list(args) == [
            "host",
            "includeSubdomains",
            "enforce",
            "expires",
            "reportURIs",
            "pins",
        ]
        host = swift_string(args["host"])
        assert host not in table, "duplicate host"
        table[host] = {
            "include_subdomains": boolean(args["includeSubdomains"]),
            "enforce": boolean(args["enforce"]),
            "expires": expiry(args["expires"]),
            "report_uris": [
                swift_string(e)
                for e in args["reportURIs"].named_children
                if e.type == "line_string_literal"
            ],
            "pins": [
                swift_string(e)
                for e in args["pins"].named_children
                if e.type == "line_string_literal"
            ],
        }
    return table


def boolean(node: tree_sitter.Node) -> bool:
    assert node.type == "boolean_literal"
    return node.text == b"true"


def expiry(node: tree_sitter.Node) -> dt.datetime | None:
    if node.text == b"nil":
        return None
    match = re.fullmatch(r"Date\(timeIntervalSince1970: (\d+)\)", source_of(node))
    assert match, node.text
    return dt.datetime.fromtimestamp(int(match.group(1)), dt.UTC)


# -- syntax --------------------------------------------------------------------------------


@pytest.mark.parametrize("options", ALL_OPTIONS, ids=options_id)
def test_every_option_combination_parses_cleanly(options: dict[str, Any]) -> None:
    text = render(sample_config(), output("urlsession", OUT, **options))
    root = parse(text)
    assert root.type == "source_file"
    has_alamofire = "#if canImport(Alamofire)" in text
    assert has_alamofire == options["alamofire"]
    assert ("import CryptoKit" in text) == (options["minimum_ios"] >= 13)
    assert ("import CommonCrypto" in text) == (options["minimum_ios"] < 13)
    assert ("SecTrustGetCertificateAtIndex" in text) == (options["minimum_ios"] < 15)


def test_hostile_labels_hosts_and_report_uris_neither_break_the_parse_nor_change_values() -> None:
    cfg = config(
        [domain(HOSTILE_HOST, [pin(A, HOSTILE_LABEL), pin(B, "*/")], report_uris=(HOSTILE_URI,))]
    )
    # The report URI check would refuse the quote; the escaping is proven on the model.
    rendering_ = urlsession.context(
        config([domain("x.example.com", [A, B])]), output("urlsession", OUT)
    )
    rendering_.context["domains"] = [urlsession.domain_context(cfg.domains[0])]
    from pingen.render import engine

    text = engine.render_template(
        engine.environment(), urlsession.TEMPLATE, rendering_.context
    ).decode()
    table = policy_table(text)
    assert table[HOSTILE_HOST]["pins"] == [A, B]
    assert table[HOSTILE_HOST]["report_uris"] == [HOSTILE_URI]
    comments = [n for n in walk(parse(text)) if n.type in ("comment", "multiline_comment")]
    assert all(c.type == "comment" and "\n" not in source_of(c) for c in comments)
    assert any(
        source_of(c) == '// evil * / / * "q" $x \\(y) \\ back slash   end #endif' for c in comments
    )
    assert text.count("#if canImport(Alamofire)") == 0  # a label cannot open a compiler block


def test_a_thousand_domains_parse_and_all_reach_the_table() -> None:
    domains = [
        domain(
            f"h{i}.example.com",
            [pin(A, f"label {i}"), B],
            include_subdomains=i % 2 == 0,
            expires=dt.date(2027, 1, 1 + i % 28),
        )
        for i in range(1000)
    ]
    text = render(config(domains), output("urlsession", OUT, alamofire=True))
    table = policy_table(text)
    assert len(table) == 1000
    assert table["h7.example.com"]["expires"] == dt.datetime(2027, 1, 8, tzinfo=dt.UTC)


def test_no_trailing_comma_in_an_argument_list() -> None:
    # swiftc before 6.1 refuses `f(a: 1,)`; tree-sitter accepts it, so check it here.
    for options in ALL_OPTIONS:
        root = parse(render(sample_config(), output("urlsession", OUT, **options)))
        for node in walk(root):
            if node.type == "value_arguments":
                tokens = [c for c in node.children if c.type != "comment"]
                assert not (len(tokens) > 2 and tokens[-2].type == ","), node.text


# -- structure -----------------------------------------------------------------------------


def test_the_delegate_has_apples_exact_signature() -> None:
    root = parse(render(sample_config()))
    delegate = named(root, "class_declaration", "PinnedTrustDelegate")
    assert source_bytes(delegate).startswith(b"final class PinnedTrustDelegate")
    assert inherits(delegate) == ["NSObject", "URLSessionDelegate"]
    methods = [n for n in walk(delegate) if n.type == "function_declaration"]
    by_name = {declared_name(m): m for m in methods}
    apple = APPLE["URLSessionDelegate"].declaration.removeprefix("optional ")
    assert signature(by_name["urlSession"]) == apple
    assert signature(by_name["evaluate"]) == (
        "static func evaluate(_ trust: SecTrust, host: String) -> Decision"
    )
    assert "case .reportOnly(let violation):" in source_of(by_name["urlSession"])


def test_the_alamofire_evaluator_and_manager_meet_alamofires_requirements() -> None:
    root = parse(render(sample_config(), output("urlsession", OUT, alamofire=True)))
    evaluator = named(root, "class_declaration", "PinnedTrustEvaluator")
    assert inherits(evaluator) == ["ServerTrustEvaluating"]
    functions = {declared_name(f): f for f in walk(evaluator) if f.type == "function_declaration"}
    assert signature(functions["evaluate"]) == ALAMOFIRE["ServerTrustEvaluating"].declaration
    body = source_of(functions["evaluate"])
    assert body.count("throw AFError.serverTrustEvaluationFailed(") == 2
    manager = named(root, "class_declaration", "PinnedTrustServerTrustManager")
    assert inherits(manager) == ["ServerTrustManager", "Sendable"]
    assert b": ServerTrustManager, @unchecked Sendable {" in source_bytes(manager)
    override = next(f for f in walk(manager) if f.type == "function_declaration")
    requirement = ALAMOFIRE["ServerTrustManager"].declaration.removeprefix("open ")
    assert signature(override) == "override " + requirement
    # Unlisted hosts: nil, so Alamofire's default handling (allHostsMustBeEvaluated: false).
    assert (
        "guard PinnedTrust.policy(forHost: host) != nil else { return nil }\n"
        "        return evaluator" in source_of(override)
    )
    assert b"allHostsMustBeEvaluated: false" in source_bytes(manager)
    # Everything Alamofire lives under `#if canImport(Alamofire)`.
    text = source_of(root)
    first_if = text.index("#if canImport(Alamofire)")
    assert "Alamofire" not in text[:first_if].replace("Alamofire 5", "")


def declared_names(root: tree_sitter.Node) -> set[str]:
    """Every name the file itself declares: types, cases, functions, properties,
    parameters, local bindings and closure parameters."""
    declaring = {
        "class_declaration",
        "function_declaration",
        "parameter",
        "pattern",
        "enum_entry",
        "typealias_declaration",
        "lambda_parameter",
        "property_declaration",
        "for_statement",
        "value_binding_pattern",
    }
    binding = {"guard_statement", "if_statement", "while_statement"}  # `if let x = ...`
    names: set[str] = set()
    for node in walk(root):
        if node.type in ("simple_identifier", "type_identifier") and node.parent is not None:
            if node.parent.type in declaring and not _is_a_type_use(node):
                names.add(source_of(node))
            following = node.next_sibling
            if node.parent.type in binding and following is not None and following.type == "=":
                names.add(source_of(node))
            if source_bytes(node).startswith(b"$"):  # a closure's implicit parameter
                names.add(source_of(node))
    return names


def _is_a_type_use(node: tree_sitter.Node) -> bool:
    return (
        node.type == "type_identifier"
        and node.parent is not None
        and node.parent.type == "user_type"
    )


def used_names(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    for node in walk(root):
        if node.type in ("simple_identifier", "type_identifier") and not node.is_missing:
            if _inside_comment_or_string(node):
                continue
            yield node


def _inside_comment_or_string(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("line_string_literal", "comment"):
            return True
        parent = parent.parent
    return False


def known_members() -> set[str]:
    return {m for s in [*APPLE.values(), *ALAMOFIRE.values()] for m in s.members}


@pytest.mark.parametrize("options", ALL_OPTIONS, ids=options_id)
def test_every_name_is_declared_here_swifts_or_a_documented_symbol(options: dict[str, Any]) -> None:
    root = parse(render(sample_config(), output("urlsession", OUT, **options)))
    own = declared_names(root)
    allowed = own | SWIFT | set(APPLE) | set(ALAMOFIRE) | known_members()
    unknown = sorted({source_of(n) for n in used_names(root)} - allowed)
    assert unknown == []
    foreign = {source_of(n) for n in used_names(root)} - own - known_members()
    # The adapter's list of names a type name must not shadow covers them all.
    assert foreign - SWIFT <= urlsession.FOREIGN_NAMES


def availability_floor(node: tree_sitter.Node, minimum_ios: int) -> int:
    """The iOS version code at `node` may assume: the output's minimum, or the version of
    an enclosing `if #available(iOS N, ...)` whose true branch holds it."""
    floor = minimum_ios
    child, parent = node, node.parent
    while parent is not None:
        if parent.type == "if_statement":
            condition = next(
                (c for c in parent.children if c.type == "availability_condition"), None
            )
            first_block = next((c for c in parent.children if c.type == "statements"), None)
            if condition is not None and first_block is not None and child == first_block:
                version = re.search(rb"iOS (\d+)", source_bytes(condition))
                assert version is not None
                floor = max(floor, int(version.group(1)))
        child, parent = parent, parent.parent
    return floor


@pytest.mark.parametrize("options", ALL_OPTIONS, ids=options_id)
def test_every_apple_symbol_is_available_and_not_deprecated_at_the_minimum_ios(
    options: dict[str, Any],
) -> None:
    minimum = options["minimum_ios"]
    root = parse(render(sample_config(), output("urlsession", OUT, **options)))
    for node in used_names(root):
        symbol = APPLE.get(source_of(node))
        if symbol is None:
            continue
        floor = availability_floor(node, minimum)
        assert symbol.ios <= floor, (node.text, symbol.ios, floor)
        if symbol.deprecated_ios is not None:
            assert minimum < symbol.deprecated_ios, (node.text, "deprecated at", minimum)


def test_the_apple_symbols_keep_their_documentation() -> None:
    for name, symbol in {**APPLE, **ALAMOFIRE}.items():
        assert symbol.documentation and symbol.source, name
    # Those the output depends on for its minimum iOS.
    assert APPLE["SecTrustEvaluateWithError"].ios == 12
    assert APPLE["SecCertificateCopyKey"].ios == 12
    assert APPLE["SecTrustCopyCertificateChain"].ios == 15
    assert APPLE["SecTrustGetCertificateAtIndex"].deprecated_ios == 15
    assert APPLE["SHA256"].ios == 13
    # Every symbol whose availability decides anything (newer than iOS 12, or deprecated)
    # was read from its page this session.
    deciding = [n for n, s in APPLE.items() if s.ios > 10 or s.deprecated_ios is not None]
    assert all(APPLE[n].read for n in deciding), [n for n in deciding if not APPLE[n].read]


# -- SPKI headers, byte for byte -----------------------------------------------------------


def swift_headers(text: str) -> dict[tuple[str, int], tuple[int, bytes]]:
    """(kSecAttrKeyType constant, bits) -> (keyLength, header bytes), read from the file."""
    headers: dict[tuple[str, int], tuple[int, bytes]] = {}
    for call in calls_of(parse(text), "SPKIHeader"):
        args = call_arguments(call)
        key_type = source_of(args["keyType"]).removesuffix(" as String")
        elements = [e for e in args["bytes"].named_children if e.type == "hex_literal"]
        data = bytes(int(source_bytes(e), 16) for e in elements)
        bits, length = (int(source_bytes(args[name])) for name in ("bits", "keyLength"))
        headers[(key_type, bits)] = (length, data)
    return headers


def key_for(key_type: urlsession.SpkiHeader) -> Any:
    if key_type.sec_key_type == "kSecAttrKeyTypeRSA":
        return rsa.generate_private_key(65537, key_type.bits).public_key()
    curve = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1()}[key_type.bits]
    return ec.generate_private_key(curve).public_key()


def external_representation(key: Any) -> bytes:
    """What SecKeyCopyExternalRepresentation gives: PKCS #1 RSAPublicKey for RSA, the X9.63
    uncompressed point (04 || X || Y) for EC."""
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    point: bytes = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return point


@pytest.mark.parametrize("key_type", urlsession.SPKI_HEADERS, ids=lambda k: k.name)
def test_each_header_plus_the_raw_key_is_the_real_spki_and_hashes_to_pingen_pin(
    key_type: urlsession.SpkiHeader, tmp_path: Path, run_pingen: CliRunner
) -> None:
    headers = swift_headers(render(sample_config()))
    key_length, header = headers[(key_type.sec_key_type, key_type.bits)]
    key = key_for(key_type)
    raw = external_representation(key)
    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert header + raw == spki
    assert key_length == len(raw)
    (tmp_path / "key.pem").write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    result = run_pingen("pin", "--format", "json", str(tmp_path / "key.pem"))
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)[0]["sha256"]
    assert base64.b64encode(hashlib.sha256(header + raw).digest()).decode() == printed


def test_the_six_key_types_are_all_there_and_nothing_else() -> None:
    headers = swift_headers(render(sample_config()))
    assert set(headers) == {(k.sec_key_type, k.bits) for k in urlsession.SPKI_HEADERS}


def test_another_rsa_exponent_changes_the_length_the_file_checks() -> None:
    # A fixed header counts a 65537 exponent: another exponent changes the key's length,
    # which the generated `raw.count == header.keyLength` refuses (no wrong hash).
    key = rsa.generate_private_key(3, 2048).public_key()
    assert len(external_representation(key)) != 270
    assert "raw.count == header.keyLength" in render(sample_config())


# -- the policy table equals pins.yaml -----------------------------------------------------


def test_the_policy_table_equals_the_config_host_by_host() -> None:
    cfg = sample_config()
    table = policy_table(render(cfg))
    assert list(table) == sorted(d.host for d in cfg.domains)
    for d in cfg.domains:
        entry = table[d.host]
        assert entry["include_subdomains"] == d.include_subdomains
        assert entry["enforce"] == d.enforce
        assert entry["pins"] == list(d.pin_set.hashes)
        assert entry["report_uris"] == list(d.report_uris)
        if d.expires is None:
            assert entry["expires"] is None
        else:
            assert entry["expires"] == urlsession.expiry_instant(d.expires)
            assert entry["expires"].time() == dt.time(0, 0)


def test_the_policy_table_equals_the_platform_models_effective_pins() -> None:
    """Host by host, subdomains at depth 1 and 2, before and after each expiry instant:
    the table read back from the Swift, looked up as the Swift does, gives what the
    platform model says the urlsession output enforces (what `pingen explain` shows)."""
    cfg = config([*decision_domains(), *sample_config().domains[1:]])
    out = output("urlsession", OUT)
    assert platforms.platforms_of(out) == (platforms.URLSESSION,)
    table = policy_table(render(cfg, out))
    from_file = [
        domain(
            host,
            e["pins"],
            include_subdomains=e["include_subdomains"],
            enforce=e["enforce"],
            expires=e["expires"].date() if e["expires"] else None,
        )
        for host, e in table.items()
    ]
    entries = [platforms.Entry.of(d) for d in cfg.domains]
    days = sorted({d.expires for d in cfg.domains if d.expires is not None})
    hosts = platforms.representative_hosts(entries)
    assert any(h.count(platforms.SUBDOMAIN_LABEL) == 2 for h in hosts)
    for host in hosts:
        for day in [None, *days, *(d - dt.timedelta(days=1) for d in days)]:
            model = platforms.effective(platforms.URLSESSION, entries, host, day)
            now = urlsession.expiry_instant(day) if day else dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
            decision = urlsession.decide(from_file, host, now, lambda: True, lambda: [])
            if not model.pinned:
                assert decision.kind == "notPinned", (host, day)
                continue
            assert decision.violation is not None, (host, day)
            assert set(decision.violation.expected_pins) == {p.sha256 for p in model.pins}
            assert decision.violation.enforced == model.enforce
            policy = urlsession.policy_for_host(from_file, host)
            assert policy is not None and policy.expires == model.expires


# -- the decision and its Python mirror ----------------------------------------------------


def step_comments(text: str, marker: str) -> list[str]:
    return [
        line.strip().removeprefix(marker).strip()
        for line in text.splitlines()
        if line.strip().startswith(marker)
    ]


def swift_function(text: str, name: str) -> str:
    return source_of(named(parse(text), "function_declaration", name))


def test_the_swift_decision_and_its_python_mirror_take_the_same_steps() -> None:
    text = render(sample_config())
    swift_policy = step_comments(swift_function(text, "policy"), "//")
    python_policy = step_comments(inspect.getsource(urlsession.policy_for_host), "#")
    assert swift_policy == python_policy and len(swift_policy) == 4
    swift_decide = step_comments(swift_function(text, "decide"), "//")
    python_decide = step_comments(inspect.getsource(urlsession.decide), "#")
    assert swift_decide == python_decide and len(swift_decide) == 5
    # Pure: the decision functions call no Security or Foundation API.
    for name in ("policy", "decide"):
        names = {source_of(n) for n in used_names(named(parse(text), "function_declaration", name))}
        assert not names & set(APPLE) - {"Date"}, names


NOW = dt.datetime(2027, 6, 29, 23, 59, 59, tzinfo=dt.UTC)


def decision_domains() -> list[Domain]:
    return [
        domain("example.com", [A, B], include_subdomains=True),
        domain("api.example.com", [C, D]),  # its own policy, no subdomains
        domain("report.example.com", [A, B], enforce=False, include_subdomains=True),
        domain("old.example.org", [A, B], expires=dt.date(2027, 6, 30)),
        domain("plain.example.net", [A, B]),
    ]


DECISION_CASES: list[tuple[str, dt.datetime, bool, list[str], str, str | None]] = [
    # host, now, system trusts, served pins -> decision, policy host
    ("example.com", NOW, True, [A], "pinned", "example.com"),
    ("a.example.com", NOW, True, [D, B], "pinned", "example.com"),  # depth 1
    ("b.a.example.com", NOW, True, [B], "pinned", "example.com"),  # depth 2
    ("API.Example.COM.", NOW, True, [C], "pinned", "api.example.com"),  # case, trailing dot
    ("api.example.com", NOW, True, [A], "refused", "api.example.com"),  # own policy wins
    ("x.api.example.com", NOW, True, [A], "pinned", "example.com"),  # api's has no subdomains
    ("x.api.example.com", NOW, True, [C], "refused", "example.com"),
    ("report.example.com", NOW, True, [C], "reportOnly", "report.example.com"),
    ("z.report.example.com", NOW, True, [C], "reportOnly", "report.example.com"),
    ("report.example.com", NOW, False, [A], "untrusted", "report.example.com"),
    ("example.com", NOW, False, [A], "untrusted", "example.com"),
    ("old.example.org", NOW, True, [C], "refused", "old.example.org"),
    ("old.example.org", NOW + dt.timedelta(seconds=1), True, [C], "notPinned", None),  # expired
    ("sub.plain.example.net", NOW, True, [C], "notPinned", None),  # no subdomains
    ("example.org", NOW, True, [C], "notPinned", None),  # unlisted
    ("notexample.com", NOW, True, [C], "notPinned", None),  # not a subdomain
    ("example.com", NOW, True, [], "refused", "example.com"),  # no hashable key served
]


@pytest.mark.parametrize(
    ("host", "now", "trusted", "served", "kind", "policy_host"), DECISION_CASES
)
def test_the_python_mirror_decides(
    host: str,
    now: dt.datetime,
    trusted: bool,
    served: list[str],
    kind: str,
    policy_host: str | None,
) -> None:
    asked: list[str] = []

    def system_trusts() -> bool:
        asked.append("trust")
        return trusted

    def served_pins() -> Sequence[str]:
        asked.append("pins")
        return served

    decision = urlsession.decide(decision_domains(), host, now, system_trusts, served_pins)
    assert decision.kind == kind
    policy = urlsession.policy_for_host(decision_domains(), host)
    assert (policy.host if policy and kind != "notPinned" else None) == policy_host
    if kind == "notPinned":
        assert asked == []  # no Security work for a host that is not pinned
    if decision.violation is not None:
        assert decision.violation.served_pins == tuple(served)
        assert decision.violation.policy_host == policy_host
        assert decision.violation.enforced == (kind == "refused")


# -- options, names, errors ----------------------------------------------------------------


def test_header_names_the_file_both_snippets_and_the_minimum_ios() -> None:
    for alamofire in (False, True):
        text = render(
            sample_config(), output("urlsession", OUT, alamofire=alamofire, minimum_ios=14)
        )
        assert text.startswith("// Generated by pingen from pins.yaml. Do not edit:")
        assert "Minimum iOS 14." in text
        assert "delegate: PinnedTrustDelegate(), delegateQueue: nil)" in text
        assert "Session(serverTrustManager: PinnedTrustServerTrustManager())" in text
        assert "URLSession.shared has no delegate, so it is never pinned" in text
    assert f'"{A}", // ISRG Root X1\n' in render(sample_config())


def test_a_name_prefixes_every_type_and_a_keyword_is_quoted() -> None:
    root = parse(render(sample_config(), output("urlsession", OUT, name="Pins", alamofire=True)))
    for declared in ("Pins", "PinsDelegate", "PinsEvaluator", "PinsServerTrustManager"):
        named(root, "class_declaration", declared)
    text = render(sample_config(), output("urlsession", OUT, name="class"))
    parse(text)
    assert "enum `class` {" in text and "final class classDelegate:" in text


@pytest.mark.parametrize(
    "name",
    [
        "9Pins",
        "Pin-Trust",
        "",
        "Data",
        "URL",
        "Security",
        "Policy",
        "NSObject",
        "Self",
        "URLSession",
    ],
)
def test_a_name_that_would_shadow_what_the_file_uses_is_refused(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        urlsession.context(sample_config(), output("urlsession", OUT, name=name))
    assert "prefix of Swift type names" in caught.value.message


@pytest.mark.parametrize("value", [11, 0, True, "13", 13.5, 100])
def test_a_minimum_ios_below_12_or_not_a_version_is_refused(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        urlsession.context(sample_config(), output("urlsession", OUT, minimum_ios=value))
    assert "at least 12" in caught.value.message


@pytest.mark.parametrize(
    "uri",
    [
        "https://r.example.com/a b",
        "ftp://r.example.com/",
        'https://r.example.com/"x"',
        "https://r.example.com/\u00e9",
    ],
)
def test_a_report_uri_url_cannot_read_is_refused(uri: str) -> None:
    cfg = config([domain("api.example.com", [A, B], report_uris=(uri,))])
    with pytest.raises(ConfigError) as caught:
        urlsession.context(cfg, output("urlsession", OUT))
    assert "report URI" in caught.value.message and "percent-encode" in caught.value.message


def keyed(sha256: str, key: str, label: str | None = None) -> Pin:
    return Pin(sha256=sha256, source=PinSource.SHA256, label=label, key=KeyType.parse(key))


def test_known_key_types_carry_only_their_headers_and_no_warning() -> None:
    cfg = config([domain("api.example.com", [keyed(A, "ec-p256"), keyed(B, "rsa-2048")])])
    result = rendering.render(urlsession, cfg, output("urlsession", OUT))
    assert result.warnings == ()
    assert set(swift_headers(result.text)) == {
        ("kSecAttrKeyTypeECSECPrimeRandom", 256),
        ("kSecAttrKeyTypeRSA", 2048),
    }


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (KeyType.parse("ed25519"), "cannot hash a Ed25519 key"),
        (KeyType.parse("rsa-1024"), "cannot hash a RSA-1024 key"),
        (KeyType("rsa", 2048, exponent=3), "its RSA exponent is 3"),
        (KeyType("ec", 256, "secp256k1"), "cannot hash a EC secp256k1 key"),
    ],
)
def test_a_pin_the_file_cannot_hash_is_refused(key: KeyType, reason: str) -> None:
    backup = Pin(sha256=B, source=PinSource.SHA256, label="backup", key=key, backup=True)
    cfg = config([domain("api.example.com", [keyed(A, "ec-p256"), backup])])
    with pytest.raises(ConfigError) as caught:
        urlsession.context(cfg, output("urlsession", OUT))
    assert reason in caught.value.message and "could never match on iOS" in caught.value.message
    assert f"'backup' ({B})" in caught.value.message


def test_unknown_key_types_carry_every_header_with_one_warning() -> None:
    result = rendering.render(urlsession, sample_config(), output("urlsession", OUT))
    assert len(result.warnings) == 1
    assert "key type of some pins is unknown" in result.warning_text


def test_same_input_same_bytes_through_the_pipeline() -> None:
    cfg = sample_config()
    out = output("urlsession", OUT, alamofire=True)
    assert render(cfg, out) == render(cfg, out)
    assert render_output(cfg, out).content == render(cfg, out).encode()
    assert "\r" not in render(cfg, out) and render(cfg, out).endswith("#endif\n")


# -- through `pingen build` ----------------------------------------------------------------

PINS_YAML = f"""\
version: 1
defaults:
  expires: 2030-01-01
domains:
  api.example.com:
    include_subdomains: true
    report_uris: [https://reports.example.com/pins]
    pins:
      - sha256: "{A}"
        label: ISRG Root X1
        level: root
      - sha256: "{B}"
        label: GTS Root R1
        level: root
        backup: true
outputs:
  - type: urlsession
    path: ios/PinnedTrust.swift
  - type: urlsession
    path: ios/PinnedTrustAlamofire.swift
    name: AppPins
    alamofire: true
    minimum_ios: 15
"""


def test_build_writes_both_files(workdir: Path, run_pingen: CliRunner) -> None:
    (workdir / "pins.yaml").write_text(PINS_YAML)
    result = run_pingen("build", "--at", TODAY.isoformat())
    assert result.exit_code == 0, result.stderr
    plain = (workdir / "ios/PinnedTrust.swift").read_text()
    with_af = (workdir / "ios/PinnedTrustAlamofire.swift").read_text()
    assert set(policy_table(plain)) == set(policy_table(with_af)) == {"api.example.com"}
    assert "#if canImport(Alamofire)" not in plain and "final class AppPinsEvaluator" in with_af


def test_build_refuses_a_bad_minimum_ios_where_it_is(workdir: Path, run_pingen: CliRunner) -> None:
    (workdir / "pins.yaml").write_text(PINS_YAML.replace("minimum_ios: 15", "minimum_ios: 11"))
    result = run_pingen("build", "--at", TODAY.isoformat())
    assert result.exit_code == 2
    assert "pins.yaml:19:5:" in result.stderr and "at least 12" in result.stderr
    assert "Traceback" not in result.stderr and not (workdir / "ios").exists()


def test_the_readme_shows_the_snippets_the_header_shows() -> None:
    readme = docs_text()
    header = render(sample_config(), output("urlsession", OUT, alamofire=True))
    snippets = [
        "let session = URLSession(configuration: .default,\n"
        "                         delegate: PinnedTrustDelegate(), delegateQueue: nil)",
        "let session = Session(serverTrustManager: PinnedTrustServerTrustManager())",
    ]
    for snippet in snippets:
        assert snippet in readme
        assert "\n".join("//     " + line for line in snippet.split("\n")) in header
    assert "PinnedTrustDelegate.evaluate(trust, host: challenge.protectionSpace.host)" in readme
    assert "| `urlsession` |" in readme and "| `ios-plist` | no: iOS keeps enforcing" in readme


EXPLAIN_YAML = f"""\
version: 1
defaults:
  expires: 2030-01-01
domains:
  example.com:
    include_subdomains: true
    pins:
      - sha256: "{A}"
        label: CA one
        level: root
      - sha256: "{B}"
        label: CA two
        level: root
        backup: true
  api.example.com:
    enforce: false
    expires: 2029-01-01
    pins:
      - sha256: "{C}"
        level: root
      - sha256: "{D}"
        level: root
        backup: true
outputs:
  - type: urlsession
    path: Pins.swift
"""


@pytest.mark.parametrize(
    ("host", "at"),
    [
        ("example.com", None),
        ("a.example.com", None),
        ("b.a.example.com", None),
        ("api.example.com", None),
        ("x.api.example.com", None),
        ("example.org", None),
        ("api.example.com", "2029-01-01"),
        ("api.example.com", "2028-12-31"),
    ],
)
def test_pingen_explain_says_what_the_built_file_does(
    host: str, at: str | None, workdir: Path, run_pingen: CliRunner
) -> None:
    (workdir / "pins.yaml").write_text(EXPLAIN_YAML)
    # Built as of a fixed day: api.example.com's `expires` must be after it.
    assert run_pingen("build", "--at", TODAY.isoformat()).exit_code == 0
    table = policy_table((workdir / "Pins.swift").read_text())
    from_file = [
        domain(
            h,
            e["pins"],
            include_subdomains=e["include_subdomains"],
            enforce=e["enforce"],
            expires=e["expires"].date() if e["expires"] else None,
        )
        for h, e in table.items()
    ]
    result = run_pingen("explain", host, "--format", "json", *(["--at", at] if at else []))
    assert result.exit_code == 0, result.stderr
    [explained] = json.loads(result.stdout)["outputs"]
    now = (
        urlsession.expiry_instant(dt.date.fromisoformat(at))
        if at
        else dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    decision = urlsession.decide(from_file, host, now, lambda: True, lambda: [])
    assert explained["pinned"] == (decision.kind != "notPinned")
    if decision.violation is not None:
        assert [p["sha256"] for p in explained["pins"]] == list(decision.violation.expected_pins)
        assert explained["enforce"] == decision.violation.enforced


def test_every_path_of_the_delegate_answers_the_challenge_exactly_once() -> None:
    root = parse(render(sample_config()))
    method = named(root, "function_declaration", "urlSession")
    switch = next(n for n in walk(method) if n.type == "switch_statement")
    entries = [n for n in switch.children if n.type == "switch_entry"]
    answers = {}
    for entry in entries:
        text = source_of(entry)
        assert text.count("completionHandler(") == 1, text
        label = text.split(":")[0].removeprefix("case ")
        answers[label] = text.split("completionHandler(")[1].strip()
    assert answers == {
        ".notPinned, .pinned": ".performDefaultHandling, nil)",
        ".untrusted": ".cancelAuthenticationChallenge, nil)",
        ".refused(let violation)": ".cancelAuthenticationChallenge, nil)",
        ".reportOnly(let violation)": ".performDefaultHandling, nil)",
    }
    # The guard for other challenges answers once too.
    guard = next(n for n in walk(method) if n.type == "guard_statement")
    assert source_of(guard).count("completionHandler(.performDefaultHandling, nil)") == 1


def test_reports_go_through_a_session_without_pinning_never_waited_for_at_most_daily() -> None:
    text = render(sample_config())
    assert "private static let reportSession = URLSession(configuration: .ephemeral)\n" in text
    assert "reportSession.dataTask(with: request).resume()" in text  # asynchronous: no wait
    limiter = source_of(named(parse(text), "function_declaration", "shouldSend"))
    assert "now.timeIntervalSince(last) < 24 * 60 * 60" in limiter
    report = source_of(named(parse(text), "function_declaration", "report"))
    assert report.index("onViolation?(violation)") < report.index("reportLimiter.shouldSend")


# -- differential: hypothesis configs, the built file read back, the model -----------------


def urlsession_lookup(swift: str) -> Any:
    """The file's own lookup: its table read back, decided by the mirror of `decide`."""
    table = policy_table(swift)
    from_file = [
        domain(
            h,
            e["pins"],
            include_subdomains=e["include_subdomains"],
            enforce=e["enforce"],
            expires=e["expires"].date() if e["expires"] else None,
        )
        for h, e in table.items()
    ]

    def lookup(host: str, day: dt.date) -> frozenset[tuple[str, frozenset[str]]]:
        now = urlsession.expiry_instant(day)
        decision = urlsession.decide(from_file, host, now, lambda: True, lambda: [])
        if decision.violation is None:
            return frozenset()
        return frozenset({("any", frozenset(decision.violation.expected_pins))})

    return lookup


@platform_lookups.DIFFERENTIAL
@given(platform_lookups.configs(same_level=False, report_only=True))
def test_urlsession_file_and_model_agree(cfg: Config) -> None:
    swift = render(cfg, output("urlsession", OUT, alamofire=True))
    platform_lookups.agree(
        platform_lookups.model_lookup(platforms.URLSESSION, cfg), urlsession_lookup(swift), cfg
    )


# -- verify: a live chain whose matched keys the file cannot hash ----------------------------


def verify_problems(
    run: CliRunner, folder: Path, root: Any, chain: bytes, pins: list[str], outputs: str
) -> tuple[int, list[dict[str, str]]]:
    write_pem(folder / "roots.pem", root.cert)
    lines = "".join(f"      - sha256: {p}\n" for p in pins)
    (folder / "pins.yaml").write_text(
        "version: 1\ndefaults:\n  expires: never\ntrust:\n  ca_file: roots.pem\n"
        f"domains:\n  api.example.com:\n    pins:\n{lines}outputs:\n{outputs}"
    )
    return chain_problems(run, folder, chain)


URLSESSION_OUTPUT = "  - type: urlsession\n    path: ios/PinnedTrust.swift\n"


@pytest.mark.parametrize(
    ("leaf_key", "shown"),
    [
        (lambda: rsa.generate_private_key(3, 2048), "RSA-2048 (exponent 3)"),
        (lambda: ed25519.Ed25519PrivateKey.generate(), "Ed25519"),
    ],
)
def test_verify_fails_a_chain_whose_matched_keys_the_file_cannot_hash(
    leaf_key: Any, shown: str, run_pingen: CliRunner, workdir: Path
) -> None:
    root = CA.root("Test Root P-256")
    inter = root.intermediate("Test Issuing CA")
    leaf = inter.issue_leaf("api.example.com", key=leaf_key())
    chain = pem_of(leaf.chain())
    code, problems = verify_problems(
        run_pingen, workdir, root, chain, [leaf.pin, fake_pin("z")], URLSESSION_OUTPUT
    )
    found = [p for p in problems if p["code"] == "urlsession-unhashable"]
    assert code == 1 and len(found) == 1 and found[0]["severity"] == "fail"
    assert shown in found[0]["message"] and "Pin another key of the chain" in found[0]["message"]
    # A hashable key of the chain pinned as well: the app matches it, nothing to say.
    code, problems = verify_problems(
        run_pingen, workdir, root, chain, [leaf.pin, inter.pin], URLSESSION_OUTPUT
    )
    assert "urlsession-unhashable" not in [p["code"] for p in problems]
    # Without a urlsession output, nothing runs that check.
    code, problems = verify_problems(
        run_pingen,
        workdir,
        root,
        chain,
        [leaf.pin, fake_pin("z")],
        "  - type: android-nsc\n    path: nsc.xml\n",
    )
    assert "urlsession-unhashable" not in [p["code"] for p in problems]
