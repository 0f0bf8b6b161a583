"""The one immutable model that every part of pingen consumes.

`load_config` (pingen.config.load) turns pins.yaml into a `Config`; renderers, the resolver,
`guard` and `diff` read it and never see YAML. Defaults are already merged into
every domain here.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pingen.confine import Repository, repository_of
from pingen.errors import Diagnostic, Location
from pingen.spki import OKHTTP_PREFIX, KeyType


class Level(StrEnum):
    LEAF = "leaf"
    INTERMEDIATE = "intermediate"
    ROOT = "root"

    @property
    def is_ca(self) -> bool:
        return self is not Level.LEAF


class PinSource(StrEnum):
    """Where a pin's hash came from in pins.yaml."""

    SHA256 = "sha256"
    FILE = "file"
    ROOT = "root"
    INTERMEDIATE = "intermediate"


@dataclass(frozen=True)
class Pin:
    sha256: str  # canonical base64 of SHA-256 over the DER SubjectPublicKeyInfo
    source: PinSource
    label: str | None = None
    level: Level | None = None  # None: a bare sha256 with no level given
    backup: bool = False
    location: Location | None = field(default=None, compare=False)
    # The pinned key's algorithm and size: from the certificate or key for `file:`,
    # `root:` and `intermediate:`, from `key:` for a sha256 pin; None when nothing says.
    key: KeyType | None = None

    @property
    def okhttp(self) -> str:
        return OKHTTP_PREFIX + self.sha256


@dataclass(frozen=True)
class PinSet:
    pins: tuple[Pin, ...]
    expires: dt.date | None  # None means `never`

    @property
    def hashes(self) -> tuple[str, ...]:
        return tuple(pin.sha256 for pin in self.pins)

    def expired(self, today: dt.date) -> bool:
        """Past its expiry: the platforms stop pinning at 00:00 on the expiry date."""
        return self.expires is not None and today >= self.expires


@dataclass(frozen=True)
class Address:
    """Where `verify` dials instead of DNS:443 (`connect:`)."""

    host: str  # a name, an IPv4 address, or an IPv6 address without brackets
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Domain:
    host: str  # normalised: lower case, A-labels, no trailing dot
    include_subdomains: bool
    enforce: bool
    pin_set: PinSet
    report_uris: tuple[str, ...] = ()
    connect: Address | None = None
    provider: str | None = None
    allow_no_backup: bool = False  # build accepts pins of one CA operator with no backup
    location: Location | None = field(default=None, compare=False)

    @property
    def pins(self) -> tuple[Pin, ...]:
        return self.pin_set.pins

    @property
    def expires(self) -> dt.date | None:
        return self.pin_set.expires


def frozen_mapping(values: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class Output:
    """One file `build` writes: a built-in type, or a user's template."""

    path: Path  # relative to the config's folder, normalised, never escaping it
    type: str | None = None  # e.g. "android-nsc"; None when `template` is set
    template: Path | None = None  # relative to the config's folder
    options: Mapping[str, Any] = field(default_factory=lambda: frozen_mapping({}))
    location: Location | None = field(default=None, compare=False)
    # where each option given in pins.yaml sits, so an error points at its own line
    option_locations: Mapping[str, Location] = field(
        default_factory=lambda: frozen_mapping({}), compare=False
    )

    @property
    def kind(self) -> str:
        return self.type if self.type is not None else "template"

    def location_of(self, option: str) -> Location | None:
        """Where `option:` is written; the output's place when it is left out."""
        return self.option_locations.get(option, self.location)


@dataclass(frozen=True)
class Target:
    """Outputs for one app repository (`targets:`), rendered into its checkout."""

    name: str
    outputs: tuple[Output, ...]  # paths relative to the target's folder
    into: Path | None = None  # relative to the config's folder; None: `--into` says
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Trust:
    ca_file: Path | None = None  # absolute; None: certifi's Mozilla roots
    catalog: Path | None = None  # absolute; None: the CA catalog shipped with pingen


@dataclass(frozen=True)
class Config:
    path: Path  # the pins.yaml that was loaded (absolute)
    version: int
    domains: tuple[Domain, ...]
    outputs: tuple[Output, ...]
    trust: Trust = Trust()
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False)
    # Where the paths it names may lead (pingen.confine); None: found from `path`.
    repository: Repository | None = field(default=None, compare=False)
    inputs: frozenset[Path] = field(default=frozenset(), compare=False)  # real paths read
    targets: tuple[Target, ...] = ()
    # Set by `build --target`: the pins repository's revision, named in generated
    # headers as information (never part of what `--check` compares).
    provenance: str | None = field(default=None, compare=False)
    into: Path | None = field(default=None, compare=False)  # a target's folder, when building one

    @property
    def root(self) -> Path:
        """The folder that relative paths in pins.yaml are relative to."""
        return self.path.parent

    @property
    def confinement(self) -> Repository:
        """Where the paths pins.yaml names may lead (pingen.confine)."""

        return self.repository or repository_of(self.path)

    @property
    def output_root(self) -> Path:
        """The folder outputs are relative to: pins.yaml's, or a target's (`into`)."""
        return self.into if self.into is not None else self.root

    @property
    def output_confinement(self) -> Repository:
        """Where outputs may land: pins.yaml's repository, or a target's folder."""
        if self.into is None:
            return self.confinement

        return Repository(
            Path(os.path.realpath(self.into)),
            in_git=False,
            shown=f"the target's folder {self.into}",
        )

    def target(self, name: str) -> Target | None:
        return next((target for target in self.targets if target.name == name), None)

    def domain(self, host: str) -> Domain | None:
        for domain in self.domains:
            if domain.host == host:
                return domain
        return None
