"""Text from data (labels, paths, certificate names, hosts) made safe for where it is
shown: a terminal or a CI log, one line of a report, Markdown for a pull request.

A pull request controls pins.yaml and the certificates a test server presents, so a
label or a certificate name may carry ESC sequences (OSC 52 clipboard writes, line
erase), C1 controls, bidi overrides (U+202E) or a newline followed by a GitHub workflow
command (`::add-mask::`, `::error …`). Each is shown as a visible escape (`\\x1b`,
`\\u202e`) instead of reaching the reader raw.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode categories never shown raw: controls (C0, DEL, C1), format characters (bidi
# overrides and isolates, zero-width characters, BOM), line/paragraph separators,
# surrogates, private use and unassigned code points.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# Characters that may be hidden: outside printable ASCII (line breaks and tabs aside).
# Reports are mostly ASCII, so only these few are looked at one by one.
_MAYBE_HIDDEN = re.compile(r"[^\t\n\r\x20-\x7e]")


def visible(char: str) -> str:
    """One character as a backslash escape: `\\x1b`, `\\u202e`, `\\U000e0001`."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def is_hidden(char: str) -> bool:
    """True for a character that changes how text reads without being seen."""
    return unicodedata.category(char) in _HIDDEN_CATEGORIES


def one_line(text: str) -> str:
    """Data shown inside one line: every control character escaped, line breaks and
    tabs included."""
    if text.isprintable():  # the common case: nothing to escape (space is printable)
        return text
    return "".join(visible(c) if is_hidden(c) or (c.isspace() and c != " ") else c for c in text)


def _line(line: str) -> str:
    text = (
        line
        if line.isprintable()
        else "".join(visible(c) if is_hidden(c) and c != "\t" else c for c in line)
    )
    # GitHub's runner reads a line as a workflow command when it starts with `::` after
    # leading white space (actions/runner@079cdb1d05fe0ec50f8c51de5a4fa51d0eb189b0:
    # src/Runner.Common/ActionCommand.cs#L61), and finds the older `##[` form anywhere
    # in a line (same file #L132).
    stripped = text.lstrip()
    if stripped.startswith("::"):
        text = text[: len(text) - len(stripped)] + visible(":") + stripped[1:]
    return text.replace("##[", "#" + visible("#") + "[")


def terminal_text(text: str) -> str:
    """Text for a terminal or a CI log, as many lines as it has: control characters
    escaped (tabs and line feeds kept), and no line a CI runner would read as a
    workflow command."""
    return "\n".join(_line(line) for line in text.split("\n"))


def json_text(json_document: str) -> str:
    """A JSON document (from json.dumps with ensure_ascii=False) with every hidden
    character written as a \\u escape: the same JSON value, and nothing a terminal or
    a log viewer obeys (C1 controls, bidi overrides) when a bot's output is shown."""
    # (json.dumps escapes line breaks and tabs inside strings; outside them they are
    # the document's layout and stay)
    return _MAYBE_HIDDEN.sub(_json_char, json_document)


def _json_char(match: re.Match[str]) -> str:
    char = match.group()
    return _json_escape(char) if is_hidden(char) else char


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells a character beyond the BMP as a UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
