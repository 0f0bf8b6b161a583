"""`pingen keygen NAME`: a backup key pair (and CSR) to pin now and deploy later."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pingen.author import keys
from pingen.author.keys import (
    DEFAULT_KEY_TYPE,
    KEY_TYPES,
    exposed_warning,
    refuse_asset_folder,
    refuse_output_folder,
    write_key_files,
)
from pingen.commands.options import DEFAULT_CONFIG, certificate_names, load
from pingen.config.yamltext import file_pin_entry, indented
from pingen.errors import ConfigError, display_path
from pingen.pki.sources import key_type as describe_key
from pingen.spki import pin_of_public_key

if TYPE_CHECKING:
    from pingen.author.keys import KeyPaths, KeyType, PrivateKey
    from pingen.model import Config


@click.command(name="keygen")
@click.argument("name")
@click.option(
    "--type",
    "key_type",
    type=click.Choice(KEY_TYPES),
    default=DEFAULT_KEY_TYPE,
    show_default=True,
    help="Key algorithm and size.",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for the files (created with mode 0700 if missing).",
)
@click.option(
    "--csr-domain",
    "csr_domains",
    multiple=True,
    metavar="D",
    help="Also write a CSR with D as a subjectAltName (repeat for more names; "
    "the first is the subject CN; *.example.com allowed).",
)
@click.option(
    "--passphrase-env",
    "passphrase_env",
    metavar="VAR",
    help="Encrypt the private key with the passphrase in environment variable VAR.",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The pins.yaml the key is for (default: ./pins.yaml if it "
    "exists): the printed `file:` is relative to it, and --dir may not be one of "
    "its output folders.",
)
def command(
    name: str,
    key_type: KeyType,
    folder: Path,
    csr_domains: tuple[str, ...],
    passphrase_env: str | None,
    config_path: Path | None,
) -> None:
    """Make a backup key pair NAME to pin now and deploy at the next rotation.

    \b
    Writes, in --dir:
      NAME.key.pem  the private key (PKCS#8 PEM), mode 0600 from creation.
                    Keep it OFFLINE, never commit it, never ship it in the app.
      NAME.pub.pem  the public key: commit this one and pin it (`file:`).
      NAME.csr.pem  with --csr-domain: a CSR to get a certificate for the key
                    when you promote it (certbot certonly --csr, acme.sh --signcsr,
                    lego --csr, or your CA's form).

    Never overwrites: if any of these files exists, nothing is written (exit 2).
    Refuses a --dir inside a folder that pins.yaml renders app files into, or an
    app asset folder that ships in the APK or IPA (src/main/assets, res/raw,
    *.xcassets, a bundle's Resources).
    Prints the pin and the lines to paste under the domain's `pins:` in
    pins.yaml; the private key is never printed. Warns when the private key would
    land in a git work tree without being ignored.
    """

    try:
        keys.check_name(name)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    names = certificate_names(csr_domains, "--csr-domain")
    passphrase = _passphrase(passphrase_env)
    config = _config_for(config_path)
    paths = keys.KeyPaths.for_name(folder, name, with_csr=bool(names))
    refuse_asset_folder(folder)
    if config is not None:
        refuse_output_folder(folder, config)
    try:
        keys.refuse_existing(paths)
    except keys.KeyFileError as error:
        raise ConfigError(str(error)) from None
    _warn_if_exposed(paths.private)
    key = keys.generate(key_type)
    contents = [
        (paths.private, keys.private_pem(key, passphrase), keys.PRIVATE_MODE),
        (paths.public, keys.public_pem(key), keys.PUBLIC_MODE),
    ]
    if paths.csr is not None:
        contents.append((paths.csr, keys.csr_pem(keys.csr_for(key, names)), keys.PUBLIC_MODE))
    write_key_files(folder, contents)
    _report(name, paths, key, names, config, encrypted=passphrase is not None)


def _passphrase(variable: str | None) -> bytes | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise ConfigError(
            f"--passphrase-env {variable}: the environment variable {variable} "
            "is not set; export it with the passphrase, or leave the option out"
        )
    if not value:
        raise ConfigError(
            f"--passphrase-env {variable}: the environment variable {variable} "
            "is empty; an empty passphrase would not protect the key"
        )
    return value.encode("utf-8")


def _config_for(config_path: Path | None) -> Config | None:
    """The pins.yaml to check against: -c (must load), or ./pins.yaml if present."""

    if config_path is not None:
        return load(config_path)
    default = Path(DEFAULT_CONFIG)
    if not default.is_file():
        return None
    try:
        return load(default)
    except ConfigError as error:
        click.echo(
            f"pingen: warning: {default} does not load, so the output folders were "
            f"not checked ({str(error).splitlines()[0]})",
            err=True,
        )
        return None


def _report(
    name: str,
    paths: KeyPaths,
    key: PrivateKey,
    names: tuple[str, ...],
    config: Config | None,
    *,
    encrypted: bool,
) -> None:

    public_key = key.public_key()
    kind = describe_key(public_key)
    pin = pin_of_public_key(public_key)
    protection = "encrypted with the passphrase" if encrypted else "NOT encrypted"
    click.echo(
        f"private key  {display_path(paths.private)}  ({kind}, mode 0600, {protection}): "
        "keep it offline; never commit it or ship it in the app"
    )
    click.echo(f"public key   {display_path(paths.public)}  (commit this one and pin it)")
    if paths.csr is not None:
        click.echo(f"CSR          {display_path(paths.csr)}  ({', '.join(names)})")
    click.echo(f"pin          {pin}")
    click.echo("")
    click.echo("Add to the domain's `pins:` in pins.yaml:")
    click.echo("")
    entry = file_pin_entry(
        _file_reference(paths.public, config), f"backup key {name} ({kind})", backup=True
    )
    for line in indented("      ", entry):
        click.echo(line)


def _file_reference(public: Path, config: Config | None) -> str:
    """The `file:` value: relative to pins.yaml (or to here), else absolute."""
    base = config.root.resolve() if config is not None else Path.cwd().resolve()
    target = public.resolve()
    if target.is_relative_to(base):
        return target.relative_to(base).as_posix()
    folder = f"the folder of {display_path(config.path)}" if config else "the current folder"
    click.echo(
        f"pingen: note: {display_path(public)} lies outside {folder}; copy it "
        "into the app repository and point `file:` at the copy",
        err=True,
    )
    return target.as_posix()


def _warn_if_exposed(private: Path) -> None:
    warning = exposed_warning(private)
    if warning is not None:
        click.echo(f"pingen: warning: {warning}", err=True)
