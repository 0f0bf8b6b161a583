"""Build model objects directly in tests (the model is plain frozen dataclasses)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pingen.errors import Location
from pingen.model import Config, Domain, Level, Output, Pin, PinSet, PinSource, frozen_mapping
from pingen.spki import KeyType

CONFIG_PATH = Path("/project/pins.yaml")


def fake_pin(seed: str) -> str:
    """A well-formed pin that matches no key: base64 of SHA-256 over `seed`."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def pin(
    sha256: str, label: str | None = None, level: Level | None = None, key: str | None = None
) -> Pin:
    """A sha256 pin; `key` states its key type (`ec-p256`), as `key:` does."""
    return Pin(
        sha256=sha256,
        source=PinSource.SHA256,
        label=label,
        level=level,
        key=KeyType.parse(key) if key else None,
    )


def domain(
    host: str,
    pins: Sequence[Pin | str],
    *,
    include_subdomains: bool = False,
    enforce: bool = True,
    expires: dt.date | None = None,
    report_uris: tuple[str, ...] = (),
    line: int = 10,
) -> Domain:
    pin_objects = tuple(p if isinstance(p, Pin) else pin(p) for p in pins)
    return Domain(
        host=host,
        include_subdomains=include_subdomains,
        enforce=enforce,
        pin_set=PinSet(pin_objects, expires),
        report_uris=report_uris,
        location=Location(CONFIG_PATH, line, 3),
    )


def output(output_type: str, path: str, **options: Any) -> Output:
    return Output(
        path=Path(path),
        type=output_type,
        options=frozen_mapping(options),
        location=Location(CONFIG_PATH, 40, 5),
        # as the loader records them: an option given is one written in pins.yaml
        option_locations=frozen_mapping({key: Location(CONFIG_PATH, 40, 5) for key in options}),
    )


def config(domains: list[Domain], outputs: list[Output] | None = None) -> Config:
    return Config(path=CONFIG_PATH, version=1, domains=tuple(domains), outputs=tuple(outputs or ()))
