"""Pin-source resolution: a pin's `sha256:`, `file:`, `root:` or `intermediate:` to the key
it names, with the level, label and key type the source tells.

A step of its own between checking pins.yaml's nodes (pingen.config.check) and building
the model (pingen.config.load). What it reads besides pins.yaml — key files and the CA
catalog's names — comes in as `Lookups`: `load_config` passes the disk and pingen's
catalog (`DISK`), and nothing here reaches for them by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from pingen.model import Level, PinSource
from pingen.pki import catalog
from pingen.pki.sources import SourceError, common_name, read_key_file
from pingen.spki import KeyType, key_type_of, normalize_pin, pin_of_certificate

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.pki.catalog import Catalog
    from pingen.pki.sources import KeyInfo

_PRIVATE_KEY_WARNING = (
    "{file} holds a private key: a private key does not belong in an app repository. "
    "Pin its public key instead (`openssl pkey -in {file} -pubout`), and keep the "
    "private key offline"
)
_A_LEVEL = {PinSource.ROOT: "a root", PinSource.INTERMEDIATE: "an intermediate"}


@dataclass(frozen=True)
class Resolved:
    """The key a pin's source names; None where the source does not tell."""

    sha256: str
    level: Level | None
    label: str | None
    key: KeyType | None
    warning: str | None = None  # true of the source, but a risk (a private key)


class Unresolved(ValueError):
    """The source names no single key; the message says why and what to write."""


# A certificate named in a catalog (`root:` or `intermediate:`), from a CA catalog (or
# its path; None: pingen's own). Raises LookupError saying why not.
NameLookup = Callable[[str, "Catalog | Path | None"], "x509.Certificate"]


@dataclass(frozen=True)
class Lookups:
    """What resolving pins reads besides pins.yaml."""

    read_key_file: Callable[[Path], list[KeyInfo]]  # raises pingen.pki.sources.SourceError
    load_catalog: Callable[[Path], Catalog]  # a user's catalog; raises CatalogError
    root: NameLookup
    intermediate: NameLookup


def disk_lookups() -> Lookups:
    """Key files from the disk, names from certifi's Mozilla roots and the CA catalog."""

    return Lookups(
        read_key_file, catalog.load_catalog, catalog.lookup_root, catalog.lookup_intermediate
    )


class PinSources:
    """Resolves the pins of one pins.yaml (`config_name` is its file name, for messages)."""

    def __init__(self, lookups: Lookups, config_name: str) -> None:
        self.lookups = lookups
        self.config_name = config_name
        self.catalog: Path | None = None  # trust.catalog once it has been read

    def sha256(self, text: str) -> Resolved:
        try:
            return Resolved(normalize_pin(text), None, None, None)
        except ValueError as error:
            raise Unresolved(str(error)) from None

    def file(self, text: str, path: Path) -> Resolved:
        """A `file:` pin: `text` as written, `path` where it leads (confined already)."""

        try:
            keys = self.lookups.read_key_file(path)
        except SourceError as error:
            message = str(error).replace(str(path), text, 1)
            if message.endswith(": no such file"):  # as for the other files pins.yaml names
                message += f" (paths are relative to {self.config_name})"
            raise Unresolved(message) from None
        if len(keys) > 1:
            listing = "; ".join(f"{k.subject or k.kind}: sha256 {k.sha256}" for k in keys)
            raise Unresolved(
                f"{text} holds {len(keys)} certificates; a pin names "
                f"one key. Use `sha256:` with the one you mean: {listing}"
            )
        key = keys[0]
        warning = _PRIVATE_KEY_WARNING.format(file=text) if key.is_private_key else None
        label = key.subject or PurePosixPath(text).name
        return Resolved(key.sha256, key.level, label, key.key, warning)

    def named(self, source: PinSource, name: str) -> Resolved:
        """A `root:` or `intermediate:` pin: the certificate of that name."""

        lookups = {
            PinSource.ROOT: self.lookups.root,
            PinSource.INTERMEDIATE: self.lookups.intermediate,
        }
        try:
            cert = lookups[source](name, self.catalog)
        except LookupError as error:
            message = str(error.args[0]) if error.args else str(error)
            other = PinSource.INTERMEDIATE if source is PinSource.ROOT else PinSource.ROOT
            try:  # the name of the other level: say which key it belongs under
                lookups[other](name, self.catalog)
            except LookupError:
                pass
            else:
                message = (
                    f"{name!r} is {_A_LEVEL[other]}, not {_A_LEVEL[source]}: "
                    f"write `{other.value}: {name}`"
                )
            raise Unresolved(message) from None
        level = Level.ROOT if source is PinSource.ROOT else Level.INTERMEDIATE
        key = key_type_of(cert.public_key())
        return Resolved(pin_of_certificate(cert), level, common_name(cert.subject), key)
