"""One pins.yaml, many app repositories: which outputs `build` renders into which folder.

`targets:` groups outputs per app repository. `pingen build` renders the top-level
`outputs:` into pins.yaml's folder and every target that names `into:`;
`pingen build --target NAME --into DIR` renders one target into another checkout.
Files built for a target name the pins repository's revision in their header
(provenance). That line is information only: what `--check` compares, and whether a
file is rewritten at all, ignore it, so the same inputs give the same files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pingen.errors import ConfigError, Location, display_path
from pingen.model import Config, Output, Target
from pingen.render import REVISION


@dataclass(frozen=True)
class Job:
    """Outputs to render with `config`, which carries the provenance and, for a target,
    the folder they land in (`config.output_root`)."""

    config: Config
    outputs: tuple[Output, ...]
    target: str | None  # None: the top-level `outputs:`


def jobs(
    config: Config, target_name: str | None, into: Path | None, source_rev: str | None
) -> list[Job]:
    """What `build` renders: the named target into `into` (else its `into:`), or, with
    no target named, the top-level outputs and every target that has an `into:`."""
    if target_name is None:
        if into is not None:
            raise ConfigError("--into goes with --target: name the target to render there")
        homeless = [t for t in config.targets if t.into is None]
        if homeless:
            raise ConfigError(
                f"target(s) without `into:`: {', '.join(t.name for t in homeless)}; build "
                "each with `pingen build --target NAME --into DIR`, or give it an `into:`",
                homeless[0].location or Location(display_path(config.path)),
            )
        revision = _revision(config, source_rev) if config.targets else None
        top = [Job(config, config.outputs, None)] if config.outputs else []
        return top + [
            _job(config, t, config.root / t.into, revision)
            for t in config.targets
            if t.into is not None  # every one has: the homeless were refused above
        ]
    target = _target(config, target_name)
    folder = (
        into
        if into is not None
        else (config.root / target.into if target.into is not None else None)
    )
    if folder is None:
        raise ConfigError(
            f"target {target.name} has no `into:`; give --into DIR (the app repository's checkout)",
            target.location,
        )
    return [_job(config, target, folder, _revision(config, source_rev))]


def _target(config: Config, name: str) -> Target:
    target = config.target(name)
    if target is None:
        names = ", ".join(t.name for t in config.targets) or "none"
        raise ConfigError(
            f"--target {name}: no such target in this config (targets: {names})",
            Location(display_path(config.path)),
        )
    return target


def _job(config: Config, target: Target, folder: Path, revision: str | None) -> Job:
    """The target's outputs below `folder`, confined to it when they are written
    (pingen.write: no `..`, nothing in `.git`, no symbolic link out)."""
    if not folder.is_dir():
        raise ConfigError(
            f"target {target.name}: {display_path(folder)} is not a folder (the "
            "app repository's checkout)",
            target.location,
        )
    root = folder.resolve()
    return Job(replace(config, provenance=revision, into=root), target.outputs, target.name)


# -- provenance ----------------------------------------------------------------------


def _revision(config: Config, source_rev: str | None) -> str | None:
    """--source-rev, else the last commit that touched pins.yaml or a file it reads;
    None outside git (the header then names no revision)."""
    if source_rev is not None:
        if not REVISION.match(source_rev):
            raise ConfigError(
                f"--source-rev {source_rev!r}: give a commit hash or a name of "
                "letters, digits and . _ / + -"
            )
        return source_rev
    from pingen.config.revision import GitError, git

    # Every file the loader read (pins.yaml, key files, trust and catalog files,
    # templates): what it read once is not read and parsed again here.
    paths = sorted(str(path) for path in config.inputs)
    try:
        found = git(["log", "-1", "--format=%H", "--", *paths], config.root).decode().strip()
    except GitError:
        return None
    return found or None
