"""The one way pingen writes text into pins.yaml (`init`, `suggest`, keygen's printed
lines): a scalar no YAML reader takes for anything but that string, and a comment
that no character can end.

Certificate names, catalog names and labels are data. YAML ends a line, and so a
comment, at LF, CR, NEL (U+0085), LS and PS (U+2028, U+2029) (YAML 1.1, "Line Break
Characters"); PyYAML, and other loaders, then read what follows as pins.yaml. A comment
therefore holds no line break or invisible character at all, and a quoted scalar
spells every one of them as an escape.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING

from pingen.textsafe import is_hidden

if TYPE_CHECKING:
    from pingen.model import Level
    from pingen.spki import KeyType

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()/+-]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}


def quote(text: str) -> str:
    """`text` as a YAML scalar that no YAML reader takes for anything but that string:
    plain where that is unambiguous, else double-quoted with every control, format
    and line-break character escaped."""
    if (
        _PLAIN.match(text)
        and text.lower() not in _YAML_WORDS
        and not _numberish(text)
        and not text.endswith(" ")
    ):
        return text
    # A JSON string is a YAML double-quoted one; JSON leaves U+0085, U+2028, bidi
    # controls and the like raw, so they are escaped here.
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(_escape(c) if is_hidden(c) else c for c in quoted)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _numberish(text: str) -> bool:
    # YAML 1.1 reads 0x1F, 1_000, 1:30, .5 and +1 as numbers: quote anything like them.
    return text[:1].isdigit() or text[:1] in "-+."


def comment(text: str) -> str:
    """A YAML comment line (`# text`): each line break, control or invisible
    character in `text` becomes a space."""
    return "# " + "".join(" " if c.isspace() or not c.isprintable() else c for c in text)


# -- what init and suggest write ---------------------------------------------------


def default_expiry(today: dt.date) -> dt.date:
    """A year from today (the 28th of February for the 29th)."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def backup_key_name(host: str) -> str:
    """The `pingen keygen` name suggested for a host's backup key."""
    return host.replace(".", "-") + "-backup"


def hash_pin_entry(sha256: str, label: str, level: Level, key: KeyType | None = None) -> list[str]:
    """A pin given by its hash, as a pins.yaml list item with its name, level and key type
    (the shape `pingen init` and `pingen suggest` both write): TrustKit-based outputs
    need the key type, which a bare hash does not tell."""
    lines = [f"- sha256: {sha256}", f"  label: {quote(label)}", f"  level: {level.value}"]
    return lines + ([f"  key: {key.name}"] if key else [])
