"""The Jinja2 side of rendering: one strict environment for built-in and user templates."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pingen.render import escape

if TYPE_CHECKING:
    import jinja2

FILTERS = {
    "comment": escape.comment_text,
    "xml": escape.xml_text,
    "kotlin_string": escape.kotlin_string,
    "swift_string": escape.swift_string,
    "json": escape.json_value,
}


def environment(search_path: Iterable[Path] | None = None) -> jinja2.Environment:
    """A strict environment: undefined names are errors, output is LF with a final newline.

    With no `search_path` the templates shipped inside pingen are used.
    """
    import jinja2

    loader: jinja2.BaseLoader
    if search_path is None:
        from importlib.resources import files

        loader = jinja2.FileSystemLoader(str(files("pingen.templates")))
    else:
        loader = jinja2.FileSystemLoader([str(p) for p in search_path])
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # each value is escaped for its own language by a filter
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        newline_sequence="\n",
    )
    env.filters.update(FILTERS)
    return env


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> bytes:
    text = env.get_template(name).render(**context)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")
