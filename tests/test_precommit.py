"""The pre-commit hook `pingen-check`, run by the real pre-commit (`try-repo`): it
builds its own virtualenv and pip-installs pingen from this repository, then fails
on stale generated files and passes on current ones. Slow (one install per run):
this is the only test that does it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import CliRunner
from tests.support.git import git
from tests.support.paths import REPO
from tests.support.samples import PIN_B, template_project

CONFIG = template_project("generated/pins.json")
TEMPLATE = """\
{"_": {{ notice | tojson }}, "pins": {
{%- for d in domains %}{{ d.host | tojson }}: {{ d.pins | map(attribute='sha256') | list | tojson }}
{%- endfor %}}}
"""


def test_hook_files_pattern_matches_configs_and_outputs() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "pingen-check" and hook["pass_filenames"] is False
    assert hook["entry"] == "pingen build --check" and hook["language"] == "python"
    files = re.compile(hook["files"])
    for path in (
        "pins.yaml",
        "app/pins.yml",
        "res/xml/network_security_config.xml",
        "ios/App/Info.plist",
        "net/CertificatePins.kt",
        "TrustKitConfig.swift",
        "keys/api-backup.pub.pem",
        "templates/custom.txt.j2",
        "config/pins.json",
    ):
        assert files.search(path), path
    for path in ("README.md", "src/app.py", "pins.yaml.orig"):
        assert not files.search(path), path


# try-repo clones pingen with git: a copy without .git (a source archive) cannot be tried.
@pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(),
    reason="needs git and a git checkout of pingen",
)
def test_pre_commit_try_repo_fails_stale_and_passes_current(
    run_pingen: CliRunner, tmp_path: Path
) -> None:
    project = tmp_path / "app"
    project.mkdir()
    git(project, "init", "-q")
    (project / "pins.yaml").write_text(CONFIG)
    (project / "pins.txt.j2").write_text(TEMPLATE)
    built = run_pingen("build", cwd=project)
    assert built.exit_code == 0, built.stderr
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "pins")

    current = try_repo(project, tmp_path)
    assert current.returncode == 0, current.stdout + current.stderr
    assert re.search(r"pingen build --check.*Passed", current.stdout)

    # pins.yaml changed, the generated file not rebuilt: the hook must fail the commit.
    (project / "pins.yaml").write_text(
        CONFIG.replace(PIN_B, "YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg=")
    )
    git(project, "add", "pins.yaml")
    stale = try_repo(project, tmp_path)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert re.search(r"pingen build --check.*Failed", stale.stdout)
    assert "generated/pins.json: out of date; run `pingen build`" in stale.stdout
    assert (project / "generated" / "pins.json").read_text().count(PIN_B) == 1  # untouched


def try_repo(project: Path, scratch: Path) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo <this repository> pingen-check --all-files` in `project`."""
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(scratch / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
        "PIP_NO_INPUT": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(REPO),
            "pingen-check",
            "--all-files",
            "--color",
            "never",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
