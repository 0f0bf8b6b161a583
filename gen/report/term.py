"""Terminal manners for commands: colour only on a terminal and never with NO_COLOR,
progress only on a terminal and never with --quiet, so pipes, files and
`--format json` stay machine-clean."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Protocol, TextIO, TypedDict

import click


class Style(TypedDict, total=False):
    """The keyword arguments of click.style that pingen uses."""

    fg: str
    bold: bool
    dim: bool


STYLES: dict[str, Style] = {
    # pingen diff
    "add": {"fg": "green"},
    "remove": {"fg": "red"},
    "flag": {"fg": "yellow", "bold": True},
    "dim": {"dim": True},
    # the statuses of pingen verify
    "ok": {"fg": "green"},
    "warn": {"fg": "yellow"},
    "fail": {"fg": "red", "bold": True},
    "error": {"fg": "magenta", "bold": True},
}


def colour_wanted(stream: TextIO | None = None) -> bool:
    """True when `stream` (stdout by default) is a terminal and NO_COLOR is unset or empty
    (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return _is_terminal(stream or sys.stdout)


def _is_terminal(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def paint(text: str, style: str, colour: bool) -> str:
    if not colour or style not in STYLES:
        return text
    return click.style(text, **STYLES[style])


class _Named(Protocol):
    @property
    def host(self) -> str: ...


class Progress:
    """One status line on stderr, rewritten in place; silent unless stderr is a terminal.

    with Progress(quiet=quiet) as progress:
        fetch_chains(targets, progress=progress.counter("verify", len(targets)))
    """

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = not quiet and _is_terminal(self.stream)
        self.width = 0

    def update(self, text: str) -> None:
        if not self.enabled:
            return
        line = text[:100]
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def counter(self, label: str, total: int) -> Callable[[_Named], None]:
        """A callback for each finished host: shows `label: 3/40 host`."""
        count = 0

        def step(item: _Named) -> None:
            nonlocal count
            count += 1
            self.update(f"{label}: {count}/{total} {item.host}")

        return step

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.done()

    def done(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
