"""What `pingen probe` prints at the end: the verdict table, and the JSON for CI.

Names and paths come from the client (SNI, CONNECT, the request line): they are shown
through `pingen.textsafe`, so a client cannot write to the terminal, forge lines of the
table or issue CI workflow commands.
"""

from __future__ import annotations

import json
from typing import Any

from pingen.probe.endpoint import Attempt, HostLog, HostVerdict, Outcome
from pingen.textsafe import one_line, terminal_text

VERDICTS = ("PASS", "FAIL", "UNTESTED")


def safe(text: str) -> str:
    """`text` for one line of the table or the log: control characters escaped, and no
    CI workflow command (`##[`, a leading `::`) a path could smuggle in."""
    return terminal_text(one_line(text))


def table(outcome: Outcome) -> list[str]:
    verdicts = outcome.verdicts
    rows = [("HOST", "EXPECT", "VERDICT", "WHAT HAPPENED")]
    rows += [(safe(v.host), v.expect, v.verdict, safe(v.reason)) for v in verdicts]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in rows
    ]
    counts = summary(verdicts)
    lines.append("")
    lines.append(
        ", ".join(f"{counts[v.lower()]} {v}" for v in VERDICTS)
        + (": every host passed" if outcome.passed else "")
    )
    if outcome.other_names:
        shown = ", ".join(
            f"{safe(name)} ({count})" for name, count in sorted(outcome.other_names.items())[:20]
        )
        more = len(outcome.other_names) - 20
        lines.append(
            f"not under test, refused: {shown}" + (f" and {more} more" if more > 0 else "")
        )
    return lines


def summary(verdicts: list[HostVerdict]) -> dict[str, int]:
    return {v.lower(): sum(1 for each in verdicts if each.verdict == v) for v in VERDICTS}


def report(outcome: Outcome, header: dict[str, Any]) -> str:
    """The JSON report: `header` (mode, listen, probe CA, control), then per host its
    verdict and what each connection did."""
    verdicts = outcome.verdicts
    logs = {log.target.host: log for log in outcome.logs}
    document = {
        **header,
        "passed": outcome.passed,
        "hosts": [_host(v, logs[v.host]) for v in verdicts],
        "other_hosts": dict(sorted(outcome.other_names.items())),
        "summary": summary(verdicts),
    }
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def _host(verdict: HostVerdict, log: HostLog) -> dict[str, Any]:
    return {
        "host": verdict.host,
        "expect": verdict.expect,
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "connections": log.count,
        "requests": log.requests,
        "attempts": [_attempt(a) for a in log.attempts],
    }


def _attempt(attempt: Attempt) -> dict[str, Any]:
    request = attempt.request
    return {
        "name": attempt.name,
        "via": attempt.via,
        "handshake": attempt.handshake,
        "detail": attempt.detail,
        "request": None
        if request is None
        else {
            "method": request.method,
            "path": request.path,
            "cleartext": request.cleartext,
        },
    }
