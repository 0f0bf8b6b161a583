"""The key reference of docs/pins-yaml.md, generated from `pingen.config.schema`.

Every key of pins.yaml, its type, default and meaning comes from the declarations the
loader reads against, so the page cannot drift from the code: the tables sit between
two markers in the page, the prose around them is written by hand, and a test fails
when they differ from what this module writes. Regenerate them with

    python -m pingen.config.reference docs/pins-yaml.md
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from pingen.config import schema
from pingen.nodes import Field, Kind

BEGIN = (
    "<!-- BEGIN keys: generated from pingen.config.schema by "
    "`python -m pingen.config.reference docs/pins-yaml.md`; do not edit by hand -->"
)
END = "<!-- END keys -->"


def reference() -> str:
    """The tables, one per section of pins.yaml, as Markdown (LF, a final newline)."""
    blocks = [_table(where, fields) for where, fields in _sections()]
    return "\n".join(blocks)


def _sections() -> Iterator[tuple[str, Mapping[str, Field]]]:
    """(where the keys sit, the keys), top level first, each section once."""
    yield "top level", schema.CONFIG.fields
    yield "`defaults:`", schema.DOMAIN_SETTINGS
    yield "`trust:`", schema.TRUST.fields
    yield "`domains:` → each host", schema.DOMAIN.fields
    yield "`domains:` → each host → `pins:` → each pin", schema.PIN.fields
    yield "`outputs:` (and a target's `outputs:`) → each output", schema.OUTPUT_COMMON
    for output_type, options in schema.OUTPUT_OPTIONS.items():
        if options:
            yield f"an output of `type: {output_type}`", options
    yield "`targets:` → each target", schema.TARGET.fields


def _table(where: str, fields: Mapping[str, Field]) -> str:
    lines = [
        f"**{where}**",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
        *(_row(key, spec) for key, spec in fields.items()),
        "",
    ]
    return "\n".join(lines)


def _row(key: str, spec: Field) -> str:
    cells = (f"`{key}`", _type(spec), _default(spec), spec.description)
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _cell(text: str) -> str:
    """Table cell text: `|` would end the cell and `<tag>` would vanish as HTML."""
    return text.replace("|", "\\|").replace("<", "&lt;")


def _type(spec: Field) -> str:
    if spec.choices:
        return "one of " + ", ".join(f"`{choice}`" for choice in spec.choices)
    if spec.kind is Kind.EXPIRY:
        return "date (yyyy-mm-dd) or `never`"
    if spec.kind is Kind.SECTION_LIST and spec.min_items:
        return f"{_NOUNS[spec.kind]} (at least {spec.min_items})"
    return _NOUNS[spec.kind]


_NOUNS = {
    Kind.BOOL: "boolean",
    Kind.STRING: "string",
    Kind.INTEGER: "integer",
    Kind.EXPIRY: "date",
    Kind.STRING_LIST: "list of strings",
    Kind.SECTION: "mapping",
    Kind.SECTION_LIST: "list",
    Kind.SECTION_MAP: "mapping of names",
}


def _default(spec: Field) -> str:
    if spec.required:
        return "required"
    if spec.default is None:
        return "—"
    if isinstance(spec.default, bool):
        return f"`{str(spec.default).lower()}`"
    if isinstance(spec.default, tuple):
        return "`[]`" if not spec.default else f"`{list(spec.default)}`"
    return f"`{spec.default}`"


def with_reference(page: str) -> str:
    """`page` with the text between the markers replaced by `reference()`."""
    head, begin, rest = page.partition(BEGIN + "\n")
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the page has no {BEGIN!r} ... {END!r} markers")
    return head + begin + "\n" + reference() + "\n" + end + tail


def main(argv: list[str]) -> int:
    """Rewrite the reference in the page named by argv[0]."""
    page = Path(argv[0])
    text = page.read_text(encoding="utf-8")
    page.write_text(with_reference(text), encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
