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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pingen.confine import confine, repository_of

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
    from pingen.spki import pin_of_certificate

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
    return _load_catalog_cached(shipped_catalog_path())


@functools.cache
def _load_catalog_cached(path: Path) -> Catalog:
    """A catalog file is read like a `file:` pin (pingen.pki.sources.read_small_file: a
    regular file of at most 1 MiB), and so is every certificate file it names, which
    must lie inside the repository holding the catalog (pingen.confine)."""
    from pingen.pki.sources import SourceError, read_small_file

    try:
        data = json.loads(read_small_file(path, "CA catalog (JSON)").decode("utf-8"))
    except SourceError as error:
        why = str(error).removeprefix(f"{path}: ")
        raise CatalogError(f"{path}: cannot read the CA catalog: {why}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CatalogError(f"{path}: not a JSON CA catalog: {error}") from None
    except RecursionError:
        raise CatalogError(f"{path}: not a CA catalog: its JSON is nested too deeply") from None
    return _Reader(path.parent, path, repository_of(path)).catalog(data)


def catalog_from_data(data: Any, base: Path, path: Path | None = None) -> Catalog:
    """Build a catalog from its JSON form; certificate files are relative to `base`."""
    return _Reader(base, path).catalog(data)


class _Reader:
    def __init__(self, base: Path, path: Path | None, repository: Repository | None = None) -> None:
        self.base = base
        self.path = path
        self.label = str(path) if path else "CA catalog"
        self.repository = repository  # None: a catalog built in memory (tests)
        self.files: list[Path] = []

    def fail(self, where: str, message: str) -> CatalogError:
        return CatalogError(f"{self.label}: {where}: {message}")

    def catalog(self, data: Any) -> Catalog:
        if not isinstance(data, dict) or data.get("format") != CATALOG_FORMAT:
            raise self.fail("top level", f'expected an object with "format": "{CATALOG_FORMAT}"')
        operators: list[Operator] = []
        roots: list[Root] = []
        crosses: list[CrossSign] = []
        families: list[Family] = []
        for n, entry in enumerate(self.items(data, "operators", "top level")):
            where = f"operators[{n}]"
            op_id = self.text(entry, "id", where)
            op_roots = [
                self.root(r, op_id, f"{where}.roots[{m}]")
                for m, r in enumerate(self.items(entry, "roots", where))
            ]
            roots.extend(op_roots)
            crosses.extend(
                self.cross_sign(c, op_id, f"{where}.cross_signs[{m}]")
                for m, c in enumerate(self.items(entry, "cross_signs", where, []))
            )
            op_families = [
                self.family(f, op_id, f"{where}.families[{m}]")
                for m, f in enumerate(self.items(entry, "families", where, []))
            ]
            families.extend(op_families)
            operators.append(
                Operator(
                    id=op_id,
                    name=self.text(entry, "name", where, op_id),
                    roots=tuple(r.name for r in op_roots),
                    families=tuple(f.name for f in op_families),
                    source=self.optional_text(entry, "source", where),
                    note=self.optional_text(entry, "note", where),
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
    def root(self, entry: Any, operator: str, where: str) -> Root:
        name = self.text(entry, "name", where)
        key_type = self.choice(entry, "key_type", where, KEY_TYPES)
        file = self.optional_text(entry, "file", where)
        cert = self.one_cert(file, where) if file else self.mozilla_root(name, where)
        if cert.name.casefold() != name.casefold():
            raise self.fail(where, f"{name!r} names a certificate whose subject is {cert.name!r}")
        if cert.cert.subject != cert.cert.issuer:
            raise self.fail(where, f"{name!r}: {file} is not self-signed; list it in cross_signs")
        self.check_key_type(cert, key_type, where)
        aliases = tuple(self.strings(entry, "aliases", where))
        status = self.choice(entry, "status", where, ROOT_STATUSES, default="trusted")
        return Root(
            name=cert.name,
            operator=operator,
            key_type=key_type,
            cert=cert,
            aliases=aliases,
            status=status,
            note=self.optional_text(entry, "note", where),
            trust=self.trust(entry, status, where),
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

    def cross_sign(self, entry: Any, operator: str, where: str) -> CrossSign:
        cert = self.one_cert(self.text(entry, "file", where), where)
        if cert.cert.subject == cert.cert.issuer:
            raise self.fail(where, f"{cert.where} is self-signed; a cross-sign has another issuer")
        revoked = entry.get("revoked", False)
        if not isinstance(revoked, bool):
            raise self.fail(where, '"revoked" must be true or false')
        return CrossSign(cert=cert, operator=operator, revoked=revoked)

    def family(self, entry: Any, operator: str, where: str) -> Family:
        name = self.text(entry, "name", where)
        key_type = self.choice(entry, "key_type", where, KEY_TYPES)
        intermediates = []
        for n, item in enumerate(self.items(entry, "intermediates", where)):
            at = f"{where}.intermediates[{n}]"
            certs = tuple(self.one_cert(file, at) for file in self.strings(item, "files", at))
            if not certs:
                raise self.fail(at, '"files" lists no certificate')
            label = self.text(item, "name", at)
            for cert in certs:
                if cert.name.casefold() != label.casefold():
                    raise self.fail(at, f"{cert.where} is {cert.name!r}, not {label!r}")
                if cert.pin != certs[0].pin:
                    raise self.fail(at, f"{cert.where} holds another key than {certs[0].where}")
                self.check_key_type(cert, key_type, at)
            intermediates.append(Intermediate(certs[0].name, name, certs))
        return Family(
            name=name,
            operator=operator,
            key_type=key_type,
            generation=self.text(entry, "generation", where, ""),
            roots=tuple(self.strings(entry, "roots", where)),
            intermediates=tuple(intermediates),
            status=self.choice(entry, "status", where, FAMILY_STATUSES, default="active"),
            note=self.optional_text(entry, "note", where),
            issues=self.issuance(entry, where),
            complete=self.flag(entry, "complete", where, True),
        )

    def flag(self, entry: Any, key: str, where: str, default: bool) -> bool:
        value = entry.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, f'"{key}" must be true or false')
        return value

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
        from pingen.pki.sources import SourceError, read_small_file

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

    def items(self, entry: Any, key: str, where: str, default: Any = None) -> list[Any]:
        value = entry.get(key, default) if isinstance(entry, dict) else None
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(where, f'"{key}" must be a list of objects')
        return value

    def strings(self, entry: Any, key: str, where: str) -> list[str]:
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(where, f'"{key}" must be a list of names')
        return value

    def text(self, entry: Any, key: str, where: str, default: str | None = None) -> str:
        value = entry.get(key, default) if isinstance(entry, dict) else None
        if not isinstance(value, str) or (not value and default is None):
            raise self.fail(where, f'"{key}" must be a non-empty string')
        return value

    def optional_text(self, entry: Any, key: str, where: str) -> str | None:
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(where, f'"{key}" must be a string')
        return value

    def choice(
        self, entry: Any, key: str, where: str, choices: tuple[str, ...], default: str | None = None
    ) -> str:
        value = entry.get(key, default)
        if value not in choices:
            raise self.fail(where, f'"{key}" must be one of {", ".join(choices)}')
        return str(value)


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
    from pingen.spki import pin_of_certificate

    for lookup, key in ((lookup_root, "root"), (lookup_intermediate, "intermediate")):
        try:
            if pin_of_certificate(lookup(name, catalog)) == pin:
                return f"{key}: {name}"
        except LookupError:
            continue
    return f"sha256: {pin}  # {name}"
