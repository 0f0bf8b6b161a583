"""What changed between two versions of pins.yaml, per domain: `pingen diff`.

    compare(old, new, today=..., live=...) -> ConfigDiff

Both versions are loaded by the strict loader into the model, so the diff is about
what the apps will pin, not about YAML text: a pin is its key (sha256), whatever
source it came from, and the order of pins does not matter.

Flags are what a reviewer must not miss: a domain left with fewer than two pins or
without a backup pin, an expiry moved earlier or to `never`, enforcement switched
off, subdomains newly pinned, a domain dropped, a pin set replaced wholesale, and,
when the live keys are known (`--verify`), a removed pin that is live today or a
new set that matches nothing live. How a diff reads is pingen.report.diff's; the old
version comes from git through pingen.config.revision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from pingen.spki import pin_of_certificate

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
        "level": (pin_level(old), pin_level(new)),
        "backup": (old.backup, new.backup),
    }
    return tuple(SettingChange(name, a, b) for name, (a, b) in pairs.items() if a != b)


def pin_level(pin: Pin) -> str | None:
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
