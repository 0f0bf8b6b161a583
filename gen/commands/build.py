"""`pingen build`: validate pins.yaml and render every output, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pingen.commands.options import config_option, load, timeout_option
from pingen.errors import EXIT_CHECK_FAILED, display_path

if TYPE_CHECKING:
    from pingen.model import Config


@click.command(name="build")
@config_option
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 with a diff if any output differs from disk.")
@click.option("--verify", "verify_first", is_flag=True,
              help="Check every domain against its live server first; write nothing if one "
                   "fails (exit 1) or cannot be checked (exit 3).")
@timeout_option("With --verify: seconds for connect plus handshake, per domain.")
def command(config_path: Path, check: bool, verify_first: bool, timeout: float) -> int:
    """Validate pins.yaml and render every output it lists.

    All or nothing: every file is rendered in memory first, and an error anywhere
    writes nothing. Output is byte-identical on every run and machine.
    """
    from pingen import write
    from pingen.render.pipeline import render_all

    config = load(config_path)
    if verify_first:
        _verify(config, timeout)
    rendered = render_all(config)
    for file in rendered:
        for warning in file.warnings:
            click.echo(str(warning), err=True)
    changes = write.plan(config.root, rendered)
    stale = [c for c in changes if c.changed]
    if check:
        for change in stale:
            click.echo(write.unified_diff(change, str(display_path(change.path))), nl=False)
        for change in stale:
            state = "missing" if change.old is None else "out of date"
            click.echo(f"{display_path(change.path)}: {state}; run `pingen build`", err=True)
        if stale:
            return EXIT_CHECK_FAILED
        click.echo(f"{len(changes)} output(s) up to date", err=True)
        return 0
    write.write_all(changes)
    for change in stale:
        click.echo(f"wrote {display_path(change.path)}", err=True)
    click.echo(f"{len(stale)} written, {len(changes) - len(stale)} unchanged", err=True)
    return 0


def _verify(config: Config, timeout: float) -> None:
    """Refuse to write unless every domain's pin set matches what it serves now."""
    from pingen.errors import CheckFailed, NetworkError
    from pingen.verify import verify_config

    report = verify_config(config, timeout=timeout)
    click.echo(report.as_text(), err=True)
    if report.failed:
        raise CheckFailed("a domain failed verification; nothing was written")
    if report.unreachable:
        raise NetworkError("a domain could not be checked; nothing was written")
