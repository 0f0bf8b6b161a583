"""How a ConfigDiff reads: text lines for a terminal, markdown for a pull-request
comment, and the stable JSON for bots (docs/ci.md, "pingen diff")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pingen.judge.diff import ConfigDiff, DomainDiff, SettingChange, TargetImpact, pin_level
from pingen.judge.findings import (
    Finding,
)
from pingen.model import Pin
from pingen.report.markdown import md_code, md_message, md_text
from pingen.textsafe import json_text

# -- text, markdown, JSON ------------------------------------------------------------


def to_json(diff: ConfigDiff) -> str:
    data = {
        "old": diff.old_name,
        "new": diff.new_name,
        "changed": diff.changed,
        "domains": [_domain_json(d) for d in diff.domains],
        "outputs": [
            {
                "path": o.path,
                "target": o.target,
                "change": o.change,
                "kind": o.kind,
                "settings": [_setting_json(s) for s in o.settings],
            }
            for o in diff.outputs
        ],
        "targets": [{"name": t.name, "into": t.into, "touched": t.touched} for t in diff.targets],
        "flags": [{"code": f.code, "domain": f.host, "message": f.message} for f in diff.flags],
        "notes": list(diff.notes),
        "summary": _summary(diff),
    }

    return json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _summary(diff: ConfigDiff) -> dict[str, int]:
    return {
        "added": diff.count("added"),
        "removed": diff.count("removed"),
        "changed": diff.count("changed"),
        "unchanged": diff.unchanged,
        "flags": len(diff.flags),
    }


def _domain_json(domain: DomainDiff) -> dict[str, Any]:
    return {
        "domain": domain.host,
        "change": domain.change,
        "pins_added": [_pin_json(p) for p in domain.added],
        "pins_removed": [_pin_json(p) for p in domain.removed],
        "pins_changed": [
            {**_pin_json(c.pin), "changes": [_setting_json(s) for s in c.changes]}
            for c in domain.pins_changed
        ],
        "settings": [_setting_json(s) for s in domain.settings],
        "flags": [{"code": f.code, "message": f.message} for f in domain.flags],
    }


def _pin_json(pin: Pin) -> dict[str, Any]:
    return {"sha256": pin.sha256, "label": pin.label, "level": pin_level(pin), "backup": pin.backup}


def _setting_json(change: SettingChange) -> dict[str, Any]:
    return {"setting": change.name, "old": change.old, "new": change.new}


def show(value: Any) -> str:
    """A setting's value as pins.yaml would spell it."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _pin_attributes(pin: Pin) -> str:
    marks = [m for m in (pin_level(pin), "backup" if pin.backup else None) if m]
    label = repr(pin.label) if pin.label else "(no label)"
    return f"{label} [{', '.join(marks)}]" if marks else label


def flag_text(flag: Finding) -> str:
    """A flag as text: its code first, as in `verify` and the docs' table (docs/ci.md), so a
    reviewer can search for it."""
    return f"{flag.code}: {flag.message}"


def _target_text(target: TargetImpact) -> str:
    into = f" (into {target.into})" if target.into else ""
    return f"{target.name}{into}: {'touched' if target.touched else 'not touched'}"


# A change's mark and style in the text report.
_CHANGE_MARKS = {"added": ("+", "add"), "removed": ("-", "remove"), "changed": ("~", "")}


def text_lines(diff: ConfigDiff) -> Iterator[tuple[str, str]]:
    """The text report as (style, line) pairs; style is "", "add", "remove" or "flag"."""
    yield "", f"pins.yaml: {diff.old_name} → {diff.new_name}"
    if not diff.changed:
        yield "", "no changes to pins or outputs"
    for flag in diff.flags:
        yield "flag", f"! {flag_text(flag)}"
    for domain in diff.domains:
        yield from _domain_text_lines(domain)
    for output in diff.outputs:
        mark, style = _CHANGE_MARKS[output.change]
        yield style, f"{mark} output {output.display} ({output.kind}, {output.change})"
        for s in output.settings:
            yield "", f"    {s.name}: {show(s.old)} → {show(s.new)}"
    for target in diff.targets:
        yield "", f"target {_target_text(target)}"
    for note in diff.notes:
        yield "", f"note: {note}"
    summary = _summary(diff)
    yield (
        "",
        (
            f"{summary['changed']} domain(s) changed, {summary['added']} added, "
            f"{summary['removed']} removed, {summary['unchanged']} unchanged; "
            f"{summary['flags']} flag(s)"
        ),
    )


def _domain_text_lines(domain: DomainDiff) -> Iterator[tuple[str, str]]:
    mark, style = _CHANGE_MARKS[domain.change]
    yield style, f"{mark} {domain.host} ({domain.change})"
    for pin in domain.added:
        yield "add", f"    + pin {pin.sha256}  {_pin_attributes(pin)}"
    for pin in domain.removed:
        yield "remove", f"    - pin {pin.sha256}  {_pin_attributes(pin)}"
    for change in domain.pins_changed:
        for s in change.changes:
            yield "", f"    ~ pin {change.pin.sha256}  {s.name}: {show(s.old)} → {show(s.new)}"
    for s in domain.settings:
        yield "", f"    {s.name}: {show(s.old)} → {show(s.new)}"


def _md_value(value: Any) -> str:
    return md_code(show(value))


def to_markdown(diff: ConfigDiff) -> str:
    lines = [
        f"### pingen: changes to pins ({md_code(diff.old_name)} → {md_code(diff.new_name)})",
        "",
    ]
    if diff.flags:
        lines += ["> [!WARNING]", "> **Check before merging**", ">"]
        lines += [f"> - `{flag.code}`: {md_message(flag.message)}" for flag in diff.flags]
        lines.append("")
    if not diff.changed:
        lines += ["No changes to pins or outputs.", ""]
    for domain in diff.domains:
        lines += _md_domain(domain)
    if diff.outputs:
        lines += ["#### Outputs", ""]
        for output in diff.outputs:
            details = "; ".join(
                f"{md_text(s.name)}: {_md_value(s.old)} → {_md_value(s.new)}"
                for s in output.settings
            )
            lines.append(
                f"- {output.change} {md_code(output.display)} ({md_text(output.kind)})"
                + (f": {details}" if details else "")
            )
        lines.append("")
    if diff.targets:
        lines += ["#### App repositories", ""]
        lines += [
            f"- {md_code(t.name)}"
            + (f" ({md_code(t.into)})" if t.into else "")
            + (": touched" if t.touched else ": not touched")
            for t in diff.targets
        ]
        lines.append("")
    lines += [f"- {md_message(note)}" for note in diff.notes]
    if diff.notes:
        lines.append("")
    summary = _summary(diff)
    lines.append(
        f"<sub>{summary['changed']} domain(s) changed, {summary['added']} added, "
        f"{summary['removed']} removed, {summary['unchanged']} unchanged. "
        "Generated by <code>pingen diff</code>.</sub>"
    )
    return "\n".join(lines) + "\n"


def _md_domain(domain: DomainDiff) -> list[str]:
    lines = [f"#### {md_code(domain.host)}: {domain.change}", ""]
    rows = [("added", pin) for pin in domain.added] + [("removed", p) for p in domain.removed]
    if rows:
        lines += ["| | pin (SHA-256) | label | level | backup |", "|---|---|---|---|---|"]
        for change, pin in rows:
            lines.append(
                f"| {change} | {md_code(pin.sha256, in_table=True)} | {md_text(pin.label or '')} | "
                f"{pin_level(pin) or ''} | {'yes' if pin.backup else ''} |"
            )
        lines.append("")
    details = [
        f"- pin {md_code(change.pin.sha256)} {md_text(s.name)}: {_md_value(s.old)} → "
        f"{_md_value(s.new)}"
        for change in domain.pins_changed
        for s in change.changes
    ] + [f"- {md_text(s.name)}: {_md_value(s.old)} → {_md_value(s.new)}" for s in domain.settings]
    if details:
        lines += [*details, ""]
    return lines
