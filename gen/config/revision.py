"""pins.yaml as it was at a git revision, with the files it reads, for `pingen diff
--base` and the provenance revision of `build`.

    config_at_revision(rev, config_path) -> (Config | None, name)

The old version is rebuilt in a temporary copy under the same path rules as the
current one (links recreated as links), so an old revision cannot read outside the
repository either.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import posixpath
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from pingen.config.load import load_config
from pingen.confine import Repository
from pingen.errors import ConfigError, ConfigErrors, Location, display_path
from pingen.model import Config
from pingen.pki.sources import SourceError, read_small_file

# -- the old version from git ----------------------------------------------------------


class GitError(Exception):
    """git could not give us the old version; the message says why."""


def git(args: list[str], cwd: Path) -> bytes:

    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed; use --old FILE instead of --base") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {' '.join(args)} failed")
    return result.stdout


def referenced_files(text: str) -> list[str]:
    """The paths a pins.yaml names (key files, templates, trust files), read leniently:
    the loader judges the file afterwards, this only decides what to take from git."""

    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):  # the loader says what is wrong
        return []
    if not isinstance(data, dict):
        return []
    found: list[Any] = []
    trust = data.get("trust")
    if isinstance(trust, dict):
        found += [trust.get("ca_file"), trust.get("catalog")]
    domains = data.get("domains")
    for domain in domains.values() if isinstance(domains, dict) else []:
        pins = domain.get("pins") if isinstance(domain, dict) else None
        for pin in pins if isinstance(pins, list) else []:
            if isinstance(pin, dict):
                found.append(pin.get("file"))
    outputs = data.get("outputs")
    for output in outputs if isinstance(outputs, list) else []:
        if isinstance(output, dict):
            found.append(output.get("template"))
    return sorted({path for path in found if isinstance(path, str) and path.strip()})


def config_at_revision(rev: str, config_path: Path) -> tuple[Config | None, str]:
    """pins.yaml as it was at git revision `rev`, loaded by the strict loader, and its
    name for the report ("REV:path"). None: the file did not exist at `rev`.

    The old version's key files and templates come from `rev` too (not from the
    working tree), written with the old pins.yaml into a temporary copy of their
    folders, so a `file:` pin means what it meant then. Files outside the git
    repository cannot be taken from git; the loader then reports them missing.
    Expiry dates of the old version are not judged against today.
    """

    if rev.startswith("-"):
        raise GitError(f"--base {rev}: a revision cannot start with '-'")
    top, rel = _repository_path(config_path)
    name = f"{rev}:{rel}"
    try:
        git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    except GitError:
        raise GitError(f"--base {rev}: no such commit in the git repository {top}") from None
    if not _exists_at(rev, rel, top):
        return None, name
    text = git(["show", f"{rev}:{rel}"], top)
    with tempfile.TemporaryDirectory(prefix="pingen-diff-") as folder:
        copy = Path(os.path.realpath(folder))
        target = copy / rel
        _write(target, text)
        for repo_path in _old_references(text, rel):
            _copy_from_git(rev, repo_path, top, copy)
            for catalog_file in _catalog_files(copy, repo_path):
                _copy_from_git(rev, catalog_file, top, copy)
        # The same confinement as the working tree's (pingen.confine), with the copy of
        # the repository as it was at `rev` as the repository.
        repository = Repository(copy, in_git=True, shown=f"the git repository at {rev}")
        try:
            return load_config(target, today=dt.date.min, repository=repository), name
        except ConfigError as error:
            raise _at_revision(error, copy, rev) from None


_LINK_MODE = "120000"


def _copy_from_git(rev: str, repo_path: str, top: Path, copy: Path, hops: int = 8) -> None:
    """A file of `rev` into the copy; a symbolic link as a link (so the loader refuses it
    where it leads out), with the file it points to when that lies in the repository."""

    listing = git(["ls-tree", "-z", rev, "--", repo_path], top).decode("utf-8", "replace")
    if not listing:
        return
    mode = listing.split(" ", 1)[0]
    data = git(["show", f"{rev}:{repo_path}"], top)
    path = copy / repo_path
    if mode != _LINK_MODE:
        _write(path, data)
        return
    link = data.decode("utf-8", "replace")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(link, path)
    pointed = posixpath.normpath(posixpath.join(posixpath.dirname(repo_path), link))
    if hops and not posixpath.isabs(link) and not pointed.startswith("../") and pointed != "..":
        _copy_from_git(rev, pointed, top, copy, hops - 1)


def _repository_path(config_path: Path) -> tuple[Path, str]:
    """The repository's top folder and the config's path in it (POSIX)."""
    folder = config_path.absolute().parent
    if not folder.is_dir():
        raise GitError(f"{config_path}: its folder does not exist")
    try:
        top = Path(git(["rev-parse", "--show-toplevel"], folder).decode().strip())
    except GitError as error:  # git's own words, then what to do instead
        raise GitError(
            f"{display_path(config_path)}: no git repository to take the old "
            f"version from ({error}); compare with a file: --old FILE"
        ) from None
    try:
        rel = config_path.absolute().resolve().relative_to(top.resolve())
    except ValueError:
        raise GitError(f"{config_path} is not inside the git repository {top}") from None
    return top, rel.as_posix()


def _exists_at(rev: str, path: str, top: Path) -> bool:
    try:
        git(["cat-file", "-e", f"{rev}:{path}"], top)
    except GitError:
        return False
    return True


def _old_references(text: bytes, rel: str) -> list[str]:
    """The repository paths of the files the old pins.yaml names, inside the repository."""

    folder = posixpath.dirname(rel)
    paths = []
    for ref in referenced_files(text.decode("utf-8", "replace")):
        if posixpath.isabs(ref) or "\\" in ref:
            continue
        path = posixpath.normpath(posixpath.join(folder, ref))
        if path != ".." and not path.startswith("../"):
            paths.append(path)
    return paths


def _catalog_files(copy: Path, repo_path: str) -> list[str]:
    """The certificate files a CA catalog copied to `repo_path` names (its "file" and
    "files"), as repository paths; nothing when it is no catalog: read leniently, the
    loader judges the catalog afterwards."""

    path = copy / repo_path
    if path.suffix != ".json" or path.is_symlink():
        return []
    try:
        data = json.loads(read_small_file(path, "CA catalog"))
    except (SourceError, ValueError, RecursionError):
        return []
    found: list[str] = []

    def walk(value: Any, depth: int = 0) -> None:
        if depth > 20:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "file" and isinstance(item, str):
                    found.append(item)
                elif key == "files" and isinstance(item, list):
                    found.extend(name for name in item if isinstance(name, str))
                else:
                    walk(item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                walk(item, depth + 1)

    walk(data)
    folder = posixpath.dirname(repo_path)
    paths = (
        posixpath.normpath(posixpath.join(folder, name))
        for name in found
        if name and not posixpath.isabs(name)
    )
    return sorted({p for p in paths if p != ".." and not p.startswith("../")})


def _write(path: Path, data: bytes) -> None:
    if path.exists() or path.is_symlink():  # already copied (a link's target)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _at_revision(error: Exception, copy: Path, rev: str) -> Exception:
    """The loader's error(s) about the temporary copy, pointing at REV:path instead."""

    def moved(one: ConfigError) -> ConfigError:
        message = one.message.replace(f"{copy}/", f"{rev}:")
        where = one.location
        if where is not None and where.file.is_relative_to(copy):
            inside = where.file.relative_to(copy).as_posix()
            where = Location(Path(f"{rev}:{inside}"), where.line, where.column)
        return ConfigError(f"(the old version) {message}", where)

    if isinstance(error, ConfigErrors):
        return ConfigErrors([moved(e) for e in error.errors])
    assert isinstance(error, ConfigError)
    return moved(error)
