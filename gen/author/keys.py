"""Backup key pairs for `pingen keygen`: generate, serialise, and write them safely —
never where generated app files go, never in an app asset folder, never over a file.

The private key file is created with mode 0600 by `os.open(O_CREAT | O_EXCL)`, so it
is never readable by others, not even for a moment, and an existing file is never
replaced. Every file of a key pair is planned before the first is written; if any
write fails, the files this run created are removed again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pingen.errors import ConfigError, Location, display_path

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from pingen.model import Config

    PrivateKey = EllipticCurvePrivateKey | RSAPrivateKey

KeyType = Literal["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]
KEY_TYPES: tuple[KeyType, ...] = ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096")
DEFAULT_KEY_TYPE: KeyType = "ec-p256"

PRIVATE_SUFFIX = ".key.pem"
PUBLIC_SUFFIX = ".pub.pem"
CSR_SUFFIX = ".csr.pem"
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644  # before the umask, like any file a user creates

# A key name becomes a file name: no folders, no hidden files, no option look-alikes.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")


class KeyFileError(Exception):
    """A key pair that cannot be written; the message says why and what to do."""


def check_name(name: str) -> str:
    if not _NAME.match(name) or name.endswith("."):
        raise ValueError(
            f"{name!r} is not a usable key name: use letters, digits, '.', '_' and '-' "
            "(no folders; put them in --dir), e.g. api-backup-2027"
        )
    return name


@dataclass(frozen=True)
class KeyPaths:
    private: Path
    public: Path
    csr: Path | None

    @classmethod
    def for_name(cls, folder: Path, name: str, *, with_csr: bool) -> KeyPaths:
        return cls(
            private=folder / f"{name}{PRIVATE_SUFFIX}",
            public=folder / f"{name}{PUBLIC_SUFFIX}",
            csr=folder / f"{name}{CSR_SUFFIX}" if with_csr else None,
        )

    @property
    def all(self) -> tuple[Path, ...]:
        return (self.private, self.public) + ((self.csr,) if self.csr else ())


def generate(key_type: KeyType) -> PrivateKey:

    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    bits = int(key_type.removeprefix("rsa-"))
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def private_pem(key: PrivateKey, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM; encrypted (PBES2, AES-256) when a passphrase is given."""

    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def public_pem(key: PrivateKey) -> bytes:

    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def csr_for(key: PrivateKey, names: Sequence[str]) -> x509.CertificateSigningRequest:
    """A CSR whose subject CN is the first name and whose SANs are all the names."""

    algorithm: hashes.SHA256 | hashes.SHA384 = (
        hashes.SHA384()
        if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384
        else hashes.SHA256()
    )
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in names]),
            critical=False,
        )
        .sign(key, algorithm)
    )


def csr_pem(csr: x509.CertificateSigningRequest) -> bytes:

    return csr.public_bytes(serialization.Encoding.PEM)


def refuse_existing(paths: KeyPaths) -> None:
    existing = [path for path in paths.all if os.path.lexists(path)]
    if existing:
        listing = ", ".join(str(path) for path in existing)
        raise KeyFileError(
            f"{listing} already exist{'s' if len(existing) == 1 else ''}; pingen never "
            "overwrites a key. Choose another NAME or --dir"
        )


def write_files(contents: Sequence[tuple[Path, bytes, int]]) -> None:
    """Create each file exclusively with its mode; all or nothing."""
    created: list[Path] = []
    try:
        for path, data, mode in contents:
            _create(path, data, mode)
            created.append(path)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise


def _create(path: Path, data: bytes, mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, mode)
    except FileExistsError:
        raise KeyFileError(f"{path} appeared while writing; nothing was kept") from None
    except OSError as error:
        raise KeyFileError(f"{path}: cannot create it ({error.strerror})") from None
    try:
        if mode == PRIVATE_MODE:
            # The umask can only take bits away; make the mode exactly 0600 anyway.
            os.fchmod(descriptor, PRIVATE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    except OSError as error:
        os.close(descriptor)
        path.unlink(missing_ok=True)
        raise KeyFileError(f"{path}: cannot write it ({error.strerror})") from None
    os.close(descriptor)


def make_folder(folder: Path) -> list[Path]:
    """Create `folder` (and missing parents) with mode 0700; return what was created."""
    missing: list[Path] = []
    current = folder
    while not os.path.lexists(current):  # os.path: a too-long name is missing, not OSError
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    if os.path.lexists(current) and not os.path.isdir(current):
        raise KeyFileError(f"{current} is a file, not a folder; pass another --dir")
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except OSError as error:
            raise KeyFileError(f"{path}: cannot create the folder ({error.strerror})") from None
    return missing


def unignored_in_git(path: Path) -> Path | None:
    """The git work tree `path` would land in without being ignored, else None.

    Asks git itself (`git check-ignore`), so every .gitignore, info/exclude and global
    excludes file counts. No git, or no work tree: None.
    """

    git = shutil.which("git")
    if git is None:
        return None
    anchor = path.absolute().parent
    # os.path.isdir, not Path.is_dir: a name too long for the file system is no folder
    while not os.path.isdir(anchor) and anchor.parent != anchor:
        anchor = anchor.parent

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [git, "-C", str(anchor), *args], capture_output=True, text=True, check=False
        )

    top = run("rev-parse", "--show-toplevel")
    if top.returncode != 0 or not top.stdout.strip():
        return None
    ignored = run("check-ignore", "-q", "--no-index", str(path.resolve()))
    return Path(top.stdout.strip()) if ignored.returncode == 1 else None


def refuse_output_folder(folder: Path, config: Config, flag: str = "--dir") -> None:
    """A private key must never sit where generated app files go: those folders are
    committed and often bundled into the app. The config's own folder is not an
    output folder (outputs written beside pins.yaml would otherwise forbid all).
    `flag` names the option that chose `folder` (probe's --ca-dir uses this rule too)."""
    target = folder.resolve()
    root = config.root.resolve()
    # A target with `into:` (a monorepo) renders app files below pins.yaml's folder too.
    placed = [(root, o) for o in config.outputs] + [
        ((root / t.into).resolve(), o) for t in config.targets if t.into for o in t.outputs
    ]
    for base, output in placed:
        output_folder = (base / output.path).parent.resolve()
        if output_folder != root and target.is_relative_to(output_folder):
            raise ConfigError(
                f"{flag} {folder} is inside {display_path(output_folder)}, where pingen writes "
                f"{output.path}; a private key must never sit with generated app files. "
                f"Use a folder outside the app, e.g. {flag} ~/pingen-keys",
                output.location or Location(config.path),
            )


# Folder names whose content is copied into the app as it ships (`*.lproj` and
# `*.xcassets` into the IPA's bundle; a bundle's `Resources`).
_BUNDLED_SUFFIXES = (".xcassets", ".bundle", ".app", ".appex", ".framework", ".lproj")


def app_asset_folder(folder: Path) -> Path | None:
    """The app asset folder `folder` lies in, whose files ship inside the APK or IPA:
    an Android source set's `assets` (`src/main/assets`, `src/debug/assets`) or `res/raw`
    (AGP packages both: developer.android.com/guide/topics/resources/providing-resources),
    an asset catalog (`*.xcassets`), a bundle (`*.bundle`, `*.app`, `*.framework`, a
    localisation's `*.lproj`) or a bundle's `Resources`. None: no such folder."""
    parts = Path(os.path.realpath(folder)).parts
    for n, part in enumerate(parts):
        parent = parts[n - 1] if n else ""
        android = (part == "assets" and n >= 2 and parts[n - 2] == "src") or (
            part.startswith("raw") and parent == "res"
        )
        apple = part.endswith(_BUNDLED_SUFFIXES) or (
            part == "Resources" and (parent.endswith(_BUNDLED_SUFFIXES) or parent == "Contents")
        )
        if android or apple:
            return Path(*parts[: n + 1])
    return None


def refuse_asset_folder(folder: Path) -> None:
    asset_folder = app_asset_folder(folder)
    if asset_folder is not None:
        raise ConfigError(
            f"--dir {folder} is inside {display_path(asset_folder)}, an app asset folder whose "
            "files ship inside the APK or IPA: a private key there ships with the app. Use a "
            "folder outside the app, e.g. --dir ~/pingen-keys"
        )


def exposed_warning(private: Path) -> str | None:
    """What to say when a private key lies in a git work tree that does not ignore it."""
    work_tree = unignored_in_git(private)
    if work_tree is None:
        return None
    return (
        f"{display_path(private)} is inside the git work tree "
        f"{work_tree} and not ignored: add `*.key.pem` to .gitignore before anything "
        "else, or move it "
        "offline. A private key that was ever committed must be treated as public."
    )


def write_key_files(folder: Path, contents: Sequence[tuple[Path, bytes, int]]) -> None:
    """Create `folder` (and its parents) and every file, mode as given, never over an
    existing file; on failure the folders this made are removed again (ConfigError)."""
    created: list[Path] = []
    try:
        created = make_folder(folder)
        write_files(contents)
    except KeyFileError as error:
        for path in created:  # innermost first
            path.rmdir()
        raise ConfigError(str(error)) from None
