"""Write rendered files all or nothing, or compare them with what is on disk.

`write_all` checks every target first, then writes each file to a temporary file
beside its target and only then renames them into place, so an error anywhere
leaves every file as it was.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pingen.errors import ConfigError
from pingen.render import RenderedFile


@dataclass(frozen=True)
class Change:
    path: Path  # absolute
    old: bytes | None  # None: the file does not exist yet
    new: bytes

    @property
    def changed(self) -> bool:
        return self.old != self.new


def plan(root: Path, files: list[RenderedFile]) -> list[Change]:
    """What writing `files` below `root` would change; ConfigError when a target
    cannot be a file (a folder is in the way)."""
    changes = []
    for file in files:
        target = root / file.output.path
        _check_target(target, file)
        old = target.read_bytes() if target.exists() else None
        changes.append(Change(target, old, file.content))
    return changes


def _check_target(target: Path, file: RenderedFile) -> None:
    if target.is_dir():
        raise ConfigError(f"output {file.output.path} is a folder on disk", file.output.location)
    if target.exists() and not target.is_file():  # reading a FIFO to compare would block
        raise ConfigError(f"output {file.output.path} is not a regular file on disk (a device, "
                          "FIFO or socket)", file.output.location)
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(
                f"output {file.output.path}: {parent} is a file, not a folder",
                file.output.location,
            )


def write_all(changes: list[Change]) -> list[Change]:
    """Write every changed file atomically; return the ones written."""
    pending = [c for c in changes if c.changed]
    temporaries: list[tuple[str, Path]] = []
    created: list[Path] = []
    try:
        for change in pending:
            created += _make_folders(change.path.parent)
            temporaries.append((_write_temporary(change), change.path))
    except OSError as error:
        for temporary, _ in temporaries:
            os.unlink(temporary)
        for folder in reversed(created):
            folder.rmdir()
        raise ConfigError(
            f"cannot write {error.filename}: {error.strerror}; nothing was written"
        ) from None
    for temporary, target in temporaries:
        os.replace(temporary, target)
    return pending


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return the ones created, outermost first."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    for path in missing:
        path.mkdir()
    return missing


def _write_temporary(change: Change) -> str:
    mode = _mode_of(change.path)
    handle, temporary = tempfile.mkstemp(prefix=f".{change.path.name}.", dir=change.path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(change.new)
        os.chmod(temporary, mode)
    except OSError:
        os.unlink(temporary)
        raise
    return temporary


def _mode_of(path: Path) -> int:
    """Keep an existing file's mode; new files get the usual 0644 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def unified_diff(change: Change, name: str) -> str:
    if b"\0" in (change.old or b"") + change.new:  # e.g. a binary Info.plist
        return f"Binary files a/{name} and b/{name} differ\n"
    old = (change.old or b"").decode("utf-8", "replace").splitlines(keepends=True)
    new = change.new.decode("utf-8", "replace").splitlines(keepends=True)
    before = f"a/{name}" if change.old is not None else "/dev/null"
    return "".join(difflib.unified_diff(old, new, before, f"b/{name}"))
