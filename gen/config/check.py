"""pins.yaml's nodes checked against the schema declarations, every problem at its
file:line:col.

`PinsYamlChecker` is `pingen.nodes.Checker` for YAML: it reads the nodes PyYAML's
composer gives (which keep their positions), words each problem for a person editing
pins.yaml, and collects them all (`errors`) so that they are reported together. Nothing is
silently ignored: duplicate keys, merge keys, unknown keys (with a "did you mean"), wrong
types and past dates are errors. Building the model from the checked values is
`pingen.config.load`'s.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Hashable
from pathlib import Path
from typing import TypeVar

import yaml

from pingen.config import schema
from pingen.errors import ConfigError, Diagnostic, Location
from pingen.nodes import Checker, Field, Pairs, Section

MAX_NODES = 200_000  # far above any real pins.yaml; stops alias bombs early
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_Key = TypeVar("_Key", bound=Hashable)


class Fatal(Exception):
    """Stop reading: the rest would only repeat the same error."""


class PinsYamlChecker(Checker["yaml.Node"]):
    def __init__(self, path: Path, today: dt.date) -> None:
        self.path = path  # as the user wrote it: messages name it so
        self.today = today  # an `expires:` must lie after it
        self.errors: list[ConfigError] = []
        self.warnings: list[Diagnostic] = []
        self.nodes_seen = 0

    # -- reporting -------------------------------------------------------
    def where(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def error(self, node: yaml.Node, message: str) -> None:
        self.errors.append(ConfigError(message, self.where(node)))

    def warn(self, node: yaml.Node, message: str) -> None:
        self.warnings.append(Diagnostic(message, self.where(node)))

    def count(self, node: yaml.Node) -> None:
        self.nodes_seen += 1
        if self.nodes_seen > MAX_NODES:
            self.error(node, f"more than {MAX_NODES:,} YAML nodes (aliases expanding?)")
            raise Fatal

    # -- structure ---------------------------------------------------------
    def unknown(self, key: str, key_node: yaml.Node, section: Section) -> None:
        self.error(key_node, self.unknown_key(key, section))

    def missing(self, node: yaml.Node, key: str, spec: Field, section: Section) -> None:
        self.error(node, f"{section.name} is missing `{key}:` ({spec.description})")

    def pairs(self, node: yaml.Node, what: str) -> Pairs[yaml.Node] | None:

        self.count(node)
        if not isinstance(node, yaml.MappingNode):
            self.error(
                node, f"{what} must be a mapping of `key: value` lines, not {describe(node)}"
            )
            return None
        seen: dict[str, yaml.Node] = {}
        pairs: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.error(
                    key_node,
                    "YAML merge keys (`<<`) are not supported; write the "
                    "keys out, or put shared settings in `defaults:`",
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, f"keys in {what} must be plain names")
                continue
            key = key_node.value
            first = first_line(seen, key, key_node)
            if first is not None:
                self.error(
                    key_node,
                    f"duplicate key `{key}` in {what} (first on line "
                    f"{first}); YAML would silently keep only the last one",
                )
                continue
            pairs.append((str(key), key_node, value_node))
        return pairs

    def child(self, node: yaml.Node, key: str) -> yaml.Node | None:

        if not isinstance(node, yaml.MappingNode):
            return None
        found = (value for name, value in node.value if getattr(name, "value", None) == key)
        return next(found, None)

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node] | None:

        self.count(node)
        if not isinstance(node, yaml.SequenceNode):
            self.error(
                node, f"{what} must be a list (lines starting with `- `), not {describe(node)}"
            )
            return None
        return list(node.value)

    def unknown_key(self, key: str, section: Section) -> str:
        known = sorted(section.fields)
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}"
        if section.name == "output" and key in schema.ALL_OUTPUT_KEYS:
            owners = [kind for kind, options in schema.OUTPUT_OPTIONS.items() if key in options]
            options = [f"`{k}`" for k in section.fields if k not in schema.OUTPUT_COMMON]
            takes = f"this one takes {', '.join(options)}" if options else "this one takes none"
            named = ", ".join(owners[:-1]) + " and " + owners[-1] if len(owners) > 1 else owners[0]
            outputs = named + (" outputs" if len(owners) > 1 else " output")
            return f"`{key}` is an option of the {outputs}, not of this one; {takes}"
        return f"unknown key `{key}` in {section.name}; {hint}"

    def scalar(self, node: yaml.Node, key: str, expected: str) -> str | None:

        self.count(node)
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.error(node, f"`{key}` must be {expected}, not {describe(node)}")
            return None
        return str(node.value)

    def boolean(self, node: yaml.Node, spec: Field, key: str) -> bool | None:
        text = self.scalar(node, key, "true or false")
        if text is None:
            return None
        if text.lower() not in ("true", "false") or node.tag == "tag:yaml.org,2002:str":
            self.error(node, f"`{key}` must be true or false, not {text!r}")
            return None
        return text.lower() == "true"

    def string(self, node: yaml.Node, spec: Field, key: str) -> str | None:
        text = self.scalar(node, key, "a text value")
        if text is None:
            return None
        if spec.choices and text not in spec.choices:
            close = difflib.get_close_matches(text, spec.choices, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            self.error(
                node,
                f"`{key}: {text}` is not one of {', '.join(spec.choices)}; {hint}".rstrip(
                    "; "
                ).rstrip(),
            )
            return None
        return text

    def integer(self, node: yaml.Node, spec: Field, key: str) -> int | None:
        text = self.scalar(node, key, "a whole number")
        if text is None:
            return None
        if node.tag != "tag:yaml.org,2002:int" or not text.isdigit():
            self.error(node, f"`{key}` must be a whole number, not {text[:40]!r}")
            return None
        if len(text) > 18:  # int() refuses over 4,300 digits; no setting needs 19
            self.error(node, f"`{key}` is far too large a number ({len(text)} digits)")
            return None
        return int(text)

    def expiry(self, node: yaml.Node, spec: Field, key: str) -> dt.date | str | None:
        text = self.scalar(node, key, "a date (yyyy-mm-dd) or `never`")
        if text is None:
            return None
        if text == "never":
            return "never"
        if not _ISO_DATE.match(text):
            self.error(
                node,
                f"`{key}: {text}` is not a date; write yyyy-mm-dd (e.g. 2027-06-30) or `never`",
            )
            return None
        try:
            date = dt.date.fromisoformat(text)
        except ValueError:
            self.error(node, f"`{key}: {text}` is not a real calendar date")
            return None
        if date <= self.today:
            self.error(
                node,
                f"`{key}: {text}` is not in the future (today is "
                f"{self.today.isoformat()}); after it the apps stop pinning. "
                "Choose a later date or `never`",
            )
            return None
        return date

    def string_list(self, node: yaml.Node, spec: Field, key: str) -> tuple[str, ...] | None:
        items = self.sequence(node, f"`{key}`")
        if items is None:
            return None
        texts = [self.scalar(item, key, "a list of text values") for item in items]
        if any(t is None for t in texts):
            return None
        return tuple(t for t in texts if t is not None)


def first_line(seen: dict[_Key, yaml.Node], key: _Key, node: yaml.Node) -> int | None:
    """The line where `key` first stood when it stands again at `node` (a repeat to
    report), else None, and `node` is where it first stood."""
    if key in seen:
        return seen[key].start_mark.line + 1
    seen[key] = node
    return None


def describe(node: yaml.Node) -> str:
    """What a node holds, for a message: "a mapping", "nothing (an empty value)", 'abc'."""

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing (an empty value)"
    return repr(node.value)
