"""`pingen pin SOURCE...`: the pin of each certificate, key or CSR file (or a live host)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from pingen.commands.options import ca_file_option, format_option, timeout_option
from pingen.errors import ConfigError, Location
from pingen.model import Trust
from pingen.pki.sources import (
    MAX_KEY_FILE_BYTES,
    SourceError,
    keys_in,
    read_key_file,
    read_small_file,
)
from pingen.textsafe import terminal_text

if TYPE_CHECKING:
    from pingen.pki.sources import KeyInfo


@click.command(name="pin")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@format_option(["text", "json"], "json: one object per key, for scripts.")
@timeout_option("For a host: seconds for connect plus handshake.")
@ca_file_option(
    "For a host: PEM roots to build the verified chain to instead of certifi's "
    "Mozilla roots (a private or test CA)."
)
def command(
    sources: tuple[str, ...], output_format: str, timeout: float, ca_file: Path | None
) -> None:
    """Print the pin (base64 SHA-256 of the SubjectPublicKeyInfo, RFC 7469) of each
    SOURCE: a certificate, public key, private key or CSR file (PEM or DER; a bundle
    gives one line per certificate; `-` reads standard input), or host[:port] for the
    chain it serves (host=ADDRESS[:PORT] dials ADDRESS with the TLS server name host)."""
    trust = _trust(ca_file)
    rows = [(source, key) for source in sources for key in keys_of(source, timeout, trust)]
    if output_format == "json":
        click.echo(json.dumps([as_json(source, key) for source, key in rows], indent=2))
        return
    for source, key in rows:
        click.echo(terminal_text(as_text(source, key)))


def _trust(ca_file: Path | None) -> Trust:
    """The roots a host's chain is built to; a --ca-file without a certificate is bad
    input before anything is dialled."""
    from pingen.pki.chain import load_certificates

    if ca_file is None:
        return Trust()
    what = "PEM file of root certificates"
    try:
        roots = load_certificates(read_small_file(ca_file, what))
    except SourceError as error:
        message = str(error).removeprefix(f"{ca_file}: ")
        raise ConfigError(f"--ca-file: {message}", Location(ca_file)) from None
    except ValueError:
        roots = []
    if not roots:
        raise ConfigError(
            f"--ca-file: holds no certificate it can read; give a {what}", Location(ca_file)
        )
    return Trust(ca_file=ca_file.absolute())


def keys_of(source: str, timeout: float, trust: Trust | None = None) -> list[KeyInfo]:

    path = Path(source)
    if "://" in source and not _exists(path):
        return _live_keys(_url_host(source), timeout, trust)
    if source != "-" and not _exists(path) and _looks_like_host(source):
        return _live_keys(source, timeout, trust)
    try:
        if source == "-":
            # sys.stdin.buffer, not click.get_binary_stream: deprecated in click 8.5
            data = sys.stdin.buffer.read(MAX_KEY_FILE_BYTES + 1)
            if len(data) > MAX_KEY_FILE_BYTES:
                raise SourceError("-: larger than 1 MiB; that is no certificate or key")
            return keys_in(data, "-")
        return read_key_file(path, streams=True)
    except SourceError as error:
        message = str(error).removeprefix(f"{path}: ")
        if message == "no such file" and re.fullmatch(r"[A-Za-z0-9-]+", source):
            message += f" (for a host, give its port: {source}:443)"
        raise ConfigError(message, Location(path)) from None


def _url_host(url: str) -> str:
    """`https://host[:port]/path` as the host[:port] to dial; another scheme is bad input."""

    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise ConfigError(f"{url}: not a URL pingen can read ({error}); give host[:port]") from None
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ConfigError(
            f"{url}: pin takes an https:// URL, host[:port] or a file; "
            f"{parts.scheme or 'this'}:// is not TLS"
            if parts.hostname
            else f"{url}: no host in the URL; give host[:port]"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port or 443}"


def _exists(path: Path) -> bool:
    """Path.exists, but a name too long for the file system is simply not there."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


_KEY_FILE_SUFFIXES = (".pem", ".der", ".crt", ".cer", ".key", ".pub", ".csr", ".p7b")


def _looks_like_host(source: str) -> bool:
    """host, host:port, [v6]:port or host=address; a missing file named like a key
    file is not one."""
    if source.startswith("[") or re.fullmatch(r"[^/:=]+(:[0-9]+|=[^/]+)", source):
        return True  # a port or a dial address: localhost:8443, api.example.com=[::1]
    name = source.rsplit(":", 1)[0] if source.count(":") == 1 else source
    return "/" not in name and "." in name and not name.lower().endswith(_KEY_FILE_SUFFIXES)


def _live_keys(source: str, timeout: float, trust: Trust | None) -> list[KeyInfo]:
    from pingen.pki.live import describe_host

    return describe_host(source, timeout, trust, warn=_warn)


def _warn(message: str) -> None:
    click.echo(terminal_text(f"pingen: warning: {message}"), err=True)


def as_text(source: str, key: KeyInfo) -> str:
    parts = [key.sha256, key.level.value, key.kind, key.key_type]
    if key.subject:
        parts.append(f"subject={key.subject}")
    if key.not_after:
        parts.append(f"expires={key.not_after.date().isoformat()}")
    return "  ".join([*parts, source])


def as_json(source: str, key: KeyInfo) -> dict[str, object]:
    return {
        "source": source,
        "sha256": key.sha256,
        "level": key.level.value,
        "kind": key.kind,
        "key_type": key.key_type,
        "subject": key.subject,
        "not_after": key.not_after.isoformat() if key.not_after else None,
    }
