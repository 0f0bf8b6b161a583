"""`pingen probe`: an interception test server that an app's own tests run against."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click
from cryptography import x509

from pingen import hosts
from pingen.author.keys import exposed_warning, refuse_output_folder
from pingen.commands.options import Seconds, config_option, load
from pingen.errors import EXIT_CHECK_FAILED, ConfigError, display_path
from pingen.probe.pki import (
    CA_KEY_FILE,
    ProbePkiError,
    fresh_ca,
    is_probe_ca,
    kept_ca,
    new_key,
    read_private_key,
)
from pingen.spki import pin_of_public_key

if TYPE_CHECKING:
    import socket

    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from pingen.model import Config, Domain
    from pingen.probe.endpoint import Outcome, Plan, Target
    from pingen.probe.pki import ProbeCA

DEFAULT_LISTEN = "127.0.0.1:8443"


@click.command(name="probe")
@config_option
@click.option(
    "--listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    metavar="ADDR:PORT",
    help="Where to listen (an IP address; port 0 picks a free one). Only this "
    "machine can reach the default.",
)
@click.option(
    "--mode",
    type=click.Choice(["refuse", "accept"]),
    default="refuse",
    show_default=True,
    help="refuse: no chain holds a pinned key, the app must "
    "refuse; accept: the leaf holds --key, the app must "
    "connect.",
)
@click.option(
    "--domain",
    "domains",
    multiple=True,
    metavar="HOST",
    help="Test only these hosts of pins.yaml (repeat; default: all of them).",
)
@click.option(
    "--control",
    metavar="HOST",
    help="A host pins.yaml does not pin that the app dials: it must receive a "
    "request, which proves the device trusts the probe CA.",
)
@click.option(
    "--key",
    "key_path",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="accept mode: the private key of a pinned key (a "
    "dedicated test key, never an offline backup's).",
)
@click.option(
    "--ca-out",
    "ca_out",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Write the probe CA certificate here (default: print it).",
)
@click.option(
    "--ca-dir",
    "ca_dir",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Keep the probe CA (key mode 0600) in DIR and reuse it, so "
    "devices need it installed once. Default: a fresh CA "
    "every run.",
)
@click.option(
    "--duration",
    type=Seconds(min=0, min_open=True),
    metavar="S",
    help="Stop after S seconds (default: at Ctrl-C or SIGTERM).",
)
@click.option(
    "--connections",
    type=click.IntRange(min=1),
    metavar="N",
    help="Stop after N connections to the hosts under test or the control host.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also write the verdicts as JSON, for CI.",
)
def command(
    config_path: Path,
    listen: str,
    mode: str,
    domains: tuple[str, ...],
    control: str | None,
    key_path: Path | None,
    ca_out: Path | None,
    ca_dir: Path | None,
    duration: float | None,
    connections: int | None,
    report_path: Path | None,
) -> int:
    """Pretend to be the app's servers with keys it must refuse, and report whether
    it refused.

    \b
    One port serves TLS (the SNI picks the certificate) and HTTP CONNECT (point a
    device's or emulator's proxy here). Every certificate chains to a probe CA that
    the device must trust. It never forwards anything to the real servers.
    \b
    Verdicts, per host under test:
      refuse   PASS: the client went away without a request
               FAIL: a request arrived (the app does not pin this host)
      accept   PASS: a request arrived; FAIL: the client refused the pinned key
      control  PASS: a request arrived (the device trusts the probe CA); without it
               every other PASS becomes UNTESTED
      UNTESTED: nobody dialled the host
    Exit 0 when every host passed, 1 otherwise, 2 on bad input.
    """
    from pingen.probe.endpoint import ProbeError, listening_socket
    from pingen.probe.report import report, table

    config = load(config_path)
    address = parse_listen(listen)
    selected = _selected(config, domains)
    control_host = _control(config, control)
    accept_key = _accept_key(config, selected, mode, key_path)
    _check_ca_out(ca_out)
    _check_report(report_path)
    if ca_dir is not None:
        refuse_output_folder(ca_dir, config, "--ca-dir")
    try:
        sock = listening_socket(*address)  # before anything is written: a busy port is exit 2
    except ProbeError as error:
        raise ConfigError(str(error)) from None
    with sock:
        listening = _shown(sock.getsockname())
        ca = _probe_ca(config, ca_dir)
        plan = _plan(config, selected, control_host, ca, accept_key)
        outcome = _serve(plan, sock, ca, ca_out, duration, connections)

    for line in table(outcome):
        click.echo(line)
    if control_host is None:
        click.echo(
            "note: no --control host; a PASS also appears when the device does not "
            "trust the probe CA at all",
            err=True,
        )
    if report_path is not None:
        header = {
            "mode": mode,
            "listen": listening,
            "probe_ca": {"subject": ca.cert.subject.rfc4514_string(), "sha256": ca.pin},
            "control": control_host,
        }
        _write_report(report_path, report(outcome, header))
    return 0 if outcome.passed else EXIT_CHECK_FAILED


def parse_listen(text: str) -> tuple[str, int]:
    """`--listen`: pingen.hosts.parse_listen, or exit 2 naming the option."""
    try:
        return hosts.parse_listen(text)
    except ValueError as error:
        raise ConfigError(f"--listen {text}: {error}") from None


def _selected(config: Config, texts: tuple[str, ...]) -> list[Domain]:
    from pingen.judge.verify import select_domains  # the same --domain as verify's

    return select_domains(config, texts)


def _control(config: Config, text: str | None) -> str | None:
    if text is None:
        return None
    try:
        host = hosts.normalize_host(text)
    except ValueError as error:
        raise ConfigError(f"--control {text}: {error}") from None
    for domain in config.domains:
        if host == domain.host or (domain.include_subdomains and host.endswith("." + domain.host)):
            raise ConfigError(
                f"--control {text}: {display_path(config.path)} pins {host} "
                f"(domain {domain.host}); the control host must be one the "
                "app dials WITHOUT pinning"
            )
    return host


def _accept_key(
    config: Config, selected: list[Domain], mode: str, key_path: Path | None
) -> PrivateKeyTypes | None:

    if mode == "refuse":
        if key_path is not None:
            raise ConfigError(
                "--key is for --mode accept: refuse mode serves keys that no host pins"
            )
        return None
    if key_path is None:
        raise ConfigError(
            "--mode accept needs --key FILE: the private key of a key that "
            "pins.yaml pins (a dedicated test key)"
        )
    try:
        key = read_private_key(key_path)
    except ProbePkiError as error:
        raise ConfigError(f"--key {error}") from None
    pin = pin_of_public_key(key.public_key())
    if not any(pin in domain.pin_set.hashes for domain in selected):
        hosts = ", ".join(d.host for d in selected)
        raise ConfigError(
            f"--key {key_path}: its key (sha256/{pin}) is not pinned by "
            f"{hosts} in {display_path(config.path)}; accept mode needs the "
            "private key of a pinned key"
        )
    return key


def _probe_ca(config: Config, ca_dir: Path | None) -> ProbeCA:

    now = dt.datetime.now(dt.UTC)
    if ca_dir is None:
        ca = fresh_ca(now)
    else:
        try:
            ca, created = kept_ca(ca_dir, now)
        except ProbePkiError as error:
            raise ConfigError(f"--ca-dir {error}") from None
        warning = exposed_warning(ca_dir / CA_KEY_FILE) if created else None
        if warning is not None:
            click.echo(f"pingen: warning: {warning}", err=True)
    pinned = {h for domain in config.domains for h in domain.pin_set.hashes}
    if ca.pin in pinned:
        raise ConfigError(
            f"the probe CA's key (sha256/{ca.pin}) is pinned in "
            f"{display_path(config.path)}: the probe would prove nothing. "
            "Remove that pin, or use another --ca-dir"
        )
    return ca


def _plan(
    config: Config,
    selected: list[Domain],
    control: str | None,
    ca: ProbeCA,
    accept_key: PrivateKeyTypes | None,
) -> Plan:
    from pingen.probe.endpoint import Plan, Target

    accept_pin = pin_of_public_key(accept_key.public_key()) if accept_key else None
    as_ca = any(
        pin.sha256 == accept_pin and pin.level is not None and pin.level.is_ca
        for domain in selected
        for pin in domain.pins
    )
    targets: list[Target] = [
        Target(
            d.host, d.include_subdomains, "accept" if accept_pin in d.pin_set.hashes else "refuse"
        )
        for d in selected
    ]
    if control is not None:
        targets.append(Target(control, False, "control"))
    return Plan(tuple(targets), ca, new_key(), accept_key, accept_as_ca=as_ca)


def _check_ca_out(path: Path | None) -> None:
    """--ca-out may replace only an earlier probe CA certificate (it is public)."""

    if path is not None and (path.exists() or path.is_symlink()):
        try:
            earlier = x509.load_pem_x509_certificate(path.read_bytes())
        except (ValueError, OSError):
            earlier = None
        if path.is_symlink() or earlier is None or not is_probe_ca(earlier):
            raise ConfigError(
                f"--ca-out {path}: the file exists and is not a probe CA "
                "certificate pingen wrote; pingen never overwrites it. Choose "
                "another file"
            )


def _write_ca(ca: ProbeCA, path: Path) -> None:
    try:
        path.write_bytes(ca.pem())
    except OSError as error:
        raise ConfigError(f"--ca-out {path}: cannot write it ({error.strerror})") from None


def _serve(
    plan: Plan,
    sock: socket.socket,
    ca: ProbeCA,
    ca_out: Path | None,
    duration: float | None,
    connections: int | None,
) -> Outcome:
    import asyncio

    from pingen.probe.endpoint import ProbeServer

    def ready(bound: tuple[str, int]) -> None:
        if ca_out is not None:
            _write_ca(ca, ca_out)
        _announce(plan, bound, ca, ca_out, duration, connections)

    with tempfile.TemporaryDirectory(prefix="pingen-probe-") as folder:
        server = ProbeServer(plan, Path(folder), log=_log_attempt)
        return asyncio.run(
            server.serve(sock, duration=duration, connections=connections, ready=ready)
        )


def _announce(
    plan: Plan,
    bound: tuple[str, int],
    ca: ProbeCA,
    ca_out: Path | None,
    duration: float | None,
    connections: int | None,
) -> None:
    host = bound[0]
    shown = _shown(bound)
    click.echo(
        f"pingen probe: listening on {shown} (TLS and HTTP CONNECT); it never forwards traffic"
    )
    if ca_out is not None:
        click.echo(
            f"probe CA: {display_path(ca_out)} (sha256/{ca.pin}); install it as a "
            "trusted CA on the device under test"
        )
    else:
        click.echo(
            f"probe CA (sha256/{ca.pin}); install it as a trusted CA on the device under test:"
        )
        click.echo(ca.pem().decode("ascii"), nl=False)
    holder = "an intermediate" if plan.accept_as_ca else "the leaf"
    for target in plan.targets:
        scope = " and its subdomains" if target.include_subdomains else ""
        key = f" ({holder} holds --key)" if target.expect == "accept" else ""
        click.echo(f"  {target.expect:<8} {target.host}{scope}{key}")
    listening_on = hosts.ip_address(host)  # the socket's own address: an IP
    if listening_on is None or not listening_on.is_loopback:
        click.echo(
            f"pingen: warning: listening on {shown}: every machine that reaches this "
            "one can connect to the probe",
            err=True,
        )
    limits = [
        f"{duration:g} s" if duration else "",
        f"{connections} connections" if connections else "",
    ]
    stop = " or ".join(each for each in limits if each) or "Ctrl-C (or SIGTERM)"
    click.echo(f"stops after {stop}; then prints the verdicts")


def _shown(address: tuple[str, int]) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _log_attempt(host: str, detail: str) -> None:
    from pingen.probe.report import safe

    click.echo(f"probe: {safe(host)}: {safe(detail)}", err=True)


def _check_report(path: Path | None) -> None:
    """Find out now, not after a long run, that the report cannot be written there."""
    if path is not None and not path.absolute().parent.is_dir():
        raise ConfigError(
            f"--report {path}: the folder {path.absolute().parent} does not "
            "exist; create it or write the report elsewhere"
        )


def _write_report(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"--report {path}: cannot write it ({error.strerror})") from None
