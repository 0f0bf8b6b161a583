"""`pingen explain HOST`: per output, what its platforms enforce for one host.

The answer comes from the platform model (pingen.render.platforms), the same one `build`
proves every output against, so what `explain` says is what `build` checked.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import Any

from pingen.model import Config, Output
from pingen.render.platforms import (
    Effective,
    Entry,
    Platform,
    Position,
    effective,
    platforms_of,
)
from pingen.textsafe import json_text


@dataclass(frozen=True)
class View:
    """One platform reading one output; `effective` is None for a user's template."""

    output: Output
    platform: Platform | None
    effective: Effective | None
    target: str | None = None  # the `targets:` entry the output belongs to


def explain(config: Config, host: str, at: dt.date | None = None) -> list[View]:
    """Every output: the top-level `outputs:`, then each target's (an app repository's
    files are read by the same platforms)."""
    ours = [Entry.of(domain) for domain in config.domains]
    groups: list[tuple[Config | None, tuple[Output, ...], str | None]] = [
        (config, config.outputs, None)
    ]
    for target in config.targets:
        # A target's Info.plist is read in its `into:` folder; without one the app's
        # checkout is unknown here, so only pins.yaml's entries count.
        into = replace(config, into=config.root / target.into) if target.into else None
        groups.append((into, target.outputs, target.name))
    views: list[View] = []
    for where, outputs, target_name in groups:
        for output in outputs:
            platforms = platforms_of(output)
            if not platforms:
                views.append(View(output, None, None, target_name))
                continue
            entries = [*ours, *(foreign_entries(where, output) if where else ())]
            views.extend(
                View(output, platform, effective(platform, entries, host, at), target_name)
                for platform in platforms
            )
    return views


def _pins(eff: Effective) -> list[dict[str, Any]]:
    def origin(sha256: str) -> str:
        return next(e.described for e in eff.entries if sha256 in {p.sha256 for p in e.pins})

    return [
        {"sha256": pin.sha256, "label": pin.label, "from": origin(pin.sha256)} for pin in eff.pins
    ]


def view_json(view: View) -> dict[str, Any]:
    record: dict[str, Any] = {"output": view.output.path.as_posix(), "type": view.output.kind}
    if view.target is not None:
        record["target"] = view.target
    eff = view.effective
    if eff is None or view.platform is None:
        return {
            **record,
            "platform": None,
            "pinned": False,
            "known": False,
            "pins": [],
            "expires": None,
            "enforce": False,
            "decided_by": "a template of yours: pingen does not know how it is read",
        }
    record.update(
        {
            "platform": view.platform.name,
            "pinned": eff.pinned,
            "known": True,
            "pins": _pins(eff),
            "expires": eff.expires.isoformat() if eff.pinned and eff.expires else None,
            "enforce": eff.pinned and eff.enforce,
            "decided_by": eff.decided_by,
            "source": view.platform.source,
        }
    )
    if any(r.position is not Position.ANY for r in eff.requirements):
        record["requires"] = [
            {"position": r.position.name.lower(), "sha256": [p.sha256 for p in r.pins]}
            for r in eff.requirements
        ]
    return record


def render_json(host: str, views: list[View]) -> str:
    document = {"host": host, "outputs": [view_json(view) for view in views]}

    return json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def render_text(host: str, views: list[View]) -> str:
    lines = [host]
    for view in views:
        record = view_json(view)
        target = f"target {record['target']}: " if "target" in record else ""
        lines.append(
            f"  {target}{record['output']} ({record['type']})"
            + (f": {record['platform']}" if record["platform"] else "")
        )
        if not record["known"]:
            lines.append(f"    {record['decided_by']}")
            continue
        if record["pinned"]:
            until = f"until {record['expires']}" if record["expires"] else "never expires"
            mode = "enforced" if record["enforce"] else "report only"
            lines.append(f"    pinned, {mode}, {until}")
        else:
            lines.append("    not pinned")
        lines.append(f"    decided by: {record['decided_by']}")
        for pin in record["pins"]:
            label = f" {_safe(pin['label'])}" if pin["label"] else ""
            lines.append(f"    - {pin['sha256']}{label} (from {pin['from']})")
    return "\n".join(lines) + "\n"


def _safe(text: str) -> str:
    """A label on a terminal: control characters shown, never obeyed."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def foreign_entries(config: Config, output: Output) -> tuple[Entry, ...]:
    """Entries in `output`'s file that pingen keeps but does not own; the platform reads
    them too (today: the hosts an app's Info.plist pins by hand)."""
    if output.kind != "ios-plist":
        return ()
    from pingen.render.ios_plist import unowned_entries

    return unowned_entries(config, output)
