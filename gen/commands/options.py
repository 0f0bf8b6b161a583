"""Options and helpers shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pingen.model import Config

DEFAULT_CONFIG = "pins.yaml"

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_CONFIG,
    show_default=True,
    help="The pins.yaml to read.",
)


def load(config_path: Path) -> Config:
    """Load pins.yaml and print its warnings to stderr."""
    from pingen.load import load_config

    config = load_config(config_path)
    for warning in config.warnings:
        click.echo(str(warning), err=True)
    return config
