"""Render every output of a config in memory: the `render` step of `pingen build`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from pingen.confine import checked_target, same_file_name
from pingen.errors import (
    ConfigError,
    ConfigErrors,
    Location,
    PingenError,
    display_path,
    raise_together,
)
from pingen.model import Config, Domain, Output
from pingen.render import (
    NOTICE_MARK,
    RenderedFile,
    adapter_for,
    domain_fields,
    engine,
    notice,
)
from pingen.render.platforms import prove


def render_all(config: Config, outputs: Sequence[Output] | None = None) -> list[RenderedFile]:
    """Every output's bytes (the config's, or `outputs`: a target's), or ConfigError(s)
    for every output that cannot be rendered."""
    rendered: list[RenderedFile] = []
    errors: list[ConfigError] = []
    builtin_env = engine.environment()
    for output in config.outputs if outputs is None else outputs:
        try:
            rendered.append(render_output(config, output, builtin_env))
        except ConfigErrors as error:
            errors.extend(error.errors)
        except ConfigError as error:
            errors.append(error if error.location else ConfigError(error.message, output.location))
    raise_together(errors)
    return rendered


def render_output(config: Config, output: Output, builtin_env: Any = None) -> RenderedFile:
    checked_target(config, output)  # a link there is never read (ios-plist reads its target)
    if output.template is not None:
        return render_user_template(config, output)
    adapter = adapter_for(output.kind)
    rendering = adapter.context(config, output)
    # Every output is proven against what its platforms really enforce, host by host.
    proof = prove(config, output, rendering.foreign)
    raise_together(proof.errors)
    content = rendering.content
    if content is None:
        env = builtin_env or engine.environment()
        content = engine.render_template(env, adapter.TEMPLATE, rendering.context)
    return RenderedFile(output, content, (*rendering.warnings, *proof.warnings))


def template_context(config: Config, output: Output) -> dict[str, Any]:
    """The documented context of a user's template (docs/pins-yaml.md, "Your own templates")."""
    return {
        "notice": notice(config),
        "config_file": config.path.name,
        "output_path": output.path.as_posix(),
        "domains": [domain_context(d) for d in config.domains],
    }


def domain_context(domain: Domain) -> dict[str, Any]:
    return {
        **domain_fields(domain),
        "provider": domain.provider,
        "pins": [
            {
                "sha256": pin.sha256,
                "label": pin.label,
                "level": pin.level.value if pin.level else None,
                "backup": pin.backup,
                "source": pin.source.value,
                "key": pin.key.name if pin.key else None,
            }
            for pin in domain.pins
        ],
    }


def render_user_template(config: Config, output: Output) -> RenderedFile:
    """A user's template, rendered in the sandbox (pingen.render.sandbox). It must render
    `notice`: pingen overwrites only files that carry it (pingen.write)."""

    assert output.template is not None
    env = engine.user_environment(config.root, config.confinement)
    name = output.template.as_posix()
    try:
        content = engine.render_template(env, name, template_context(config, output))
    except SecurityError as error:
        raise ConfigError(
            f"template {name}: {error} Templates are data rendered in a sandbox: use the "
            'names listed in docs/pins-yaml.md ("Your own templates") and their filters',
            output.location,
        ) from None
    except jinja2.TemplateSyntaxError as error:
        raise ConfigError(
            f"template syntax: {error.message}",
            _template_location(config, output, error.lineno),
        ) from None
    except jinja2.UndefinedError as error:
        raise ConfigError(
            f"template {name}: {error.message}; the names a template may use are listed "
            'in docs/pins-yaml.md ("Your own templates")',
            output.location,
        ) from None
    except (jinja2.TemplateError, PingenError, ValueError, TypeError) as error:
        raise ConfigError(f"template {name}: {error}", output.location) from None
    if NOTICE_MARK.encode() not in content:
        raise ConfigError(
            f"template {name} never renders `notice`: put `{{{{ notice }}}}` in a comment at "
            "its top (pingen only replaces files that carry its notice)",
            _template_location(config, output, 1),
        )
    _refuse_writing_over(env.loader, config, output)
    return RenderedFile(output, content)


def _refuse_writing_over(loader: Any, config: Config, output: Output) -> None:
    """An output must not replace a template it was rendered from (an include too)."""
    target = config.output_root / output.path
    for path in getattr(loader, "read", ()):
        if same_file_name(path, target):
            raise ConfigError(
                f"output {output.path.as_posix()} is the template {path.name} "
                "it is rendered from; write it elsewhere",
                output.location,
            )


def _template_location(config: Config, output: Output, line: int | None) -> Location:
    assert output.template is not None
    return Location(display_path(config.root / output.template), line)
