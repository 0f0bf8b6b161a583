"""What a judgement says about a pin set: problems with a code, a severity and a message.

Shared by `verify` (live and offline), the survivability checks of the CA catalog,
`guard` and `build --verify`, so every report speaks the same language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# A pin set expiring within this many days is a warning (`expires-soon`) wherever it is
# judged: verify, build's offline judgement.
EXPIRES_SOON_DAYS = 30


class ProblemSeverity(StrEnum):
    WARNING = "warning"
    FAIL = "fail"
    ERROR = "error"  # the check could not run (e.g. unreachable)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"


@dataclass(frozen=True)
class Problem:
    code: str  # one of the contract's codes, e.g. "no-live-match"
    severity: ProblemSeverity
    message: str  # what is wrong and what to do, for a person


def status_of(problems: list[Problem] | tuple[Problem, ...]) -> Status:
    severities = {p.severity for p in problems}
    if ProblemSeverity.ERROR in severities:
        return Status.ERROR
    if ProblemSeverity.FAIL in severities:
        return Status.FAIL
    if ProblemSeverity.WARNING in severities:
        return Status.WARN
    return Status.OK
