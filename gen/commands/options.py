"""Options and helpers shared by several commands."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pingen.errors import ConfigError, Location
from pingen.hosts import normalize_certificate_name
from pingen.textsafe import terminal_text

if TYPE_CHECKING:
    from pingen.model import Config
    from pingen.pki.catalog import Catalog

DEFAULT_CONFIG = "pins.yaml"

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_CONFIG,
    show_default=True,
    help="The pins.yaml to read.",
)


class Seconds(click.FloatRange):
    """--timeout: click's FloatRange lets `nan` through (no comparison with it is true),
    and `inf` would wait for ever; both are refused."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


DEFAULT_TIMEOUT = 10.0
F = TypeVar("F", bound=Callable[..., Any])


def timeout_option(help_text: str) -> Callable[[F], F]:
    """--timeout, the same for every command that dials: seconds, more than zero."""
    return click.option(
        "--timeout",
        type=Seconds(min=0, min_open=True),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        help=help_text,
    )


def format_option(choices: list[str], help_text: str | None = None) -> Callable[[F], F]:
    """--format, read into `output_format`: `text` (the default) or another of `choices`,
    listed in the order --help shows them; `help_text` says what each is for."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default="text",
        show_default=True,
        help=help_text,
    )


def at_option(help_text: str) -> Callable[[F], F]:
    """--at DATE, the same flag wherever a command judges as of a day (read with
    `parse_at`); `help_text` says what the date changes for this command."""
    return click.option("--at", "at_text", metavar="DATE", help=help_text)


def quiet_option(help_text: str) -> Callable[[F], F]:
    """-q/--quiet: drop the chatter (progress, counts, next steps); `help_text` says
    what this command still prints."""
    return click.option("-q", "--quiet", is_flag=True, help=help_text)


def ca_file_option(help_text: str) -> Callable[[F], F]:
    """--ca-file PEM: the roots to build verified chains to instead of certifi's (a
    private or test CA). click refuses a missing file or a folder (exit 2)."""
    return click.option(
        "--ca-file",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        metavar="PEM",
        help=help_text,
    )


def load(config_path: Path, *, today: dt.date | None = None, warn: bool = True) -> Config:
    """Load pins.yaml and print its warnings to stderr (unless `warn` is false).

    `today` decides which `expires` dates count as past (see `load_config`).
    """
    from pingen.config.load import load_config

    config = load_config(config_path, today=today)
    if warn:
        for warning in config.warnings:
            click.echo(terminal_text(str(warning)), err=True)
    return config


def certificate_names(texts: tuple[str, ...], option: str) -> tuple[str, ...]:
    """A repeated host-name option (keygen --csr-domain, guard --domain): each name as
    a certificate's DNS name, duplicates dropped, first order kept; a bad one is exit 2
    naming the option."""

    names: list[str] = []
    for text in texts:
        try:
            names.append(normalize_certificate_name(text))
        except ValueError as error:
            raise ConfigError(f"{option} {text}: {error}") from None
    return tuple(dict.fromkeys(names))


def parse_at(text: str) -> dt.datetime:
    """`--at DATE`: an ISO date or date-time, UTC unless it names a zone.

    A bare date means noon UTC that day, so it is the same day in every time zone.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date; write YYYY-MM-DD", param_hint="'--at'"
        ) from None
    if len(text.strip()) == 10:
        value = value.replace(hour=12)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def catalog_option_value(path: Path | None) -> Catalog:
    """The catalog --catalog names (pingen's own without it), or exit 2 naming the file."""
    from pingen.pki.catalog import CatalogError, load_catalog

    try:
        return load_catalog(path)
    except CatalogError as error:
        raise ConfigError(
            str(error).removeprefix(f"{path.resolve() if path else ''}: "),
            Location(path) if path else None,
        ) from None
