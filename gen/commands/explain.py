"""`pingen explain HOST`: does each output's platform pin HOST, with what, and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from pingen.commands.options import at_option, config_option, format_option, load, parse_at
from pingen.errors import ConfigError
from pingen.hosts import normalize_host
from pingen.textsafe import terminal_text


@click.command(name="explain")
@click.argument("host")
@config_option
@format_option(["text", "json"])
@at_option("Judge expiry as of this day (default: while every pin set is in force).")
def command(host: str, config_path: Path, output_format: str, at_text: str | None) -> int:
    """Show, per output in pins.yaml (each target's too), whether its platform pins HOST,
    with which pins, until when, and which entry or rule decided.

    HOST may be configured, a subdomain of a configured domain, or unrelated. The
    answer is the model `pingen build` proves every output against: Android NSC and
    TrustKit take the most specific entry, OkHttp pools every matching pattern,
    NSPinnedDomains unions the host's and its parent's identities.
    """
    from pingen.judge.explain import explain, render_json, render_text

    try:
        name = normalize_host(host)
    except ValueError as error:
        raise ConfigError(f"HOST: {error}") from None
    at = parse_at(at_text).date() if at_text else None
    # Expiry is what --at judges here (a past date answers "not pinned"): the loader does
    # not refuse a past `expires`, so `explain --at` works on any day, before it or after.
    config = load(config_path, today=dt.date.min)
    views = explain(config, name, at)
    if output_format == "json":
        click.echo(render_json(name, views), nl=False)
    else:  # labels and paths are data
        click.echo(terminal_text(render_text(name, views)), nl=False)
    return 0
