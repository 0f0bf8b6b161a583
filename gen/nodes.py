"""Schema declarations and the generic checker that reads a document's nodes against them.

A document (pins.yaml, a CA catalog) declares its shape once as `Section`s of `Field`s.
`Checker` walks a mapping node against a section: each key known or not, each value of
its field's kind, each required key present. What a node is (a YAML node with its
line and column, a JSON value with its path), how a value of each kind is read from it
and how a problem is worded belong to the document's format: a subclass says that,
and where problems go (pins.yaml collects every one; the catalog stops at the first).

The checker does not descend into lists and mappings of sections: it hands their nodes
back, and whoever builds the model from the document checks each one as it gets there
(a whole mapping at once with `mapping`, or key by key with `field`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Generic, TypeVar


class Kind(StrEnum):
    BOOL = "boolean"
    STRING = "string"
    INTEGER = "integer"
    EXPIRY = "expiry"  # an ISO date (yyyy-mm-dd) or `never`
    STRING_LIST = "string list"
    SECTION = "mapping"  # a nested section with known keys
    SECTION_LIST = "list"  # a list of sections
    SECTION_MAP = "mapping of names"  # user-chosen keys (host names), each a section


@dataclass(frozen=True)
class Field:
    kind: Kind
    description: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    section: Section | None = None  # for SECTION, SECTION_LIST, SECTION_MAP
    min_items: int = 0  # for lists
    key_pattern: str | None = None  # SECTION_MAP: what its keys match (None: host names)


@dataclass(frozen=True)
class Section:
    name: str  # how messages call it: "domain", "pin", "output"
    fields: Mapping[str, Field] = field(default_factory=dict)


N = TypeVar("N")  # a node of the document: a YAML node, a JSON value with its path


@dataclass
class Value(Generic[N]):
    """A checked value and the node it came from (for locations)."""

    value: Any
    node: N


class Fields(dict[str, Value[N]]):
    """The valid values of a mapping; `present` also names keys whose value was wrong."""

    present: frozenset[str] = frozenset()


# (key, the key's node, the value's node) for each entry of a mapping
Pairs = list[tuple[str, N, N]]


class Checker(ABC, Generic[N]):
    """Reads mapping nodes against sections; a subclass reads nodes of its format."""

    def mapping(self, node: N, section: Section) -> Fields[N] | None:
        """Check a mapping against a section: types, unknown, duplicate and missing keys."""
        pairs = self.pairs(node, section.name)
        if pairs is None:
            return None
        values: Fields[N] = Fields()
        values.present = frozenset(key for key, _, _ in pairs)
        for key, key_node, value_node in pairs:
            self._check(values, key, key_node, value_node, section)
        for key, spec in section.fields.items():
            if spec.required and key not in values.present:
                self.missing(node, key, spec, section)
        return values

    def field(self, node: N, section: Section, key: str) -> Any:
        """One key of a mapping node, checked as the section declares it, when a reader
        asks for it: a format that stops at its first problem then reports the one its
        reader meets first. Absent (or null, where the format allows it): the default."""
        spec = section.fields[key]
        child = self.child(node, key)
        if child is None:
            if spec.required:
                self.missing(node, key, spec, section)
            return spec.default
        value = self.value(child, spec, key)
        return spec.default if value is None else value

    def _check(self, values: Fields[N], key: str, key_node: N, node: N, section: Section) -> None:
        spec = section.fields.get(key)
        if spec is None:
            self.unknown(key, key_node, section)
            return
        value = self.value(node, spec, key)
        if value is not None:
            values[key] = Value(value, node)

    def value(self, node: N, spec: Field, key: str) -> Any:
        """The value of `node` as its field's kind says, or None (the problem reported)."""
        return self.readers[spec.kind](node, spec, key)

    @cached_property
    def readers(self) -> dict[Kind, Callable[[N, Field, str], Any]]:
        """The reader of each kind of value, made once (not per value: a 500-domain
        pins.yaml has 3,500 values)."""
        return {
            Kind.BOOL: self.boolean,
            Kind.STRING: self.string,
            Kind.INTEGER: self.integer,
            Kind.EXPIRY: self.expiry,
            Kind.STRING_LIST: self.string_list,
            Kind.SECTION: self.section,
            Kind.SECTION_LIST: self.section_list,
            Kind.SECTION_MAP: self.section_map,
        }

    def section(self, node: N, spec: Field, key: str) -> Any:
        """A nested section: its checked fields."""
        assert spec.section is not None, f"{key}: a {spec.kind} field needs its section"
        return self.mapping(node, spec.section)

    def section_list(self, node: N, spec: Field, key: str) -> list[N] | None:
        """A list of sections: its item nodes, each checked when its builder reads it."""
        return self.sequence(node, f"`{key}`")

    def section_map(self, node: N, spec: Field, key: str) -> Pairs[N] | None:
        """Sections under names of the user's: the entries, each checked when read."""
        return self.pairs(node, f"`{key}`")

    # -- what the format says --------------------------------------------------------
    @abstractmethod
    def pairs(self, node: N, what: str) -> Pairs[N] | None:
        """The entries of a mapping node, or None (reported) when it is none."""

    @abstractmethod
    def child(self, node: N, key: str) -> N | None:
        """The value node of `key` in a mapping node (None: none, or not a mapping)."""

    @abstractmethod
    def sequence(self, node: N, what: str) -> list[N] | None:
        """The items of a list node, or None (reported) when it is none."""

    @abstractmethod
    def unknown(self, key: str, key_node: N, section: Section) -> None:
        """A key the section does not declare."""

    @abstractmethod
    def missing(self, node: N, key: str, spec: Field, section: Section) -> None:
        """A required key the mapping lacks."""

    @abstractmethod
    def boolean(self, node: N, spec: Field, key: str) -> bool | None: ...

    @abstractmethod
    def string(self, node: N, spec: Field, key: str) -> str | None: ...

    @abstractmethod
    def integer(self, node: N, spec: Field, key: str) -> int | None: ...

    @abstractmethod
    def expiry(self, node: N, spec: Field, key: str) -> Any: ...

    @abstractmethod
    def string_list(self, node: N, spec: Field, key: str) -> tuple[str, ...] | None: ...
