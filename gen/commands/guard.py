"""`pingen guard`: may this certificate (or this planned key) go live?"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pingen.commands.options import at_option, certificate_names, format_option, load, parse_at
from pingen.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, ConfigError
from pingen.textsafe import terminal_text

if TYPE_CHECKING:
    from pingen.model import Trust
    from pingen.pki.chain import TrustStore

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.command(name="guard")
@click.option(
    "--chain",
    "chain_path",
    type=_FILE,
    metavar="NEW.pem",
    help="The chain the server will send, leaf first (certbot: fullchain.pem). "
    "With --key: the current chain, or the issuing CA's certificates.",
)
@click.option(
    "-c",
    "--config",
    "config_paths",
    type=_FILE,
    multiple=True,
    default=[Path("pins.yaml")],
    show_default=True,
    help="A pins.yaml of an app version still in use; repeat for each version "
    "(the oldest matters most).",
)
@click.option(
    "--key",
    "key_path",
    type=_FILE,
    metavar="NEW_KEY.pem",
    help="Judge a planned key before its certificate exists: a public key, "
    "private key or CSR file.",
)
@click.option(
    "--domain",
    "domains",
    multiple=True,
    metavar="HOST",
    help="With --key: a host the new certificate will cover (repeat). Default: "
    "the CSR's names, else the names of the leaf in --chain.",
)
@format_option(
    ["text", "json"],
    "text: for people; json: the stable shape for CI and deploy hooks (same exit codes).",
)
@at_option(
    "Judge as of this date (YYYY-MM-DD, or an ISO date-time) instead of now: "
    "a planned switch, or a reproducible CI run."
)
def command(
    chain_path: Path | None,
    config_paths: tuple[Path, ...],
    key_path: Path | None,
    domains: tuple[str, ...],
    output_format: str,
    at_text: str | None,
) -> int:
    """Before a server switches certificates: will every app version still connect?

    \b
    For every domain in the configs that the new leaf covers (its DNS names and
    wildcards; a domain with include_subdomains counts when the leaf covers one of
    its subdomains), the new chain, completed to a root of the config's trust store
    (servers rarely send the root), must hold at least one pin of that domain, in
    EVERY config given. A pin set whose `expires` has passed no longer pins (the
    apps fail open), so it blocks nothing; such configs still load here.

    \b
    --chain NEW.pem           the certificate about to go live.
    --key K --chain CUR.pem   a renewal with a new key: same names, same issuer as
                              CUR.pem's leaf, but the key K.
    --key K --chain CA.pem    a key for a certificate from the CA in CA.pem (the
                              issuing intermediate first; the root may be left out);
                              names from --domain or the CSR.
    --key K                   the key alone: only leaf pins can match, as the CA is
                              unknown; names from --domain or the CSR.

    \b
    Exit 0: safe to deploy. 1: some app would refuse the server (each domain and
    config is named, with the way out). 2: a bad file, or a chain that covers no
    configured domain (probably the wrong file).

    \b
    --format json (on exit 0 and 1; on exit 2 only the message, on stderr):
      safe         true when no config would break
      covers       the names the new leaf covers
      leaf         the new certificate as verify's chain entry {level, subject,
                   issuer, not_after, sha256}; null with --key
      planned_key  {file, kind, key_type, sha256}; null without --key
      configs      one per -c: {config, safe, untrusted_reason, chain (entries,
                   leaf first, root last; a planned key's subject and not_after
                   are null), domains: [{domain, status (safe, breaks, expired,
                   untrusted), matched: [{sha256, label, level}], message}]}
      way_out      [{code (make-chain-verify, keep-pinned-key, pin-new-key,
                   pin-the-ca: where the provider re-keys), message}]; empty when safe
    """
    from pingen.judge.guard import GuardInputError, judge, only_domain, plan_from_files
    from pingen.report.guard import covers_nothing, render_json, render_text

    if domains and key_path is None:
        raise ConfigError(
            "--domain goes with --key; a certificate's names come from the certificate itself"
        )
    at = parse_at(at_text) if at_text is not None else dt.datetime.now(dt.UTC)
    names = certificate_names(domains, "--domain")
    # Unlike `build`, a past `expires` loads: an old app version's pin set may have
    # expired, and then it fails open.
    configs = [load(path, today=dt.date.min) for path in dict.fromkeys(config_paths)]
    try:
        plan = plan_from_files(chain_path, key_path, names, only_domain(configs))
    except GuardInputError as error:
        raise ConfigError(str(error)) from None
    stores: dict[Trust, TrustStore] = {}  # configs with the same trust share one store
    reports = [judge(plan, config, at, stores) for config in configs]
    if not any(report.verdicts for report in reports):
        click.echo(terminal_text(covers_nothing(plan, chain_path, key_path, configs)), err=True)
        return EXIT_BAD_INPUT
    if output_format == "json":
        click.echo(render_json(plan, reports), nl=False)
    else:
        click.echo(terminal_text(render_text(plan, reports, chain_path)), nl=False)
    return EXIT_CHECK_FAILED if any(report.unsafe for report in reports) else 0
