"""`pingen expires`: move the pin sets' expiry forward in place, as a release bot does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from pingen.commands.options import at_option, config_option, load, parse_at, quiet_option
from pingen.errors import EXIT_CHECK_FAILED, display_path
from pingen.textsafe import terminal_text


@click.command(name="expires")
@config_option
@click.option("--to", "to_text", metavar="DATE", help="The new expiry (YYYY-MM-DD).")
@click.option(
    "--extend",
    "extend_text",
    metavar="DURATION",
    help="The new expiry, counted from today: 90d, 6w, 12m or 1y.",
)
@click.option(
    "--domain",
    "hosts",
    multiple=True,
    metavar="HOST",
    help="Only this domain (repeatable); a domain that inherits its date from "
    "`defaults` gets its own `expires:` line. Default: `defaults` and every "
    "domain's own date.",
)
@at_option("Count --extend from this date, and judge as of it, instead of today.")
@click.option("--dry-run", is_flag=True, help="Print the diff; write nothing.")
@quiet_option("No diff on stdout; refusals and warnings still print.")
def command(
    config_path: Path,
    to_text: str | None,
    extend_text: str | None,
    hosts: tuple[str, ...],
    at_text: str | None,
    dry_run: bool,
    quiet: bool,
) -> int:
    """Move `expires` forward in pins.yaml, editing only the dates.

    \b
    Comments, order, quoting and layout are kept: only the date scalars change, or
    one `expires:` line is inserted for a --domain that inherited its date. Dates
    already later than the new one, and `never`, are left as they are. A date the
    pins cannot survive is refused: when every pin of a domain is a CA key whose
    known certificates all end before it, no chain can match after that day.

    \b
    Prints the diff. Exit 0: written (or nothing to move); 1: refused, nothing
    written; 2: bad input.
    """
    from pingen.author.expiry import plan_expiry, unsurvivable
    from pingen.config.load import load_config_text
    from pingen.judge.verify import select_domains
    from pingen.write import Change, unified_diff, write_all

    today = parse_at(at_text).date() if at_text is not None else dt.date.today()
    new = _new_date(to_text, extend_text, today)
    # A date already past is what this command exists to move: read the file as it is
    # (as `diff` reads history); the edit below loads as of `today`, so a past date it
    # leaves behind (another domain's, with --domain) is still exit 2 at its line.
    config = load(config_path, today=dt.date.min)
    selected = [d.host for d in select_domains(config, hosts)] if hosts else None
    data = config_path.read_bytes()
    plan = plan_expiry(config, data.decode("utf-8"), new, selected)
    name = str(display_path(config_path))
    for skipped in plan.skipped:
        click.echo(
            terminal_text(f"{name}: {skipped.where}: left as it is: {skipped.reason}"), err=True
        )
    problems = unsurvivable(config, plan, new, today)
    if problems:
        for problem in problems:
            click.echo(terminal_text(f"{name}: refused: {problem}"), err=True)
        click.echo(f"{name}: nothing was written", err=True)
        return EXIT_CHECK_FAILED
    load_config_text(plan.text, config_path, today=today)  # the edit must load as of today
    change = Change(config_path.absolute(), data, plan.text.encode("utf-8"))
    if not quiet:
        click.echo(terminal_text(unified_diff(change, name)), nl=False)
    if change.changed and not dry_run:
        write_all([change])
    verb = "would move" if dry_run else "moved"
    click.echo(f"{name}: {verb} {len(plan.changes)} date(s) to {new.isoformat()}", err=True)
    return 0


def _new_date(to_text: str | None, extend_text: str | None, today: dt.date) -> dt.date:
    from pingen.author.expiry import parse_duration

    if (to_text is None) == (extend_text is None):
        raise click.UsageError("give the new expiry: --to DATE or --extend DURATION (one)")
    if to_text is not None:
        try:
            new = dt.date.fromisoformat(to_text.strip())
        except ValueError:
            raise click.BadParameter(
                f"{to_text!r} is not a date; write YYYY-MM-DD", param_hint="'--to'"
            ) from None
    else:
        assert extend_text is not None
        try:
            new = parse_duration(extend_text, today)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="'--extend'") from None
    if new <= today:
        raise click.BadParameter(
            f"{new.isoformat()} is not after today ({today.isoformat()}); "
            "a pin set expires in the future",
            param_hint="'--to'" if to_text else "'--extend'",
        )
    return new
