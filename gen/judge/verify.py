"""The resolver: fetch every domain's chain, verify it, judge its pin set.

    report = verify_config(config, domains=None, timeout=10, concurrency=32)
    report.failed        # a domain failed: `build --verify` must not write
    report.exit_code     # 0 ok/warn, 1 a domain failed, 3 only the network kept a check
    pingen.report.verify.render(report, "text")  # the table (reports never import verify)

    verify_chain_file(config, Path("fullchain.pem"), "api.example.com", at)  # offline

`build --verify`, `verify` and `verify --chain` all end in a VerifyReport.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pingen.errors import (
    EXIT_CHECK_FAILED,
    EXIT_NETWORK,
    EXIT_OK,
    ConfigError,
    Location,
    display_path,
)
from pingen.hosts import host_key
from pingen.judge.domain import (
    ChainEntry,
    DomainReport,
    EntryJson,
    judge_chain,
    judge_unreachable,
)
from pingen.judge.findings import Status
from pingen.model import Config, Domain
from pingen.pki.chain import dns_names, load_trust_store, read_chain_file
from pingen.pki.fetch import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    Fetched,
    OnFetched,
    Target,
    fetch_chains,
)

if TYPE_CHECKING:
    from cryptography import x509


@dataclass(frozen=True)
class VerifyReport:
    domains: tuple[DomainReport, ...]

    def count(self, status: Status) -> int:
        return sum(1 for report in self.domains if report.status is status)

    @property
    def summary(self) -> dict[str, int]:
        return {status.value: self.count(status) for status in Status}

    @property
    def failed(self) -> bool:
        """A domain failed (no live match, untrusted chain...): exit 1."""
        return self.count(Status.FAIL) > 0

    @property
    def unreachable(self) -> bool:
        """The network kept at least one domain from being checked."""
        return self.count(Status.ERROR) > 0

    @property
    def exit_code(self) -> int:
        if self.failed:
            return EXIT_CHECK_FAILED
        if self.unreachable:
            return EXIT_NETWORK
        return EXIT_OK

    def as_json(self, entry_json: EntryJson = ChainEntry.as_json) -> dict[str, object]:
        return {
            "domains": [report.as_json(entry_json) for report in self.domains],
            "summary": self.summary,
        }


def select_domains(
    config: Config, hosts: Sequence[str] | None, option: str = "--domain"
) -> list[Domain]:
    """The configured domains, or those named by --domain (in the config's order);
    `option` is how a message names the flag that gave an unknown host."""
    if not hosts:
        return list(config.domains)
    wanted = [host_key(host) for host in hosts]
    known = {domain.host for domain in config.domains}
    unknown = [host for host in wanted if host not in known]
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise ConfigError(
            f"{option} {unknown[0]}: no such domain in this config (domains: {names})",
            Location(display_path(config.path)),
        )
    return [domain for domain in config.domains if domain.host in wanted]


def uses_trustkit_ios(config: Config) -> bool:
    """The config has an output whose pins TrustKit (iOS) enforces, at the top level or
    in a target (an app repository's files are enforced by the same TrustKit)."""
    targets = [output for target in config.targets for output in target.outputs]
    if not config.outputs and not targets:
        return False  # a config that only pins (and verify need not load the renderers)
    from pingen.render.trustkit_rules import uses_trustkit_ios as any_trustkit_ios

    return any_trustkit_ios(output.type for output in (*config.outputs, *targets))


def uses_urlsession(config: Config) -> bool:
    """The config has a `urlsession` output (it hashes only some key types)."""
    return any(output.type == "urlsession" for output in config.outputs)


def verify_config(
    config: Config,
    *,
    domains: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    at: dt.datetime | None = None,
    progress: OnFetched | None = None,
) -> VerifyReport:
    """Dial every (selected) domain and judge its pin set against what it serves now."""

    selected = select_domains(config, domains)
    when = at or dt.datetime.now(dt.UTC)
    by_host = {domain.host: domain for domain in selected}
    trustkit_ios = uses_trustkit_ios(config)
    urlsession = uses_urlsession(config)

    store = load_trust_store(config.trust)  # a CA file that does not parse: before dialling

    def judge(result: Fetched) -> DomainReport:
        domain = by_host[result.host]
        if result.error is not None:
            return judge_unreachable(domain, result.address, result.error, when)
        return judge_chain(
            domain,
            result.certificates(),
            store,
            when,
            result.address,
            config.trust.catalog,
            trustkit_ios=trustkit_ios,
            urlsession=urlsession,
        )

    # The chains are judged once every handshake is done, in this thread. Judging each
    # in a worker thread as it arrived overlapped network waits, but the judge's Python
    # code took the GIL from the event loop: on loopback (where the client's CPU is the
    # limit, as in benchmarks/bench_verify.py) that cost 20-40 % of the wall time and
    # 0.12 s more CPU per 500 domains than judging afterwards; over a real network the
    # judging (about 0.4 ms a domain, its CA work shared) is small beside the dialling.
    targets = [Target(domain.host, domain.connect) for domain in selected]
    fetched = fetch_chains(targets, timeout=timeout, concurrency=concurrency, progress=progress)
    reports = [judge(result) for result in fetched]
    return VerifyReport(tuple(reports))


def _refuse_other_hosts(leaf: x509.Certificate, domain: Domain, chain_file: Path) -> None:
    """A leaf that names only other hosts is the wrong file (exit 2, as `guard` says),
    not a failing domain."""
    from pingen.judge.guard import affected_domains

    names = dns_names(leaf)
    if names and not affected_domains(names, [domain]):
        raise ConfigError(
            f"its leaf certificate covers {', '.join(names)}, not "
            f"{domain.host}: is it the right file, or the right --domain?",
            Location(chain_file),
        )


def verify_chain_file(
    config: Config, chain_file: Path, host: str, at: dt.datetime | None = None
) -> VerifyReport:
    """The same judgement, offline, on a chain file (leaf first, as a server sends it)."""

    (domain,) = select_domains(config, [host])
    served = read_chain_file(chain_file)
    _refuse_other_hosts(served[0], domain, chain_file)
    store = load_trust_store(config.trust)
    when = at or dt.datetime.now(dt.UTC)
    return VerifyReport(
        (
            judge_chain(
                domain,
                served,
                store,
                when,
                str(chain_file),
                config.trust.catalog,
                trustkit_ios=uses_trustkit_ios(config),
                urlsession=uses_urlsession(config),
            ),
        )
    )
