"""Swift read back as its compiler and TrustKit read it: tree-sitter-swift parses the text
with no ERROR or MISSING node anywhere, and the dictionary literal of `configuration` is
turned back into Python values by walking the tree, where only string literals become
strings and only boolean literals become booleans, so the keys and value types TrustKit
reads are checked exactly (the `kTSK…` string values of
datatheorem/TrustKit@c48790f306234926d66ed1eb04acf0c23b3df5a1:TrustKit/TSKTrustKitConfig.m).
"""

from __future__ import annotations

import base64
import re
from typing import Any

import tree_sitter
import tree_sitter_swift

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

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))


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
