"""What changed between two versions of pins.yaml, per domain: `pingen diff`.

    compare(old, new, today=..., live=...) -> ConfigDiff
    config_at_revision(rev, config_path) -> (Config | None, name)

Both versions are loaded by the strict loader into the model, so the diff is about
what the apps will pin, not about YAML text: a pin is its key (sha256), whatever
source it came from, and the order of pins does not matter.

Flags are what a reviewer must not miss: a domain left with fewer than two pins or
without a backup pin, an expiry moved earlier or to `never`, enforcement switched
off, subdomains newly pinned, a domain dropped, a pin set replaced wholesale, and,
when the live keys are known (`--verify`), a removed pin that is live today or a
new set that matches nothing live.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import posixpath
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pingen.config.load import load_config
from pingen.confine import Repository
from pingen.errors import ConfigError, ConfigErrors, Location, display_path
from pingen.judge.findings import (
    DIFF_NO_BACKUP,
    DIFF_NO_LIVE_MATCH,
    DOMAIN_REMOVED,
    ENFORCE_OFF,
    EXPIRY_EARLIER,
    EXPIRY_NEVER,
    LIVE_PIN_REMOVED,
    NO_COMMON_PIN,
    SUBDOMAINS_ADDED,
    TOO_FEW_PINS,
    Finding,
)
from pingen.judge.offline import backup_gap
from pingen.model import Config, Domain, Output, Pin
from pingen.pki.catalog import load_catalog
from pingen.pki.chain import UntrustedChain, build_verified_chain, load_trust_store, read_chain_file
from pingen.pki.sources import SourceError, read_small_file
from pingen.report.markdown import md_code, md_message, md_text
from pingen.spki import pin_of_certificate
from pingen.textsafe import json_text

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.pki.catalog import Catalog
    from pingen.pki.chain import TrustStore
    from pingen.pki.fetch import OnFetched

# -- the diff --------------------------------------------------------------------


@dataclass(frozen=True)
class SettingChange:
    name: str
    old: Any  # JSON values: bool, "yyyy-mm-dd" or "never", text, list, None
    new: Any


@dataclass(frozen=True)
class PinChange:
    """The same key, with a different label, level or backup mark."""

    pin: Pin  # the new version
    changes: tuple[SettingChange, ...]


@dataclass(frozen=True)
class DomainDiff:
    host: str
    change: str  # "added", "removed" or "changed"
    added: tuple[Pin, ...] = ()
    removed: tuple[Pin, ...] = ()
    pins_changed: tuple[PinChange, ...] = ()
    settings: tuple[SettingChange, ...] = ()
    flags: tuple[Finding, ...] = ()
    pins: tuple[Pin, ...] = ()  # the domain's pins after the change (before, if removed)


@dataclass(frozen=True)
class OutputChange:
    path: str
    change: str  # "added", "removed" or "changed"
    kind: str  # the output type, or "template"
    settings: tuple[SettingChange, ...] = ()
    target: str | None = None  # None: a top-level output

    @property
    def display(self) -> str:
        return self.path if self.target is None else f"{self.target}: {self.path}"


@dataclass(frozen=True)
class TargetImpact:
    """Whether a change reaches one app repository (`targets:`): every target renders
    every domain, so any domain change touches all of them; output changes touch
    their own target."""

    name: str
    into: str | None
    touched: bool


@dataclass(frozen=True)
class ConfigDiff:
    old_name: str  # how to call the old version: "HEAD:pins.yaml", a file name
    new_name: str
    domains: tuple[DomainDiff, ...]
    outputs: tuple[OutputChange, ...] = ()
    unchanged: int = 0  # domains present in both versions without a change
    notes: tuple[str, ...] = field(default=())  # e.g. hosts the live check could not reach
    targets: tuple[TargetImpact, ...] = ()

    @property
    def flags(self) -> tuple[Finding, ...]:
        return tuple(flag for domain in self.domains for flag in domain.flags)

    @property
    def changed(self) -> bool:
        return bool(self.domains or self.outputs)

    def count(self, change: str) -> int:
        return sum(1 for domain in self.domains if domain.change == change)


def compare(
    old: Config | None,
    new: Config,
    *,
    old_name: str = "old",
    new_name: str = "new",
    live: Mapping[str, frozenset[str]] | None = None,
    notes: tuple[str, ...] = (),
) -> ConfigDiff:
    """The difference from `old` (None: the file did not exist) to `new`.

    `live` maps hosts to the keys (sha256) their servers serve today, for the
    flags that need it; hosts missing from it are not judged against live keys.
    """

    old_domains = {d.host: d for d in old.domains} if old else {}
    new_hosts = {d.host for d in new.domains}
    live = live or {}
    catalog = load_catalog(new.trust.catalog)
    diffs: list[DomainDiff] = []
    unchanged = 0
    for domain in new.domains:
        before = old_domains.get(domain.host)
        diff = _domain_diff(before, domain, live.get(domain.host), catalog)
        if diff is None:
            unchanged += 1
        else:
            diffs.append(diff)
    for host, domain in old_domains.items():
        if host not in new_hosts:
            diffs.append(_removed_domain(domain))
    outputs = _output_changes(old.outputs if old else (), new.outputs)
    outputs += _target_output_changes(old, new)
    impacts = _target_impacts(new, bool(diffs), outputs)
    return ConfigDiff(old_name, new_name, tuple(diffs), outputs, unchanged, notes, impacts)


def for_target(diff: ConfigDiff, name: str) -> ConfigDiff:
    """The diff as one app repository sees it (`diff --target`): every domain change,
    and only that target's output changes."""
    return replace(
        diff,
        outputs=tuple(o for o in diff.outputs if o.target == name),
        targets=tuple(t for t in diff.targets if t.name == name),
    )


def _domain_diff(
    old: Domain | None, new: Domain, live: frozenset[str] | None, catalog: Catalog
) -> DomainDiff | None:
    if old is None:
        flags = _state_flags(new, catalog) + _live_flags(new, (), live)
        return DomainDiff(new.host, "added", added=new.pins, flags=flags, pins=new.pins)
    old_keys = {pin.sha256: pin for pin in old.pins}
    new_keys = {pin.sha256: pin for pin in new.pins}
    added = tuple(pin for pin in new.pins if pin.sha256 not in old_keys)
    removed = tuple(pin for pin in old.pins if pin.sha256 not in new_keys)
    pins_changed = tuple(
        PinChange(pin, changes)
        for pin in new.pins
        if pin.sha256 in old_keys and (changes := _pin_changes(old_keys[pin.sha256], pin))
    )
    settings = _setting_changes(old, new)
    if not (added or removed or pins_changed or settings):
        return None
    flags = (
        _state_flags(new, catalog)
        + _change_flags(old, new, added, removed)
        + _live_flags(new, removed, live)
    )
    return DomainDiff(
        new.host, "changed", added, removed, pins_changed, settings, flags, pins=new.pins
    )


def _removed_domain(domain: Domain) -> DomainDiff:
    flag = DOMAIN_REMOVED.finding(
        f"{domain.host} is no longer pinned: apps built from this config connect to it "
        "with the system trust store only",
        host=domain.host,
    )
    return DomainDiff(domain.host, "removed", removed=domain.pins, flags=(flag,), pins=domain.pins)


# Domain settings a reviewer sees, and how each reads as a JSON value.
def _settings_of(domain: Domain) -> dict[str, Any]:
    return {
        "include_subdomains": domain.include_subdomains,
        "enforce": domain.enforce,
        "expires": expiry_text(domain.expires),
        "provider": domain.provider,
        "allow_no_backup": domain.allow_no_backup,
        "report_uris": list(domain.report_uris),
        "connect": str(domain.connect) if domain.connect else None,
    }


def expiry_text(expires: dt.date | None) -> str:
    return expires.isoformat() if expires else "never"


def _setting_changes(old: Domain, new: Domain) -> tuple[SettingChange, ...]:
    before, after = _settings_of(old), _settings_of(new)
    return tuple(
        SettingChange(name, before[name], after[name])
        for name in before
        if before[name] != after[name]
    )


def _pin_changes(old: Pin, new: Pin) -> tuple[SettingChange, ...]:
    pairs = {
        "label": (old.label, new.label),
        "level": (_level(old), _level(new)),
        "backup": (old.backup, new.backup),
    }
    return tuple(SettingChange(name, a, b) for name, (a, b) in pairs.items() if a != b)


def _level(pin: Pin) -> str | None:
    return pin.level.value if pin.level else None


# -- flags -------------------------------------------------------------------------


def _state_flags(domain: Domain, catalog: Catalog) -> tuple[Finding, ...]:
    """What is wrong with the domain as it is after the change."""

    flags = []
    if len(domain.pins) < 2:
        flags.append(
            TOO_FEW_PINS.finding(
                f"{domain.host} is left with {len(domain.pins)} pin(s): one key change on the "
                "server breaks every app that ships this",
                host=domain.host,
            )
        )
    # What counts as a backup is build's and verify's rule too (pingen.judge.offline): a pin
    # marked `backup: true`, or the root of a second CA.
    if backup_gap(domain, catalog) is not None:
        flags.append(
            DIFF_NO_BACKUP.finding(
                f"{domain.host} has no backup pin (`backup: true`, or the root of a second CA): if "
                "the live key must be replaced, no key the apps accept is ready (`pingen keygen` "
                "makes one)",
                host=domain.host,
            )
        )
    return tuple(flags)


def _change_flags(
    old: Domain, new: Domain, added: tuple[Pin, ...], removed: tuple[Pin, ...]
) -> tuple[Finding, ...]:
    flags = []
    host = new.host
    if new.expires is None and old.expires is not None:
        flags.append(
            EXPIRY_NEVER.finding(
                f"{host}: expiry moved from {expiry_text(old.expires)} to never: a mistake in "
                "this pin set can strand the apps that ship it for good",
                host=host,
            )
        )
    elif new.expires is not None and (old.expires is None or new.expires < old.expires):
        flags.append(
            EXPIRY_EARLIER.finding(
                f"{host}: expiry moved earlier, {expiry_text(old.expires)} → "
                f"{expiry_text(new.expires)}: apps stop pinning sooner",
                host=host,
            )
        )
    if old.enforce and not new.enforce:
        flags.append(
            ENFORCE_OFF.finding(
                f"{host}: pinning is now report-only (`enforce: false`): violations no longer "
                "block connections where the platform supports report-only",
                host=host,
            )
        )
    if new.include_subdomains and not old.include_subdomains:
        flags.append(
            SUBDOMAINS_ADDED.finding(
                f"{host}: every subdomain is now pinned too: each one must serve a chain that "
                "holds one of these pins",
                host=host,
            )
        )
    if removed and added and not set(old.pin_set.hashes) & set(new.pin_set.hashes):
        flags.append(
            NO_COMMON_PIN.finding(
                f"{host}: no pin of the previous set remains: the apps in the field and this "
                "build can only both connect if the live chain holds a key of each set",
                host=host,
            )
        )
    return tuple(flags)


def _live_flags(
    domain: Domain, removed: tuple[Pin, ...], live: frozenset[str] | None
) -> tuple[Finding, ...]:
    if live is None:
        return ()
    flags = [
        LIVE_PIN_REMOVED.finding(
            f"{domain.host}: the removed pin {pin_name(pin)} is live today: apps built "
            "from this config depend on the remaining pins alone",
            host=domain.host,
        )
        for pin in removed
        if pin.sha256 in live
    ]
    if not set(domain.pin_set.hashes) & live:
        flags.append(
            DIFF_NO_LIVE_MATCH.finding(
                f"{domain.host}: no pin matches any key the server serves today: shipping "
                "this bricks the app",
                host=domain.host,
            )
        )
    return tuple(flags)


def pin_name(pin: Pin) -> str:
    return f"{pin.sha256} ({pin.label})" if pin.label else pin.sha256


# -- outputs -------------------------------------------------------------------------


def _output_changes(
    old: tuple[Output, ...], new: tuple[Output, ...], target: str | None = None
) -> tuple[OutputChange, ...]:
    before = {o.path.as_posix(): o for o in old}
    after = {o.path.as_posix(): o for o in new}
    changes = []
    for path, output in after.items():
        if path not in before:
            changes.append(OutputChange(path, "added", output.kind, target=target))
        elif settings := _output_settings(before[path], output):
            changes.append(OutputChange(path, "changed", output.kind, settings, target))
    changes += [
        OutputChange(p, "removed", o.kind, target=target)
        for p, o in before.items()
        if p not in after
    ]
    return tuple(changes)


def _target_output_changes(old: Config | None, new: Config) -> tuple[OutputChange, ...]:
    before = {t.name: t for t in old.targets} if old else {}
    after = {t.name: t for t in new.targets}
    changes: tuple[OutputChange, ...] = ()
    for name in [*after, *(n for n in before if n not in after)]:
        old_outputs = before[name].outputs if name in before else ()
        new_outputs = after[name].outputs if name in after else ()
        changes += _output_changes(old_outputs, new_outputs, name)
    return changes


def _target_impacts(
    new: Config, domains_changed: bool, outputs: tuple[OutputChange, ...]
) -> tuple[TargetImpact, ...]:
    return tuple(
        TargetImpact(
            t.name,
            t.into.as_posix() if t.into else None,
            domains_changed or any(o.target == t.name for o in outputs),
        )
        for t in new.targets
    )


def _output_settings(old: Output, new: Output) -> tuple[SettingChange, ...]:
    def described(output: Output) -> dict[str, Any]:
        template = output.template.as_posix() if output.template else None
        return {"type": output.type, "template": template, **dict(output.options)}

    a, b = described(old), described(new)
    return tuple(
        SettingChange(key, a.get(key), b.get(key))
        for key in [*a, *(k for k in b if k not in a)]
        if a.get(key) != b.get(key)
    )


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
    return {"sha256": pin.sha256, "label": pin.label, "level": _level(pin), "backup": pin.backup}


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
    marks = [m for m in (_level(pin), "backup" if pin.backup else None) if m]
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
                f"{_level(pin) or ''} | {'yes' if pin.backup else ''} |"
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


# -- the old version from git ----------------------------------------------------------


class GitError(Exception):
    """git could not give us the old version; the message says why."""


def git(args: list[str], cwd: Path) -> bytes:

    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed; use --old FILE instead of --base") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {' '.join(args)} failed")
    return result.stdout


def referenced_files(text: str) -> list[str]:
    """The paths a pins.yaml names (key files, templates, trust files), read leniently:
    the loader judges the file afterwards, this only decides what to take from git."""

    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):  # the loader says what is wrong
        return []
    if not isinstance(data, dict):
        return []
    found: list[Any] = []
    trust = data.get("trust")
    if isinstance(trust, dict):
        found += [trust.get("ca_file"), trust.get("catalog")]
    domains = data.get("domains")
    for domain in domains.values() if isinstance(domains, dict) else []:
        pins = domain.get("pins") if isinstance(domain, dict) else None
        for pin in pins if isinstance(pins, list) else []:
            if isinstance(pin, dict):
                found.append(pin.get("file"))
    outputs = data.get("outputs")
    for output in outputs if isinstance(outputs, list) else []:
        if isinstance(output, dict):
            found.append(output.get("template"))
    return sorted({path for path in found if isinstance(path, str) and path.strip()})


def config_at_revision(rev: str, config_path: Path) -> tuple[Config | None, str]:
    """pins.yaml as it was at git revision `rev`, loaded by the strict loader, and its
    name for the report ("REV:path"). None: the file did not exist at `rev`.

    The old version's key files and templates come from `rev` too (not from the
    working tree), written with the old pins.yaml into a temporary copy of their
    folders, so a `file:` pin means what it meant then. Files outside the git
    repository cannot be taken from git; the loader then reports them missing.
    Expiry dates of the old version are not judged against today.
    """

    if rev.startswith("-"):
        raise GitError(f"--base {rev}: a revision cannot start with '-'")
    top, rel = _repository_path(config_path)
    name = f"{rev}:{rel}"
    try:
        git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    except GitError:
        raise GitError(f"--base {rev}: no such commit in the git repository {top}") from None
    if not _exists_at(rev, rel, top):
        return None, name
    text = git(["show", f"{rev}:{rel}"], top)
    with tempfile.TemporaryDirectory(prefix="pingen-diff-") as folder:
        copy = Path(os.path.realpath(folder))
        target = copy / rel
        _write(target, text)
        for repo_path in _old_references(text, rel):
            _copy_from_git(rev, repo_path, top, copy)
            for catalog_file in _catalog_files(copy, repo_path):
                _copy_from_git(rev, catalog_file, top, copy)
        # The same confinement as the working tree's (pingen.confine), with the copy of
        # the repository as it was at `rev` as the repository.
        repository = Repository(copy, in_git=True, shown=f"the git repository at {rev}")
        try:
            return load_config(target, today=dt.date.min, repository=repository), name
        except ConfigError as error:
            raise _at_revision(error, copy, rev) from None


_LINK_MODE = "120000"


def _copy_from_git(rev: str, repo_path: str, top: Path, copy: Path, hops: int = 8) -> None:
    """A file of `rev` into the copy; a symbolic link as a link (so the loader refuses it
    where it leads out), with the file it points to when that lies in the repository."""

    listing = git(["ls-tree", "-z", rev, "--", repo_path], top).decode("utf-8", "replace")
    if not listing:
        return
    mode = listing.split(" ", 1)[0]
    data = git(["show", f"{rev}:{repo_path}"], top)
    path = copy / repo_path
    if mode != _LINK_MODE:
        _write(path, data)
        return
    link = data.decode("utf-8", "replace")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(link, path)
    pointed = posixpath.normpath(posixpath.join(posixpath.dirname(repo_path), link))
    if hops and not posixpath.isabs(link) and not pointed.startswith("../") and pointed != "..":
        _copy_from_git(rev, pointed, top, copy, hops - 1)


def _repository_path(config_path: Path) -> tuple[Path, str]:
    """The repository's top folder and the config's path in it (POSIX)."""
    folder = config_path.absolute().parent
    if not folder.is_dir():
        raise GitError(f"{config_path}: its folder does not exist")
    try:
        top = Path(git(["rev-parse", "--show-toplevel"], folder).decode().strip())
    except GitError as error:  # git's own words, then what to do instead
        raise GitError(
            f"{display_path(config_path)}: no git repository to take the old "
            f"version from ({error}); compare with a file: --old FILE"
        ) from None
    try:
        rel = config_path.absolute().resolve().relative_to(top.resolve())
    except ValueError:
        raise GitError(f"{config_path} is not inside the git repository {top}") from None
    return top, rel.as_posix()


def _exists_at(rev: str, path: str, top: Path) -> bool:
    try:
        git(["cat-file", "-e", f"{rev}:{path}"], top)
    except GitError:
        return False
    return True


def _old_references(text: bytes, rel: str) -> list[str]:
    """The repository paths of the files the old pins.yaml names, inside the repository."""

    folder = posixpath.dirname(rel)
    paths = []
    for ref in referenced_files(text.decode("utf-8", "replace")):
        if posixpath.isabs(ref) or "\\" in ref:
            continue
        path = posixpath.normpath(posixpath.join(folder, ref))
        if path != ".." and not path.startswith("../"):
            paths.append(path)
    return paths


def _catalog_files(copy: Path, repo_path: str) -> list[str]:
    """The certificate files a CA catalog copied to `repo_path` names (its "file" and
    "files"), as repository paths; nothing when it is no catalog: read leniently, the
    loader judges the catalog afterwards."""

    path = copy / repo_path
    if path.suffix != ".json" or path.is_symlink():
        return []
    try:
        data = json.loads(read_small_file(path, "CA catalog"))
    except (SourceError, ValueError, RecursionError):
        return []
    found: list[str] = []

    def walk(value: Any, depth: int = 0) -> None:
        if depth > 20:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "file" and isinstance(item, str):
                    found.append(item)
                elif key == "files" and isinstance(item, list):
                    found.extend(name for name in item if isinstance(name, str))
                else:
                    walk(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                walk(item, depth + 1)

    walk(data)
    folder = posixpath.dirname(repo_path)
    paths = (
        posixpath.normpath(posixpath.join(folder, name))
        for name in found
        if name and not posixpath.isabs(name)
    )
    return sorted({p for p in paths if p != ".." and not p.startswith("../")})


def _write(path: Path, data: bytes) -> None:
    if path.exists() or path.is_symlink():  # already copied (a link's target)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _at_revision(error: Exception, copy: Path, rev: str) -> Exception:
    """The loader's error(s) about the temporary copy, pointing at REV:path instead."""

    def moved(one: ConfigError) -> ConfigError:
        message = one.message.replace(f"{copy}/", f"{rev}:")
        where = one.location
        if where is not None and where.file.is_relative_to(copy):
            inside = where.file.relative_to(copy).as_posix()
            where = Location(Path(f"{rev}:{inside}"), where.line, where.column)
        return ConfigError(f"(the old version) {message}", where)

    if isinstance(error, ConfigErrors):
        return ConfigErrors([moved(e) for e in error.errors])
    assert isinstance(error, ConfigError)
    return moved(error)


# -- what the servers serve today (--verify) -----------------------------------------


def live_keys(
    config: Config,
    *,
    timeout: float,
    progress: OnFetched | None = None,
    skip: frozenset[str] = frozenset(),
) -> tuple[dict[str, frozenset[str]], tuple[str, ...]]:
    """The keys (sha256) each domain's server serves today, with its trusted root.

    Hosts that cannot be reached are left out and named in the notes: the diff is
    information, and a network fault must not hide it. Hosts in `skip` are not dialled
    (their keys come from a chain file: `recorded_keys`).
    """
    from pingen.pki.fetch import Target, fetch_chains

    store = load_trust_store(config.trust)
    targets = [
        Target(domain.host, domain.connect) for domain in config.domains if domain.host not in skip
    ]
    keys: dict[str, frozenset[str]] = {}
    notes: list[str] = []
    now = dt.datetime.now(dt.UTC)
    for fetched in fetch_chains(targets, timeout=timeout, progress=progress):
        if fetched.error is not None:
            notes.append(f"{fetched.host}: not checked against the live server ({fetched.error})")
            continue
        keys[fetched.host] = _chain_keys(
            fetched.certificates(), store, fetched.host, now, notes, "the served chain"
        )
    return keys, tuple(notes)


def recorded_keys(
    config: Config, chains: Mapping[str, Path], at: dt.datetime
) -> tuple[dict[str, frozenset[str]], tuple[str, ...]]:
    """`diff --chain HOST=FILE`: the keys of each host's recorded chain (leaf first, as
    served), completed to a trusted root as of `at`, so that CI without a network can
    still raise the live flags."""
    from pingen.judge.verify import _refuse_other_hosts

    served = {host: read_chain_file(path) for host, path in chains.items()}
    for domain in config.domains:  # another host's chain is the wrong file, as in verify
        if domain.host in served:
            _refuse_other_hosts(served[domain.host][0], domain, chains[domain.host])
    store = load_trust_store(config.trust)
    keys: dict[str, frozenset[str]] = {}
    notes: list[str] = []
    for host, certificates in served.items():
        keys[host] = _chain_keys(
            certificates, store, host, at, notes, f"the chain in {chains[host]}"
        )
    return keys, tuple(notes)


def _chain_keys(
    served: list[x509.Certificate],
    store: TrustStore,
    host: str,
    at: dt.datetime,
    notes: list[str],
    what: str,
) -> frozenset[str]:

    try:
        chain = build_verified_chain(served, store, host, at)
    except UntrustedChain as error:
        notes.append(
            f"{host}: {what} does not verify ({error.reason}); compared with its certificates only"
        )
        chain = served
    return frozenset(pin_of_certificate(cert) for cert in chain)
