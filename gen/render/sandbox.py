"""User templates come from branches pingen does not trust (the Action's check mode,
pre-commit, PR bots run `build --check` on them), so they are data rendered in a
sandbox, never code:

- Jinja's ImmutableSandboxedEnvironment: no attribute starting with `_` (so no
  `cycler.__init__.__globals__.os`), no mutating lists or dicts, `range` capped;
- products of `*` and `**` capped, and the rendered text capped (MAX_OUTPUT), so a
  template cannot fill memory; rendering stops after RENDER_SECONDS (render_bounded);
- a loader (ConfinedLoader) that reads every template, include, import and extends
  through pingen.confine: symbolic links resolved first, inside the repository, never
  in `.git`, a regular file of at most 1 MiB.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pingen.confine import Repository, confine
from pingen.pki.sources import SourceError, read_small_file

MAX_PRODUCT = 1024 * 1024  # characters or items of one `*`; bits of one `**`
MAX_OUTPUT = 16 * 1024 * 1024  # characters a template may render
RENDER_SECONDS = 20.0


def sandboxed_environment(
    base: Path, repository: Repository, settings: dict[str, Any]
) -> jinja2.Environment:
    """A strict sandboxed environment loading templates relative to `base`."""
    return CappedSandbox(
        loader=ConfinedLoader(base, repository), undefined=jinja2.StrictUndefined, **settings
    )


class CappedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _power_bits(left, right) > MAX_PRODUCT:
            raise SecurityError("a power this large is not allowed in a template")
        if operator == "*" and _repeated_length(left, right) > MAX_PRODUCT:
            raise SecurityError("a repetition this long is not allowed in a template")
        return super().call_binop(context, operator, left, right)


def _power_bits(left: Any, right: Any) -> int:
    if isinstance(left, int) and isinstance(right, int):
        return abs(right) * max(abs(left), 2).bit_length()
    return 0


def _repeated_length(left: Any, right: Any) -> int:
    """How long `left * right` would be when it repeats a string or list, else 0."""
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(count, int):
            return len(sequence) * count
    return 0


class TemplateRefused(jinja2.TemplateError):
    """A template (or what it includes) names a file pingen will not read."""


class ConfinedLoader(jinja2.BaseLoader):
    """Loads templates, and what they include, import and extend, by their path relative
    to `base` (the folder of pins.yaml). `read` lists the real path of each file loaded."""

    def __init__(self, base: Path, repository: Repository) -> None:
        self.base = base
        self.repository = repository
        self.read: list[Path] = []

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        try:
            path = confine(template, self.base, self.repository)
        except ValueError as error:
            raise TemplateRefused(f"{template!r} {error}") from None
        if not path.exists():
            raise jinja2.TemplateNotFound(template)
        try:
            data = read_small_file(path, "template")
        except SourceError as error:
            raise TemplateRefused(str(error).replace(str(path), template, 1)) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise TemplateRefused(f"{template}: not UTF-8 text (byte {error.start})") from None
        self.read.append(path)
        return text, str(path), lambda: False


def render_bounded(
    env: jinja2.Environment, name: str, context: dict[str, Any], seconds: float | None = None
) -> str:
    """Render template `name`, refusing (SecurityError) more than MAX_OUTPUT characters
    or more than `seconds` (RENDER_SECONDS; nested loops over `range` need no memory)."""
    parts: list[str] = []
    size = 0
    with _deadline(seconds or RENDER_SECONDS):
        for part in env.get_template(name).generate(**context):
            size += len(part)
            if size > MAX_OUTPUT:
                raise SecurityError(f"the template renders more than {MAX_OUTPUT:,} characters")
            parts.append(part)
    return "".join(parts)


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """SIGALRM after `seconds` raises SecurityError in the rendering (main thread only,
    where signals are delivered); an alarm already set, e.g. by a test runner, is kept
    and re-armed afterwards."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not (
        threading.main_thread()
    ):  # no alarms on Windows, nor outside the main thread
        yield
        return
    before_remaining, before_interval = signal.getitimer(signal.ITIMER_REAL)
    if before_remaining and before_remaining <= seconds:  # the earlier alarm rules
        yield
        return
    before_handler = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()

    def stop(signum: int, frame: object) -> None:
        raise SecurityError(f"the template took longer than {seconds:g} seconds to render")

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before_handler)
        if before_remaining:
            left = max(before_remaining - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, before_interval)
