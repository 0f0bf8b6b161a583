"""How `pingen guard` reads: the plan, each app version's verdicts, and the conclusion.

    text = render_text(plan, reports, chain_path)   # what guard prints on stdout
    data = render_json(plan, reports)               # --format json, for CI and hooks
    covers_nothing(plan, chain_path, key_path, configs)  # the exit-2 message

Same plan and reports, same text (no colour, no clock).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pingen.errors import display_path
from pingen.judge.domain import describe_chain
from pingen.judge.findings import (
    KEEP_PINNED_KEY,
    MAKE_CHAIN_VERIFY,
    PIN_NEW_KEY,
    PIN_THE_CA,
    Finding,
)
from pingen.judge.guard import (
    ChainKey,
    ConfigReport,
    DomainVerdict,
    Outcome,
    Plan,
    is_ca,
    subject_of,
)
from pingen.judge.offline import pin_the_ca
from pingen.model import Config, Level, Pin
from pingen.pki.catalog import load_catalog
from pingen.pki.providers import PROVIDERS
from pingen.textsafe import json_text

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.pki.providers import Provider


def render_text(plan: Plan, reports: Sequence[ConfigReport], chain_path: Path | None) -> str:
    lines = _plan_lines(plan, chain_path)
    for report in reports:
        lines += ["", *_report_lines(report)]
    lines += ["", *_conclusion_lines(reports)]
    return "\n".join(lines) + "\n"


def covers_nothing(
    plan: Plan, chain_path: Path | None, key_path: Path | None, configs: Sequence[Config]
) -> str:
    """Why a plan that touches no configured domain is probably the wrong file."""
    source = chain_path if plan.planned_key is None else key_path
    configured = sorted({d.host for c in configs for d in c.domains})
    shown = ", ".join(configured[:10]) + (", ..." if len(configured) > 10 else "")
    files = ", ".join(str(display_path(c.path)) for c in configs)
    return (
        f"pingen: {source}: covers none of the domains in {files} (it names "
        f"{', '.join(plan.names)}; configured: {shown or 'none'}). Is it the right "
        "file, or the right -c?"
    )


def _plan_lines(plan: Plan, chain_path: Path | None) -> list[str]:
    if plan.planned_key is None:
        lines = [f"new certificate: {chain_path} ({subject_of(plan.served[0])})"]
    else:
        lines = [
            f"planned key: {plan.planned_from} ({plan.planned_key.key_type}, "
            f"sha256 {plan.planned_key.sha256})"
        ]
        if not plan.served:
            lines.append(
                "  no --chain: the CA that will issue it is unknown, so only leaf pins can match"
            )
        elif is_ca(plan.served[0]):
            lines.append(f"  to be issued by: {subject_of(plan.served[0])} (from {chain_path})")
        else:
            lines.append(
                f"  to be issued like the current leaf in {chain_path}; a CA that "
                "rotates intermediates (Let's Encrypt, Google, Amazon) may use "
                "another one, and only root pins survive that"
            )
    lines.append(f"  covers: {', '.join(plan.names)}")
    return lines


def _report_lines(report: ConfigReport) -> list[str]:
    name = display_path(report.config.path)
    if not report.verdicts:
        return [f"{name}: pins none of the names the new certificate covers (not affected)"]
    if report.untrusted_reason is not None:
        lines = [f"{name}: the new chain does not verify: {report.untrusted_reason}"]
    else:
        completed = report.chain and report.chain[-1].level is Level.ROOT
        # --key alone: no CA is known, so there is no chain to complete
        lines = [
            f"{name}: the new chain, completed to a trusted root:"
            if completed
            else f"{name}: the new leaf (its CA is unknown):"
        ]
        lines += [f"  {key.level.value:<12}  {key.sha256}  {key.subject}" for key in report.chain]
    lines += [f"  {_MARK[v.outcome]}  {v.domain.host}  {_explain(v)}" for v in report.verdicts]
    return lines


_MARK = {
    Outcome.SAFE: "ok     ",
    Outcome.EXPIRED: "expired",
    Outcome.BREAKS: "BREAKS ",
    Outcome.UNTRUSTED: "BREAKS ",
}


def _explain(verdict: DomainVerdict) -> str:
    if verdict.outcome is Outcome.SAFE:
        return "matches " + "; ".join(_describe_pin(pin) for pin in verdict.matched)
    if verdict.outcome is Outcome.EXPIRED:
        return (
            f"no pin matches, but the pin set expired on {verdict.domain.expires}: these "
            "apps no longer pin it"
        )
    if verdict.outcome is Outcome.UNTRUSTED:
        return "every app refuses an untrusted chain, pinned or not"
    return f"none of its {len(verdict.domain.pins)} pins is in the new chain"


def _describe_pin(pin: Pin) -> str:
    details = [
        d for d in (pin.level.value if pin.level else None, "backup" if pin.backup else None) if d
    ]
    return (pin.label or pin.sha256) + (f" ({', '.join(details)})" if details else "")


def _conclusion_lines(reports: Sequence[ConfigReport]) -> list[str]:
    broken = [(r, v) for r in reports for v in r.verdicts if v.unsafe]
    if not broken:
        return [
            "SAFE: every app version given keeps a pin for every domain the new certificate covers."
        ]
    lines = ["UNSAFE: do not deploy. It would break:"]
    lines += [
        f"  {verdict.domain.host} in the apps built from {display_path(report.config.path)}"
        for report, verdict in broken
    ]
    lines.append("")
    steps = {step.code: step.message for step in way_out(reports)}
    if MAKE_CHAIN_VERIFY.name in steps:
        lines.append("The way out: " + _lower_first(steps[MAKE_CHAIN_VERIFY.name]))
    if KEEP_PINNED_KEY.name in steps:
        lines += [
            "The way out, either:",
            "  1. " + _indented(steps[KEEP_PINNED_KEY.name]),
            "  2. Or " + _indented(_lower_first(steps[PIN_NEW_KEY.name])),
        ]
    if PIN_THE_CA.name in steps:
        lines.append(steps[PIN_THE_CA.name])
    if KEEP_PINNED_KEY.name in steps or PIN_THE_CA.name in steps:
        lines.append("Then run pingen guard again with every app version's pins.yaml.")
    return lines


# The ways out of an unsafe switch (findings of guard's codes; `way_out` of --format json).
# A message's line breaks are where the text report breaks it; json joins the lines.

_MAKE_CHAIN_VERIFY = (
    "Make the chain verify first (send the intermediates, leaf first; check the CA and "
    "trust.ca_file), then run pingen guard again."
)
_KEEP_PINNED_KEY = """\
Keep the key the apps pin: renew with the old key (certbot: `certbot renew
--reuse-key`, or `reuse_key = True` in the lineage's renewal config;
cert-manager: `privateKey.rotationPolicy: Never`; Caddy: `reuse_private_keys`),
or deploy your pinned backup key (a CSR from `pingen keygen --csr-domain`)."""
_PIN_NEW_KEY = """\
Ship an app update whose pins.yaml pins the new key
(sha256: {pin}),
wait until the app versions without it are out of use, then deploy."""


_PIN_THE_CA = """\
The way out for {hosts}: pin the CA. {platforms} a new key at every renewal,
so neither keeping the old key nor pinning the new one lasts. Ship an app update
whose pins.yaml pins {roots}, wait until the app versions without them are out
of use, then deploy. (Or leave the managed certificate: deploy your pinned backup
key in a certificate of your own, uploaded to the platform.)"""


def way_out(reports: Sequence[ConfigReport]) -> list[Finding]:
    """What to do instead of deploying; none when it is safe.

    Where the domain's provider makes a new key at every renewal, reusing the key or
    pinning the new one is no way out: the next renewal replaces it again. Pin the CA."""
    broken = [(r, v) for r in reports for v in r.verdicts if v.unsafe]
    steps = []
    if any(v.outcome is Outcome.UNTRUSTED for _, v in broken):
        steps.append(MAKE_CHAIN_VERIFY.finding(_MAKE_CHAIN_VERIFY))
    breaks = [(r, v) for r, v in broken if v.outcome is Outcome.BREAKS]
    if any(_rekeying_provider(v.domain.provider) is None for _, v in breaks):
        new_pin = next((r.chain[0].sha256 for r in reports if r.chain), "")
        steps += [
            KEEP_PINNED_KEY.finding(_KEEP_PINNED_KEY),
            PIN_NEW_KEY.finding(_PIN_NEW_KEY.format(pin=new_pin)),
        ]
    rekeyed = [(r, v) for r, v in breaks if _rekeying_provider(v.domain.provider) is not None]
    if rekeyed:
        steps.append(PIN_THE_CA.finding(_pin_the_ca(rekeyed)))
    return steps


def _rekeying_provider(name: str | None) -> Provider | None:

    provider = PROVIDERS.get(name or "")
    return provider if provider is not None and provider.refuses_leaf_pins else None


def _pin_the_ca(rekeyed: Sequence[tuple[ConfigReport, DomainVerdict]]) -> str:

    hosts = list(dict.fromkeys(v.domain.host for _, v in rekeyed))
    providers: dict[str, Provider] = {}
    roots: list[str] = []
    for report, verdict in rekeyed:
        provider = _rekeying_provider(verdict.domain.provider)
        assert provider is not None
        providers[provider.name] = provider
        catalog = load_catalog(report.config.trust.catalog)
        roots.append(pin_the_ca(verdict.domain.host, provider, catalog))
    platforms = " and ".join(f"provider {name}" for name in providers)
    makes = "makes" if len(providers) == 1 else "make"
    text = _PIN_THE_CA.format(
        hosts=", ".join(hosts),
        platforms=f"P{platforms[1:]} {makes}",
        roots="; ".join(dict.fromkeys(roots)),
    )
    return textwrap.fill(" ".join(text.split()), 84, break_on_hyphens=False, break_long_words=False)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _indented(text: str) -> str:
    """A numbered item's continuation lines, under its text."""
    return text.replace("\n", "\n     ")


# -- --format json --------------------------------------------------------------------


def render_json(plan: Plan, reports: Sequence[ConfigReport]) -> str:
    """The stable shape for CI and deploy hooks (docs/rotation.md, "pingen guard --format json")."""

    data = {
        "safe": not any(report.unsafe for report in reports),
        "covers": list(plan.names),
        "leaf": None if plan.planned_key is not None else _entry_json(plan.served[0], Level.LEAF),
        "planned_key": _planned_key_json(plan),
        "configs": [_config_json(report) for report in reports],
        "way_out": [
            {"code": step.code, "message": " ".join(step.message.split())}
            for step in way_out(reports)
        ],
    }

    return json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _planned_key_json(plan: Plan) -> dict[str, str] | None:
    key = plan.planned_key
    if key is None:
        return None
    return {
        "file": str(plan.planned_from),
        "kind": key.kind,
        "key_type": key.key_type,
        "sha256": key.sha256,
    }


def _config_json(report: ConfigReport) -> dict[str, Any]:
    level_of: dict[str, Level] = {}
    for key in report.chain:
        level_of.setdefault(key.sha256, key.level)
    return {
        "config": str(display_path(report.config.path)),
        "safe": not report.unsafe,
        "untrusted_reason": report.untrusted_reason,
        "chain": _chain_json(report.chain),
        "domains": [
            {
                "domain": verdict.domain.host,
                "status": verdict.outcome.value,
                "matched": [
                    {"sha256": pin.sha256, "label": pin.label, "level": level_of[pin.sha256].value}
                    for pin in verdict.matched
                ],
                "message": _explain(verdict),
            }
            for verdict in report.verdicts
        ],
    }


def _chain_json(chain: Sequence[ChainKey]) -> list[dict[str, Any]]:
    """verify's chain entries; a planned key has no certificate, so no subject or date."""
    entries: list[dict[str, Any]] = []
    for index, key in enumerate(chain):
        if key.cert is not None:
            entries.append(_entry_json(key.cert, key.level))
            continue
        issuer = chain[index + 1].cert if index + 1 < len(chain) else None
        entries.append(
            {
                "level": key.level.value,
                "subject": None,
                "issuer": issuer.subject.rfc4514_string() if issuer else None,
                "not_after": None,
                "sha256": key.sha256,
            }
        )
    return entries


def _entry_json(cert: x509.Certificate, level: Level) -> dict[str, str]:

    return describe_chain([cert], [level])[0].as_json()
