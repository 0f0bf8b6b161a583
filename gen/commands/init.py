"""`pingen init HOST...`: write a starter pins.yaml from the chains the hosts serve."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pingen.author import init
from pingen.author.init import KEY_FOLDER, ca_pin_count, fetch_host_chains, parse_start
from pingen.commands.options import (
    ca_file_option,
    catalog_option_value,
    quiet_option,
    timeout_option,
)
from pingen.config.schema import PROVIDERS as PROVIDER_NAMES
from pingen.config.yamltext import backup_key_name, default_expiry
from pingen.confine import confine, repository_of
from pingen.errors import CheckFailed, ConfigError, NetworkError
from pingen.model import Trust
from pingen.report.term import Progress

if TYPE_CHECKING:
    from pingen.author.init import HostChain, Start
    from pingen.pki.catalog import Catalog


@click.command(name="init")
@click.argument("hosts", nargs=-1, required=True, metavar="HOST...")
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("pins.yaml"),
    show_default=True,
    help="The file to write; an existing file is never overwritten.",
)
@ca_file_option(
    "PEM roots to build the chains to instead of certifi's Mozilla roots "
    "(a private or test CA); written to pins.yaml as `trust: ca_file:`."
)
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A CA catalog of your own instead of pingen's (see the catalog README); "
    "written to pins.yaml as `trust: catalog:`.",
)
@click.option(
    "--provider",
    type=click.Choice(PROVIDER_NAMES),
    help="Who issues the hosts' certificates: written as each domain's "
    "`provider:`, and the pins cover every CA it may issue from.",
)
@click.option(
    "--expires",
    "expires_text",
    metavar="DATE|never",
    help="The pin sets' expiry [default: a year from today].",
)
@timeout_option("Seconds for connect plus handshake, per host.")
@quiet_option("No progress and no next steps.")
def command(
    hosts: tuple[str, ...],
    output_path: Path,
    ca_file: Path | None,
    catalog_file: Path | None,
    provider: str | None,
    expires_text: str | None,
    timeout: float,
    quiet: bool,
) -> int:
    """Write a starter pins.yaml from the chains HOST... serve now.

    \b
    HOST is a host name, optionally with where to dial it:
      api.example.com                    dial api.example.com:443
      api.example.com:8443               dial port 8443 (written as `connect:`)
      api.example.com=203.0.113.7:443    dial that address, SNI api.example.com

    Each domain gets the pins `pingen suggest` proposes: the roots of every
    family its CA can serve it from (both key types, next-generation roots,
    cross-sign paths), each with its reason; a CA outside the CA catalog (a
    private or test CA) gets the pins of its intermediate(s) and root. Then a
    commented-out leaf pin, and a commented backup pin for the key `pingen
    keygen` makes; the outputs for Android and iOS are listed. The default expiry is a year from
    today, so the file depends on the date it was made. Never overwrites a file.
    """

    starts = _starts(hosts)
    expires = _expiry(expires_text)
    _refuse_existing(output_path)
    for flag, path in (("--ca-file", ca_file), ("--catalog", catalog_file)):
        _refuse_outside(flag, path, output_path)
    catalog = catalog_option_value(catalog_file)  # a broken one is exit 2 before dialling
    trust = Trust(
        ca_file=ca_file.absolute() if ca_file else None,
        catalog=catalog_file.absolute() if catalog_file else None,
    )
    try:
        chains = _fetch(starts, trust, catalog, provider, timeout, quiet)
    except init.InitError as error:
        raise (NetworkError if error.network else CheckFailed)(str(error)) from None
    text = init.starter_config(
        chains,
        expires=expires,
        ca_file=_relative(ca_file, output_path) if ca_file else None,
        catalog=_relative(catalog_file, output_path) if catalog_file else None,
    )
    try:
        with output_path.open("x", encoding="utf-8", newline="\n") as file:
            file.write(text)
    except FileExistsError:
        raise ConfigError(
            f"{output_path} already exists; pingen init never overwrites a file "
            "(choose another with -o)"
        ) from None
    except OSError as error:
        raise ConfigError(f"{output_path}: cannot write it ({error.strerror})") from None
    if not quiet:
        _next_steps(output_path, chains)
    return 0


def _starts(hosts: tuple[str, ...]) -> list[Start]:

    starts: list[Start] = []
    for text in hosts:
        try:
            start = parse_start(text)
        except ValueError as error:
            raise ConfigError(f"HOST {text}: {error}") from None
        if any(other.host == start.host for other in starts):
            raise ConfigError(f"HOST {text}: {start.host} is given twice")
        starts.append(start)
    return starts


def _expiry(text: str | None) -> dt.date | None:

    today = dt.date.today()
    if text is None:
        return default_expiry(today)
    if text == "never":
        return None
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--expires {text}: write yyyy-mm-dd or `never`") from None
    if date <= today:
        raise ConfigError(f"--expires {text}: not in the future")
    return date


def _refuse_existing(path: Path) -> None:

    try:
        os.lstat(path)
    except FileNotFoundError:
        pass
    except OSError as error:  # a name too long for the file system, say: before dialling
        raise ConfigError(f"{path}: {error.strerror}") from None
    else:
        raise ConfigError(
            f"{path} already exists; pingen init never overwrites a file "
            "(choose another with -o, or edit it)"
        )
    if not os.path.isdir(path.absolute().parent):
        raise ConfigError(f"{path}: the folder {path.parent} does not exist")


def _refuse_outside(flag: str, path: Path | None, output_path: Path) -> None:
    """pins.yaml may name only files inside its repository (pingen.confine), so init
    refuses a trust file outside it rather than write a config the next build refuses.
    It does not copy it: a catalog names more files, and which copy to keep is the
    user's choice."""

    if path is None:
        return
    repository = repository_of(output_path)
    try:
        confine(str(path.absolute()), output_path.absolute().parent, repository)
    except ValueError as error:
        raise ConfigError(f"{flag} {path} {error}, then pass the copy") from None


def _fetch(
    starts: list[Start],
    trust: Trust,
    catalog: Catalog,
    provider: str | None,
    timeout: float,
    quiet: bool,
) -> list[HostChain]:

    with Progress(quiet=quiet) as progress:
        step = progress.counter("taking chains", len(starts))
        return fetch_host_chains(
            starts, trust, timeout=timeout, progress=step, catalog=catalog, provider=provider
        )


def _relative(path: Path, output_path: Path) -> str:

    return Path(os.path.relpath(path.absolute(), output_path.absolute().parent)).as_posix()


def _next_steps(output_path: Path, chains: list[HostChain]) -> None:

    pins = sum(ca_pin_count(chain) for chain in chains)
    config = f" -c {output_path}" if output_path != Path("pins.yaml") else ""
    click.echo(f"wrote {output_path}: {len(chains)} domain(s), {pins} CA pin(s)")
    required = any(chain.backup_note.startswith("required") for chain in chains)
    why = (
        (" (required: until then `pingen build` refuses, or warns on, a domain without a backup)")
        if required
        else ""
    )
    click.echo(
        f"Next{why}: make an offline backup key for each domain and pin it "
        "(uncomment its lines in the file):"
    )
    key_dir = (output_path.parent / KEY_FOLDER).as_posix()  # the commented `file:` lines
    for chain in chains:
        click.echo(f"  pingen keygen {backup_key_name(chain.start.host)} --dir {key_dir}{config}")
    click.echo("Keep the private keys (*.key.pem) offline, never in the app repository. Then:")
    click.echo(f"  pingen verify{config}    # the pins against the live servers")
    click.echo(f"  pingen build{config}     # the Android and iOS files")
