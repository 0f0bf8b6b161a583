"""The Jinja2 side of rendering: one strict environment for built-in and user templates."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from pingen.render import escape

if TYPE_CHECKING:
    from pingen.confine import Repository

FILTERS = {
    "comment": escape.comment_text,
    "line_comment": escape.line_comment_text,
    "xml": escape.xml_text,
    "kotlin_string": escape.kotlin_string,
    "swift_string": escape.swift_string,
    "json": escape.json_value,
}


SETTINGS: dict[str, Any] = {
    "autoescape": False,  # each value is escaped for its own language by a filter
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "newline_sequence": "\n",
}


def environment() -> jinja2.Environment:
    """The environment of the templates shipped inside pingen: strict (undefined names
    are errors), output LF with a final newline."""

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("pingen.templates"))),
        undefined=jinja2.StrictUndefined,
        **SETTINGS,
    )
    env.filters.update(FILTERS)
    return env


def user_environment(base: Path, repository: Repository) -> jinja2.Environment:
    """The environment of a user's templates (pingen.render.sandbox): the same settings
    and filters, sandboxed and confined to the repository."""
    from pingen.render.sandbox import sandboxed_environment

    env = sandboxed_environment(base, repository, SETTINGS)
    env.filters.update(FILTERS)
    return env


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> bytes:
    if env.sandboxed:  # a user's template: bounded in size and time
        from pingen.render.sandbox import render_bounded

        text = render_bounded(env, name, context)
    else:
        text = env.get_template(name).render(**context)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")
