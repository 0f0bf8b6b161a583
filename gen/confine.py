"""Confinement: every path pins.yaml names stays inside the repository that holds it.

pins.yaml and the files it names come from branches pingen does not trust: the
pre-commit hook, the Action's check mode and pull-request bots run `build --check` and
`diff` on a contributor's checkout. So every path in pins.yaml (`file:` pins,
`trust.ca_file`, `trust.catalog` and the files the catalog names, templates and what
they include, outputs) goes through `confine`:

- symbolic links are resolved first, then the path must lie inside the repository:
  the git work tree holding pins.yaml (the nearest folder above it with a `.git`),
  or the folder of pins.yaml when it is not in git;
- no part of it may be `.git` (in any letter case): git's own files hold credentials
  (`http.extraheader`) and run commands (`core.fsmonitor`, hooks);
- never /proc, and never a device.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from pingen.errors import ConfigError

if TYPE_CHECKING:
    from pingen.model import Config, Output

GIT = ".git"
_SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


@dataclass(frozen=True)
class Repository:
    """The folder pins.yaml may name files in (resolved, no symbolic links)."""

    root: Path
    in_git: bool
    shown: str = ""  # how messages name it, when not by its folder

    def __str__(self) -> str:
        if self.shown:
            return self.shown
        if self.in_git:
            return f"the git work tree {self.root} that holds pins.yaml"
        return "the folder of pins.yaml"


def repository_of(config_path: Path) -> Repository:
    """The git work tree holding `config_path` (a `.git` folder, or the `.git` file of a
    worktree or submodule), else the config's own folder."""
    folder = Path(os.path.realpath(config_path.absolute().parent))
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / GIT):
            return Repository(candidate, in_git=True)
    return Repository(folder, in_git=False)


def is_git_name(name: str) -> bool:
    """`.git` as any file system may spell it (`.GIT` on macOS, `.git.` on Windows)."""
    return name.rstrip(". ").casefold() == GIT


def confine(text: str, base: Path, repository: Repository) -> Path:
    """The real path (symbolic links resolved) of `text`, relative to the folder `base`,
    or ValueError saying why pingen will not touch it. The message follows the path:
    callers write "`file: X` " + message."""
    resolved = _resolve(text, base / text)
    return _checked(text, base, resolved, repository)


def confine_output(text: str, base: Path, repository: Repository) -> Path:
    """`confine` for a file pingen writes: its folder is resolved, its own name is not
    (a symbolic link there is refused by the writer, never followed)."""
    lexical = base / text
    if lexical.name in ("", ".", ".."):
        raise ValueError("names a folder, not a file")
    resolved = _resolve(text, lexical.parent) / lexical.name
    return _checked(text, base, resolved, repository)


def _resolve(text: str, path: Path) -> Path:
    if "\0" in text:
        raise ValueError("holds a NUL character")
    if not text.strip():
        raise ValueError("is empty")
    try:
        return Path(os.path.realpath(path))
    except OSError as error:  # a symbolic link loop, a name too long
        raise ValueError(f"cannot be resolved ({error.strerror})") from None


_GIT_MESSAGE = (
    "is inside a `.git` folder; pingen never reads or writes git's own files "
    "(they hold credentials and run commands)"
)


def _checked(text: str, base: Path, resolved: Path, repository: Repository) -> Path:
    if any(is_git_name(part) for part in PurePosixPath(text).parts):
        raise ValueError(_GIT_MESSAGE)
    if any(resolved.is_relative_to(folder) for folder in _SYSTEM_FOLDERS):
        raise ValueError(f"is {resolved}, a system file; name a file inside the repository")
    if not resolved.is_relative_to(repository.root):
        lexical = Path(os.path.normpath(Path(os.path.realpath(base)) / text))
        through = " through a symbolic link" if lexical.is_relative_to(repository.root) else ""
        raise ValueError(
            f"leaves {repository}{through}; pingen reads and writes only "
            "inside it (copy the file in)"
        )
    if any(is_git_name(part) for part in resolved.relative_to(repository.root).parts):
        raise ValueError(_GIT_MESSAGE)
    _refuse_device(resolved)
    return resolved


def _refuse_device(path: Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing (an output not written yet) or unreadable: the reader says so
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise ValueError("is a device; name a regular file")


def file_key(path: Path) -> str:
    """What names one file on every file system pingen's users have: the real path,
    case folded (macOS and Windows ignore case, so `Pins.yaml` is `pins.yaml` there)."""
    return os.path.realpath(path).casefold()


def same_file_name(one: Path, other: Path) -> bool:
    return file_key(one) == file_key(other)


def checked_target(config: Config, output: Output) -> Path:
    """The real path of an output, checked again right before it is read or written:
    inside the repository, not in `.git`, not a symbolic link, a regular file if any."""
    name = output.path.as_posix()
    try:
        real = confine_output(name, config.output_root, config.output_confinement)
    except ValueError as error:
        raise ConfigError(f"output path {name!r} {error}", output.location) from None
    try:
        mode = os.lstat(real).st_mode
    except FileNotFoundError:
        return real
    except NotADirectoryError:
        raise ConfigError(
            f"output {name}: a file is in the way of one of its folders", output.location
        ) from None
    except OSError as error:
        raise ConfigError(f"output {name}: {error.strerror}", output.location) from None
    if stat.S_ISLNK(mode):
        raise ConfigError(
            f"output {name} is a symbolic link: pingen never reads or replaces a link at an "
            "output path. Delete the link (`git rm` it) and run `pingen build`",
            output.location,
        )
    if stat.S_ISDIR(mode):
        raise ConfigError(f"output {name} is a folder on disk", output.location)
    if not stat.S_ISREG(mode):  # reading a FIFO to compare would block
        raise ConfigError(
            f"output {name} is not a regular file on disk (a device, FIFO or socket)",
            output.location,
        )
    return real
