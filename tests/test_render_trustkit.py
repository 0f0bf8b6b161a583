"""The `trustkit` output: parsed by tree-sitter-swift, read back as TrustKit would read it.

The Swift file is parsed with no ERROR or MISSING node anywhere; then the dictionary
literal of `configuration` is turned back into Python values by walking the tree, where
only string literals become strings and only boolean literals become booleans, so the
keys and value types TrustKit reads are checked exactly (the `kTSK…` string values of
datatheorem/TrustKit@c48790f306234926d66ed1eb04acf0c23b3df5a1:TrustKit/TSKTrustKitConfig.m).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import tree_sitter
import tree_sitter_swift

from pingen.errors import ConfigError
from pingen.model import Config, Output
from pingen.render import engine, trustkit
from pingen.render.pipeline import render_output
from tests.conftest import CliRunner
from tests.support.models import config, domain, fake_pin, output, pin
from tests.support.rendering import render as render_adapter

# The string values of TrustKit's constants (TrustKit/TSKTrustKitConfig.m).
GLOBAL_KEYS = {"TSKSwizzleNetworkDelegates", "TSKPinnedDomains"}
DOMAIN_KEYS = {
    "TSKPublicKeyHashes",
    "TSKIncludeSubdomains",
    "TSKEnforcePinning",
    "TSKExpirationDate",
    "TSKReportUris",
    "TSKDisableDefaultReportUri",
}
A, B, C = fake_pin("a"), fake_pin("b"), fake_pin("c")
HOSTILE_LABEL = 'evil */ /* "q" $x \\(y) \\ back\nslash\r\u2028 end'
HOSTILE_HOST = 'ev"il\\(x)\\\n$y.example.com'

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))


def render(cfg: Config, out: Output | None = None) -> str:
    rendering = trustkit.context(cfg, out or output("trustkit", "ios/TrustKitConfig.swift"))
    text = engine.render_template(engine.environment(), trustkit.TEMPLATE, rendering.context)
    return text.decode()


# -- reading Swift back ---------------------------------------------------------------------
def parse(text: str) -> tree_sitter.Node:
    root = _PARSER.parse(text.encode()).root_node
    bad = [n for n in walk(root) if n.type == "ERROR" or n.is_missing or n.is_error]
    assert not bad, [(n.type, n.start_point, n.text) for n in bad]
    assert not root.has_error
    return root


def field(node: tree_sitter.Node, name: str) -> tree_sitter.Node:
    """The child a grammar field names (the test fails where the tree has none)."""
    child = node.child_by_field_name(name)
    assert child is not None, (name, node.text)
    return child


def source_bytes(node: tree_sitter.Node | None) -> bytes:
    """The Swift source a node spans (a parsed node always has it)."""
    assert node is not None and node.text is not None
    return node.text


def source_of(node: tree_sitter.Node | None) -> str:
    return source_bytes(node).decode()


def walk(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    nodes = [node]
    for child in node.children:
        nodes.extend(walk(child))
    return nodes


_SWIFT_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]{1,8}\}|.)", re.S)
_SIMPLE = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t", "0": "\0"}


def swift_string(node: tree_sitter.Node) -> str:
    assert node.type == "line_string_literal", node.type
    assert not any(c.type == "interpolated_expression" for c in walk(node)), node.text
    body = source_of(node)
    assert body.startswith('"') and body.endswith('"')

    def unescape(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u{"):
            return chr(int(code[2:-1], 16))
        assert code in _SIMPLE, f"escape \\{code} is not Swift"
        return _SIMPLE[code]

    return _SWIFT_ESCAPE.sub(unescape, body[1:-1])


def swift_value(node: tree_sitter.Node) -> Any:
    """A literal as Python: dict, list, str or bool; anything else fails the test."""
    if node.type == "as_expression":
        return swift_value(field(node, "expr"))
    if node.type == "dictionary_literal":
        keys = node.children_by_field_name("key")
        values = node.children_by_field_name("value")
        assert len(keys) == len(values)
        result = {swift_string(k): swift_value(v) for k, v in zip(keys, values, strict=True)}
        assert len(result) == len(keys), "duplicate key"
        return result
    if node.type == "array_literal":
        return [swift_value(e) for e in node.children_by_field_name("element")]
    if node.type == "line_string_literal":
        return swift_string(node)
    if node.type == "boolean_literal":
        return {"true": True, "false": False}[source_of(node)]
    raise AssertionError(f"unexpected {node.type}: {node.text!r}")


def configuration(text: str) -> tuple[str, Any]:
    """(enum name, value of `static let configuration: [String: Any]`)."""
    root = parse(text)
    enums = [
        n
        for n in root.children
        if n.type == "class_declaration" and field(n, "declaration_kind").type == "enum"
    ]
    assert len(enums) == 1
    enum = enums[0]
    name = source_of(enum.child_by_field_name("name"))
    body = enum.child_by_field_name("body")
    assert body is not None
    properties = [n for n in body.children if n.type == "property_declaration"]
    assert len(properties) == 1
    prop = properties[0]
    assert source_of(prop).startswith("static let configuration: [String: Any] = [")
    value = prop.child_by_field_name("value")
    assert value is not None and value.type == "dictionary_literal"
    return name, swift_value(value)


def check_trustkit_types(config_value: dict[str, Any]) -> None:
    """Every key is TrustKit's and every value has the type TrustKit reads."""
    assert set(config_value) == GLOBAL_KEYS
    assert isinstance(config_value["TSKSwizzleNetworkDelegates"], bool)
    for host, policy in config_value["TSKPinnedDomains"].items():
        assert isinstance(host, str) and set(policy) <= DOMAIN_KEYS
        for key in ("TSKIncludeSubdomains", "TSKEnforcePinning", "TSKDisableDefaultReportUri"):
            assert isinstance(policy[key], bool)
        hashes = policy["TSKPublicKeyHashes"]
        assert isinstance(hashes, list) and hashes
        assert all(len(base64.b64decode(h, validate=True)) == 32 for h in hashes)
        if "TSKExpirationDate" in policy:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", policy["TSKExpirationDate"])
        if "TSKReportUris" in policy:
            assert all(isinstance(u, str) for u in policy["TSKReportUris"])


# -- the generated configuration --------------------------------------------------------------
def sample_config() -> Config:
    return config(
        [
            domain(
                "api.example.com",
                [pin(A, "ISRG Root X1", key="rsa-4096"), pin(B, "backup key", key="ec-p256")],
                include_subdomains=True,
                expires=dt.date(2027, 6, 30),
                report_uris=("https://reports.example.com/pins", "http://r.example.net/a?b=c"),
            ),
            domain("www.example.co.uk", [pin(C, key="ec-p384")], enforce=False),
            domain(
                "cdn.xn--bcher-kva.de",
                [pin(p, key="ec-p256") for p in (A, B, C)],
                expires=dt.date(2030, 1, 2),
            ),
        ]
    )


def test_parses_cleanly_with_trustkit_keys_and_types() -> None:
    name, value = configuration(render(sample_config()))
    assert name == "TrustKitConfig"
    check_trustkit_types(value)
    assert value == {
        "TSKSwizzleNetworkDelegates": False,
        "TSKPinnedDomains": {
            "api.example.com": {
                "TSKIncludeSubdomains": True,
                "TSKEnforcePinning": True,
                "TSKExpirationDate": "2027-06-30",
                "TSKDisableDefaultReportUri": True,
                "TSKReportUris": ["https://reports.example.com/pins", "http://r.example.net/a?b=c"],
                "TSKPublicKeyHashes": [A, B],
            },
            "www.example.co.uk": {
                "TSKIncludeSubdomains": False,
                "TSKEnforcePinning": False,
                "TSKDisableDefaultReportUri": True,
                "TSKPublicKeyHashes": [C],
            },
            "cdn.xn--bcher-kva.de": {
                "TSKIncludeSubdomains": False,
                "TSKEnforcePinning": True,
                "TSKExpirationDate": "2030-01-02",
                "TSKDisableDefaultReportUri": True,
                "TSKPublicKeyHashes": [A, B, C],
            },
        },
    }


def test_each_domain_policy_is_typed_for_the_swift_compiler() -> None:
    # A heterogeneous literal inside `Any` needs an explicit type, or swiftc refuses it.
    text = render(sample_config())
    assert text.count("] as [String: Any],\n") == 3
    assert "] as [String: [String: Any]],\n" in text
    # Keys are strings: no TrustKit module needed, except for the delegate, which only
    # exists where TrustKit can be imported.
    assert "\nimport " not in text.split("#if canImport(TrustKit)\n")[0]


def test_header_and_labels() -> None:
    text = render(sample_config())
    assert text.startswith(
        "// Generated by pingen from pins.yaml. Do not edit: change pins.yaml and run "
        "`pingen build`.\n"
    )
    assert f'"{A}", // ISRG Root X1\n' in text
    assert f'"{B}", // backup key\n' in text
    assert "TrustKit.initSharedInstance(withConfiguration: TrustKitConfig.configuration)" in text
    assert text.endswith(("}\n", "#endif\n")) and "\r" not in text


def test_hostile_hosts_and_labels_neither_break_the_parse_nor_change_values() -> None:
    cfg = config(
        [
            domain(
                HOSTILE_HOST,
                [pin(A, HOSTILE_LABEL), pin(B, "*/")],
                report_uris=("https://r.example.com/a%20b?x=$y&z='q'",),
            )
        ]
    )
    text = render(cfg)
    _, value = configuration(text)
    policy = value["TSKPinnedDomains"][HOSTILE_HOST]
    assert policy["TSKPublicKeyHashes"] == [A, B]
    assert policy["TSKReportUris"] == ["https://r.example.com/a%20b?x=$y&z='q'"]
    comments = [n for n in walk(parse(text)) if n.type in ("comment", "multiline_comment")]
    assert all(c.type == "comment" and "\n" not in source_of(c) for c in comments)
    assert any(source_of(c) == '// evil * / / * "q" $x \\(y) \\ back slash   end' for c in comments)


def test_options_name_swizzle_and_default_report_uri() -> None:
    out = output(
        "trustkit",
        "Pins.swift",
        name="PinningPolicy",
        swizzle_network_delegates=True,
        default_report_uri=True,
    )
    name, value = configuration(render(sample_config(), out))
    assert name == "PinningPolicy"
    assert value["TSKSwizzleNetworkDelegates"] is True
    policies = value["TSKPinnedDomains"].values()
    assert all(p["TSKDisableDefaultReportUri"] is False for p in policies)


def test_a_keyword_name_is_quoted() -> None:
    name, _ = configuration(render(sample_config(), output("trustkit", "P.swift", name="class")))
    assert name == "`class`"


def test_same_input_same_bytes_and_the_pipeline_renders_it() -> None:
    cfg = sample_config()
    out = output("trustkit", "ios/TrustKitConfig.swift", swizzle_network_delegates=False)
    assert render(cfg, out) == render(cfg, out)
    rendered = render_output(cfg, out)
    assert rendered.content == render(cfg, out).encode() and rendered.warnings == ()


# -- what TrustKit refuses at init: errors that say what to change ---------------------------
def refused(cfg: Config, out: Output | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        trustkit.context(cfg, out or output("trustkit", "ios/TrustKitConfig.swift"))
    return caught.value


def test_no_domains() -> None:
    error = refused(config([]))
    assert "no pinned domains" in error.message and "remove the trustkit output" in error.message
    assert error.location is not None and error.location.line == 40


@pytest.mark.parametrize("host", ["api.example.test", "intranet.corp.internal", "x.localhost"])
def test_a_top_level_domain_unknown_to_trustkit(host: str) -> None:
    error = refused(config([domain(host, [A, B], line=12)]))
    assert "initialized with an invalid domain" in error.message and host in error.message
    assert error.location is not None and error.location.line == 12


@pytest.mark.parametrize("host", ["co.uk", "appspot.com", "github.io", "b.kawasaki.jp"])
def test_include_subdomains_on_a_public_suffix(host: str) -> None:
    error = refused(config([domain(host, [A, B], include_subdomains=True)]))
    assert "is a public suffix" in error.message
    assert "pin your own domain under it" in error.message
    render(config([domain(host, [A, B])]))  # without include_subdomains TrustKit accepts it


@pytest.mark.parametrize("pins", [[A], [A, A]])
def test_enforcing_needs_two_distinct_pins(pins: list[str]) -> None:
    error = refused(config([domain("api.example.com", pins)]))
    assert "1 distinct pin(s)" in error.message and "backup" in error.message


def test_report_only_needs_one_pin() -> None:
    error = refused(config([domain("api.example.com", [], enforce=False)]))
    assert "at least one pin" in error.message
    render(config([domain("api.example.com", [A], enforce=False)]))


@pytest.mark.parametrize("bad", ["AAAA", "not base64!", fake_pin("x")[:-4] + "===="])
def test_a_pin_that_is_not_32_bytes_of_base64(bad: str) -> None:
    error = refused(config([domain("api.example.com", [A, bad])]))
    assert "32 bytes" in error.message


@pytest.mark.parametrize(
    "uri",
    [
        "https://r.example.com/a b",
        "ftp://r.example.com/",
        "https://r.example.com/\u00e9",
        'https://r.example.com/"x"',
    ],
)
def test_a_report_uri_trustkit_cannot_read(uri: str) -> None:
    error = refused(config([domain("api.example.com", [A, B], report_uris=(uri,))]))
    assert "report URI" in error.message and "percent-encode" in error.message


@pytest.mark.parametrize("name", ["9Config", "Trust-Kit", "", "String", "Any", "Self"])
def test_a_bad_enum_name(name: str) -> None:
    error = refused(sample_config(), output("trustkit", "P.swift", name=name))
    assert "Swift type name" in error.message
    assert error.location is not None and error.location.line == 40


def test_a_non_boolean_option() -> None:
    error = refused(sample_config(), output("trustkit", "P.swift", swizzle_network_delegates="yes"))
    assert "must be true or false" in error.message


# -- through `pingen build` ------------------------------------------------------------------
PINS_YAML = f"""\
version: 1
defaults:
  expires: never
domains:
  api.example.test:
    pins: [{{sha256: "{A}"}}, {{sha256: "{B}"}}]
  co.uk:
    include_subdomains: true
    pins: [{{sha256: "{A}"}}, {{sha256: "{B}"}}]
outputs:
  - type: trustkit
    path: ios/TrustKitConfig.swift
"""


def test_build_reports_every_refusal_and_writes_nothing(
    workdir: Path, run_pingen: CliRunner
) -> None:
    (workdir / "pins.yaml").write_text(PINS_YAML)
    result = run_pingen("build")
    assert result.exit_code == 2
    assert "pins.yaml:5:3: TrustKit refuses api.example.test" in result.stderr
    assert "pins.yaml:7:3: TrustKit refuses `include_subdomains: true` on co.uk" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (workdir / "ios").exists()


def test_build_writes_the_swift_file(workdir: Path, run_pingen: CliRunner) -> None:
    fixed = PINS_YAML.replace("api.example.test", "api.example.com").replace(
        "co.uk:", "example.co.uk:"
    )
    (workdir / "pins.yaml").write_text(fixed)
    result = run_pingen("build")
    assert result.exit_code == 0, result.stderr
    _, value = configuration((workdir / "ios/TrustKitConfig.swift").read_text())
    assert set(value["TSKPinnedDomains"]) == {"api.example.com", "example.co.uk"}


# -- integration honesty (issue 10 item 8) ----------------------------------------------------


def glue_classes(text: str) -> list[str]:
    root = parse(text)
    return [
        source_of(n.child_by_field_name("name"))
        for n in walk(root)
        if n.type == "class_declaration" and field(n, "declaration_kind").type == "class"
    ]


def test_swizzling_off_generates_the_delegate_and_says_what_to_add() -> None:
    result = render_adapter(
        trustkit,
        config([domain("api.example.com", [A, B])]),
        output("trustkit", "P.swift", swizzle_network_delegates=False),
    )
    text = result.text
    assert glue_classes(text) == ["SessionDelegate"]
    assert "extension TrustKitConfig {" in text
    assert "#if canImport(TrustKit)" in text  # the file still compiles without TrustKit
    assert "pinningValidator.handle(challenge, completionHandler: completionHandler)" in text
    assert "TrustKit pins NOTHING until your code asks it to" in text
    assert "delegate: TrustKitConfig.SessionDelegate()" in text
    assert "evaluateTrust(trust, forHostname: host)" in text  # the Alamofire way
    assert "never pins a session created without a delegate (URLSession.shared" in text
    assert "swizzle_network_delegates" not in result.warning_text  # an explicit choice


def test_swizzling_on_says_sessions_need_a_delegate_and_has_no_glue() -> None:
    result = render_adapter(
        trustkit,
        config([domain("api.example.com", [A, B])]),
        output("trustkit", "P.swift", swizzle_network_delegates=True),
    )
    assert glue_classes(result.text) == []
    assert "swizzle_network_delegates: true. TrustKit replaces the delegate" in result.text
    assert "never pins a session created without a delegate (URLSession.shared" in result.text
    assert "swizzle_network_delegates" not in result.warning_text


def test_swizzling_left_unset_warns_that_nothing_is_pinned_until_the_code_exists() -> None:
    result = render_adapter(
        trustkit, config([domain("api.example.com", [A, B])]), output("trustkit", "P.swift")
    )
    assert (
        "`swizzle_network_delegates` is not set, so it is false: TrustKit pins nothing "
        "until the app's URLSession delegate calls TSKPinningValidator" in result.warning_text
    )
    assert "TrustKitConfig.SessionDelegate()" in result.warning_text
