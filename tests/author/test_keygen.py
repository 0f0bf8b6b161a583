"""`pingen keygen`: backup key pairs, checked against the openssl CLI."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pingen.spki import pin_of_public_key
from tests.conftest import CliRunner
from tests.support.openssl import openssl, openssl_pin

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="no git")


def printed_pin(stdout: str) -> str:
    line = next(line for line in stdout.splitlines() if line.startswith("pin "))
    return line.split()[1]


def pasted_lines(stdout: str) -> list[dict[str, object]]:
    """The pins.yaml lines keygen prints, read back by a YAML parser."""
    block = stdout.split("pins.yaml:\n\n", 1)[1]
    loaded = yaml.safe_load(block)
    assert isinstance(loaded, list)
    return loaded


def files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if ".git" not in p.parts}


# -- each key type ---------------------------------------------------------


@needs_openssl
@pytest.mark.parametrize(
    ("key_type", "expected_class", "size"),
    [
        ("ec-p256", ec.EllipticCurvePrivateKey, 256),
        ("ec-p384", ec.EllipticCurvePrivateKey, 384),
        ("rsa-2048", rsa.RSAPrivateKey, 2048),
        ("rsa-3072", rsa.RSAPrivateKey, 3072),
        ("rsa-4096", rsa.RSAPrivateKey, 4096),
    ],
)
def test_each_type_writes_a_key_pair_whose_pin_matches_openssl(
    run_pingen: CliRunner, workdir: Path, key_type: str, expected_class: type, size: int
) -> None:
    result = run_pingen("keygen", "backup", "--type", key_type)
    assert result.exit_code == 0, result.stderr
    private = serialization.load_pem_private_key(
        (workdir / "backup.key.pem").read_bytes(), password=None
    )
    assert isinstance(private, expected_class)
    assert isinstance(private, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    assert private.key_size == size
    public = serialization.load_pem_public_key((workdir / "backup.pub.pem").read_bytes())
    assert public == private.public_key()
    pin = printed_pin(result.stdout)
    public_pem = str(workdir / "backup.pub.pem")
    assert pin == openssl_pin("pkey", "-pubin", "-in", public_pem, "-outform", "der")
    assert pin == pin_of_public_key(public)
    assert openssl("pkey", "-in", str(workdir / "backup.key.pem"), "-noout").returncode == 0


def test_default_type_is_ec_p256(run_pingen: CliRunner, workdir: Path) -> None:
    assert run_pingen("keygen", "k").exit_code == 0
    key = serialization.load_pem_private_key((workdir / "k.key.pem").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"


def test_private_key_is_never_printed(run_pingen: CliRunner, workdir: Path) -> None:
    result = run_pingen("keygen", "k")
    body = (workdir / "k.key.pem").read_text().splitlines()[1]
    assert "PRIVATE KEY-----" not in result.stdout + result.stderr
    assert body not in result.stdout + result.stderr


# -- file modes and never overwriting --------------------------------------


def test_private_key_mode_is_0600_and_public_key_is_readable(
    run_pingen: CliRunner, workdir: Path
) -> None:
    result = run_pingen("keygen", "k", "--dir", "new/keys")
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE((workdir / "new/keys/k.key.pem").stat().st_mode) == 0o600
    public_mode = stat.S_IMODE((workdir / "new/keys/k.pub.pem").stat().st_mode)
    assert public_mode & 0o400 and not public_mode & 0o022
    assert stat.S_IMODE((workdir / "new/keys").stat().st_mode) == 0o700  # made for the keys


def test_private_key_is_0600_even_with_a_permissive_umask(
    run_pingen: CliRunner, workdir: Path
) -> None:
    import os

    old = os.umask(0)
    try:
        assert run_pingen("keygen", "k").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((workdir / "k.key.pem").stat().st_mode) == 0o600


@pytest.mark.parametrize("existing", ["k.key.pem", "k.pub.pem", "k.csr.pem"])
def test_refuses_to_overwrite_any_file_of_the_pair(
    run_pingen: CliRunner, workdir: Path, existing: str
) -> None:
    (workdir / existing).write_text("precious\n")
    result = run_pingen("keygen", "k", "--csr-domain", "api.example.com")
    assert result.exit_code == 2
    assert existing in result.stderr and "never overwrites" in result.stderr
    assert "Traceback" not in result.stderr
    assert files_in(workdir) == {existing}
    assert (workdir / existing).read_text() == "precious\n"


def test_refuses_a_symlink_in_the_way(run_pingen: CliRunner, workdir: Path) -> None:
    (workdir / "k.key.pem").symlink_to(workdir / "elsewhere.pem")
    result = run_pingen("keygen", "k")
    assert result.exit_code == 2
    assert not (workdir / "elsewhere.pem").exists()
    assert not (workdir / "k.pub.pem").exists()


def test_a_second_run_keeps_the_first_key(run_pingen: CliRunner, workdir: Path) -> None:
    assert run_pingen("keygen", "k").exit_code == 0
    first = (workdir / "k.key.pem").read_bytes()
    assert run_pingen("keygen", "k").exit_code == 2
    assert (workdir / "k.key.pem").read_bytes() == first


def test_dir_that_is_a_file_is_bad_input(run_pingen: CliRunner, workdir: Path) -> None:
    (workdir / "keys").write_text("")
    result = run_pingen("keygen", "k", "--dir", "keys/sub")
    assert result.exit_code == 2
    assert "keys is a file" in result.stderr
    assert files_in(workdir) == {"keys"}


@pytest.mark.parametrize("name", ["../k", "a/b", ".hidden", "-k", "", "k.", "a b"])
def test_bad_names_are_refused(run_pingen: CliRunner, workdir: Path, name: str) -> None:
    result = run_pingen("keygen", "--", name)
    assert result.exit_code == 2
    assert "not a usable key name" in result.stderr
    assert files_in(workdir) == set()


# -- what to paste ---------------------------------------------------------


def test_prints_pins_yaml_lines_that_load(run_pingen: CliRunner, workdir: Path) -> None:
    from pingen.config.load import load_config

    result = run_pingen("keygen", "api-backup-2027", "--dir", "keys")
    assert result.exit_code == 0, result.stderr
    lines = pasted_lines(result.stdout)
    assert lines == [
        {
            "file": "keys/api-backup-2027.pub.pem",
            "label": "backup key api-backup-2027 (EC P-256)",
            "backup": True,
        }
    ]
    assert "      - file: keys/api-backup-2027.pub.pem\n" in result.stdout
    pin = printed_pin(result.stdout)
    # pasted into a real pins.yaml beside a second pin, it loads and pins that key
    block = result.stdout.split("pins.yaml:\n\n", 1)[1]
    (workdir / "pins.yaml").write_text(
        "version: 1\ndefaults:\n  expires: never\ndomains:\n  api.example.com:\n    pins:\n"
        f"      - sha256: {'A' * 43}=\n{block}"
    )
    config = load_config(workdir / "pins.yaml")
    backup = config.domains[0].pins[1]
    assert backup.sha256 == pin and backup.backup is True


def test_file_reference_is_relative_to_the_config(run_pingen: CliRunner, workdir: Path) -> None:
    app = workdir / "app"
    app.mkdir()
    (app / "pins.yaml").write_text(_CONFIG)
    result = run_pingen("keygen", "k", "--dir", "app/keys", "-c", "app/pins.yaml")
    assert result.exit_code == 0, result.stderr
    assert pasted_lines(result.stdout)[0]["file"] == "keys/k.pub.pem"


def test_public_key_outside_the_config_folder_is_named_absolutely(
    run_pingen: CliRunner, workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("offline")
    result = run_pingen("keygen", "k", "--dir", str(elsewhere))
    assert result.exit_code == 0, result.stderr
    assert pasted_lines(result.stdout)[0]["file"] == (elsewhere / "k.pub.pem").as_posix()
    assert "lies outside the current folder; copy it into the app repository" in result.stderr
    (workdir / "pins.yaml").write_text(_CONFIG)
    named = run_pingen("keygen", "k2", "--dir", str(elsewhere))
    assert named.exit_code == 0, named.stderr
    assert "lies outside the folder of pins.yaml; copy it" in named.stderr


# -- CSR -------------------------------------------------------------------


@needs_openssl
def test_csr_holds_the_domains_as_sans(run_pingen: CliRunner, workdir: Path) -> None:
    result = run_pingen(
        "keygen",
        "k",
        "--type",
        "rsa-2048",
        "--csr-domain",
        "API.Example.com",
        "--csr-domain",
        "*.example.com",
        "--csr-domain",
        "bücher.example",
        "--csr-domain",
        "api.example.com",
    )
    assert result.exit_code == 0, result.stderr
    csr = x509.load_pem_x509_csr((workdir / "k.csr.pem").read_bytes())
    assert csr.is_signature_valid
    sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    expected = ["api.example.com", "*.example.com", "xn--bcher-kva.example"]
    assert sans.get_values_for_type(x509.DNSName) == expected
    assert csr.subject.rfc4514_string() == "CN=api.example.com"
    public = serialization.load_pem_public_key((workdir / "k.pub.pem").read_bytes())
    assert csr.public_key() == public
    text = openssl("req", "-in", str(workdir / "k.csr.pem"), "-noout", "-text", "-verify")
    assert text.returncode == 0, text.stderr
    out = text.stdout.decode()
    assert "DNS:api.example.com, DNS:*.example.com, DNS:xn--bcher-kva.example" in out
    assert "Subject: CN = api.example.com" in out
    assert "verify OK" in (text.stdout + text.stderr).decode()


def test_no_csr_without_csr_domain(run_pingen: CliRunner, workdir: Path) -> None:
    assert run_pingen("keygen", "k").exit_code == 0
    assert files_in(workdir) == {"k.key.pem", "k.pub.pem"}


@pytest.mark.parametrize(
    "bad",
    [
        "https://api.example.com",
        "api.example.com:443",
        "10.0.0.1",
        "localhost",
        "a..b.com",
        "*.*.example.com",
    ],
)
def test_bad_csr_domain_writes_nothing(run_pingen: CliRunner, workdir: Path, bad: str) -> None:
    result = run_pingen("keygen", "k", "--csr-domain", bad)
    assert result.exit_code == 2
    assert f"--csr-domain {bad}" in result.stderr
    assert files_in(workdir) == set()


# -- passphrase ------------------------------------------------------------


@needs_openssl
def test_passphrase_encrypts_the_private_key(
    run_pingen: CliRunner, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_PASSPHRASE", "correct horse battery staple")
    result = run_pingen("keygen", "k", "--passphrase-env", "BACKUP_PASSPHRASE")
    assert result.exit_code == 0, result.stderr
    assert "correct horse" not in result.stdout + result.stderr
    key_file = workdir / "k.key.pem"
    assert key_file.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with_pass = openssl(
        "pkey", "-in", str(key_file), "-pubout", "-passin", "pass:correct horse battery staple"
    )
    assert with_pass.returncode == 0, with_pass.stderr
    assert with_pass.stdout == (workdir / "k.pub.pem").read_bytes()
    wrong = openssl("pkey", "-in", str(key_file), "-pubout", "-passin", "pass:wrong")
    assert wrong.returncode != 0
    none = openssl("pkey", "-in", str(key_file), "-pubout", "-passin", "pass:")
    assert none.returncode != 0


@pytest.mark.parametrize("value", [None, ""])
def test_missing_or_empty_passphrase_variable_writes_nothing(
    run_pingen: CliRunner, workdir: Path, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("PINGEN_TEST_PASS", raising=False)
    else:
        monkeypatch.setenv("PINGEN_TEST_PASS", value)
    result = run_pingen("keygen", "k", "--passphrase-env", "PINGEN_TEST_PASS")
    assert result.exit_code == 2
    assert "PINGEN_TEST_PASS" in result.stderr
    assert ("is not set" if value is None else "is empty") in result.stderr
    assert files_in(workdir) == set()


# -- where the private key lands ------------------------------------------


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


@needs_git
def test_warns_inside_a_git_work_tree_unless_ignored(run_pingen: CliRunner, workdir: Path) -> None:
    _git(workdir, "init", "-q")
    exposed = run_pingen("keygen", "k", "--dir", "keys")
    assert exposed.exit_code == 0
    assert "keys/k.key.pem is inside the git work tree" in exposed.stderr
    assert "*.key.pem" in exposed.stderr
    (workdir / ".gitignore").write_text("*.key.pem\n")
    ignored = run_pingen("keygen", "k2", "--dir", "keys")
    assert ignored.exit_code == 0
    assert "git" not in ignored.stderr


def test_no_warning_outside_git(run_pingen: CliRunner, workdir: Path) -> None:
    result = run_pingen("keygen", "k")
    assert result.exit_code == 0
    assert result.stderr == ""


_CONFIG = """\
version: 1
defaults:
  expires: never
domains:
  api.example.com:
    pins:
      - sha256: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
      - sha256: BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=
outputs:
  - type: json
    path: config/pins.json
  - type: json
    path: root-output.json
"""


@pytest.mark.parametrize("folder", ["config", "config/secret"])
def test_refuses_an_output_folder(run_pingen: CliRunner, workdir: Path, folder: str) -> None:
    (workdir / "pins.yaml").write_text(_CONFIG)
    result = run_pingen("keygen", "k", "--dir", folder)
    assert result.exit_code == 2
    assert "pins.yaml:" in result.stderr
    assert "config/pins.json" in result.stderr and "never sit with generated" in result.stderr
    assert files_in(workdir) == {"pins.yaml"}


def test_output_beside_pins_yaml_does_not_forbid_every_folder(
    run_pingen: CliRunner, workdir: Path
) -> None:
    (workdir / "pins.yaml").write_text(_CONFIG)
    result = run_pingen("keygen", "k", "--dir", "keys")
    assert result.exit_code == 0, result.stderr


def test_an_explicit_config_that_does_not_load_is_bad_input(
    run_pingen: CliRunner, workdir: Path
) -> None:
    result = run_pingen("keygen", "k", "-c", "missing.yaml")
    assert result.exit_code == 2
    assert "missing.yaml" in result.stderr
    assert files_in(workdir) == set()


def test_a_broken_default_config_only_warns(run_pingen: CliRunner, workdir: Path) -> None:
    (workdir / "pins.yaml").write_text("version: 7\n")
    result = run_pingen("keygen", "k")
    assert result.exit_code == 0
    assert "pins.yaml does not load" in result.stderr


def test_a_failed_write_removes_the_files_already_written(tmp_path: Path) -> None:
    from pingen.author.keys import PRIVATE_MODE, KeyFileError, write_files

    private = tmp_path / "k.key.pem"
    with pytest.raises(KeyFileError, match="cannot create"):
        write_files(
            [
                (private, b"secret", PRIVATE_MODE),
                (tmp_path / "no-such-folder" / "k.pub.pem", b"public", 0o644),
            ]
        )
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_folder_a_target_renders_into(run_pingen: CliRunner, workdir: Path) -> None:
    """A monorepo's target (`into:`) writes app files below pins.yaml's folder too."""
    (workdir / "apps" / "android").mkdir(parents=True)
    (workdir / "pins.yaml").write_text(
        _CONFIG.replace(
            "outputs:\n",
            "targets:\n  android:\n    into: apps/android\n    outputs:\n"
            "      - type: android-nsc\n        path: app/src/main/res/xml/nsc.xml\n"
            "outputs:\n",
        )
    )
    result = run_pingen("keygen", "k", "--dir", "apps/android/app/src/main/res/xml")
    assert result.exit_code == 2
    assert "where pingen writes app/src/main/res/xml/nsc.xml" in result.stderr
    assert not list(workdir.rglob("*.pem"))
    assert run_pingen("keygen", "k", "--dir", "apps/keys").exit_code == 0
