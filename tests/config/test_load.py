"""The strict loader: every rule of pins.yaml, each error at its file:line, exit 2,
no traceback, nothing written."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from pingen.config.load import load_config, relative_inside
from pingen.confine import confine_output, repository_of
from pingen.errors import ConfigError, ConfigErrors
from pingen.hosts import normalize_host, parse_address
from pingen.model import Address, Level, PinSource
from tests.conftest import CliRunner
from tests.support.projects import write_project
from tests.support.samples import PIN_A, PIN_B, TODAY, VALID_CONFIG


def test_valid_config_loads_into_the_model(tmp_path: Path) -> None:
    config = load_config(write_project(tmp_path, VALID_CONFIG), today=TODAY)
    (domain,) = config.domains
    assert domain.host == "api.example.com"
    assert domain.expires == dt.date(2027, 6, 30)
    assert domain.include_subdomains is False and domain.enforce is True
    assert [p.sha256 for p in domain.pins] == [PIN_A, PIN_B]
    assert [p.backup for p in domain.pins] == [False, True]
    assert domain.pins[0].label == "live" and domain.pins[0].source is PinSource.SHA256
    assert domain.pins[0].level is None
    (output,) = config.outputs
    assert output.path == Path("out/custom.txt") and output.kind == "template"


def test_defaults_merge_and_domains_override(tmp_path: Path) -> None:
    text = VALID_CONFIG.replace(
        "defaults:\n  expires: 2027-06-30\n",
        "defaults:\n  expires: 2027-06-30\n  include_subdomains: true\n  enforce: false\n"
        "  report_uris: [https://r.example.com/report]\n",
    ).replace("  api.example.com:\n", "  api.example.com:\n    expires: never\n    enforce: true\n")
    (domain,) = load_config(write_project(tmp_path, text), today=TODAY).domains
    assert domain.expires is None
    assert domain.include_subdomains is True
    assert domain.enforce is True
    assert domain.report_uris == ("https://r.example.com/report",)


def test_okhttp_prefix_and_host_normalisation(tmp_path: Path) -> None:
    text = VALID_CONFIG.replace(f"sha256: {PIN_A}", f"sha256: sha256/{PIN_A}").replace(
        "api.example.com:", "API.Bücher.Example.:"
    )
    (domain,) = load_config(write_project(tmp_path, text), today=TODAY).domains
    assert domain.host == "api.xn--bcher-kva.example"
    assert domain.pins[0].sha256 == PIN_A


def test_output_options_get_their_defaults(tmp_path: Path) -> None:
    text = VALID_CONFIG.replace(
        "  - template: t.j2\n    path: out/custom.txt\n",
        "  - type: okhttp\n    path: K.kt\n    package: com.example\n"
        "  - type: android-nsc\n    path: nsc.xml\n    trustkit: true\n",
    )
    okhttp, nsc = load_config(write_project(tmp_path, text), today=TODAY).outputs
    assert dict(okhttp.options) == {"package": "com.example", "name": "CertificatePins"}
    assert nsc.options["trustkit"] is True and nsc.options["cleartext_permitted"] is False


# (name, replace this, with this, line of the error, text the message must hold)
CASES = [
    ("yaml syntax", "version: 1\n", "version: [1\n", 2, "YAML syntax"),
    ("tab indentation", "    pins:\n", "\tpins:\n", 6, "YAML syntax"),
    (
        "unquoted wildcard host",
        "  api.example.com:\n",
        "  *.example.com:\n",
        5,
        "a leading `*` starts a YAML alias, and a wildcard host is not allowed anyway: pin the "
        "parent domain with `include_subdomains: true`",
    ),
    ("duplicate top key", "version: 1\n", "version: 1\nversion: 1\n", 2, "duplicate key `version`"),
    (
        "duplicate domain key",
        "        label: live\n",
        "        label: live\n        label: x\n",
        9,
        "duplicate key `label`",
    ),
    (
        "unknown key typo",
        "    pins:\n",
        "    include_subdomain: true\n    pins:\n",
        6,
        "did you mean `include_subdomains`",
    ),
    ("unknown top key", "version: 1\n", "version: 1\ndomain: {}\n", 2, "did you mean `domains`"),
    (
        "unknown pin key",
        "        backup: true\n",
        "        backups: true\n",
        10,
        "did you mean `backup`",
    ),
    ("version missing", "version: 1\n", "", 1, "missing `version:`"),
    ("version wrong", "version: 1\n", "version: 2\n", 1, "version 1"),
    ("version not int", "version: 1\n", "version: one\n", 1, "whole number"),
    ("bool as yes", "    pins:\n", "    enforce: yes\n    pins:\n", 6, "true or false"),
    ("bool quoted", "    pins:\n", '    enforce: "true"\n    pins:\n', 6, "true or false"),
    ("domains not mapping", "domains:\n", "domains: 3\nx:\n", 4, "mapping"),
    ("pins not a list", "    pins:\n", "    pins: 3\n    pinz:\n", 6, "list"),
    ("expires not a date", "expires: 2027-06-30", "expires: June 2027", 3, "yyyy-mm-dd"),
    ("expires bad day", "expires: 2027-06-30", "expires: 2027-02-30", 3, "real calendar date"),
    ("expires short form", "expires: 2027-06-30", "expires: 2027-6-30", 3, "yyyy-mm-dd"),
    ("expires past", "expires: 2027-06-30", "expires: 2026-01-01", 3, "not in the future"),
    ("expires missing", "defaults:\n  expires: 2027-06-30\n", "", 3, "has no `expires:`"),
    ("scheme in host", "  api.example.com:", "  https://api.example.com:", 5, "scheme"),
    ("port in host", "  api.example.com:", '  "api.example.com:443":', 5, "port"),
    ("path in host", "  api.example.com:", "  api.example.com/v1:", 5, "path"),
    ("wildcard host", "  api.example.com:", '  "*.example.com":', 5, "wildcard"),
    ("ip host", "  api.example.com:", '  "192.0.2.1":', 5, "IP address"),
    ("ipv6 host", "  api.example.com:", '  "[::1]":', 5, "IP address"),
    ("empty label", "  api.example.com:", "  api..example.com:", 5, "empty label"),
    ("single label", "  api.example.com:", "  localhost:", 5, "single label"),
    ("bad label", "  api.example.com:", "  api_x.example.com:", 5, "not a valid host name"),
    (
        "duplicate host after normalising",
        "outputs:\n",
        f"  API.example.com.:\n    pins: [{{sha256: {PIN_A}}}, {{sha256: {PIN_B}}}]\noutputs:\n",
        11,
        "same host",
    ),
    ("one pin", f"      - sha256: {PIN_B}\n        backup: true\n", "", 7, "at least two"),
    ("duplicate pin", f"sha256: {PIN_B}", f"sha256: {PIN_A}", 9, "already listed"),
    (
        "duplicate pin via prefix",
        f"sha256: {PIN_B}",
        f"sha256: sha256/{PIN_A}",
        9,
        "already listed",
    ),
    ("short pin", f"sha256: {PIN_B}", "sha256: abcd", 9, "decodes to 3 bytes"),
    ("not base64", f"sha256: {PIN_B}", "sha256: not-base64!", 9, "not standard base64"),
    ("sha1 pin", f"sha256: {PIN_B}", "sha256: sha1/BOGUS=", 9, "SHA-1"),
    ("no source", f"      - sha256: {PIN_B}\n", "      - label: nothing\n", 9, "exactly one of"),
    (
        "two sources",
        f"      - sha256: {PIN_B}\n",
        f"      - sha256: {PIN_B}\n        root: X\n",
        9,
        "exactly one of",
    ),
    (
        "bad level",
        "        label: live\n",
        "        label: live\n        level: top\n",
        9,
        "not one of leaf, intermediate, root",
    ),
    (
        "missing key file",
        f"      - sha256: {PIN_B}\n",
        "      - file: keys/none.pem\n",
        9,
        "keys/none.pem: no such file (paths are relative to pins.yaml)",
    ),
    (
        "bad report uri",
        "    pins:\n",
        "    report_uris: [ftp://x]\n    pins:\n",
        6,
        "not an http(s) URL",
    ),
    ("bad connect", "    pins:\n", '    connect: "h:99999"\n    pins:\n', 6, "port"),
    (
        "connect url",
        "    pins:\n",
        "    connect: https://h.example\n    pins:\n",
        6,
        "`connect: https://h.example`: write host:port, not a URL",
    ),
    (
        "connect not a host",
        "    pins:\n",
        '    connect: "h=127.0.0.1:8443"\n    pins:\n',
        6,
        "`h=127.0.0.1` is not a host name or IP address",
    ),
    (
        "connect with a space",
        "    pins:\n",
        "    connect: a b.example\n    pins:\n",
        6,
        "`a b.example` is not a host name or IP address",
    ),
    (
        "bad provider",
        "    pins:\n",
        "    provider: google\n    pins:\n",
        6,
        "did you mean `google-managed`",
    ),
    ("output absolute", "path: out/custom.txt", "path: /etc/passwd", 13, "absolute"),
    ("output escapes", "path: out/custom.txt", "path: ../x.txt", 13, "leaves the folder"),
    (
        "output escapes deep",
        "path: out/custom.txt",
        "path: out/../../x.txt",
        13,
        "leaves the folder",
    ),
    ("output no path", "    path: out/custom.txt\n", "", 12, "missing `path:`"),
    (
        "output unknown type",
        "  - template: t.j2\n",
        "  - type: swift\n",
        12,
        "not one of android-nsc",
    ),
    (
        "output both",
        "  - template: t.j2\n",
        "  - template: t.j2\n    type: json\n",
        12,
        "exactly one of",
    ),
    ("output neither", "  - template: t.j2\n", "  - path: a\n", 12, "exactly one of"),
    (
        "output option of other type",
        "    path: out/custom.txt\n",
        "    path: out/custom.txt\n    package: com.x\n",
        14,
        "`package` is an option of the okhttp output, not of this one; this one takes none",
    ),
    (
        "output option of two other types",
        "  - template: t.j2\n",
        "  - type: android-nsc\n    name: Pins\n",
        13,
        "`name` is an option of the okhttp, "
        "trustkit and urlsession outputs, not of this one; this one takes `cleartext_permitted`, "
        "`debug_overrides`, `debug_overrides_keep_pins`, `trustkit`",
    ),
    (
        "okhttp without package",
        "  - template: t.j2\n",
        "  - type: okhttp\n",
        12,
        "missing `package:`",
    ),
    ("missing template", "template: t.j2", "template: nope.j2", 12, "no such file"),
    (
        "same output twice",
        "    path: out/custom.txt\n",
        "    path: out/custom.txt\n  - template: t.j2\n    path: out/./custom.txt\n",
        14,
        "two outputs write",
    ),
    (
        "merge key",
        "defaults:\n",
        "base: &b {expires: never}\ndefaults:\n  <<: *b\n",
        2,
        "unknown key `base`",
    ),
    (
        "trust file missing",
        "version: 1\n",
        "version: 1\ntrust:\n  ca_file: roots.pem\n",
        3,
        "no such file",
    ),
    ("null value", "        label: live\n", "        label:\n", 8, "not nothing"),
]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_loader_error_names_file_and_line(
    run_pingen: CliRunner, workdir: Path, old: str, new: str, line: int, message: str
) -> None:
    assert old in VALID_CONFIG
    write_project(workdir, VALID_CONFIG.replace(old, new, 1))
    before = sorted(p.name for p in workdir.rglob("*"))
    result = run_pingen("build")
    assert result.exit_code == 2, result.stderr
    assert f"pins.yaml:{line}:" in result.stderr, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert sorted(p.name for p in workdir.rglob("*")) == before  # nothing written


def test_several_errors_are_reported_together(tmp_path: Path) -> None:
    text = VALID_CONFIG.replace("    pins:\n", "    includeSubdomains: true\n    pins:\n").replace(
        "path: out/custom.txt", "path: /abs"
    )
    with pytest.raises(ConfigErrors) as raised:
        load_config(write_project(tmp_path, text), today=TODAY)
    assert len(raised.value.errors) == 2


def test_bad_file_level_errors(run_pingen: CliRunner, workdir: Path) -> None:
    assert "no such file" in run_pingen("build", "-c", "nope.yaml").stderr
    (workdir / "empty.yaml").write_text("")
    result = run_pingen("build", "-c", "empty.yaml")
    assert result.exit_code == 2 and "empty" in result.stderr
    (workdir / "latin1.yaml").write_bytes(b"version: 1\n# caf\xe9\n")
    assert "not UTF-8" in run_pingen("build", "-c", "latin1.yaml").stderr
    (workdir / "list.yaml").write_text("- 1\n")
    result = run_pingen("build", "-c", "list.yaml")
    assert result.exit_code == 2 and "list.yaml:1:1:" in result.stderr
    result = run_pingen("build", "-c", str(workdir))
    assert result.exit_code == 2


def test_input_size_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "pins.yaml"
    path.write_text(VALID_CONFIG + "#" * (1024 * 1024))
    with pytest.raises(ConfigError, match="capped at 1 MiB"):
        load_config(path, today=TODAY)


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb = "\n".join(levels) + "\n"
    started = time.monotonic()
    for text in (
        bomb + VALID_CONFIG,  # unknown keys holding the bomb
        VALID_CONFIG.replace("    pins:\n", "    report_uris: *a11\n    pins:\n").replace(
            "version: 1\n", "version: 1\n" + "\n".join(f"x{line}" for line in levels) + "\n"
        ),
    ):
        path = tmp_path / "pins.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError):
            load_config(path, today=TODAY)
    assert time.monotonic() - started < 5


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "pins.yaml"
    path.write_text("version: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError):
        load_config(path, today=TODAY)


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        (" a.b ", "a.b"),
    ],
)
def test_normalize_host(text: str, host: str) -> None:
    assert normalize_host(text) == host


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("203.0.113.7:443", Address("203.0.113.7", 443)),
        ("[::1]:8443", Address("::1", 8443)),
        ("edge.example.net", Address("edge.example.net", 443)),
        ("[::1]", Address("::1", 443)),
    ],
)
def test_parse_address(text: str, address: Address) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["::1:443", "[::1", "[nope]:443", "h:0", "h:x", ":443"])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_address(text)


def test_output_path_cannot_escape_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "link").symlink_to(outside)
    with pytest.raises(ValueError, match="symbolic link"):
        confine_output("link/x.txt", project, repository_of(project / "pins.yaml"))
    assert relative_inside("a/./b/../c.txt", project) == Path("a/c.txt")


def test_level_given_overrides_inferred(tmp_path: Path) -> None:
    text = VALID_CONFIG.replace(
        "        label: live\n", "        label: live\n        level: root\n"
    )
    (domain,) = load_config(write_project(tmp_path, text), today=TODAY).domains
    assert domain.pins[0].level is Level.ROOT


def test_a_repeated_value_is_read_as_each_place_quotes_it(tmp_path: Path) -> None:
    # The loader resolves a scalar's tag once per text, kind and quoting: `true` read
    # first as a boolean must not make a later quoted "true" one (nor the reverse).
    second = VALID_CONFIG.split("domains:\n")[1].split("outputs:")[0]
    text = VALID_CONFIG.replace(
        "outputs:",
        second.replace("api.example.com", "www.example.com").replace(
            "backup: true", 'backup: "true"'
        )
        + "outputs:",
    )
    with pytest.raises((ConfigError, ConfigErrors)) as raised:
        load_config(write_project(tmp_path, text), today=TODAY)
    assert str(raised.value).endswith("pins.yaml:16:17: `backup` must be true or false, not 'true'")
    config = load_config(write_project(tmp_path, text.replace('"true"', "true")), today=TODAY)
    assert [p.backup for d in config.domains for p in d.pins] == [False, True, False, True]
