"""`pingen build`: validate pins.yaml and render every output, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pingen.commands.options import config_option, load, quiet_option, timeout_option
from pingen.errors import EXIT_CHECK_FAILED, display_path

if TYPE_CHECKING:
    from pingen.model import Config
    from pingen.write import Change


@click.command(name="build")
@config_option
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 with a diff if any output differs from disk.")
@click.option("--verify", "verify_first", is_flag=True,
              help="Check every domain against its live server first; write nothing if one "
                   "fails (exit 1) or cannot be checked (exit 3).")
@timeout_option("With --verify: seconds for connect plus handshake, per domain.")
@quiet_option("No 'wrote' lines or counts, and with --verify only the domains with "
              "problems. Warnings, errors and --check's diff still print.")
def command(config_path: Path, check: bool, verify_first: bool, timeout: float,
            quiet: bool) -> int:
    """Validate pins.yaml and render every output it lists.

    All or nothing: every file is rendered in memory first, and an error anywhere
    writes nothing. Output is byte-identical on every run and machine.

    -q keeps every warning: they say what a platform's file cannot express or
    what in pins.yaml is risky, and that is what a quiet CI log must still show.
    """
    from pingen import write
    from pingen.render.pipeline import render_all

    config = load(config_path)
    if verify_first:
        _verify(config, timeout, quiet)
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
        if not quiet:
            click.echo(f"{len(changes)} output(s) up to date", err=True)
        return 0
    write.write_all(changes)
    if not quiet:
        _say_written(changes)
    return 0


def _say_written(changes: list[Change]) -> None:
    stale = [c for c in changes if c.changed]
    for change in stale:
        click.echo(f"wrote {display_path(change.path)}", err=True)
    click.echo(f"{len(stale)} written, {len(changes) - len(stale)} unchanged", err=True)


def _verify(config: Config, timeout: float, quiet: bool) -> None:
    """Refuse to write unless every domain's pin set matches what it serves now."""
    from pingen.errors import CheckFailed, NetworkError
    from pingen.report import render_text
    from pingen.verify import verify_config

    report = verify_config(config, timeout=timeout)
    text = render_text(report, only_problems=quiet)
    if text:
        click.echo(text, err=True)
    if report.failed:
        raise CheckFailed("a domain failed verification; nothing was written")
    if report.unreachable:
        raise NetworkError("a domain could not be checked; nothing was written")
