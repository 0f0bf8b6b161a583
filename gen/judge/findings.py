"""Every code pingen reports, declared once, and the one type a report is made of.

    NO_BACKUP.finding(message) -> Finding           # the code's own severity
    PINS_EXPIRE.finding(message, certain=True)      # a code that fails when certain
    status_of(findings) -> Status                   # ok, warn, fail or error
    CODES                                           # the table: verify, build, diff, guard

A `Code` is the table's row: its name, the command that reports it, its severity, a
one-line meaning and the docs page (and heading) that explains it. The docs' code tables
are generated from it (`python -m pingen.judge.findings docs/*.md` rewrites them; a test
fails when one is stale). A `Finding` is one occurrence: the code, the severity it has
here, and the message for a person, plus what a few codes know besides (the domain a
diff flag is about, the place in pins.yaml of build's, the first day, chains and fix of
a future of the CA catalog).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pingen.errors import Location

# A pin set expiring within this many days is a warning (`expires-soon`) wherever it is
# judged: verify, build's offline judgement.
EXPIRES_SOON_DAYS = 30


class Severity(StrEnum):
    WARNING = "warning"
    FAIL = "fail"
    ERROR = "error"  # verify: the check could not run (e.g. unreachable); build: exit 2


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"


class Command(StrEnum):
    """Which report a code appears in."""

    VERIFY = "verify"  # and build --verify, and the survivability codes of build's warnings
    BUILD = "build"  # the offline judgement: its output is the message alone, with no code
    DIFF = "diff"  # a diff flag
    GUARD = "guard"  # a way out of an unsafe switch (`way_out` of --format json)


@dataclass(frozen=True)
class Finding:
    code: str  # a Code's name, e.g. "no-live-match"
    severity: Severity
    message: str  # what is wrong and what to do, for a person
    host: str | None = None  # the domain it is about, where a report lists many (diff)
    location: Location | None = None  # where in pins.yaml (build)
    # A future of the CA catalog (pingen.judge.futures) also says:
    first: dt.date | None = None  # the first day it can happen
    chains: tuple[str, ...] = ()  # the chains that break
    fix: tuple[str, ...] = ()  # pins.yaml pin lines that clear it, e.g. "root: Root YR"
    expires_by: dt.date | None = None  # or set `expires:` to this day or earlier


@dataclass(frozen=True)
class Code:
    name: str
    command: Command
    severity: Severity
    meaning: str  # one line, as the docs' table says when it is reported
    doc: str  # the docs page and heading that explain it, e.g. "judgement.md#…"
    # Shown after the severity, in parentheses: for a warning, when it is a fail instead
    # (a finding made with `certain=True`); for a build error, where it is reported.
    note: str | None = None
    way_out: str | None = None  # build's table: what clears it

    @property
    def can_fail(self) -> bool:
        """A warning that is a fail when certain (or the platform's to pick)."""
        return self.severity is Severity.WARNING and self.note is not None

    def finding(
        self,
        message: str,
        *,
        certain: bool = False,
        host: str | None = None,
        location: Location | None = None,
        first: dt.date | None = None,
        chains: tuple[str, ...] = (),
        fix: tuple[str, ...] = (),
        expires_by: dt.date | None = None,
    ) -> Finding:
        assert not certain or self.can_fail, self.name
        severity = Severity.FAIL if certain else self.severity
        return Finding(self.name, severity, message, host, location, first, chains, fix, expires_by)

    @property
    def severity_text(self) -> str:
        return f"{self.severity} ({self.note})" if self.note else str(self.severity)


def status_of(findings: Iterable[Finding]) -> Status:
    severities = {finding.severity for finding in findings}
    if Severity.ERROR in severities:
        return Status.ERROR
    if Severity.FAIL in severities:
        return Status.FAIL
    if Severity.WARNING in severities:
        return Status.WARN
    return Status.OK


_VERIFY = "judgement.md#what-pingen-verify-judges"
_BUILD = "judgement.md#what-pingen-build-refuses-without-the-network"
_DIFF = "ci.md#pingen-diff"
_GUARD = "rotation.md#rotating-promote-the-backup-then-make-the-next-one"
_CERTAIN = "fail when certain within the window"

# -- verify ---------------------------------------------------------------------------------

NO_LIVE_MATCH = Code(
    "no-live-match",
    Command.VERIFY,
    Severity.FAIL,
    "no pin matches any key of the verified live chain: shipping this bricks the app today",
    _VERIFY,
)
UNTRUSTED_CHAIN = Code(
    "untrusted-chain",
    Command.VERIFY,
    Severity.FAIL,
    "the served chain does not verify against the trust store",
    _VERIFY,
)
UNREACHABLE = Code(
    "unreachable",
    Command.VERIFY,
    Severity.ERROR,
    "the connection or handshake failed or timed out (exit 3 when nothing else failed)",
    _VERIFY,
)
NO_BACKUP = Code(
    "no-backup",
    Command.VERIFY,
    Severity.WARNING,
    "every pin is in the live chain, so one key change breaks the app; or no pin is marked "
    "`backup: true` and the pins are not of two CAs (as `build` and `diff` count a backup; "
    "not with `allow_no_backup: true`)",
    _VERIFY,
)
BACKUP_LIVE = Code(
    "backup-live",
    Command.VERIFY,
    Severity.WARNING,
    "a pin marked `backup` is being served",
    _VERIFY,
)
LEAF_ONLY = Code(
    "leaf-only",
    Command.VERIFY,
    Severity.WARNING,
    "only leaf pins match and the leaf expires before the pin set does",
    _VERIFY,
)
EXPIRES_SOON = Code(
    "expires-soon",
    Command.VERIFY,
    Severity.WARNING,
    f"the pin set expires within {EXPIRES_SOON_DAYS} days",
    _VERIFY,
)
# The survivability codes of the CA catalog (pingen.judge.futures), in the order reported.
LEAF_KEY_ROTATES = Code(
    "leaf-key-rotates",
    Command.VERIFY,
    Severity.WARNING,
    "only leaf pins match and the issuer's usual clients make a new key at each renewal; "
    "the date is the estimated renewal (never in the past)",
    _VERIFY,
    "fail where the provider always re-keys",
)
INTERMEDIATE_SIBLINGS = Code(
    "intermediate-siblings",
    Command.VERIFY,
    Severity.WARNING,
    "the CA issues, in the window, from an intermediate of today's key type no pin covers: "
    "a sibling (LE's R10–R14, an ACM or GTS intermediate the catalog does not list), or the "  # noqa: RUF001
    "next generation — certain when nothing else of that key type issues then (Gen X only "
    "after 2026-05-13)",
    _VERIFY,
    _CERTAIN,
)
KEY_TYPE_SWITCH = Code(
    "key-type-switch",
    Command.VERIFY,
    Severity.WARNING,
    "the set covers today's key type of a CA but none of its intermediates of the other type",
    _VERIFY,
    f"{_CERTAIN}: the platform picks the key type, or today's type stops",
)
NEXT_ROOT = Code(
    "next-root",
    Command.VERIFY,
    Severity.WARNING,
    "the intermediate matches only through a cross-sign to a pinned root; devices that trust "
    "the newer root (not in their stores yet) stop there, where no pin is",
    _VERIFY,
    f"{_CERTAIN}: a known trust date, or the cross-sign that carried the chain to a pin ends",
)
ALTERNATE_PATH = Code(
    "alternate-path",
    Command.VERIFY,
    Severity.WARNING,
    "the intermediate is covered, but another validation path a client could build "
    "(another issuer, an anchor older devices use) holds no pin",
    _VERIFY,
)
CA_SWITCH = Code(
    "ca-switch",
    Command.VERIFY,
    Severity.WARNING,
    "the `provider` may issue from another CA whose chains the set does not pin",
    _VERIFY,
    f"{_CERTAIN}: the platform picks the CA and no key of it is pinned",
)
PINS_EXPIRE = Code(
    "pins-expire",
    Command.VERIFY,
    Severity.WARNING,
    "every known certificate of the pinned CA keys ends on a day D before the set expires: "
    "no chain can reach a pinned key after D (for `expires: never`: whenever they all end)",
    _VERIFY,
    f"{_CERTAIN}: `expires` comes after",
)
SURVIVABILITY = (
    LEAF_KEY_ROTATES,
    INTERMEDIATE_SIBLINGS,
    KEY_TYPE_SWITCH,
    NEXT_ROOT,
    ALTERNATE_PATH,
    CA_SWITCH,
    PINS_EXPIRE,
)
# What the platforms' own pin checks do with the chain (pingen.render.trustkit_rules,
# pingen.render.urlsession), where it differs from pingen's matching.
TRUSTKIT_UNHASHABLE = Code(
    "trustkit-unhashable",
    Command.VERIFY,
    Severity.FAIL,
    "the config has a `trustkit` or `json` output, and TrustKit (iOS), walking the chain from "
    "the root down, meets a key it cannot hash (anything but RSA-2048/3072/4096 and EC "
    "P-256/P-384) before a pinned key — it then blocks the connection even with `enforce: "
    "false` — or matches none of the pins verify matches (RSA keys with an exponent other "
    "than 65537)",
    _VERIFY,
)
URLSESSION_UNHASHABLE = Code(
    "urlsession-unhashable",
    Command.VERIFY,
    Severity.FAIL,
    "the config has a `urlsession` output, and every key of the chain that verify matches is "
    "of a type its Swift cannot hash (anything but RSA-2048/3072/4096 with exponent 65537 and "
    "EC P-256/P-384/P-521): the app matches none and refuses the server",
    _VERIFY,
)
KEY_MISMATCH = Code(
    "key-mismatch",
    Command.VERIFY,
    Severity.WARNING,
    "a `sha256:` pin's `key:` is not the type of the live key with that hash (build judged "
    "TrustKit's hashing from it)",
    _VERIFY,
)

# -- build, offline (pingen.judge.offline): reported by message, the names are the table's ---

LEAF_PIN_REKEYED = Code(
    "leaf-pin-rekeyed",
    Command.BUILD,
    Severity.ERROR,
    "a leaf pin, not marked `backup`, on a `provider` that makes a new key at every renewal "
    "(`google-managed`, `aws-acm`, `cloudflare`): the next renewal serves a key no app pins",
    _BUILD,
    "exit 2, at the pin",
    "pin the CA: the roots of every CA the provider may issue from (`pingen suggest HOST "
    "--provider P` prints them); an offline backup key stays allowed",
)
ONE_OPERATOR = Code(
    "one-operator",
    Command.BUILD,
    Severity.ERROR,
    "no pin is marked `backup: true` and every pin whose CA pingen's catalog knows belongs to "
    "one CA operator (a pin of a CA the catalog does not know, or a hash of an unknown key, "
    "is not a second CA): if that CA must be left, nothing the apps accept is ready",
    _BUILD,
    "exit 2, at the domain",
    "a backup pin — an offline key (`pingen keygen`) or a second CA's root, marked `backup: "
    "true` — or `allow_no_backup: true` on the domain to accept the risk",
)
BUILD_EXPIRES_SOON = Code(
    "expires-soon",
    Command.BUILD,
    Severity.WARNING,
    f"`expires` is within {EXPIRES_SOON_DAYS} days",
    _BUILD,
    way_out="a later `expires`, shipped in an app update before then",
)
BACKUP_UNMARKED = Code(
    "backup-unmarked",
    Command.BUILD,
    Severity.WARNING,
    "no pin is marked `backup: true` and the catalog knows none of the keys, so nothing shows "
    "a way out",
    _BUILD,
    way_out="mark the pin that is a key held offline or a second CA's root `backup: true`",
)
CATALOG_FUTURE = Code(
    "catalog-future",
    Command.BUILD,
    Severity.WARNING,
    "a future the CA catalog predicts over the set's window from the pins and provider alone "
    "(the survivability codes of `verify`'s table, judged with the pinned CAs as the "
    "reference since no chain is served; a future `verify` would call a fail says "
    '"certain")',
    _BUILD,
    way_out="the pins the message names",
)

# -- diff flags (pingen.judge.diff) ----------------------------------------------------------


def _flag(name: str, meaning: str) -> Code:
    return Code(name, Command.DIFF, Severity.WARNING, meaning, _DIFF)


TOO_FEW_PINS = _flag("too-few-pins", "a domain is left with fewer than two pins")
DIFF_NO_BACKUP = _flag(
    "no-backup",
    "a changed or added domain has no backup: no pin marked `backup: true` and no second "
    "CA's root (as `build` and `verify` count it; not with `allow_no_backup: true`)",
)
EXPIRY_EARLIER = _flag("expiry-earlier", "the expiry moved earlier (or from `never` to a date)")
EXPIRY_NEVER = _flag("expiry-never", "the expiry moved from a date to `never`")
ENFORCE_OFF = _flag("enforce-off", "enforcement switched to report-only")
SUBDOMAINS_ADDED = _flag(
    "subdomains-added", "`include_subdomains` switched on: every subdomain must now match"
)
NO_COMMON_PIN = _flag(
    "no-common-pin",
    "no pin of the old set remains: apps in the field and the new build can only both "
    "connect if the live chain holds a key of each set",
)
DOMAIN_REMOVED = _flag("domain-removed", "a domain is no longer pinned")
LIVE_PIN_REMOVED = _flag(
    "live-pin-removed", "`--verify`: a removed pin is in the chain the server serves today"
)
DIFF_NO_LIVE_MATCH = _flag("no-live-match", "`--verify`: no pin of the new set is in today's chain")

# -- guard's ways out of an unsafe switch (pingen.report.guard) --------------------------------


def _way_out(name: str, meaning: str) -> Code:
    # Offered only for a switch that breaks an app, which guard fails (exit 1).
    return Code(name, Command.GUARD, Severity.FAIL, meaning, _GUARD)


MAKE_CHAIN_VERIFY = _way_out(
    "make-chain-verify", "the new chain does not verify: fix it, then run guard again"
)
KEEP_PINNED_KEY = _way_out(
    "keep-pinned-key", "renew with the key the apps pin, or deploy the pinned backup key"
)
PIN_NEW_KEY = _way_out("pin-new-key", "ship an app update that pins the new key, wait, then deploy")
PIN_THE_CA = _way_out(
    "pin-the-ca",
    "the provider makes a new key at every renewal: ship an app update that pins its CAs' roots",
)

# The table, in the order the docs list the codes.
CODES: tuple[Code, ...] = (
    NO_LIVE_MATCH,
    UNTRUSTED_CHAIN,
    UNREACHABLE,
    NO_BACKUP,
    BACKUP_LIVE,
    LEAF_ONLY,
    EXPIRES_SOON,
    *SURVIVABILITY,
    TRUSTKIT_UNHASHABLE,
    URLSESSION_UNHASHABLE,
    KEY_MISMATCH,
    LEAF_PIN_REKEYED,
    ONE_OPERATOR,
    BUILD_EXPIRES_SOON,
    BACKUP_UNMARKED,
    CATALOG_FUTURE,
    TOO_FEW_PINS,
    DIFF_NO_BACKUP,
    EXPIRY_EARLIER,
    EXPIRY_NEVER,
    ENFORCE_OFF,
    SUBDOMAINS_ADDED,
    NO_COMMON_PIN,
    DOMAIN_REMOVED,
    LIVE_PIN_REMOVED,
    DIFF_NO_LIVE_MATCH,
    MAKE_CHAIN_VERIFY,
    KEEP_PINNED_KEY,
    PIN_NEW_KEY,
    PIN_THE_CA,
)


def codes_of(command: Command) -> tuple[Code, ...]:
    return tuple(code for code in CODES if code.command is command)


# -- the docs' tables -------------------------------------------------------------------------

# The tables the docs show, each between two comment lines the generator finds it by
# (guard's ways out are named in its prose instead).
TABLES = (Command.VERIFY, Command.BUILD, Command.DIFF)
_BEGIN = (
    "<!-- the {} table: generated from pingen.judge.findings by "
    "`python -m pingen.judge.findings docs/*.md`; do not edit by hand -->"
)
_END = "<!-- end of the {} table -->"


def table(command: Command) -> str:
    """The Markdown table of `command`'s codes, as the docs show it."""
    codes = codes_of(command)
    if command is Command.VERIFY:
        rows = ["| code | severity | when |", "|---|---|---|"]
        rows += [f"| `{c.name}` | {c.severity_text} | {c.meaning} |" for c in codes]
    elif command is Command.BUILD:
        rows = ["| verdict | when | the way out |", "|---|---|---|"]
        rows += [f"| {c.severity_text} | {c.meaning} | {c.way_out} |" for c in codes]
    else:
        rows = ["| flag | when |", "|---|---|"]
        rows += [f"| `{c.name}` | {c.meaning} |" for c in codes]
    return "\n".join(rows) + "\n"


def with_tables(text: str) -> str:
    """A docs page with each generated table it holds rewritten from CODES."""
    for command in TABLES:
        begin, end = _BEGIN.format(command), _END.format(command)
        start = text.find(begin)
        stop = text.find(end, start)
        if start >= 0 and stop >= 0:
            text = f"{text[:start]}{begin}\n\n{table(command)}\n{text[stop:]}"
    return text


def main(paths: Sequence[str]) -> int:
    """Rewrite the generated tables of the docs pages named (e.g. docs/*.md)."""
    if not paths:
        print("usage: python -m pingen.judge.findings docs/*.md", file=sys.stderr)
        return 2
    for name in paths:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        if with_tables(text) != text:
            path.write_text(with_tables(text), encoding="utf-8", newline="\n")
            print(f"{name}: tables regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
