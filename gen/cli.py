"""The `pingen` command line: a thin, lazily loaded front onto `pingen.commands`.

Each command lives in its own module under `pingen/commands/` and exposes a click
command named `command`. Modules are imported only when their command runs, so
`pingen --help` stays fast.
"""

from __future__ import annotations

import importlib
import io
import sys

import click

from pingen import __version__
from pingen.errors import EXIT_BAD_INPUT, ConfigErrors, PingenError
from pingen.textsafe import terminal_text

# name -> one-line help. The help lives here so that `pingen --help` lists every
# command without importing any of them.
COMMANDS: dict[str, str] = {
    "build": "Validate pins.yaml and render every output (all or nothing).",
    "verify": "Check every pin set against the chains the servers serve now.",
    "suggest": "Propose the most durable pin set for what a host serves.",
    "pin": "Print the pin of certificates, keys, CSRs or a live host's chain.",
    "keygen": "Make a backup key pair and print the pins.yaml lines for it.",
    "guard": "Before a server switches certificates: will the apps still connect?",
    "diff": "What changed between two versions of pins.yaml.",
    "expires": "Move the pin sets' expiry forward in pins.yaml, editing only the dates.",
    "init": "Write a starter pins.yaml from the chains hosts serve.",
    "schema": "Print the JSON Schema of pins.yaml.",
    "probe": "A test server posing as the app's hosts: does the app really pin?",
    "explain": "Does each output's platform pin HOST, with which pins, and why?",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"pingen.commands.{cmd_name}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pingen")
def cli() -> None:
    """Keep an app's TLS public-key pins in one pins.yaml, check them against the
    servers that are live now, and render the pinning configuration for iOS and
    Android.

    Exit codes: 0 success; 1 a check failed; 2 bad input; 3 the network kept a
    check from running.
    """


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn every user-facing error into its message and exit code.

    Commands return an exit code (or None for 0) or raise a PingenError.
    """
    try:
        result = cli.main(args=argv, prog_name="pingen", standalone_mode=False)
    except PingenError as error:
        for each in error.errors if isinstance(error, ConfigErrors) else [error]:
            message = f"pingen: {each}" if each.location is None else str(each)
            click.echo(terminal_text(message), err=True)
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        _show(error)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_BAD_INPUT
    return result if isinstance(result, int) else 0


def _show(error: click.ClickException) -> None:
    """click's message, which may quote an argument, with its control characters escaped."""

    shown = io.StringIO()
    error.show(file=shown)
    click.echo(terminal_text(shown.getvalue()), err=True, nl=False)


if __name__ == "__main__":
    sys.exit(main())
