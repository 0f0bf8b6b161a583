"""Move `expires` forward in pins.yaml in place: the step a release bot runs each release.

Only the date scalars change (or one `expires:` line is inserted for a domain that
inherited its date from `defaults`); comments, order, quoting and layout stay as the
user wrote them. The edit works on the text, at the positions PyYAML's composer
reports, never by dumping YAML again.

A new date is refused when the pins cannot survive to it (`pins-expire`, the same
judgement `verify` and `build` make): pins are keys, and once no known certificate of
any pinned CA key is valid, no chain can reach a pinned key.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import yaml

from pingen.config.yamltext import key_value, scalar
from pingen.errors import ConfigError, Location
from pingen.hosts import normalize_host
from pingen.judge.findings import PINS_EXPIRE, Severity
from pingen.judge.futures import Window, futures
from pingen.model import Config, Domain
from pingen.pki.catalog import load_catalog

DEFAULTS = "defaults"

_DURATION = re.compile(r"^\s*(\d{1,4})\s*([dwmy])\s*$", re.IGNORECASE)


def parse_duration(text: str, today: dt.date) -> dt.date:
    """`--extend 12m`: today plus N days (d), weeks (w), months (m) or years (y); a
    month later than the month has days lands on its last day (Jan 31 + 1m = Feb 28)."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90d, 6w, 12m or 1y")
    count, unit = int(match[1]), match[2].lower()
    if unit == "d":
        return today + dt.timedelta(days=count)
    if unit == "w":
        return today + dt.timedelta(weeks=count)
    months = count * (12 if unit == "y" else 1)
    year, month = divmod(today.month - 1 + months, 12)
    year += today.year
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


@dataclass(frozen=True)
class ExpiryChange:
    """One date moved: `where` is "defaults" or a host."""

    where: str
    old: dt.date | None  # None: `never`, or inherited and so inserted
    new: dt.date
    inserted: bool = False


@dataclass(frozen=True)
class Skipped:
    where: str
    reason: str


@dataclass(frozen=True)
class ExpiryPlan:
    text: str  # the new pins.yaml
    changes: tuple[ExpiryChange, ...]
    skipped: tuple[Skipped, ...]
    moved: tuple[str, ...]  # the hosts whose effective expiry is now the new date


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


def plan_expiry(
    config: Config, text: str, new: dt.date, hosts: Sequence[str] | None = None
) -> ExpiryPlan:
    """The pins.yaml `text` (already loaded as `config`) with every selected domain's
    effective `expires` moved forward to `new`. Without `hosts`: `defaults.expires` and
    every domain's own `expires`. With `hosts`: those domains only, inserting an
    `expires:` line where a domain inherits its date. Dates already at or past `new`,
    and `never`, are left as they are (skipped, with the reason)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)  # pure Python: str indexes
    assert isinstance(root, yaml.MappingNode)  # load_config accepted this text
    sections = _children(root)
    edits: list[_Edit] = []
    changes: list[ExpiryChange] = []
    skipped: list[Skipped] = []

    def move(where: str, node: yaml.ScalarNode) -> bool:
        old = _date_of(node)
        if old is None:
            skipped.append(Skipped(where, "expires: never (moving it to a date would be earlier)"))
        elif old >= new:
            skipped.append(Skipped(where, f"already expires on {old.isoformat()}"))
        else:
            edits.append(_replace_scalar(text, node, new))
            changes.append(ExpiryChange(where, old, new))
            return True
        return False

    defaults = sections.get(DEFAULTS)
    default_node = _children(defaults).get("expires") if defaults is not None else None
    defaults_moved = (
        hosts is None and isinstance(default_node, yaml.ScalarNode) and move(DEFAULTS, default_node)
    )
    wanted = None if hosts is None else set(hosts)
    moved: list[str] = []
    for host, (key, body) in _domains(sections.get("domains")).items():
        if wanted is not None and host not in wanted:
            continue
        own = _children(body).get("expires")
        if isinstance(own, yaml.ScalarNode):
            if move(host, own):
                moved.append(host)
        elif wanted is None:
            if defaults_moved:
                moved.append(host)
        else:  # inherits: give this domain its own date
            inherited = _domain(config, host).expires
            if inherited is None:
                skipped.append(Skipped(host, "expires: never (from defaults)"))
            elif inherited >= new:
                skipped.append(Skipped(host, f"already expires on {inherited.isoformat()}"))
            else:
                edits.append(_insert_expiry(text, key, body, new, config))
                changes.append(ExpiryChange(host, inherited, new, inserted=True))
                moved.append(host)
    return ExpiryPlan(_apply(text, edits), tuple(changes), tuple(skipped), tuple(moved))


def _children(node: yaml.Node | None) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _domains(node: yaml.Node | None) -> dict[str, tuple[yaml.ScalarNode, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        normalize_host(key.value): (key, value)
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode)
    }


def _domain(config: Config, host: str) -> Domain:
    domain = config.domain(host)
    assert domain is not None  # hosts come from the config the text was loaded as
    return domain


def _date_of(node: yaml.ScalarNode) -> dt.date | None:
    value = node.value.strip()
    return None if value == "never" else dt.date.fromisoformat(value)


def _replace_scalar(text: str, node: yaml.ScalarNode, new: dt.date) -> _Edit:
    """The scalar's own characters replaced, its quotes kept."""
    start, end = node.start_mark.index, node.end_mark.index
    quote = node.style if node.style in ("'", '"') else ""
    return _Edit(start, end, f"{quote}{scalar(new)}{quote}")


def _insert_expiry(
    text: str, key: yaml.ScalarNode, body: yaml.Node, new: dt.date, config: Config
) -> _Edit:
    """An `expires:` line before the domain's first key, indented as that key is."""
    if not isinstance(body, yaml.MappingNode) or body.flow_style or not body.value:
        raise ConfigError(
            f"{key.value} is written in flow style ({{...}}); give it an `expires:` by hand, "
            "then run this again",
            Location(config.path, key.start_mark.line + 1, key.start_mark.column + 1),
        )
    first = body.value[0][0].start_mark
    line_start = text.rfind("\n", 0, first.index) + 1
    indent = " " * first.column
    newline = "\r\n" if "\r\n" in text else "\n"  # the file's own line ending
    return _Edit(line_start, line_start, f"{indent}{key_value('expires', new)}{newline}")


def _apply(text: str, edits: Iterable[_Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


# -- what the pins can survive -----------------------------------------------------


def unsurvivable(config: Config, plan: ExpiryPlan, new: dt.date, today: dt.date) -> list[str]:
    """A message per moved domain whose new expiry lies past what its pins survive: the
    survivability judgement's `pins-expire` failing over the window [today, new]."""

    catalog = load_catalog(config.trust.catalog)
    problems: list[str] = []
    for host in plan.moved:
        domain = _domain(config, host)
        pin_set = replace(domain.pin_set, expires=new)
        for finding in futures(pin_set, domain.provider, Window.of(today, new), catalog, host=host):
            if finding.code == PINS_EXPIRE.name and finding.severity is Severity.FAIL:
                problems.append(f"{host}: {finding.code}: {finding.message}")
    return problems
