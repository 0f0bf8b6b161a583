"""What a platform cannot express: the errors and warnings an adapter collects.

An adapter walks every domain, records each unsafe difference as an error (raised
together at the end, so one `build` reports them all) and each harmless one as a
warning. A warning that applies to many domains is one line naming them, not one
line per domain: a config with a thousand domains must not drown the real news.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pingen.errors import ConfigError, Diagnostic, Location, raise_together
from pingen.model import Domain, Output, Pin
from pingen.render.platforms import name_hosts

# How many hosts a grouped warning names before it says "and N more".


def pin_comment(pin: Pin) -> str | None:
    """The text written beside a pin: its label, and whether it is the offline backup."""
    parts = [pin.label] if pin.label else []
    if pin.backup:
        parts.append("backup key, not live")
    return "; ".join(parts) or None


@dataclass
class Findings:
    """Errors and grouped warnings for one output."""

    output: Output
    errors: list[ConfigError] = field(default_factory=list)
    _warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"{self.output.kind} output {self.output.path.as_posix()}: "

    def error(self, message: str, location: Location | None) -> None:
        self.errors.append(ConfigError(self.prefix + message, location or self.output.location))

    def warn(self, message: str) -> None:
        self._warnings.append(Diagnostic(self.prefix + message, self.output.location))

    def warn_domains(self, domains: list[Domain], message: str) -> None:
        """One warning for every domain in `domains`; `{hosts}` in `message` names them."""
        if domains:
            self.warn(message.format(hosts=name_hosts(d.host for d in domains)))

    def raise_errors(self) -> None:
        raise_together(self.errors)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(self._warnings)
