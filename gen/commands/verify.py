"""`pingen verify`: does every pin set work with what its server serves today?"""

from __future__ import annotations

import datetime as dt
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pingen.commands.options import (
    at_option,
    config_option,
    format_option,
    load,
    parse_at,
    quiet_option,
    timeout_option,
)
from pingen.report.term import Progress, colour_wanted
from pingen.report.verify import render, render_text

if TYPE_CHECKING:
    from pingen.judge.verify import VerifyReport
    from pingen.model import Config


@click.command(name="verify")
@config_option
@format_option(
    ["text", "json", "markdown"],
    "text: a table for people; json: the stable shape for bots; markdown: "
    "for a pull-request comment.",
)
@timeout_option("Seconds for connect plus handshake, per domain.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=4096),
    default=32,
    show_default=True,
    help="Domains dialled at once.",
)
@click.option(
    "--domain", "hosts", multiple=True, metavar="HOST", help="Check only this domain (repeatable)."
)
@click.option(
    "--chain",
    "chain_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Judge this chain file (PEM, leaf first, as served) offline instead of "
    "dialling; needs one --domain.",
)
@at_option("With --chain: judge as of this date (YYYY-MM-DD, or an ISO date-time).")
@quiet_option(
    "No progress; the text table lists only the domains with problems (and "
    "nothing when all are ok). json and markdown are unchanged."
)
def command(
    config_path: Path,
    output_format: str,
    timeout: float,
    concurrency: int,
    hosts: tuple[str, ...],
    chain_file: Path | None,
    at_text: str | None,
    quiet: bool,
) -> int:
    """Dial every domain (SNI = host), build the verified chain to a trusted root, and
    judge its pin set: does it match today, does it have a backup, will it survive
    the next key change. Exit 0 ok or warnings, 1 a domain failed, 2 bad input,
    3 the network kept a check from running (and nothing failed)."""

    with _rare_collections():
        at = _parse_at(at_text, chain_file)
        if chain_file is not None and len(hosts) != 1:
            raise click.UsageError("--chain judges one domain: give exactly one --domain")
        config = load(config_path, today=at.date() if at else None)  # --at: expiry as of then
        if chain_file is not None:
            from pingen.judge.verify import verify_chain_file

            report = verify_chain_file(config, chain_file, hosts[0], at)
        else:
            report = _verify_live(config, hosts, timeout, concurrency, quiet)
        colour = output_format == "text" and colour_wanted(sys.stdout)
        if quiet and output_format == "text":
            click.echo(render_text(report, colour=colour, only_problems=True), nl=False)
        else:
            click.echo(render(report, output_format, colour=colour), nl=False)
        return report.exit_code


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Python's cycle collector runs every 700 allocations; verify allocates a few
    hundred objects per domain (nodes, certificates, reports) and keeps them to the end,
    so each pass walked them for nothing (1 % of a 500-domain run). During the run it
    waits for 50,000 (any cycle is still collected, later)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _verify_live(
    config: Config, hosts: tuple[str, ...], timeout: float, concurrency: int, quiet: bool
) -> VerifyReport:
    from pingen.judge.verify import select_domains, verify_config

    total = len(select_domains(config, hosts))
    with Progress(quiet=quiet) as progress:
        return verify_config(
            config,
            domains=hosts or None,
            timeout=timeout,
            concurrency=concurrency,
            progress=progress.counter("verify", total),
        )


def _parse_at(text: str | None, chain_file: Path | None) -> dt.datetime | None:
    if text is None:
        return None
    if chain_file is None:
        raise click.UsageError("--at needs --chain: a live server is judged as of now")
    return parse_at(text)
