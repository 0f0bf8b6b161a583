"""`pingen diff`: what changed between two versions of pins.yaml, for a pull request."""

from __future__ import annotations

import datetime as dt
import os
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
from pingen.errors import ConfigError, Location, display_path
from pingen.report.term import Progress, colour_wanted, paint
from pingen.textsafe import one_line, terminal_text

if TYPE_CHECKING:
    from pingen.judge.diff import ConfigDiff
    from pingen.model import Config


@click.command(name="diff")
@config_option
@click.option(
    "--base",
    metavar="GIT_REV",
    help="Compare with pins.yaml as committed at this git revision "
    "[default: HEAD, unless --old is given].",
)
@click.option(
    "--old",
    "old_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Compare with this file instead of a git revision.",
)
@format_option(["text", "markdown", "json"], "markdown: a pull request's body; json: for bots.")
@click.option(
    "--verify",
    "verify_live",
    is_flag=True,
    help="Also dial every domain: flag removed pins that are live today and sets "
    "that match nothing live.",
)
@click.option(
    "--chain",
    "chain_texts",
    multiple=True,
    metavar="HOST=FILE",
    help="Take HOST's live keys from this recorded chain (PEM, leaf first, as "
    "served) instead of dialling: the --verify flags offline. Repeatable; "
    "with --verify the other domains are dialled.",
)
@at_option("With --chain: verify the recorded chains as of this date (YYYY-MM-DD) [default: now].")
@click.option(
    "--target",
    "target_name",
    metavar="NAME",
    help="Show the change as this target's app repository sees it: every domain "
    "change and only its own outputs (a pull request's body for that repo).",
)
@timeout_option("With --verify: seconds for connect plus handshake, per domain.")
@quiet_option("No progress on stderr; the loader's warnings stay.")
def command(
    config_path: Path,
    base: str | None,
    old_path: Path | None,
    output_format: str,
    verify_live: bool,
    chain_texts: tuple[str, ...],
    at_text: str | None,
    target_name: str | None,
    timeout: float,
    quiet: bool,
) -> int:
    """Show what changed between two versions of pins.yaml, per domain: pins added
    and removed (with labels), include_subdomains, enforce, expiry and provider
    changes, domains and outputs added and removed.

    Flags what a reviewer must not miss: a domain left with fewer than two pins or
    no backup pin, expiry moved earlier or to never, enforcement off, subdomains
    newly pinned, a pin set replaced wholesale; with --verify (or --chain), a removed
    pin that is live today. Always exits 0 when both versions load: a diff is
    information.
    """
    from pingen.config.revision import GitError, config_at_revision
    from pingen.judge.diff import compare, for_target

    if base is not None and old_path is not None:
        raise click.UsageError("give --base or --old, not both")
    new = load(config_path)
    if old_path is not None:
        _refuse_missing(old_path)
        old: Config | None = load(old_path, today=dt.date.min, warn=False)
        old_name = str(old_path)
    else:
        try:
            old, old_name = config_at_revision(base or "HEAD", config_path)
        except GitError as error:
            raise ConfigError(str(error)) from None
    live, notes = _live_keys(new, chain_texts, at_text, verify_live, timeout, quiet)
    result = compare(old, new, old_name=old_name, new_name=str(config_path), live=live, notes=notes)
    if target_name is not None:
        result = for_target(result, _known_target(new, old, target_name))
    _print(result, output_format)
    return 0


def _known_target(new: Config, old: Config | None, name: str) -> str:

    if new.target(name) is None and (old is None or old.target(name) is None):
        names = ", ".join(t.name for t in new.targets) or "none"
        raise ConfigError(
            f"--target {name}: no such target in this config (targets: {names})",
            Location(display_path(new.path)),
        )
    return name


def _refuse_missing(old_path: Path) -> None:
    """load's hint for a missing file (`pingen init`, -c) is for pins.yaml, not --old."""

    try:
        os.lstat(old_path)
    except FileNotFoundError:
        raise ConfigError(
            "no such file (--old names the old version of pins.yaml)", Location(old_path)
        ) from None
    except (OSError, ValueError):
        pass  # load says what else is wrong with the name


def _live_keys(
    config: Config,
    chain_texts: tuple[str, ...],
    at_text: str | None,
    verify_live: bool,
    timeout: float,
    quiet: bool,
) -> tuple[dict[str, frozenset[str]] | None, tuple[str, ...]]:
    """The live keys per host: from --chain files, then (--verify) from the servers."""
    from pingen.judge.diff import live_keys, recorded_keys

    if at_text is not None and not chain_texts:
        raise click.UsageError("--at goes with --chain (a recorded chain is judged as of a date)")
    if not chain_texts and not verify_live:
        return None, ()
    chains = _chain_options(config, chain_texts)
    at = parse_at(at_text) if at_text is not None else dt.datetime.now(dt.UTC)
    keys, notes = recorded_keys(config, chains, at)
    if verify_live:
        with Progress(quiet=quiet) as progress:
            step = progress.counter("checking live keys", len(config.domains) - len(chains))
            dialled, dial_notes = live_keys(
                config, timeout=timeout, progress=step, skip=frozenset(chains)
            )
        keys.update(dialled)
        notes += dial_notes
    return keys, notes


def _chain_options(config: Config, chain_texts: tuple[str, ...]) -> dict[str, Path]:
    """--chain HOST=FILE, each HOST a configured domain (normalised as pins.yaml's keys)."""
    from pingen.judge.verify import select_domains

    chains: dict[str, Path] = {}
    for text in chain_texts:
        host, sep, file = text.partition("=")
        if not sep or not host.strip() or not file:
            raise click.BadParameter(f"{text!r}: write HOST=FILE", param_hint="'--chain'")
        (domain,) = select_domains(config, [host], option="--chain")
        chains[domain.host] = Path(file)
    return chains


def _print(result: ConfigDiff, output_format: str) -> None:
    from pingen.report import diff

    if output_format == "json":
        click.echo(diff.to_json(result), nl=False)
    elif output_format == "markdown":
        click.echo(diff.to_markdown(result), nl=False)
    else:
        colour = colour_wanted()
        for style, line in diff.text_lines(result):
            # each report line is one line: a newline in a label is shown escaped
            click.echo(paint(terminal_text(one_line(line)), style, colour), color=colour)
