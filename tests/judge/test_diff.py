"""`pingen diff`: crafted pairs of configs, a real git history, the three formats, and
the live check against a loopback TLS server."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any  # a parsed JSON report: its shape is what the test asserts

import pytest

from pingen.judge.diff import compare
from pingen.model import Config, Domain, Pin, PinSet, PinSource
from pingen.report.diff import to_markdown
from pingen.report.markdown import md_text
from pingen.report.term import colour_wanted
from tests.conftest import CliRunner
from tests.support.git import git
from tests.support.pki import CA, public_key_pem, write_pem
from tests.support.samples import LATER, PIN_A, PIN_B, PIN_C, PIN_D
from tests.support.servers import tls_server

# An expiry earlier than LATER but still in the future.
SOONER = (dt.date.fromisoformat(LATER) - dt.timedelta(days=150)).isoformat()

BASE = f"""\
version: 1
defaults:
  expires: {LATER}
domains:
  api.example.com:
    pins:
      - sha256: {PIN_A}
        label: ISRG Root X1
        level: root
      - sha256: {PIN_B}
        label: offline backup
        backup: true
  steady.example.com:
    pins:
      - sha256: {PIN_A}
      - sha256: {PIN_B}
        backup: true
outputs:
  - type: json
    path: pins.json
"""


def diff_json(run_pingen: CliRunner, folder: Path, old: str, new: str) -> dict[str, Any]:
    (folder / "old.yaml").write_text(old)
    (folder / "pins.yaml").write_text(new)
    result = run_pingen("diff", "--old", "old.yaml", "--format", "json", cwd=folder)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def flag_codes(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["code"], f["domain"]) for f in data["flags"]]


def test_identical_versions_show_no_change(run_pingen: CliRunner, tmp_path: Path) -> None:
    data = diff_json(run_pingen, tmp_path, BASE, BASE)
    assert data["changed"] is False and data["domains"] == [] and data["flags"] == []
    assert data["summary"] == {"added": 0, "removed": 0, "changed": 0, "unchanged": 2, "flags": 0}
    text = run_pingen("diff", "--old", "old.yaml", cwd=tmp_path)
    assert text.exit_code == 0 and "no changes to pins or outputs" in text.stdout


def test_pins_added_and_removed_with_labels(run_pingen: CliRunner, tmp_path: Path) -> None:
    new = BASE.replace(
        f"      - sha256: {PIN_A}\n        label: ISRG Root X1\n",
        f"      - sha256: {PIN_C}\n        label: ISRG Root X2\n",
        1,
    )
    new = new.replace(
        f"      - sha256: {PIN_B}\n        label: offline backup\n",
        f"      - sha256: {PIN_B}\n        label: offline backup 2027\n",
    )
    data = diff_json(run_pingen, tmp_path, BASE, new)
    (domain,) = data["domains"]
    assert domain["domain"] == "api.example.com" and domain["change"] == "changed"
    assert [(p["sha256"], p["label"]) for p in domain["pins_added"]] == [(PIN_C, "ISRG Root X2")]
    assert [(p["sha256"], p["label"], p["level"]) for p in domain["pins_removed"]] == [
        (PIN_A, "ISRG Root X1", "root")
    ]
    assert domain["pins_changed"][0]["changes"] == [
        {"setting": "label", "old": "offline backup", "new": "offline backup 2027"}
    ]
    assert data["summary"]["unchanged"] == 1
    # The backup survived, so the set was not replaced wholesale: nothing to flag.
    assert flag_codes(data) == []


def test_settings_changes_and_their_flags(run_pingen: CliRunner, tmp_path: Path) -> None:
    new = BASE.replace(
        "  api.example.com:\n",
        "  api.example.com:\n    include_subdomains: true\n    enforce: false\n"
        f"    expires: {SOONER}\n    provider: letsencrypt-certbot\n",
    ).replace("  steady.example.com:\n", "  steady.example.com:\n    expires: never\n")
    data = diff_json(run_pingen, tmp_path, BASE, new)
    api, steady = data["domains"]
    assert {s["setting"]: (s["old"], s["new"]) for s in api["settings"]} == {
        "include_subdomains": (False, True),
        "enforce": (True, False),
        "expires": (LATER, SOONER),
        "provider": (None, "letsencrypt-certbot"),
    }
    assert steady["settings"] == [{"setting": "expires", "old": LATER, "new": "never"}]
    assert flag_codes(data) == [
        ("expiry-earlier", "api.example.com"),
        ("enforce-off", "api.example.com"),
        ("subdomains-added", "api.example.com"),
        ("expiry-never", "steady.example.com"),
    ]


def test_never_to_a_date_is_an_earlier_expiry(run_pingen: CliRunner, tmp_path: Path) -> None:
    old = BASE.replace(f"  expires: {LATER}", "  expires: never")
    data = diff_json(run_pingen, tmp_path, old, BASE)
    assert ("expiry-earlier", "api.example.com") in flag_codes(data)
    assert data["domains"][0]["settings"] == [{"setting": "expires", "old": "never", "new": LATER}]


def test_backup_dropped_and_set_replaced(run_pingen: CliRunner, tmp_path: Path) -> None:
    new = BASE.replace(
        f"      - sha256: {PIN_A}\n        label: ISRG Root X1\n        level: root\n"
        f"      - sha256: {PIN_B}\n        label: offline backup\n        backup: true\n",
        f"      - sha256: {PIN_C}\n      - sha256: {PIN_D}\n",
    )
    data = diff_json(run_pingen, tmp_path, BASE, new)
    assert flag_codes(data) == [
        ("no-backup", "api.example.com"),
        ("no-common-pin", "api.example.com"),
    ]


def test_domains_added_and_removed(run_pingen: CliRunner, tmp_path: Path) -> None:
    new = BASE.replace("steady.example.com", "fresh.example.com")
    new = new.replace(
        f"      - sha256: {PIN_B}\n        backup: true\n", f"      - sha256: {PIN_B}\n"
    )
    data = diff_json(run_pingen, tmp_path, BASE, new)
    assert [(d["domain"], d["change"]) for d in data["domains"]] == [
        ("fresh.example.com", "added"),
        ("steady.example.com", "removed"),
    ]
    assert flag_codes(data) == [
        ("no-backup", "fresh.example.com"),
        ("domain-removed", "steady.example.com"),
    ]


def test_outputs_added_removed_and_changed(run_pingen: CliRunner, tmp_path: Path) -> None:
    new = BASE.replace(
        "  - type: json\n    path: pins.json\n",
        "  - type: okhttp\n    path: pins.json\n    package: com.example\n"
        "  - type: trustkit\n    path: ios/T.swift\n",
    )
    data = diff_json(run_pingen, tmp_path, BASE, new)
    outputs = data["outputs"]
    assert [(o["path"], o["change"], o["kind"]) for o in outputs] == [
        ("pins.json", "changed", "okhttp"),
        ("ios/T.swift", "added", "trustkit"),
    ]
    changed = {s["setting"]: (s["old"], s["new"]) for s in outputs[0]["settings"]}
    assert changed == {
        "type": ("json", "okhttp"),
        "package": (None, "com.example"),
        "name": (None, "CertificatePins"),
    }


def test_a_domain_left_with_one_pin_is_flagged() -> None:
    # The loader refuses such a config; compare() still judges the model it is given.
    def config(*pins: Pin) -> Config:
        domain = Domain("api.example.com", False, True, PinSet(pins, dt.date(2027, 1, 1)))
        return Config(Path("/p/pins.yaml"), 1, (domain,), ())

    backup = Pin(PIN_B, PinSource.SHA256, backup=True)
    result = compare(config(Pin(PIN_A, PinSource.SHA256), backup), config(backup))
    assert [f.code for f in result.flags] == ["too-few-pins"]


def test_markdown_is_a_pull_request_body_with_inert_labels(
    run_pingen: CliRunner, tmp_path: Path
) -> None:
    nasty = "a | <img src=x onerror=alert(1)> *b*"
    new = BASE.replace("label: offline backup", f'label: "{nasty}"')
    new = new.replace(f"  expires: {LATER}", f"  expires: {SOONER}")
    new = new.replace(
        "        level: root\n",
        f'        level: root\n      - sha256: {PIN_C}\n        label: "{nasty}"\n',
        1,
    )
    (tmp_path / "old.yaml").write_text(BASE)
    (tmp_path / "pins.yaml").write_text(new)
    result = run_pingen("diff", "--old", "old.yaml", "--format", "markdown", cwd=tmp_path)
    assert result.exit_code == 0
    body = result.stdout
    assert body.startswith("### pingen: changes to pins (`old.yaml` → `pins.yaml`)\n")
    assert "> [!WARNING]" in body and "expiry moved earlier" in body
    # In the table the label is escaped text: a pipe cannot split the row, no HTML.
    row = next(line for line in body.splitlines() if line.startswith("| added |"))
    assert row == (
        f"| added | `{PIN_C}` | a \\| &lt;img src=x onerror=alert(1)&gt; \\*b\\* |  |  |"
    )
    # Elsewhere user text only ever appears in a code span, which Markdown shows as is.
    assert body.count("<img") == body.count(f"`{nasty}`") == 1
    assert "- label:" not in body and f"label: `offline backup` → `{nasty}`" in body
    assert f"- expires: `{LATER}` → `{SOONER}`" in body
    assert "\x1b[" not in body


def test_text_and_markdown_show_each_flag_code_beside_its_message(
    run_pingen: CliRunner, tmp_path: Path
) -> None:
    new = BASE.replace(
        f"      - sha256: {PIN_A}\n        label: ISRG Root X1\n        level: root\n"
        f"      - sha256: {PIN_B}\n        label: offline backup\n        backup: true\n",
        f"      - sha256: {PIN_C}\n      - sha256: {PIN_D}\n",
    )
    data = diff_json(run_pingen, tmp_path, BASE, new)
    flags = [(f["code"], f["message"]) for f in data["flags"]]
    assert [code for code, _ in flags] == ["no-backup", "no-common-pin"]
    text = run_pingen("diff", "--old", "old.yaml", cwd=tmp_path).stdout.splitlines()
    assert [line for line in text if line.startswith("! ")] == [
        f"! {code}: {message}" for code, message in flags
    ]
    body = run_pingen(
        "diff", "--old", "old.yaml", "--format", "markdown", cwd=tmp_path
    ).stdout.splitlines()
    listed = [line for line in body if line.startswith("> - ")]
    assert [line.split(":", 1)[0] for line in listed] == ["> - `no-backup`", "> - `no-common-pin`"]
    # the message follows, its `code spans` kept
    assert listed[0] == (
        "> - `no-backup`: api.example.com has no backup pin (`backup: true`, "
        "or the root of a second CA): if the live key must be replaced, no key "
        "the apps accept is ready (`pingen keygen` makes one)"
    )


def test_md_text_escapes() -> None:
    assert md_text("a_b [x](y)\nz") == "a\\_b \\[x\\](y) z"
    assert md_text("<&>") == "&lt;&amp;&gt;"


def test_output_is_deterministic_and_colourless_off_a_terminal(
    run_pingen: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = BASE.replace("steady.example.com", "fresh.example.com")
    (tmp_path / "old.yaml").write_text(BASE)
    (tmp_path / "pins.yaml").write_text(new)
    runs = [run_pingen("diff", "--old", "old.yaml", cwd=tmp_path) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and "\x1b[" not in runs[0].stdout
    assert runs[0].stdout.splitlines()[0] == "pins.yaml: old.yaml → pins.yaml"

    class Terminal(io.StringIO):  # a stream that says it is a terminal
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_wanted(Terminal()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert colour_wanted(Terminal()) is False


def test_bad_input(run_pingen: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "pins.yaml").write_text(BASE)
    (tmp_path / "old.yaml").write_text(BASE.replace("version: 1", "version: 1\nbogus: 1"))
    both = run_pingen("diff", "--old", "old.yaml", "--base", "HEAD", cwd=tmp_path)
    assert both.exit_code == 2 and "not both" in both.stderr
    broken = run_pingen("diff", "--old", "old.yaml", cwd=tmp_path)
    assert broken.exit_code == 2 and broken.stdout == ""
    assert broken.stderr.startswith("old.yaml:2:1: unknown key `bogus`")
    not_git = run_pingen("diff", cwd=tmp_path)
    assert not_git.exit_code == 2 and "not a git repository" in not_git.stderr.lower()
    assert "pins.yaml: no git repository to take the old version from" in not_git.stderr
    assert "compare with a file: --old FILE" in not_git.stderr
    assert "Traceback" not in not_git.stderr
    # a missing --old is not a missing pins.yaml: no hint to `pingen init` or -c
    missing = run_pingen("diff", "--old", "gone.yaml", cwd=tmp_path)
    assert missing.exit_code == 2 and missing.stdout == ""
    assert missing.stderr == (
        "gone.yaml: no such file (--old names the old version of pins.yaml)\n"
    )


# -- a real git history --------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    return tmp_path


def test_base_revision_with_its_own_key_files(
    run_pingen: CliRunner, repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The old version's `file:` pins are read as they were at the base revision."""
    from tests.support.pki import new_key

    old_key, new_key_ = new_key(), new_key()
    app = repo / "app"
    (app / "keys").mkdir(parents=True)
    (app / "keys" / "backup.pub.pem").write_bytes(public_key_pem(old_key))
    config = BASE.replace(
        f"      - sha256: {PIN_B}\n        label: offline backup\n",
        "      - file: keys/backup.pub.pem\n        label: offline backup\n",
    )
    (app / "pins.yaml").write_text(config)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    (app / "keys" / "backup.pub.pem").write_bytes(public_key_pem(new_key_))
    (app / "pins.yaml").write_text(config.replace(LATER, SOONER))
    git(repo, "commit", "-q", "-am", "rotate the backup key")

    elsewhere = tmp_path_factory.mktemp("elsewhere")
    result = run_pingen(
        "diff", "--base", "HEAD~1", "-c", str(app / "pins.yaml"), "--format", "json", cwd=elsewhere
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["old"] == "HEAD~1:app/pins.yaml"
    api = data["domains"][0]
    from pingen.spki import pin_of_public_key

    assert [p["sha256"] for p in api["pins_removed"]] == [pin_of_public_key(old_key.public_key())]
    assert [p["sha256"] for p in api["pins_added"]] == [pin_of_public_key(new_key_.public_key())]
    assert ("expiry-earlier", "api.example.com") in flag_codes(data)
    # The default base is HEAD: the working tree matches it.
    same = run_pingen("diff", "--format", "json", cwd=app)
    assert json.loads(same.stdout)["changed"] is False and same.exit_code == 0


def test_base_where_pins_yaml_did_not_exist_yet(run_pingen: CliRunner, repo: Path) -> None:
    (repo / "README").write_text("hello\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "pins.yaml").write_text(BASE)
    result = run_pingen("diff", "--format", "json", cwd=repo)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(d["domain"], d["change"]) for d in data["domains"]] == [
        ("api.example.com", "added"),
        ("steady.example.com", "added"),
    ]
    assert [o["change"] for o in data["outputs"]] == ["added"]


def test_base_with_a_past_expiry_still_loads(run_pingen: CliRunner, repo: Path) -> None:
    """The old version's dates are history, not judged against today."""
    (repo / "pins.yaml").write_text(BASE.replace(LATER, "2020-01-01"))
    git(repo, "add", "pins.yaml")
    git(repo, "commit", "-q", "-m", "old")
    (repo / "pins.yaml").write_text(BASE)
    result = run_pingen("diff", "--format", "json", cwd=repo)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["changed"] == 2


def test_bad_base_revision_and_broken_old_version(run_pingen: CliRunner, repo: Path) -> None:
    (repo / "pins.yaml").write_text(BASE.replace(f"expires: {LATER}", f"expires: soon {LATER}"))
    git(repo, "add", "pins.yaml")
    git(repo, "commit", "-q", "-m", "broken")
    (repo / "pins.yaml").write_text(BASE)
    unknown = run_pingen("diff", "--base", "no-such-rev", cwd=repo)
    assert unknown.exit_code == 2 and "--base no-such-rev: no such commit" in unknown.stderr
    dash = run_pingen("diff", "--base", "--output=x", cwd=repo)
    assert dash.exit_code == 2 and not (repo / "x").exists()
    broken = run_pingen("diff", cwd=repo)
    assert broken.exit_code == 2 and broken.stdout == ""
    assert broken.stderr.startswith("HEAD:pins.yaml:3:12: (the old version) `expires: soon")
    assert "pingen-diff-" not in broken.stderr  # the temporary copy is never named


# -- --verify: what the server serves today --------------------------------------------


def test_verify_flags_a_removed_pin_that_is_live(run_pingen: CliRunner, tmp_path: Path) -> None:
    root = CA.root()
    inter = root.intermediate()
    leaf = inter.issue_leaf("api.example.test")
    write_pem(tmp_path / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        config = f"""\
version: 1
trust:
  ca_file: roots.pem
defaults:
  expires: {LATER}
domains:
  api.example.test:
    connect: {host}:{port}
    pins:
      - sha256: {inter.pin}
        label: Test Issuing CA
      - sha256: {root.pin}
        label: Test Root
      - sha256: {PIN_B}
        label: backup
        backup: true
"""
        new = config.replace(f"      - sha256: {inter.pin}\n        label: Test Issuing CA\n", "")
        gone = new.replace(
            f"      - sha256: {root.pin}\n        label: Test Root\n", f"      - sha256: {PIN_C}\n"
        )
        (tmp_path / "old.yaml").write_text(config)
        (tmp_path / "pins.yaml").write_text(new)
        result = run_pingen(
            "diff", "--old", "old.yaml", "--verify", "--format", "json", cwd=tmp_path
        )
        (tmp_path / "pins.yaml").write_text(gone)
        worse = run_pingen(
            "diff", "--old", "old.yaml", "--verify", "--format", "json", cwd=tmp_path
        )
    assert result.exit_code == 0, result.stderr
    assert flag_codes(json.loads(result.stdout)) == [("live-pin-removed", "api.example.test")]
    assert "Test Issuing CA" in json.loads(result.stdout)["flags"][0]["message"]
    assert result.stderr == ""  # no progress off a terminal
    codes = [code for code, _ in flag_codes(json.loads(worse.stdout))]
    assert codes == ["live-pin-removed", "live-pin-removed", "no-live-match"]


def test_verify_with_an_unreachable_host_still_diffs(run_pingen: CliRunner, tmp_path: Path) -> None:
    from tests.support.servers import closed_port

    with closed_port() as (host, port):
        config = BASE.replace(
            "  api.example.com:\n", f"  api.example.com:\n    connect: {host}:{port}\n"
        )
        (tmp_path / "old.yaml").write_text(BASE)
        (tmp_path / "pins.yaml").write_text(config)
        result = run_pingen(
            "diff",
            "--old",
            "old.yaml",
            "--verify",
            "--timeout",
            "2",
            "--format",
            "markdown",
            cwd=tmp_path,
        )
    assert result.exit_code == 0, result.stderr
    assert "api.example.com: not checked against the live server (connection refused" in (
        result.stdout
    )


def test_to_markdown_without_changes() -> None:
    config = Config(Path("/p/pins.yaml"), 1, (), ())
    body = to_markdown(compare(config, config, old_name="HEAD:pins.yaml", new_name="pins.yaml"))
    assert "No changes to pins or outputs." in body and "[!WARNING]" not in body
