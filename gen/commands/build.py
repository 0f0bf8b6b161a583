"""`pingen build`: validate pins.yaml and render every output, all or nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pingen.commands.options import (
    at_option,
    config_option,
    load,
    parse_at,
    quiet_option,
    timeout_option,
)
from pingen.confine import file_key
from pingen.errors import (
    EXIT_CHECK_FAILED,
    CheckFailed,
    ConfigError,
    ConfigErrors,
    NetworkError,
    display_path,
    raise_together,
)
from pingen.judge.offline import judge_offline
from pingen.report.verify import render_text
from pingen.textsafe import terminal_text

if TYPE_CHECKING:
    from pingen.model import Config, Output
    from pingen.render import RenderedFile
    from pingen.targets import Job
    from pingen.write import Change


@click.command(name="build")
@config_option
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 with a diff if any output differs from disk.",
)
@click.option(
    "--verify",
    "verify_first",
    is_flag=True,
    help="Check every domain against its live server first; write nothing if one "
    "fails (exit 1) or cannot be checked (exit 3).",
)
@timeout_option("With --verify: seconds for connect plus handshake, per domain.")
@quiet_option(
    "No 'wrote' lines or counts, and with --verify only the domains with "
    "problems. Warnings, errors and --check's diff still print."
)
@click.option(
    "--strict", is_flag=True, help="Treat every warning as a failure: exit 1 and write nothing."
)
@at_option(
    "Judge as of this date (YYYY-MM-DD) instead of today: which `expires` "
    "dates are past or near, which CA futures lie ahead. Not with --verify."
)
@click.option(
    "--target",
    "target_name",
    metavar="NAME",
    help="Render only this target's outputs (`targets:` in pins.yaml).",
)
@click.option(
    "--into",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="With --target: the app repository's checkout to render into "
    "[default: the target's `into:`].",
)
@click.option(
    "--source-rev",
    metavar="REV",
    help="The pins revision that target files name in their header [default: the "
    "last commit that touched pins.yaml or a file it reads].",
)
def command(
    config_path: Path,
    check: bool,
    verify_first: bool,
    timeout: float,
    quiet: bool,
    strict: bool,
    at_text: str | None,
    target_name: str | None,
    into: Path | None,
    source_rev: str | None,
) -> int:
    """Validate pins.yaml, judge its pin sets offline, and render every output it lists.

    All or nothing: every file is rendered in memory first, and an error anywhere
    writes nothing. Output is byte-identical on every run and machine.

    \b
    The judgement that needs no network (the pins and `provider:` alone):
      error (exit 2)  a leaf pin on a provider that makes a new key at every renewal;
                      a domain with no `backup: true` pin whose pins all belong to one
                      CA operator of the catalog (opt-out: `allow_no_backup: true`)
      warning         no pin marked backup among keys the catalog does not know;
                    `expires` within 30 days; futures the CA catalog predicts

    -q keeps every warning: they say what a platform's file cannot express or
    what in pins.yaml is risky, and that is what a quiet CI log must still show.

    \b
    Targets (one pins.yaml, many app repositories): with no --target, build renders
    the top-level outputs and every target that has an `into:`; --target NAME
    --into DIR renders one target into another repository's checkout. Target files
    name the pins revision in their header; --check and rewriting ignore that line.
    """
    from pingen import write

    at = _judgement_time(at_text, verify_first)
    config = load(config_path, today=at.date())
    warnings = len(config.warnings) + _judge_offline(config, at)
    if verify_first:
        _verify(config, timeout, quiet)
    changes, rendered_warnings = _plan(config, target_name, into, source_rev)
    warnings += rendered_warnings
    if strict and warnings:
        _refuse_warnings(warnings, check)
    stale = [c for c in changes if c.changed]
    if check:
        for change in stale:
            # the committed file may hold anything, escape sequences included
            diff_text = write.unified_diff(change, str(display_path(change.path)))
            click.echo(terminal_text(diff_text), nl=False)
        for change in stale:
            state = "missing" if change.old is None else "out of date"
            click.echo(
                terminal_text(f"{display_path(change.path)}: {state}; run `pingen build`"), err=True
            )
        if stale:
            return EXIT_CHECK_FAILED
        if not quiet:
            click.echo(f"{len(changes)} output(s) up to date", err=True)
        return 0
    write.write_all(changes)
    if not quiet:
        _say_written(changes)
    return 0


def _judgement_time(at_text: str | None, verify_first: bool) -> dt.datetime:
    if at_text is None:
        return dt.datetime.now(dt.UTC)
    if verify_first:
        raise click.UsageError(
            "--at judges as of a date offline, --verify dials the servers now: use one of them"
        )
    return parse_at(at_text)


def _judge_offline(config: Config, at: dt.datetime) -> int:
    """Refuse what the pins and providers alone say will break (exit 2, nothing
    written); print the warnings and return how many there were."""

    judgement = judge_offline(config, at)
    for warning in judgement.warnings:
        click.echo(terminal_text(str(warning)), err=True)
    raise_together(list(judgement.errors))
    return len(judgement.warnings)


def _refuse_warnings(count: int, check: bool) -> None:

    what = "checked" if check else "written"
    raise CheckFailed(
        f"{count} warning(s) and --strict: nothing was {what}; fix them, or "
        "drop --strict to accept them"
    )


def _plan(
    config: Config, target_name: str | None, into: Path | None, source_rev: str | None
) -> tuple[list[Change], int]:
    """Render every job (the outputs, or a target's) before planning any write: all or
    nothing across repositories too (pingen.write keeps a file that differs only in
    its provenance line, so a new pins revision alone rewrites nothing). Prints the
    renderers' warnings and returns how many there were."""
    from pingen import write
    from pingen.render.pipeline import render_all
    from pingen.targets import jobs

    rendered = []
    errors: list[ConfigError] = []
    for job in jobs(config, target_name, into, source_rev):
        try:
            rendered.append((job, render_all(job.config, job.outputs)))
        except ConfigErrors as error:
            errors.extend(error.errors)
        except ConfigError as error:
            errors.append(error)
    raise_together(errors + _one_file_twice(rendered))
    changes: list[Change] = []
    warnings = 0
    for job, files in rendered:
        for file in files:
            for warning in file.warnings:
                click.echo(terminal_text(str(warning)), err=True)
            warnings += len(file.warnings)
        changes += write.plan(job.config, files)
    return changes, warnings


def _one_file_twice(rendered: list[tuple[Job, list[RenderedFile]]]) -> list[ConfigError]:
    """Errors for outputs of different jobs (`outputs:` and a target's `into:`) that land
    on one file: the later would silently replace the earlier, and `--check` would find
    one of them stale on every run. (The loader refuses this within one list.)"""

    def described(job: Job, output: Output) -> str:
        where = f"target {job.target}'s" if job.target else "the outputs'"
        return f"{where} {output.path.as_posix()}"

    errors: list[ConfigError] = []
    seen: dict[str, tuple[Job, Output]] = {}
    for job, files in rendered:
        for file in files:
            key = file_key(job.config.output_root / file.output.path)
            if key in seen and seen[key][0] is not job:
                errors.append(
                    ConfigError(
                        f"output {described(job, file.output)} is the same file as "
                        f"{described(*seen[key])}: give one of them another path",
                        file.output.location,
                    )
                )
            seen.setdefault(key, (job, file.output))
    return errors


def _say_written(changes: list[Change]) -> None:
    stale = [c for c in changes if c.changed]
    for change in stale:
        click.echo(terminal_text(f"wrote {display_path(change.path)}"), err=True)
    click.echo(f"{len(stale)} written, {len(changes) - len(stale)} unchanged", err=True)


def _verify(config: Config, timeout: float, quiet: bool) -> None:
    """Refuse to write unless every domain's pin set matches what it serves now."""
    from pingen.judge.verify import verify_config

    report = verify_config(config, timeout=timeout)
    text = render_text(report, only_problems=quiet)
    if text:
        click.echo(text, err=True)
    if report.failed:
        raise CheckFailed("a domain failed verification; nothing was written")
    if report.unreachable:
        raise NetworkError("a domain could not be checked; nothing was written")
