"""The CA catalog: which intermediates a CA issues from, the roots they chain to, and names.

Two stores answer names:
- certifi's Mozilla roots (what `root:` means by default), parsed once per process;
- the CA catalog (`gen/data/catalog/catalog.json`, or a user's own via `trust.catalog`):
  Let's Encrypt's whole hierarchy, plus the families and roots of the CAs that managed
  platforms issue from. Its format is documented in `gen/data/catalog/README.md`.

Lookups are by subject common name, case-insensitive (a certificate without a common
name is named by its organizational unit, else its organization). Everything parsed is
cached: `build` resolves `root:` pins for a thousand domains in well under a second.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pingen.confine import confine, repository_of
from pingen.nodes import Checker, Field, Kind, Pairs, Section
from pingen.pki.sources import SourceError, read_small_file
from pingen.spki import pin_of_certificate

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

    from pingen.confine import Repository

CATALOG_FORMAT = "pingen-ca-catalog/1"
KEY_TYPES = ("rsa", "ecdsa")
ROOT_STATUSES = ("trusted", "pending")  # pending: announced, not yet in device trust stores
FAMILY_STATUSES = ("active", "retired")
STORES = ("mozilla", "apple", "android")  # the trust stores whose anchors pingen models
TRUST_WORDS = ("trusted", "not yet", "removed")


class UnknownName(LookupError):
    """No certificate has that name; the message lists close matches."""


class AmbiguousName(LookupError):
    """Several certificates with different keys share that name."""


class CatalogError(ValueError):
    """A catalog file is malformed; the message names the file and the entry."""


# -- names and keys ---------------------------------------------------------------


def display_name(name: x509.Name) -> str:
    """The common name; else the organizational unit, else the organization."""
    from cryptography.x509.oid import NameOID

    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.ORGANIZATION_NAME):
        for attribute in name.get_attributes_for_oid(oid):
            value = attribute.value
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return name.rfc4514_string()


def key_type_of(key: PublicKeyTypes) -> str:
    """`rsa`, `ecdsa`, or the key's class name for anything else."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa"
    return type(key).__name__.lower()


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


# -- certifi's Mozilla roots --------------------------------------------------------


@dataclass(frozen=True)
class NamedCert:
    """A certificate with its display name and SPKI pin computed once."""

    name: str
    cert: x509.Certificate = field(repr=False, compare=False)
    pin: str
    where: str  # where it came from, for messages ("certifi's Mozilla store", a file)

    @property
    def subject(self) -> x509.Name:
        return self.cert.subject

    @property
    def issuer_name(self) -> str:
        return display_name(self.cert.issuer)

    @property
    def key_type(self) -> str:
        return key_type_of(self.cert.public_key())

    @property
    def not_after(self) -> dt.datetime:
        return self.cert.not_valid_after_utc

    @property
    def not_before(self) -> dt.datetime:
        return self.cert.not_valid_before_utc

    def valid_at(self, at: dt.datetime) -> bool:
        return self.not_before <= at <= self.not_after


@functools.lru_cache(maxsize=4096)  # the CA certificates of a verify run repeat per domain
def named(cert: x509.Certificate, where: str) -> NamedCert:

    return NamedCert(display_name(cert.subject), cert, pin_of_certificate(cert), where)


MOZILLA = "certifi's Mozilla store"


@functools.cache
def mozilla_roots() -> tuple[NamedCert, ...]:
    """Every root in certifi's bundle, parsed once per process."""
    from pingen.pki.chain import certifi_roots

    return tuple(named(cert, MOZILLA) for cert in certifi_roots())


@functools.cache
def _mozilla_index() -> dict[str, tuple[NamedCert, ...]]:
    return _index((_fold(root.name), root) for root in mozilla_roots())


def _index(pairs: Iterable[tuple[str, NamedCert]]) -> dict[str, tuple[NamedCert, ...]]:
    index: dict[str, list[NamedCert]] = {}
    for key, value in pairs:
        index.setdefault(key, []).append(value)
    return {key: tuple(values) for key, values in index.items()}


def mozilla_roots_named(name: str) -> tuple[NamedCert, ...]:
    """Mozilla roots whose display name is `name` (case-insensitive)."""
    return _mozilla_index().get(_fold(name), ())


@functools.cache
def mozilla_pins() -> frozenset[str]:
    return frozenset(root.pin for root in mozilla_roots())


# -- the catalog --------------------------------------------------------------------


@dataclass(frozen=True)
class StoreTrust:
    """Whether one trust store anchors a root, with the dates where they are known.

    `pending` ("not yet"): announced to the store, may be added any day (no date known).
    `since`/`until` None: trusted before/after the records pingen has.
    """

    store: str
    since: dt.date | None = None
    until: dt.date | None = None  # first day it is no longer trusted
    pending: bool = False
    source: str | None = None

    def trusts(self, day: dt.date) -> bool:
        if self.pending:
            return False
        return (self.since is None or self.since <= day) and (
            self.until is None or day < self.until
        )

    def describe(self) -> str:
        if self.pending:
            return f"{self.store}: not yet"
        if self.until == dt.date.min:
            return f"{self.store}: removed"
        if self.until is not None:
            return f"{self.store}: until {self.until}"
        return f"{self.store}: " + (f"since {self.since}" if self.since else "trusted")


@dataclass(frozen=True)
class Issuance:
    """When a family issues leaves: [start, end), None for "before our records" / open."""

    start: dt.date | None = None
    end: dt.date | None = None
    source: str | None = None


@dataclass(frozen=True)
class Root:
    name: str
    operator: str  # Operator.id
    key_type: str
    cert: NamedCert
    aliases: tuple[str, ...] = ()
    status: str = "trusted"
    note: str | None = None
    trust: tuple[StoreTrust, ...] = ()  # one per store of STORES (filled in by the reader)

    @property
    def pin(self) -> str:
        return self.cert.pin

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    def trusted_on(self, day: dt.date) -> bool:
        """Some store anchors it that day (unknown dates: the whole certificate validity)."""
        stores = self.trust or (StoreTrust("any", pending=self.pending),)
        return any(store.trusts(day) for store in stores)

    @property
    def may_be_added(self) -> bool:
        """Some store may add it on a day nobody knows yet ("not yet")."""
        stores = self.trust or (StoreTrust("any", pending=self.pending),)
        return any(store.pending for store in stores)

    def trust_starts(self) -> tuple[dt.date, ...]:
        """Known days a store starts trusting it."""
        return tuple(sorted({s.since for s in self.trust if s.since and not s.pending}))

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class CrossSign:
    """A root's key certified by another root: lets chains reach the older anchor."""

    cert: NamedCert
    operator: str
    revoked: bool = False

    @property
    def subject(self) -> str:
        return self.cert.name

    @property
    def issuer(self) -> str:
        return self.cert.issuer_name

    def usable_at(self, at: dt.datetime) -> bool:
        return not self.revoked and self.cert.valid_at(at)


@dataclass(frozen=True)
class Intermediate:
    name: str
    family: str  # Family.name
    certs: tuple[NamedCert, ...]  # the same key, one certificate per issuer

    @property
    def pin(self) -> str:
        return self.certs[0].pin

    @property
    def issuers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cert.issuer_name for cert in self.certs))

    def usable_at(self, at: dt.datetime) -> bool:
        return any(cert.valid_at(at) for cert in self.certs)


@dataclass(frozen=True)
class Family:
    """Intermediates a CA issues from interchangeably, all with one key type."""

    name: str
    operator: str
    key_type: str
    generation: str
    roots: tuple[str, ...]  # roots that sign the intermediates directly
    intermediates: tuple[Intermediate, ...]
    status: str = "active"
    note: str | None = None
    issues: Issuance = Issuance()
    complete: bool = True  # False: the CA issues from more intermediates than listed

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def pins(self) -> frozenset[str]:
        return frozenset(i.pin for i in self.intermediates)


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    roots: tuple[str, ...]
    families: tuple[str, ...]
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Catalog:
    path: Path | None  # None: built in memory
    operators: tuple[Operator, ...]
    roots: tuple[Root, ...]
    cross_signs: tuple[CrossSign, ...]
    families: tuple[Family, ...]
    files: tuple[Path, ...] = field(default=(), compare=False)  # real paths of its PEM files

    # -- lookups by name ----------------------------------------------------------
    @functools.cached_property
    def _roots_by_name(self) -> dict[str, tuple[Root, ...]]:
        index: dict[str, list[Root]] = {}
        for root in self.roots:
            for name in root.names:
                index.setdefault(_fold(name), []).append(root)
        return {key: tuple(dict.fromkeys(value)) for key, value in index.items()}

    @functools.cached_property
    def _intermediates_by_name(self) -> dict[str, tuple[Intermediate, ...]]:
        index: dict[str, list[Intermediate]] = {}
        for family in self.families:
            for intermediate in family.intermediates:
                index.setdefault(_fold(intermediate.name), []).append(intermediate)
        return {key: tuple(value) for key, value in index.items()}

    @functools.cached_property
    def _by_pin(self) -> dict[str, list[Root | Intermediate]]:
        index: dict[str, list[Root | Intermediate]] = {}
        for root in self.roots:
            index.setdefault(root.pin, []).append(root)
        for family in self.families:
            for intermediate in family.intermediates:
                index.setdefault(intermediate.pin, []).append(intermediate)
        return index

    def root(self, name: str) -> Root | None:
        found = self._roots_by_name.get(_fold(name), ())
        return found[0] if found else None

    def roots_named(self, name: str) -> tuple[Root, ...]:
        return self._roots_by_name.get(_fold(name), ())

    def intermediates_named(self, name: str) -> tuple[Intermediate, ...]:
        return self._intermediates_by_name.get(_fold(name), ())

    def family(self, name: str) -> Family | None:
        return next((f for f in self.families if f.name == name), None)

    def operator(self, operator_id: str) -> Operator | None:
        return next((o for o in self.operators if o.id == operator_id), None)

    def root_of_pin(self, pin: str) -> Root | None:
        return next((e for e in self._by_pin.get(pin, ()) if isinstance(e, Root)), None)

    def intermediate_of_pin(self, pin: str) -> Intermediate | None:
        found = (e for e in self._by_pin.get(pin, ()) if isinstance(e, Intermediate))
        return next(found, None)

    def families_of(self, operator_id: str) -> tuple[Family, ...]:
        return tuple(f for f in self.families if f.operator == operator_id)

    def roots_of(self, operator_id: str) -> tuple[Root, ...]:
        return tuple(r for r in self.roots if r.operator == operator_id)

    def cross_signs_of(self, subject: str) -> tuple[CrossSign, ...]:
        """Cross-signs that certify root `subject`'s key under another root."""
        key = _fold(subject)
        return tuple(c for c in self.cross_signs if _fold(c.subject) == key)

    @property
    def root_names(self) -> tuple[str, ...]:
        return tuple(name for root in self.roots for name in root.names)

    @property
    def intermediate_names(self) -> tuple[str, ...]:
        return tuple(i.name for f in self.families for i in f.intermediates)

    def certificates(self) -> Iterator[NamedCert]:
        """Every certificate shipped in the catalog's files (roots from Mozilla excluded)."""
        for root in self.roots:
            if root.cert.where != MOZILLA:
                yield root.cert
        for cross in self.cross_signs:
            yield cross.cert
        for family in self.families:
            for intermediate in family.intermediates:
                yield from intermediate.certs


# -- loading ------------------------------------------------------------------------

SHIPPED = "shipped"


def shipped_catalog_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "catalog" / "catalog.json"


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog at `path` (None: pingen's own), parsed once per process and path."""
    if path is None:
        return _shipped_catalog()
    return _load_catalog_cached(path.resolve())


@functools.cache
def _shipped_catalog() -> Catalog:
    # pingen's own package data, as trusted as its code: its certificate files are read
    # from its folder without confining them to a repository (a fifth of loading it).
    return _read_catalog(shipped_catalog_path(), confined=False)


@functools.cache
def _load_catalog_cached(path: Path) -> Catalog:
    """A catalog file is read like a `file:` pin (pingen.pki.sources.read_small_file: a
    regular file of at most 1 MiB), and so is every certificate file it names, which
    must lie inside the repository holding the catalog (pingen.confine)."""
    return _read_catalog(path, confined=True)


def _read_catalog(path: Path, *, confined: bool) -> Catalog:
    try:
        data = json.loads(read_small_file(path, "CA catalog (JSON)").decode("utf-8"))
    except SourceError as error:
        why = str(error).removeprefix(f"{path}: ")
        raise CatalogError(f"{path}: cannot read the CA catalog: {why}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CatalogError(f"{path}: not a JSON CA catalog: {error}") from None
    except RecursionError:
        raise CatalogError(f"{path}: not a CA catalog: its JSON is nested too deeply") from None
    return _Reader(path.parent, path, repository_of(path) if confined else None).catalog(data)


def catalog_from_data(data: Any, base: Path, path: Path | None = None) -> Catalog:
    """Build a catalog from its JSON form; certificate files are relative to `base`."""
    return _Reader(base, path).catalog(data)


# -- the catalog's shape ----------------------------------------------------------------
# Declared as pins.yaml's is (pingen.nodes) and checked by the same walk; keys not declared
# are ignored (a catalog may carry notes of its own). `trust` and `issues` are checked by
# the reader below: a store's trust is a word or an object, which a Field cannot say.

_NAME = "The certificate's subject common name (case-insensitive)."
_NOTE = "A remark for people."
_SOURCE = "Where the facts come from (a URL)."

ROOT_SECTION = Section(
    "root",
    {
        "name": Field(Kind.STRING, _NAME, required=True),
        "key_type": Field(Kind.STRING, "The key's type.", required=True, choices=KEY_TYPES),
        "file": Field(Kind.STRING, "A PEM file of it, relative to the catalog; none: Mozilla's."),
        "aliases": Field(Kind.STRING_LIST, "Other names pins.yaml may use.", default=()),
        "status": Field(
            Kind.STRING,
            "pending: announced, not yet trusted.",
            default="trusted",
            choices=ROOT_STATUSES,
        ),
        "note": Field(Kind.STRING, _NOTE),
        "trust": Field(
            Kind.SECTION,
            "Per store (mozilla, apple, android): trusted, not yet, removed, or "
            '{"from", "until", "source"}; a store not named follows `status`.',
            section=Section("trust"),
        ),
    },
)
CROSS_SIGN_SECTION = Section(
    "cross-sign",
    {
        "file": Field(Kind.STRING, "A PEM file of the cross-signed certificate.", required=True),
        "revoked": Field(Kind.BOOL, "The cross-sign was revoked.", default=False),
    },
)
INTERMEDIATE_SECTION = Section(
    "intermediate",
    {
        "files": Field(Kind.STRING_LIST, "PEM files of it, one per issuer, one key.", default=()),
        "name": Field(Kind.STRING, _NAME, required=True),
    },
)
FAMILY_SECTION = Section(
    "family",
    {
        "name": Field(Kind.STRING, "The family's name.", required=True),
        "key_type": Field(
            Kind.STRING, "The intermediates' key type.", required=True, choices=KEY_TYPES
        ),
        "intermediates": Field(
            Kind.SECTION_LIST, "The intermediates.", required=True, section=INTERMEDIATE_SECTION
        ),
        "generation": Field(Kind.STRING, "Which generation of the CA's hierarchy.", default=""),
        "roots": Field(Kind.STRING_LIST, "The roots that sign them directly.", default=()),
        "status": Field(
            Kind.STRING, "retired: issues no more.", default="active", choices=FAMILY_STATUSES
        ),
        "note": Field(Kind.STRING, _NOTE),
        "issues": Field(
            Kind.SECTION,
            'When it issues leaves: {"from", "until" (YYYY-MM-DD or null), "source"}.',
            section=Section("issues"),
        ),
        "complete": Field(Kind.BOOL, "false: the CA issues from more intermediates.", default=True),
    },
)
OPERATOR_SECTION = Section(
    "operator",
    {
        "id": Field(Kind.STRING, "The operator's id (providers name it).", required=True),
        "roots": Field(Kind.SECTION_LIST, "Its roots.", required=True, section=ROOT_SECTION),
        "cross_signs": Field(
            Kind.SECTION_LIST,
            "Its roots' keys under other roots.",
            default=(),
            section=CROSS_SIGN_SECTION,
        ),
        "families": Field(
            Kind.SECTION_LIST, "Its families of intermediates.", default=(), section=FAMILY_SECTION
        ),
        "name": Field(Kind.STRING, "Its name for people (default: the id).", default=""),
        "source": Field(Kind.STRING, _SOURCE),
        "note": Field(Kind.STRING, _NOTE),
    },
)
CATALOG_SECTION = Section(
    "catalog",
    {
        "format": Field(
            Kind.STRING, "The format's name.", required=True, choices=(CATALOG_FORMAT,)
        ),
        "operators": Field(
            Kind.SECTION_LIST, "The CA operators.", required=True, section=OPERATOR_SECTION
        ),
    },
)


@dataclass(frozen=True)
class _At:
    """A JSON value and where it sits: `where` names it in messages ("top level",
    "operators[0].roots[1]"); the fields of an entry are reported at the entry."""

    value: Any
    where: str
    path: str = ""  # the prefix of its items' paths ("" at the top level)


class _CatalogChecker(Checker[_At]):
    """pingen.nodes' checker over a catalog's JSON, in the catalog's words, stopping at the
    first problem (raised as CatalogError). The reader asks for each key (`field`) in the
    order it builds the catalog, so the first problem is the one it meets first."""

    def __init__(self, fail: Callable[[str, str], CatalogError]) -> None:
        self.fail = fail

    def child(self, node: _At, key: str) -> _At | None:
        if key not in node.value:
            return None
        return _At(node.value[key], node.where, f"{node.path}.{key}" if node.path else key)

    def error(self, node: _At, message: str) -> None:
        raise self.fail(node.where, message)

    def pairs(self, node: _At, what: str) -> Pairs[_At] | None:
        if not isinstance(node.value, dict):  # lists of entries are checked as such
            self.error(node, f"{what} must be an object")
        child = _At(None, node.where, node.path)
        return [
            (key, child, _At(value, node.where, f"{node.path}.{key}" if node.path else key))
            for key, value in node.value.items()
        ]

    def sequence(self, node: _At, what: str) -> list[_At] | None:
        if not isinstance(node.value, list):
            self.error(node, f"{what} must be a list")
        return [
            _At(item, f"{node.path}[{n}]", f"{node.path}[{n}]") for n, item in enumerate(node.value)
        ]

    def unknown(self, key: str, key_node: _At, section: Section) -> None:
        pass  # a catalog may carry keys of its own

    def missing(self, node: _At, key: str, spec: Field, section: Section) -> None:
        self.value(_At(None, node.where, node.path), spec, key)  # worded as a wrong value

    def section(self, node: _At, spec: Field, key: str) -> Any:
        return node.value  # `trust`, `issues`: read by the reader, which words them

    def section_list(self, node: _At, spec: Field, key: str) -> list[_At] | None:
        if not isinstance(node.value, list) or not all(isinstance(v, dict) for v in node.value):
            self.error(node, f'"{key}" must be a list of objects')
        return self.sequence(node, key)

    def boolean(self, node: _At, spec: Field, key: str) -> bool | None:
        if not isinstance(node.value, bool):
            self.error(node, f'"{key}" must be true or false')
        return bool(node.value)

    def string(self, node: _At, spec: Field, key: str) -> str | None:
        value = node.value
        if spec.choices:
            if value not in spec.choices:
                self.error(node, f'"{key}" must be one of {", ".join(spec.choices)}')
        elif spec.required or spec.default is not None:
            if not isinstance(value, str) or (not value and spec.required):
                self.error(node, f'"{key}" must be a non-empty string')
        elif value is not None and not isinstance(value, str):
            self.error(node, f'"{key}" must be a string')
        return None if value is None else str(value)

    def string_list(self, node: _At, spec: Field, key: str) -> tuple[str, ...] | None:
        value = node.value
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.error(node, f'"{key}" must be a list of names')
        return tuple(value)

    def integer(self, node: _At, spec: Field, key: str) -> int | None:
        raise NotImplementedError("the catalog declares no integer")

    def expiry(self, node: _At, spec: Field, key: str) -> Any:
        raise NotImplementedError("the catalog declares no expiry")


class _Reader:
    def __init__(self, base: Path, path: Path | None, repository: Repository | None = None) -> None:
        self.base = base
        self.path = path
        self.label = str(path) if path else "CA catalog"
        self.repository = repository  # None: pingen's own catalog, or one built in memory
        self.files: list[Path] = []
        self.check = _CatalogChecker(self.fail)

    def fail(self, where: str, message: str) -> CatalogError:
        return CatalogError(f"{self.label}: {where}: {message}")

    def catalog(self, data: Any) -> Catalog:
        if not isinstance(data, dict) or data.get("format") != CATALOG_FORMAT:
            raise self.fail("top level", f'expected an object with "format": "{CATALOG_FORMAT}"')
        operators: list[Operator] = []
        roots: list[Root] = []
        crosses: list[CrossSign] = []
        families: list[Family] = []
        field = self.check.field
        for entry in field(_At(data, "top level"), CATALOG_SECTION, "operators"):
            op_id = field(entry, OPERATOR_SECTION, "id")
            op_roots = [self.root(r, op_id) for r in field(entry, OPERATOR_SECTION, "roots")]
            roots.extend(op_roots)
            crosses.extend(
                self.cross_sign(c, op_id) for c in field(entry, OPERATOR_SECTION, "cross_signs")
            )
            op_families = [
                self.family(f, op_id) for f in field(entry, OPERATOR_SECTION, "families")
            ]
            families.extend(op_families)
            named = "name" in entry.value
            operators.append(
                Operator(
                    id=op_id,
                    name=field(entry, OPERATOR_SECTION, "name") if named else op_id,
                    roots=tuple(r.name for r in op_roots),
                    families=tuple(f.name for f in op_families),
                    source=field(entry, OPERATOR_SECTION, "source"),
                    note=field(entry, OPERATOR_SECTION, "note"),
                )
            )
        catalog = Catalog(
            self.path,
            tuple(operators),
            tuple(roots),
            tuple(crosses),
            tuple(families),
            files=tuple(self.files),
        )
        self.check_names(catalog)
        return catalog

    # -- entries ------------------------------------------------------------------
    def root(self, entry: _At, operator: str) -> Root:
        where, field = entry.where, functools.partial(self.check.field, entry, ROOT_SECTION)
        name, key_type, file = field("name"), field("key_type"), field("file")
        cert = self.one_cert(file, where) if file else self.mozilla_root(name, where)
        if cert.name.casefold() != name.casefold():
            raise self.fail(where, f"{name!r} names a certificate whose subject is {cert.name!r}")
        if cert.cert.subject != cert.cert.issuer:
            raise self.fail(where, f"{name!r}: {file} is not self-signed; list it in cross_signs")
        self.check_key_type(cert, key_type, where)
        aliases = field("aliases")
        status = field("status")
        return Root(
            name=cert.name,
            operator=operator,
            key_type=key_type,
            cert=cert,
            aliases=aliases,
            status=status,
            note=field("note"),
            trust=self.trust(entry.value, status, where),
        )

    def trust(self, entry: Any, status: str, where: str) -> tuple[StoreTrust, ...]:
        """`"trust": {"mozilla": "trusted" | "not yet" | "removed" | {"from", "until",
        "source"}, ...}`; a store not named follows `status`."""
        given = entry.get("trust", {})
        if not isinstance(given, dict) or not set(given) <= set(STORES):
            raise self.fail(
                where,
                f'"trust" must map some of {", ".join(STORES)} to a '
                f'status ({", ".join(TRUST_WORDS)}) or {{"from", "until", "source"}}',
            )
        return tuple(
            self.store_trust(store, given.get(store, status), f"{where}.trust.{store}")
            for store in STORES
        )

    def store_trust(self, store: str, value: Any, where: str) -> StoreTrust:
        if value in ("trusted", "not yet", "pending", "removed"):
            return StoreTrust(
                store,
                pending=value in ("not yet", "pending"),
                until=dt.date.min if value == "removed" else None,
            )
        if not isinstance(value, dict) or not set(value) <= {"from", "until", "source"}:
            raise self.fail(
                where,
                f"must be one of {', '.join(TRUST_WORDS)} or an object "
                'with "from", "until" (YYYY-MM-DD) and "source"',
            )
        return StoreTrust(
            store,
            since=self.date(value, "from", where),
            until=self.date(value, "until", where),
            source=self.optional_text(value, "source", where),
        )

    def date(self, entry: Any, key: str, where: str) -> dt.date | None:
        value = entry.get(key)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            pass
        raise self.fail(where, f'"{key}" must be a date YYYY-MM-DD (or null: open)')

    def issuance(self, entry: Any, where: str) -> Issuance:
        value = entry.get("issues", {})
        if not isinstance(value, dict) or not set(value) <= {"from", "until", "source"}:
            raise self.fail(
                where,
                '"issues" must be an object with "from", "until" (YYYY-MM-DD or null) and "source"',
            )
        return Issuance(
            self.date(value, "from", f"{where}.issues"),
            self.date(value, "until", f"{where}.issues"),
            self.optional_text(value, "source", f"{where}.issues"),
        )

    def cross_sign(self, entry: _At, operator: str) -> CrossSign:
        where, field = entry.where, functools.partial(self.check.field, entry, CROSS_SIGN_SECTION)
        cert = self.one_cert(field("file"), where)
        if cert.cert.subject == cert.cert.issuer:
            raise self.fail(where, f"{cert.where} is self-signed; a cross-sign has another issuer")
        return CrossSign(cert=cert, operator=operator, revoked=field("revoked"))

    def family(self, entry: _At, operator: str) -> Family:
        where, field = entry.where, functools.partial(self.check.field, entry, FAMILY_SECTION)
        name, key_type = field("name"), field("key_type")
        intermediates = [self.intermediate(i, name, key_type) for i in field("intermediates")]
        return Family(
            name=name,
            operator=operator,
            key_type=key_type,
            generation=field("generation"),
            roots=field("roots"),
            intermediates=tuple(intermediates),
            status=field("status"),
            note=field("note"),
            issues=self.issuance(entry.value, where),
            complete=field("complete"),
        )

    def intermediate(self, item: _At, family: str, key_type: str) -> Intermediate:
        at, field = item.where, functools.partial(self.check.field, item, INTERMEDIATE_SECTION)
        certs = tuple(self.one_cert(file, at) for file in field("files"))
        if not certs:
            raise self.fail(at, '"files" lists no certificate')
        label = field("name")
        for cert in certs:
            if cert.name.casefold() != label.casefold():
                raise self.fail(at, f"{cert.where} is {cert.name!r}, not {label!r}")
            if cert.pin != certs[0].pin:
                raise self.fail(at, f"{cert.where} holds another key than {certs[0].where}")
            self.check_key_type(cert, key_type, at)
        return Intermediate(certs[0].name, family, certs)

    def check_names(self, catalog: Catalog) -> None:
        seen: dict[str, str] = {}
        for root in catalog.roots:
            for name in root.names:
                if _fold(name) in seen and seen[_fold(name)] != root.pin:
                    raise self.fail("roots", f"two roots with different keys are named {name!r}")
                seen[_fold(name)] = root.pin
        families: set[str] = set()
        intermediates: set[str] = set()
        for family in catalog.families:
            if family.name in families:
                raise self.fail("families", f"two families are named {family.name!r}")
            families.add(family.name)
            for root_name in family.roots:
                if catalog.root(root_name) is None:
                    raise self.fail(
                        f"family {family.name!r}",
                        f"root {root_name!r} is not listed in any operator's roots",
                    )
            for intermediate in family.intermediates:
                if _fold(intermediate.name) in intermediates:
                    raise self.fail(
                        f"family {family.name!r}",
                        f"intermediate {intermediate.name!r} is listed twice",
                    )
                intermediates.add(_fold(intermediate.name))

    # -- values -------------------------------------------------------------------
    def one_cert(self, file: str | None, where: str) -> NamedCert:
        from cryptography import x509

        assert file is not None
        data = self.read(file, where)
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise self.fail(where, f"{file} holds no PEM certificate") from None
        if len(certs) != 1:
            raise self.fail(where, f"{file} holds {len(certs)} certificates; one per file")
        return named(certs[0], file)

    def read(self, file: str, where: str) -> bytes:
        """A certificate file the catalog names, read like a `file:` pin."""

        try:
            path = (
                confine(file, self.base, self.repository) if self.repository else (self.base / file)
            )
        except ValueError as error:
            raise self.fail(where, f"{file} {error}") from None
        try:
            data = read_small_file(path, "PEM certificate file")
        except SourceError as error:
            raise self.fail(where, str(error).replace(str(path), file, 1)) from None
        self.files.append(path)
        return data

    def mozilla_root(self, name: str, where: str) -> NamedCert:
        found = _mozilla_index().get(_fold(name), ())
        if len({c.pin for c in found}) != 1:
            problem = "is not in" if not found else "names several roots in"
            raise self.fail(where, f'{name!r} has no "file" and {problem} {MOZILLA}')
        return found[0]

    def check_key_type(self, cert: NamedCert, key_type: str, where: str) -> None:
        if cert.key_type != key_type:
            raise self.fail(where, f"{cert.name!r} has an {cert.key_type} key, not {key_type}")

    def optional_text(self, entry: Any, key: str, where: str) -> str | None:
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(where, f'"{key}" must be a string')
        return value


# -- name lookups for `root:` and `intermediate:` -----------------------------------


def _catalog(catalog: Catalog | Path | None) -> Catalog:
    return catalog if isinstance(catalog, Catalog) else load_catalog(catalog)


def lookup_root(name: str, catalog: Catalog | Path | None = None) -> x509.Certificate:
    """The root named `name` in certifi's Mozilla store or the CA catalog.

    Raises UnknownName (with close matches) or AmbiguousName (several keys).
    Certificates of the same key under one name are one root (e.g. ISRG Root X1 is both
    in Mozilla's store and in the catalog).
    """
    catalog = _catalog(catalog)
    found = [*_mozilla_index().get(_fold(name), ()), *(r.cert for r in catalog.roots_named(name))]
    if not found:
        names = [root.name for root in mozilla_roots()] + list(catalog.root_names)
        raise UnknownName(
            _unknown("root", name, names, "certifi's Mozilla store or the CA catalog")
        )
    return _only_key(name, "root", found).cert


def lookup_intermediate(name: str, catalog: Catalog | Path | None = None) -> x509.Certificate:
    """The intermediate named `name` (e.g. "R12", "E7", "YE1") in the CA catalog."""
    catalog = _catalog(catalog)
    found = [cert for i in catalog.intermediates_named(name) for cert in i.certs]
    if not found:
        raise UnknownName(
            _unknown("intermediate", name, catalog.intermediate_names, "the CA catalog")
        )
    return _only_key(name, "intermediate", found).cert


def _only_key(name: str, kind: str, found: list[NamedCert]) -> NamedCert:
    distinct = list({cert.pin: cert for cert in reversed(found)}.values())[::-1]
    if len(distinct) == 1:
        return found[0]
    listing = "; ".join(f"{_describe(cert)} (sha256 {cert.pin})" for cert in distinct)
    raise AmbiguousName(
        f"{kind} name {name!r} names {len(distinct)} certificates with different keys: "
        f"{listing}. Use `sha256:` with the pin you mean"
    )


def _describe(cert: NamedCert) -> str:
    return cert.cert.subject.rfc4514_string()


def _unknown(kind: str, name: str, names: Iterable[str], where: str) -> str:
    by_fold = {_fold(n): n for n in names}
    close = difflib.get_close_matches(_fold(name), list(by_fold), n=5, cutoff=0.6)
    # Short names like "R12" are too short for difflib's ratio; also offer prefix matches.
    prefix = [key for key in by_fold if key.startswith(_fold(name)[:2])] if len(name) <= 4 else []
    suggestions = list(dict.fromkeys([*close, *sorted(prefix)[:5]]))
    hint = (
        "; did you mean " + ", ".join(repr(by_fold[key]) for key in suggestions) + "?"
        if suggestions
        else ""
    )
    return f"unknown {kind} {name!r}: not in {where}{hint}"


def pin_line(name: str, pin: str | None, catalog: Catalog) -> str:
    """How pins.yaml names this key: `root: NAME` where the name resolves to it."""
    source = name_source(name, pin, catalog)
    return f"{source}: {name}" if source else f"sha256: {pin}  # {name}"


def name_source(name: str, pin: str | None, catalog: Catalog) -> str | None:
    """The pins.yaml key (`root`, `intermediate`) under which `name` resolves to the key
    `pin`, or None when neither does (pins.yaml then gives the hash)."""
    for lookup, source in ((lookup_root, "root"), (lookup_intermediate, "intermediate")):
        try:
            if pin_of_certificate(lookup(name, catalog)) == pin:
                return source
        except LookupError:
            continue
    return None
