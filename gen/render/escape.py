"""Escaping for every language a value lands in.

Host names are validated long before they get here, but labels, package names,
report URIs and paths are user text: each goes through the escaper of the language
it lands in, so no value can end a string, a comment or an element early.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from markupsafe import Markup, escape

# Characters that end a line in some language or editor, and those XML cannot carry at
# all, not even in a comment (U+FFFE, U+FFFF, lone surrogates).
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def comment_text(value: str) -> str:
    """Text safe inside any one-line comment (`//`, `#`, `/* */`, `<!-- -->`): no line
    breaks, no control characters, no comment terminators, no `--` (XML forbids it)."""
    text = line_comment_text(value)
    while "--" in text:  # XML forbids `--` inside a comment
        text = text.replace("--", "- -")
    return text


def line_comment_text(value: str) -> str:
    """Text safe inside a `//` or `#` comment (Kotlin, Swift): no line breaks, no
    control characters, no block-comment delimiters; `--` stays (`xn--` host names)."""
    text = _LINE_BREAKS.sub(" ", value)
    text = text.replace("*/", "* /").replace("/*", "/ *")
    return text.strip()


def xml_text(value: str) -> Markup:
    """Element text or attribute value in XML (quotes included)."""
    if _has_forbidden_xml_chars(value):
        raise ValueError(f"{value!r} holds a control character that XML cannot carry")
    return escape(value)


def _has_forbidden_xml_chars(value: str) -> bool:
    return any(
        (ord(c) < 0x20 and c not in "\t\n\r") or c in "\ufffe\uffff" or "\ud800" <= c <= "\udfff"
        for c in value
    )


_KOTLIN_ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SWIFT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
# Escaped by code point besides the C0 controls: DEL and the Unicode line breaks NEL, LS, PS.
_UNICODE_ESCAPED = (0x7F, 0x85, 0x2028, 0x2029)


def kotlin_string(value: str) -> str:
    """A Kotlin double-quoted string literal, quotes included."""
    return _quoted(value, _KOTLIN_ESCAPES, lambda code: f"\\u{code:04x}")


def swift_string(value: str) -> str:
    """A Swift double-quoted string literal, quotes included."""
    return _quoted(value, _SWIFT_ESCAPES, lambda code: f"\\u{{{code:x}}}")


def _quoted(value: str, escapes: dict[str, str], unicode_escape: Callable[[int], str]) -> str:
    """`value` in double quotes: each character of `escapes` as its escape, every other
    control or line-break character as `unicode_escape` of its code point."""
    out = []
    for c in value:
        if c in escapes:
            out.append(escapes[c])
        elif ord(c) < 0x20 or ord(c) in _UNICODE_ESCAPED:
            out.append(unicode_escape(ord(c)))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def json_value(value: object) -> str:
    """A JSON value; non-ASCII kept readable, `</` escaped for embedding."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
