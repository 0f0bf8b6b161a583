"""Write rendered files all or nothing, or compare them with what is on disk.

`plan` checks every target first: inside the repository (pingen.confine), not a
symbolic link (never read, never replaced), and, when it exists, a file pingen wrote
(`is_pingens`). `write_all` then writes each file to a temporary file beside its
target and only then renames them into place, so an error anywhere leaves every file
as it was. Each folder is opened from the repository down, one name at a time, with
O_NOFOLLOW, and every write and rename goes through those folder descriptors: a
folder swapped for a symbolic link between the check and the write is refused.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pingen.confine import checked_target, is_git_name
from pingen.errors import ConfigError, display_path
from pingen.model import Config, Output
from pingen.render import NOTICE_MARK, RenderedFile, same_but_provenance

# Output types whose file pingen merges into (it belongs to the app, not to pingen).
MERGED_TYPES = frozenset({"ios-plist"})


@dataclass(frozen=True)
class Change:
    path: Path  # absolute, as pins.yaml names it
    old: bytes | None  # None: the file does not exist yet
    new: bytes
    real: Path | None = None  # its real path: the folder resolved, the name as is
    repository: Path | None = None  # the real folder `real` lies in (opened first)

    @property
    def changed(self) -> bool:
        return self.old != self.new


def plan(config: Config, files: list[RenderedFile]) -> list[Change]:
    """What writing `files` would change; ConfigError when a target is no file pingen
    may replace."""
    changes = []
    for file in files:
        real = checked_target(config, file.output)
        if config.into is not None and real in config.inputs:  # a target in pins.yaml's repo
            raise ConfigError(
                f"output {file.output.path.as_posix()} would overwrite "
                f"{real.name}, a file pins.yaml reads; write it elsewhere",
                file.output.location,
            )
        old = _read_existing(real, file.output)
        new = file.content
        if old is not None and not is_pingens(file.output, old):
            raise ConfigError(
                f"output {file.output.path.as_posix()} exists and pingen did not write it "
                "(it lacks pingen's notice): pingen never overwrites such a file. Delete or "
                "move it, or write the output to another path",
                file.output.location,
            )
        changes.append(
            Change(
                config.output_root / file.output.path,
                old,
                # Only the provenance differs: the file stays as it is (not rewritten).
                old if old is not None and same_but_provenance(old, new) else new,
                real,
                config.output_confinement.root,
            )
        )
    return changes


def _read_existing(real: Path, output: Output) -> bytes | None:
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(
            f"output {output.path.as_posix()}: {error.strerror}", output.location
        ) from None
    with os.fdopen(fd, "rb") as stream:
        return stream.read()


def is_pingens(output: Output, data: bytes) -> bool:
    """Did pingen write this file? Its notice appears in it; a JSON output (JSON has no
    comments) has exactly the shape the json output writes. A merged file (Info.plist)
    is the app's own, and pingen edits only its part."""
    if output.kind in MERGED_TYPES:
        return True
    if NOTICE_MARK.encode() in data:
        return True
    return output.kind == "json" and _has_json_output_shape(data)


_JSON_DOMAIN_KEYS = {"includeSubdomains": bool, "publicKeyHashes": list, "expirationDate": str}


def _has_json_output_shape(data: bytes) -> bool:
    """{host: {"expirationDate"?: str, "includeSubdomains": bool, "publicKeyHashes": [str]}}"""
    try:
        value: Any = json.loads(data)
    except (ValueError, RecursionError):
        return False
    if not isinstance(value, dict):
        return False
    for entry in value.values():
        if (
            not isinstance(entry, dict)
            or not {"includeSubdomains", "publicKeyHashes"} <= set(entry)
            or not set(entry) <= set(_JSON_DOMAIN_KEYS)
        ):
            return False
        if not all(isinstance(entry[key], _JSON_DOMAIN_KEYS[key]) for key in entry):
            return False
        if not all(isinstance(pin, str) for pin in entry["publicKeyHashes"]):
            return False
    return True


def write_all(changes: list[Change]) -> list[Change]:
    """Write every changed file atomically; return the ones written."""
    pending = [c for c in changes if c.changed]
    writer = _Writer()
    try:
        for change in pending:
            writer.stage(change)
        writer.commit()
    except OSError as error:
        writer.roll_back()
        name = error.filename or "an output"
        raise ConfigError(f"cannot write {name}: {error.strerror}; nothing was written") from None
    except ConfigError:
        writer.roll_back()
        raise
    finally:
        writer.close()
    return pending


class _Writer:
    """Temporary files beside their targets, renamed into place only once all exist."""

    def __init__(self) -> None:
        self.folders: dict[Path, int] = {}  # real folder -> its descriptor
        self.created: list[Path] = []  # folders made, outermost first
        self.staged: list[tuple[int, str, str, Path]] = []  # folder fd, temp, name, path

    def stage(self, change: Change) -> None:
        real = change.real or change.path
        folder = self.folder(change.repository or real.parent, real.parent)
        temporary = f".{real.name}.{secrets.token_hex(4)}.tmp"
        mode = _mode_of(folder, real.name)
        fd = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode, dir_fd=folder
        )
        self.staged.append((folder, temporary, real.name, real))
        with os.fdopen(fd, "wb") as stream:
            stream.write(change.new)
            os.fchmod(stream.fileno(), mode)

    def folder(self, top: Path, folder: Path) -> int:
        """A descriptor of `folder`, opened from `top` one name at a time without
        following symbolic links; missing folders are made."""
        if folder in self.folders:
            return self.folders[folder]
        if folder == top or not folder.is_relative_to(top):
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        else:
            parent = self.folder(top, folder.parent)
            if is_git_name(folder.name):
                raise ConfigError(f"{folder}: pingen never writes into a `.git` folder")
            try:
                fd = _open_folder(folder.name, parent)
            except FileNotFoundError:
                os.mkdir(folder.name, dir_fd=parent)
                self.created.append(folder)
                fd = _open_folder(folder.name, parent)
        self.folders[folder] = fd
        return fd

    def commit(self) -> None:
        for folder, _, name, real in self.staged:  # checked again right before replacing
            if stat.S_ISLNK(_lstat_mode(name, folder)):
                raise ConfigError(
                    f"{display_path(real)} became a symbolic link while pingen "
                    "was writing; nothing was written"
                )
        for folder, temporary, name, _ in self.staged:
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        self.staged = []

    def roll_back(self) -> None:
        for folder, temporary, _, _ in self.staged:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
        for path in reversed(self.created):
            with contextlib.suppress(OSError):
                path.rmdir()

    def close(self) -> None:
        for fd in self.folders.values():
            os.close(fd)


def _open_folder(name: str, parent: int) -> int:
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    except FileNotFoundError:
        raise
    except OSError:
        if stat.S_ISLNK(_lstat_mode(name, parent)):
            raise ConfigError(
                f"the folder {name} became a symbolic link while pingen was "
                "writing; nothing was written"
            ) from None
        raise


def _lstat_mode(name: str, folder: int) -> int:
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return 0


def _mode_of(folder: int, name: str) -> int:
    """Keep an existing file's mode; new files get the usual 0644 less the umask."""
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode & 0o777
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
