"""`pingen guard`: may this certificate (or this planned key) go live?"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pingen.commands.options import load
from pingen.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, ConfigError, display_path

if TYPE_CHECKING:
    from pingen.chain import TrustStore
    from pingen.guard import ConfigReport, DomainVerdict, Plan
    from pingen.model import Config, Pin, Trust

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.command(name="guard")
@click.option("--chain", "chain_path", type=_FILE, metavar="NEW.pem",
              help="The chain the server will send, leaf first (certbot: fullchain.pem). "
                   "With --key: the current chain, or the issuing CA's certificates.")
@click.option("-c", "--config", "config_paths", type=_FILE, multiple=True,
              default=[Path("pins.yaml")], show_default=True,
              help="A pins.yaml of an app version still in use; repeat for each version "
                   "(the oldest matters most).")
@click.option("--key", "key_path", type=_FILE, metavar="NEW_KEY.pem",
              help="Judge a planned key before its certificate exists: a public key, "
                   "private key or CSR file.")
@click.option("--domain", "domains", multiple=True, metavar="D",
              help="With --key: a host the new certificate will cover (repeat). Default: "
                   "the CSR's names, else the names of the leaf in --chain.")
def command(chain_path: Path | None, config_paths: tuple[Path, ...], key_path: Path | None,
            domains: tuple[str, ...]) -> int:
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
    """
    from pingen.guard import GuardInputError, judge, plan_from_files

    if domains and key_path is None:
        raise ConfigError("--domain goes with --key; a certificate's names come from the "
                          "certificate itself")
    names = _normalized(domains)
    try:
        plan = plan_from_files(chain_path, key_path, names)
    except GuardInputError as error:
        raise ConfigError(str(error)) from None
    # Unlike `build`, a past `expires` loads: an old app version's pin set may have
    # expired, and then it fails open.
    configs = [load(path, today=dt.date.min) for path in dict.fromkeys(config_paths)]
    at = dt.datetime.now(dt.UTC)
    stores: dict[Trust, TrustStore] = {}  # configs with the same trust share one store
    reports = [judge(plan, config, at, stores) for config in configs]
    if not any(report.verdicts for report in reports):
        click.echo(_covers_nothing(plan, chain_path, key_path, configs), err=True)
        return EXIT_BAD_INPUT
    _print_plan(plan, chain_path)
    for report in reports:
        _print_report(report)
    return _print_conclusion(plan, reports)


def _normalized(domains: tuple[str, ...]) -> tuple[str, ...]:
    from pingen.keys import normalize_csr_name

    names: list[str] = []
    for text in domains:
        try:
            names.append(normalize_csr_name(text))
        except ValueError as error:
            raise ConfigError(f"--domain {text}: {error}") from None
    return tuple(dict.fromkeys(names))


def _covers_nothing(plan: Plan, chain_path: Path | None, key_path: Path | None,
                    configs: list[Config]) -> str:
    source = chain_path if plan.planned_key is None else key_path
    configured = sorted({d.host for c in configs for d in c.domains})
    shown = ", ".join(configured[:10]) + (", ..." if len(configured) > 10 else "")
    files = ", ".join(str(display_path(c.path)) for c in configs)
    return (f"pingen: {source}: covers none of the domains in {files} (it names "
            f"{', '.join(plan.names)}; configured: {shown or 'none'}). Is it the right "
            "file, or the right -c?")


def _print_plan(plan: Plan, chain_path: Path | None) -> None:
    from pingen.guard import subject_of

    if plan.planned_key is None:
        click.echo(f"new certificate: {chain_path} ({subject_of(plan.served[0])})")
    else:
        click.echo(f"planned key: {plan.planned_from} ({plan.planned_key.key_type}, "
                   f"sha256 {plan.planned_key.sha256})")
        if not plan.served:
            click.echo("  no --chain: the CA that will issue it is unknown, so only leaf "
                       "pins can match")
        elif _is_ca_only(plan):
            click.echo(f"  to be issued by: {subject_of(plan.served[0])} (from {chain_path})")
        else:
            click.echo(f"  to be issued like the current leaf in {chain_path}; a CA that "
                       "rotates intermediates (Let's Encrypt, Google, Amazon) may use another "
                       "one, and only root pins survive that")
    click.echo(f"  covers: {', '.join(plan.names)}")


def _is_ca_only(plan: Plan) -> bool:
    from pingen.guard import is_ca

    return bool(plan.served) and is_ca(plan.served[0])


def _print_report(report: ConfigReport) -> None:
    name = display_path(report.config.path)
    click.echo("")
    if not report.verdicts:
        click.echo(f"{name}: pins none of the names the new certificate covers (not affected)")
        return
    if report.untrusted_reason is not None:
        click.echo(f"{name}: the new chain does not verify: {report.untrusted_reason}")
    else:
        click.echo(f"{name}: the new chain, completed to a trusted root:")
        for key in report.chain:
            click.echo(f"  {key.level.value:<12}  {key.sha256}  {key.subject}")
    for verdict in report.verdicts:
        click.echo(f"  {_mark(verdict)}  {verdict.domain.host}  {_explain(verdict)}")


def _mark(verdict: DomainVerdict) -> str:
    from pingen.guard import Outcome

    return {Outcome.SAFE: "ok     ", Outcome.EXPIRED: "expired",
            Outcome.BREAKS: "BREAKS ", Outcome.UNTRUSTED: "BREAKS "}[verdict.outcome]


def _explain(verdict: DomainVerdict) -> str:
    from pingen.guard import Outcome

    if verdict.outcome is Outcome.SAFE:
        return "matches " + "; ".join(_describe_pin(pin) for pin in verdict.matched)
    if verdict.outcome is Outcome.EXPIRED:
        return (f"no pin matches, but the pin set expired on {verdict.domain.expires}: these "
                "apps no longer pin it")
    if verdict.outcome is Outcome.UNTRUSTED:
        return "every app refuses an untrusted chain, pinned or not"
    return f"none of its {len(verdict.domain.pins)} pins is in the new chain"


def _describe_pin(pin: Pin) -> str:
    parts = [pin.label or pin.sha256]
    details = [d for d in (pin.level.value if pin.level else None,
                           "backup" if pin.backup else None) if d]
    return parts[0] + (f" ({', '.join(details)})" if details else "")


def _print_conclusion(plan: Plan, reports: list[ConfigReport]) -> int:
    from pingen.guard import Outcome

    broken = [(r, v) for r in reports for v in r.verdicts if v.unsafe]
    click.echo("")
    if not broken:
        click.echo("SAFE: every app version given keeps a pin for every domain the new "
                   "certificate covers.")
        return 0
    click.echo("UNSAFE: do not deploy. It would break:")
    for report, verdict in broken:
        click.echo(f"  {verdict.domain.host} in the apps built from "
                   f"{display_path(report.config.path)}")
    click.echo("")
    if any(v.outcome is Outcome.UNTRUSTED for _, v in broken):
        click.echo("The way out: make the chain verify first (send the intermediates, leaf "
                   "first; check the CA and trust.ca_file), then run pingen guard again.")
    if any(v.outcome is Outcome.BREAKS for _, v in broken):
        new_pin = next((r.chain[0].sha256 for r in reports if r.chain), "")
        click.echo(_WAY_OUT.format(pin=new_pin))
    return EXIT_CHECK_FAILED


_WAY_OUT = """\
The way out, either:
  1. Keep the key the apps pin: renew with the old key (certbot: `certbot renew
     --reuse-key`, or `reuse_key = True` in the lineage's renewal config;
     cert-manager: `privateKey.rotationPolicy: Never`; Caddy: `reuse_private_keys`),
     or deploy your pinned backup key (a CSR from `pingen keygen --csr-domain`).
  2. Or ship an app update whose pins.yaml pins the new key
     (sha256: {pin}),
     wait until the app versions without it are out of use, then deploy.
Then run pingen guard again with every app version's pins.yaml."""
