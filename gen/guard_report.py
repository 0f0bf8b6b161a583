"""How `pingen guard` reads: the plan, each app version's verdicts, and the conclusion.

    text = render_text(plan, reports, chain_path)   # what guard prints on stdout
    covers_nothing(plan, chain_path, key_path, configs)  # the exit-2 message

Same plan and reports, same text (no colour, no clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pingen.errors import display_path
from pingen.guard import ConfigReport, DomainVerdict, Outcome, Plan, is_ca, subject_of
from pingen.model import Config, Level, Pin


def render_text(plan: Plan, reports: Sequence[ConfigReport], chain_path: Path | None) -> str:
    lines = _plan_lines(plan, chain_path)
    for report in reports:
        lines += ["", *_report_lines(report)]
    lines += ["", *_conclusion_lines(reports)]
    return "\n".join(lines) + "\n"


def covers_nothing(plan: Plan, chain_path: Path | None, key_path: Path | None,
                   configs: Sequence[Config]) -> str:
    """Why a plan that touches no configured domain is probably the wrong file."""
    source = chain_path if plan.planned_key is None else key_path
    configured = sorted({d.host for c in configs for d in c.domains})
    shown = ", ".join(configured[:10]) + (", ..." if len(configured) > 10 else "")
    files = ", ".join(str(display_path(c.path)) for c in configs)
    return (f"pingen: {source}: covers none of the domains in {files} (it names "
            f"{', '.join(plan.names)}; configured: {shown or 'none'}). Is it the right "
            "file, or the right -c?")


def _plan_lines(plan: Plan, chain_path: Path | None) -> list[str]:
    if plan.planned_key is None:
        lines = [f"new certificate: {chain_path} ({subject_of(plan.served[0])})"]
    else:
        lines = [f"planned key: {plan.planned_from} ({plan.planned_key.key_type}, "
                 f"sha256 {plan.planned_key.sha256})"]
        if not plan.served:
            lines.append("  no --chain: the CA that will issue it is unknown, so only leaf "
                         "pins can match")
        elif is_ca(plan.served[0]):
            lines.append(f"  to be issued by: {subject_of(plan.served[0])} (from {chain_path})")
        else:
            lines.append(f"  to be issued like the current leaf in {chain_path}; a CA that "
                         "rotates intermediates (Let's Encrypt, Google, Amazon) may use "
                         "another one, and only root pins survive that")
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
        lines = [f"{name}: the new chain, completed to a trusted root:" if completed
                 else f"{name}: the new leaf (its CA is unknown):"]
        lines += [f"  {key.level.value:<12}  {key.sha256}  {key.subject}" for key in report.chain]
    lines += [f"  {_MARK[v.outcome]}  {v.domain.host}  {_explain(v)}" for v in report.verdicts]
    return lines


_MARK = {Outcome.SAFE: "ok     ", Outcome.EXPIRED: "expired",
         Outcome.BREAKS: "BREAKS ", Outcome.UNTRUSTED: "BREAKS "}


def _explain(verdict: DomainVerdict) -> str:
    if verdict.outcome is Outcome.SAFE:
        return "matches " + "; ".join(_describe_pin(pin) for pin in verdict.matched)
    if verdict.outcome is Outcome.EXPIRED:
        return (f"no pin matches, but the pin set expired on {verdict.domain.expires}: these "
                "apps no longer pin it")
    if verdict.outcome is Outcome.UNTRUSTED:
        return "every app refuses an untrusted chain, pinned or not"
    return f"none of its {len(verdict.domain.pins)} pins is in the new chain"


def _describe_pin(pin: Pin) -> str:
    details = [d for d in (pin.level.value if pin.level else None,
                           "backup" if pin.backup else None) if d]
    return (pin.label or pin.sha256) + (f" ({', '.join(details)})" if details else "")


def _conclusion_lines(reports: Sequence[ConfigReport]) -> list[str]:
    broken = [(r, v) for r in reports for v in r.verdicts if v.unsafe]
    if not broken:
        return ["SAFE: every app version given keeps a pin for every domain the new "
                "certificate covers."]
    lines = ["UNSAFE: do not deploy. It would break:"]
    lines += [f"  {verdict.domain.host} in the apps built from "
              f"{display_path(report.config.path)}" for report, verdict in broken]
    lines.append("")
    if any(v.outcome is Outcome.UNTRUSTED for _, v in broken):
        lines.append("The way out: make the chain verify first (send the intermediates, leaf "
                     "first; check the CA and trust.ca_file), then run pingen guard again.")
    if any(v.outcome is Outcome.BREAKS for _, v in broken):
        new_pin = next((r.chain[0].sha256 for r in reports if r.chain), "")
        lines.append(_WAY_OUT.format(pin=new_pin))
    return lines


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
