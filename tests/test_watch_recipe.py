"""The README's weekly verify job, run here as the runner would run its script: real
`pingen verify` against loopback TLS servers, and a stand-in for the GitHub CLI (`gh`)
that records what the script asked of it and answers `gh issue list` as told. GitHub
itself cannot be reached from here; everything short of it is real."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.docs import docs_text
from tests.support.pki import CA, write_pem
from tests.support.samples import PIN_B
from tests.support.servers import tls_server

HOST = "api.example.test"
# Within the test CA's lifetime, counted from today as the test certificates are.
EXPIRES = (dt.date.today() + dt.timedelta(days=200)).isoformat()

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")

FAKE_GH = """\
#!/usr/bin/env bash
# Records each call, one line; `issue list` prints what $GH_OPEN_ISSUE says.
printf '%s\\n' "$*" >> "$GH_LOG"
if [ "$1 $2" = "issue list" ]; then printf '%s' "${GH_OPEN_ISSUE:-}"; fi
if [ "$1 $2" = "issue create" ] || [ "$1 $2" = "issue edit" ]; then
  while [ $# -gt 0 ]; do
    if [ "$1" = "--body-file" ]; then cp "$2" "$GH_BODY"; fi
    shift
  done
fi
"""


def watch_script() -> str:
    text = docs_text()
    match = re.search(r"<!-- pingen-watch-script:[^>]*-->\n```sh\n(.*?)```", text, re.DOTALL)
    assert match, "the docs lost their marked weekly verify script"
    return match.group(1)


def run_watch(folder: Path, open_issue: str = "") -> tuple[int, list[str], str]:
    """(exit code, gh calls, the issue body it wrote)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    (folder / "pins-watch.sh").write_text(watch_script())
    log, body = folder / "gh.log", folder / "body.md"
    for path in (log, body):
        path.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}"
        f"{os.pathsep}{os.environ.get('PATH', '')}",
        "GH_LOG": str(log),
        "GH_BODY": str(body),
        "GH_OPEN_ISSUE": open_issue,
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        ["bash", "pins-watch.sh"], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return done.returncode, calls, body.read_text() if body.exists() else ""


def write_pins(folder: Path, root: CA, port: int, pins: list[str]) -> None:
    write_pem(folder / "roots.pem", root.cert)
    lines = "".join(f"      - sha256: {pin}\n" for pin in pins[:-1])
    (folder / "pins.yaml").write_text(
        f"version: 1\ntrust:\n  ca_file: roots.pem\ndefaults:\n  expires: {EXPIRES}\ndomains:\n"
        f"  {HOST}:\n    connect: 127.0.0.1:{port}\n    pins:\n{lines}"
        f"      - sha256: {pins[-1]}\n        backup: true\n"
    )


@pytest.fixture(scope="module")
def pki() -> tuple[CA, CA]:
    root = CA.root("Watch Test Root")
    return root, root.intermediate("Watch Issuing CA")


def test_a_failing_domain_opens_an_issue_and_fails_the_job(
    tmp_path: Path, pki: tuple[CA, CA]
) -> None:
    root, inter = pki
    with tls_server(inter.issue_leaf(HOST).identity()) as (_, port):
        write_pins(tmp_path, root, port, [PIN_B, "jQJTbIh0grw0/1TkHSumWb+Fs0Ggogr621gT3PvPKG0="])
        code, calls, body = run_watch(tmp_path)
    assert code == 1
    assert calls[0].startswith("issue list --state open --search in:title")
    assert calls[1] == (
        "issue create --title pingen verify: pinned servers need attention --body-file verify.md"
    )
    assert "no-live-match" in body and HOST in body


def test_a_problem_that_persists_updates_the_open_issue(tmp_path: Path, pki: tuple[CA, CA]) -> None:
    root, inter = pki
    with tls_server(inter.issue_leaf(HOST).identity()) as (_, port):
        write_pins(tmp_path, root, port, [PIN_B, "jQJTbIh0grw0/1TkHSumWb+Fs0Ggogr621gT3PvPKG0="])
        code, calls, body = run_watch(tmp_path, open_issue="7")
    assert code == 1
    assert calls[1] == "issue edit 7 --body-file verify.md"
    assert "no-live-match" in body


def test_every_domain_ok_again_closes_the_issue(tmp_path: Path, pki: tuple[CA, CA]) -> None:
    root, inter = pki
    with tls_server(inter.issue_leaf(HOST).identity()) as (_, port):
        # The root and the intermediate of the live chain, and an offline backup key.
        write_pins(tmp_path, root, port, [root.pin, inter.pin, PIN_B])
        code, calls, _ = run_watch(tmp_path, open_issue="7")
        verdict = (tmp_path / "verify.json").read_text()
    assert '"status": "ok"' in verdict, verdict
    assert code == 0
    assert calls[1] == "issue close 7 --comment pingen verify: every domain is ok again."


def test_nothing_wrong_and_no_issue_asks_nothing_more(tmp_path: Path, pki: tuple[CA, CA]) -> None:
    root, inter = pki
    with tls_server(inter.issue_leaf(HOST).identity()) as (_, port):
        write_pins(tmp_path, root, port, [root.pin, inter.pin, PIN_B])
        code, calls, _ = run_watch(tmp_path)
    assert code == 0
    assert len(calls) == 1  # only the look-up


def test_a_broken_pins_yaml_fails_without_touching_issues(tmp_path: Path) -> None:
    (tmp_path / "pins.yaml").write_text("version: 1\ndomains: {}\n")
    code, calls, _ = run_watch(tmp_path)
    assert code == 2
    assert calls == []
