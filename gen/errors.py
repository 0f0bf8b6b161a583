"""Errors and diagnostics that reach the user.

Every error carries its exit code (README.md, "Exit codes") and, where it applies, the place
in the user's file, so the CLI can print `FILE:LINE:COL: message` and exit without a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NETWORK = 3


@dataclass(frozen=True)
class Location:
    """A place in a user's file; line and column are 1-based."""

    file: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = str(self.file)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


def first_line(error: Exception) -> str:
    """The first line of an exception's message (its class name when it has none)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def display_path(path: Path) -> Path:
    """`path` as a user would type it from here: relative to the current folder when
    it lies below it."""
    try:
        return path.absolute().relative_to(Path.cwd())
    except ValueError:
        return path


class Severity(StrEnum):
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Diagnostic:
    """A message about the user's input, with where it points."""

    message: str
    location: Location | None = None
    severity: Severity = Severity.WARNING

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}{self.severity.value}: {self.message}"


class PingenError(Exception):
    """An error the user can fix; carries its exit code."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class ConfigError(PingenError):
    """pins.yaml, a file it names, or a flag is wrong (exit 2)."""


class ConfigErrors(ConfigError):
    """Several independent problems found in one pass, reported together."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors

    def __str__(self) -> str:
        return self.message


def raise_together(errors: list[ConfigError]) -> None:
    """Raise the one error, or every one at once; nothing when there are none."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


class CheckFailed(PingenError):
    """A check ran and failed: stale output, failed domain, unsafe rotation (exit 1)."""

    exit_code = EXIT_CHECK_FAILED


class NetworkError(PingenError):
    """The network kept a check from running (exit 3)."""

    exit_code = EXIT_NETWORK
