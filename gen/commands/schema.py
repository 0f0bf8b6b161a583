"""`pingen schema`: print the JSON Schema of pins.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from pingen.config.jsonschema import dumps
from pingen.errors import ConfigError


@click.command(name="schema")
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the schema to this file instead of standard output.",
)
def command(output_path: Path | None) -> int:
    """Print the JSON Schema (draft 2020-12) of pins.yaml.

    It is generated from the same declarations the loader reads against. Point
    your editor at it with a first line in pins.yaml:

        # yaml-language-server: $schema=pins.schema.json
    """

    text = dumps()
    if output_path is None:
        click.echo(text, nl=False)
        return 0

    try:
        output_path.write_text(text, encoding="utf-8", newline="\n")
    except OSError as error:
        raise ConfigError(f"{output_path}: cannot write it ({error.strerror})") from None
    return 0
