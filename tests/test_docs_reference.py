"""docs/pins-yaml.md's key reference is the one pingen.config.reference writes from the
schema declarations: a key added, renamed or redescribed in pingen.config.schema fails
here until the page is regenerated."""

from __future__ import annotations

from pingen.config import reference, schema
from tests.support.docs import page

PAGE = page("pins-yaml.md")
HOW = "regenerate it: python -m pingen.config.reference docs/pins-yaml.md"


def test_the_key_reference_is_current() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert reference.with_reference(text) == text, HOW


def test_the_reference_lists_every_declared_key_with_its_meaning() -> None:
    tables = reference.reference()
    sections = [schema.CONFIG, schema.TRUST, schema.DOMAIN, schema.PIN, schema.TARGET]
    fields = [f for s in sections for f in s.fields.items()]
    fields += list(schema.OUTPUT_COMMON.items())
    fields += [f for options in schema.OUTPUT_OPTIONS.values() for f in options.items()]
    for key, spec in fields:
        row = f"| `{key}` |"
        assert row in tables, key
        assert reference._cell(spec.description) in tables, key


def test_a_stale_page_is_told_apart_and_the_prose_around_it_is_kept() -> None:
    stale = f"intro\n{reference.BEGIN}\n| `old` | string | — | gone |\n{reference.END}\noutro\n"
    fresh = reference.with_reference(stale)
    assert fresh != stale
    assert fresh.startswith(f"intro\n{reference.BEGIN}\n") and fresh.endswith(
        f"{reference.END}\noutro\n"
    )
    assert "`old`" not in fresh and "| `pins` |" in fresh
    assert reference.with_reference(fresh) == fresh
