"""Identifiers that land in generated code: checked, and quoted where a keyword needs it.

Names come from output options (`package`, `name`), so they are user text. They are
limited to ASCII letters, digits and `_` (what every build tool and file system takes);
a hard keyword is written in backticks, which both Kotlin and Swift accept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from pingen.errors import ConfigError, raise_together

T = TypeVar("T")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Kotlin hard keywords (kotlinlang.org/docs/keyword-reference.html): not identifiers unless
# quoted. Soft and modifier keywords (`data`, `value`, `open`, ...) are valid names.
KOTLIN_KEYWORDS = frozenset(
    {
        "as",
        "break",
        "class",
        "continue",
        "do",
        "else",
        "false",
        "for",
        "fun",
        "if",
        "in",
        "interface",
        "is",
        "null",
        "object",
        "package",
        "return",
        "super",
        "this",
        "throw",
        "true",
        "try",
        "typealias",
        "typeof",
        "val",
        "var",
        "when",
        "while",
    }
)

# Swift keywords used in declarations, statements and expressions (The Swift Programming
# Language, "Lexical Structure"): a backticked one is a valid identifier.
SWIFT_KEYWORDS = frozenset(
    {
        "associatedtype",
        "class",
        "deinit",
        "enum",
        "extension",
        "fileprivate",
        "func",
        "import",
        "init",
        "inout",
        "internal",
        "let",
        "open",
        "operator",
        "private",
        "precedencegroup",
        "protocol",
        "public",
        "rethrows",
        "static",
        "struct",
        "subscript",
        "typealias",
        "var",
        "break",
        "case",
        "catch",
        "continue",
        "default",
        "defer",
        "do",
        "else",
        "fallthrough",
        "for",
        "guard",
        "if",
        "in",
        "repeat",
        "return",
        "throw",
        "switch",
        "where",
        "while",
        "as",
        "false",
        "is",
        "nil",
        "self",
        "super",
        "throws",
        "true",
        "try",
        "await",
        "async",
    }
)
# Swift names that cannot be quoted into identifiers meaningfully: the type `Self`/`Any`.
SWIFT_RESERVED = frozenset({"Any", "Self", "Type", "Protocol"})


def is_identifier(text: str) -> bool:
    return bool(_IDENTIFIER.match(text)) and text.strip("_") != ""


def kotlin_identifier(text: str) -> str:
    return f"`{text}`" if text in KOTLIN_KEYWORDS else text


def swift_identifier(text: str) -> str:
    return f"`{text}`" if text in SWIFT_KEYWORDS else text


def check_each(items: Iterable[T], check: Callable[[T], None]) -> None:
    """Run `check` on every item and report every ConfigError together, not just the first."""
    errors: list[ConfigError] = []
    for item in items:
        try:
            check(item)
        except ConfigError as error:
            errors.append(error)
    raise_together(errors)
