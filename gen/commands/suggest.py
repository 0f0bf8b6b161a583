"""`pingen suggest HOST`: the most durable pin set for what HOST serves, with reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pingen.author.suggest import NoSuggestion, render_yaml, suggest
from pingen.commands.options import (
    at_option,
    ca_file_option,
    catalog_option_value,
    parse_at,
    timeout_option,
)
from pingen.config.schema import PROVIDERS as PROVIDER_NAMES
from pingen.errors import CheckFailed, ConfigError, Location
from pingen.hosts import host_without_port
from pingen.model import Trust
from pingen.pki.chain import UntrustedChain, build_verified_chain, load_trust_store, read_chain_file

if TYPE_CHECKING:
    from cryptography import x509


@click.command(name="suggest")
@click.argument("host")
@click.option(
    "--chain",
    "chain_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read the chain from this file (PEM, leaf first, as served) instead of dialling HOST.",
)
@click.option(
    "--connect", metavar="HOST:PORT", help="Dial this address instead of HOST:443 (SNI stays HOST)."
)
@click.option(
    "--provider",
    type=click.Choice(PROVIDER_NAMES),
    help="Who issues HOST's certificates; adds the other CAs it may use.",
)
@click.option(
    "--catalog",
    "catalog_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A CA catalog of your own instead of pingen's (see the catalog README).",
)
@ca_file_option(
    "PEM roots to verify the chain to (a private or test CA); roots outside "
    "the catalog are pinned by hash, with their names as labels."
)
@at_option("Judge as of this date (YYYY-MM-DD); default now. For recorded chains.")
@timeout_option("Seconds for connect plus handshake.")
def command(
    host: str,
    chain_file: Path | None,
    connect: str | None,
    provider: str | None,
    catalog_file: Path | None,
    ca_file: Path | None,
    at_text: str | None,
    timeout: float,
) -> int:
    """Propose the pins that keep working for HOST: the roots of every certificate
    family HOST can be served from (both key types, next-generation roots, and with
    --provider every CA the platform may switch to), each with its reason, plus an
    offline backup key step. The CA serving today is always covered; a `# warning:`
    line says when --provider does not name it. Prints pins.yaml lines to paste under
    `domains:`."""

    name = _host_name(host)
    at = dt.datetime.now(dt.UTC) if at_text is None else parse_at(at_text)
    catalog = catalog_option_value(catalog_file)
    served = read_chain_file(chain_file) if chain_file else _live_chain(host, connect, timeout)
    if ca_file is not None:
        served = _verified(name, served, ca_file, at)
    try:
        suggestion = suggest(name, served, at, catalog, provider, verified=ca_file is not None)
    except NoSuggestion as error:
        raise ConfigError(str(error), Location(chain_file) if chain_file else None) from None
    click.echo(render_yaml(suggestion), nl=False)
    return 0


def _host_name(host: str) -> str:
    """HOST as pins.yaml holds it (the printed lines use it as a YAML key), or a usage
    error: a URL or `a: b` must not reach them."""

    try:
        return host_without_port(host)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="HOST") from None


def _live_chain(host: str, connect: str | None, timeout: float) -> list[x509.Certificate]:
    from pingen.pki.live import parse_host_port, served_chain

    target = parse_host_port(host)
    try:
        address = parse_host_port(connect) if connect else target
    except ConfigError as error:
        raise click.BadParameter(error.message, param_hint="'--connect'") from None
    return served_chain(target.host, address, timeout, shown_as=host)


def _verified(
    host: str, served: list[x509.Certificate], ca_file: Path, at: dt.datetime
) -> list[x509.Certificate]:
    """The chain verified to the roots of --ca-file, anchor last; exit 1 when it does not
    verify (as `pingen init --ca-file` refuses it)."""

    store = load_trust_store(Trust(ca_file=ca_file.absolute()), named="--ca-file")
    try:
        return build_verified_chain(served, store, host, at)
    except UntrustedChain as error:
        raise CheckFailed(
            f"{host}: the chain does not verify to the roots in {ca_file}: {error.reason}"
        ) from None
