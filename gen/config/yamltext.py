"""The one writer of pins.yaml text: `init`'s starter file, `suggest`'s lines, the lines
`keygen` prints and the dates the expiry editor (`pingen expires`) writes all come from
here: a scalar no YAML reader takes for anything but that value, a comment that no
character can end, and the shapes of pins.yaml (a `key: value` line, a pin as a list
item, a pin to uncomment later).

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
import textwrap
from collections.abc import Iterable, Sequence
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


def comments(text: str, width: int) -> list[str]:
    """`text` wrapped at `width` columns, each line a comment."""
    return [comment(line) for line in textwrap.wrap(text, width)]


# -- values, lines and items ---------------------------------------------------------

Scalar = str | bool | int | dt.date


def scalar(value: Scalar) -> str:
    """A value as pins.yaml spells it: true/false, a number, a date yyyy-mm-dd, or a
    string through `quote`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return quote(value)


def expiry(date: dt.date | None) -> Scalar:
    """`expires:`'s value: the date, or `never` for None."""
    return "never" if date is None else date


def key_value(key: str, value: Scalar) -> str:
    """A `key: value` line (keys are pingen's own names, or normalised host names)."""
    return f"{key}: {scalar(value)}"


def key_line(key: str) -> str:
    """The line that opens a section (`domains:`) or a host (`api.example.com:`)."""
    return f"{key}:"


def item(pairs: Sequence[tuple[str, Scalar]]) -> list[str]:
    """A mapping as a list item: `- key: value`, then `  key: value` for the rest."""
    lines = [key_value(key, value) for key, value in pairs]
    return [f"- {lines[0]}", *(f"  {line}" for line in lines[1:])]


def indented(prefix: str, lines: Iterable[str]) -> list[str]:
    """Each line behind `prefix` (spaces, or spaces and `# ` for lines to uncomment)."""
    return [prefix + line for line in lines]


def commented(lines: Iterable[str]) -> list[str]:
    """pins.yaml lines written as comments, to be uncommented as they are."""
    return indented("# ", lines)


# -- what init, suggest and keygen write ---------------------------------------------

BACKUP_KEY_FOLDER = "keys"  # where init and suggest tell `pingen keygen --dir` to write


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
    # A canonical pin is base64 (pingen.spki.normalize_pin): a plain scalar as it is.
    lines = [f"- sha256: {sha256}"]
    lines += indented("  ", [key_value("label", label), key_value("level", level.value)])
    return lines + ([f"  {key_value('key', key.name)}"] if key else [])


def named_pin_entry(source: str, name: str) -> list[str]:
    """A pin given by a name its source resolves (`- root: ISRG Root X1`)."""
    return item([(source, name)])


def file_pin_entry(path: str, label: str, *, backup: bool = False) -> list[str]:
    """A `file:` pin as a list item, with its label (and `backup: true`)."""
    return item([("file", path), ("label", label), *([("backup", True)] if backup else [])])


def backup_pin_entry(name: str) -> list[str]:
    """The offline backup key `pingen keygen NAME --dir keys` makes, as init and suggest
    write it: commented out until the key exists."""
    path = f"{BACKUP_KEY_FOLDER}/{name}.pub.pem"
    return commented(file_pin_entry(path, "offline backup key", backup=True))
