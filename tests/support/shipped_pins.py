"""Pins of the shipped CA catalog by their pins.yaml lines, for tests that judge real sets."""

from __future__ import annotations

from pingen.model import Level, Pin, PinSource
from pingen.pki.catalog import lookup_intermediate, lookup_root
from pingen.spki import pin_of_certificate

# Keys of Let's Encrypt's and Google Trust Services' CAs, as pins.yaml lines.
POOL = (
    "root: ISRG Root X1",
    "root: ISRG Root X2",
    "root: Root YR",
    "root: Root YE",
    "intermediate: R10",
    "intermediate: R13",
    "intermediate: E6",
    "intermediate: YR1",
    "intermediate: YR2",
    "intermediate: YR3",
    "intermediate: YE1",
    "root: GTS Root R1",
    "root: GTS Root R2",
    "root: GTS Root R3",
    "root: GTS Root R4",
    "intermediate: WR1",
)


def pin(line: str) -> Pin:
    """A pins.yaml line of a message's advice (`root: NAME`, `intermediate: NAME`)."""
    kind, name = line.split(": ", 1)
    lookup = lookup_root if kind == "root" else lookup_intermediate
    level = Level.ROOT if kind == "root" else Level.INTERMEDIATE
    return Pin(pin_of_certificate(lookup(name)), PinSource(kind), name, level)
