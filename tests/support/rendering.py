"""Render one output the way `pingen.render.pipeline` does: the adapter's finished bytes
when it sets them, else its TEMPLATE rendered with its context."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from pingen.errors import Diagnostic
from pingen.model import Config, Output
from pingen.render import engine


@dataclass(frozen=True)
class Rendered:
    content: bytes
    warnings: tuple[Diagnostic, ...]
    from_template: bool

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")

    @property
    def warning_text(self) -> str:
        return "\n".join(str(w) for w in self.warnings)


def render(adapter: ModuleType, config: Config, output: Output) -> Rendered:
    rendering = adapter.context(config, output)
    if rendering.content is not None:
        return Rendered(rendering.content, rendering.warnings, from_template=False)
    content = engine.render_template(engine.environment(), adapter.TEMPLATE, rendering.context)
    return Rendered(content, rendering.warnings, from_template=True)
