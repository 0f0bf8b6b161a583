"""The composite GitHub Action (action.yml): its shell steps run here with bash, in a
real git repository, the way the runner would run them (inputs in the environment,
GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files). `actions/setup-python` and the pip
install of pingen are the runner's part and are skipped: pingen is installed here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliRunner
from tests.support.action import ACTION, run_action
from tests.support.git import git
from tests.support.samples import LATER, PIN_A, PIN_B, PIN_C, template_project

CONFIG = template_project("generated/pins.txt")
TEMPLATE = (
    "{{ notice }}\n{% for d in domains %}{% for p in d.pins %}{{ d.host }} {{ p.sha256 }}\n"
    "{% endfor %}{% endfor %}"
)


@pytest.fixture
def workspace(tmp_path: Path, run_pingen: CliRunner) -> Path:
    """A checked-out app repository with current generated files."""
    folder = tmp_path / "workspace"
    folder.mkdir()
    git(folder, "init", "-q")
    (folder / "pins.yaml").write_text(CONFIG)
    (folder / "pins.txt.j2").write_text(TEMPLATE)
    assert run_pingen("build", cwd=folder).exit_code == 0
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "pins")
    return folder


def test_the_action_declares_both_modes_and_passes_inputs_safely() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert {"config", "mode", "python-version", "base", "diff-file"} <= set(ACTION["inputs"])
    for step in ACTION["runs"]["steps"]:
        # Inputs reach scripts only through the environment, never pasted into code.
        assert "${{" not in step.get("run", ""), step["name"]


def test_check_mode_passes_current_and_fails_stale(workspace: Path) -> None:
    code, _, summary, log = run_action(workspace, mode="check")
    assert code == 0, log
    assert summary == ""
    (workspace / "pins.yaml").write_text(CONFIG.replace(PIN_B, PIN_C))
    code, _, _, log = run_action(workspace, mode="check")
    assert code == 1
    assert "generated/pins.txt: out of date; run `pingen build`" in log
    assert "\x1b[" not in log


def test_check_mode_with_base_writes_the_diff_to_the_job_summary(workspace: Path) -> None:
    (workspace / "pins.yaml").write_text(CONFIG.replace(PIN_B, PIN_C))
    code, _, summary, _ = run_action(workspace, mode="check", base="HEAD")
    assert code == 1  # still stale: the summary is information, the check decides
    assert summary.startswith("### pingen: changes to pins (`HEAD:pins.yaml` → `pins.yaml`)")
    assert f"| added | `{PIN_C}` | backup |  | yes |" in summary
    assert f"| removed | `{PIN_B}` | backup |  | yes |" in summary


def test_update_mode_builds_and_writes_the_pull_request_body(workspace: Path) -> None:
    code, outputs, _, log = run_action(workspace, mode="update")
    assert code == 0, log
    assert outputs["changed"] == "false"
    assert "No changes to pins or outputs." in Path(outputs["diff-file"]).read_text()

    # A step before the action edited pins.yaml (a bot bumping a pin): build and describe.
    (workspace / "pins.yaml").write_text(CONFIG.replace(PIN_A, PIN_C))
    body = workspace.parent / "body.md"
    code, outputs, _, log = run_action(workspace, mode="update", diff_file=str(body))
    assert code == 0, log
    assert outputs == {"changed": "true", "diff-file": str(body)}
    text = body.read_text()
    assert f"| added | `{PIN_C}` |" in text and f"| removed | `{PIN_A}` | ISRG Root X1 |" in text
    assert text.endswith("#### Regenerated files\n\n- `generated/pins.txt`\n- `pins.yaml`\n")
    assert f"api.example.com {PIN_C}" in (workspace / "generated" / "pins.txt").read_text()


def test_a_wrong_mode_fails_loudly(workspace: Path) -> None:
    code, _, _, log = run_action(workspace, mode="fix")
    assert code == 2 and "mode must be check or update" in log


# -- the pins repository's bot: one target into an app repository's checkout ----------

TARGETED = f"""\
version: 1
defaults:
  expires: {LATER}
domains:
  api.example.com:
    pins:
      - sha256: {PIN_A}
        label: ISRG Root X1
      - sha256: {PIN_B}
        label: backup
        backup: true
targets:
  ios:
    outputs:
      - type: json
        path: App/pins.json
"""


@pytest.fixture
def pins_and_app(tmp_path: Path) -> tuple[Path, Path]:
    """The security team's pins repository (two commits) beside an app's checkout."""
    pins, app = tmp_path / "pins", tmp_path / "app"
    for folder in (pins, app):
        folder.mkdir()
        git(folder, "init", "-q")
    (pins / "pins.yaml").write_text(TARGETED)
    git(pins, "add", "-A")
    git(pins, "commit", "-q", "-m", "pins")
    (pins / "pins.yaml").write_text(TARGETED.replace(PIN_A, PIN_C))
    git(pins, "commit", "-q", "-am", "rotate")
    (app / "README.md").write_text("the app\n")
    git(app, "add", "-A")
    git(app, "commit", "-q", "-m", "app")
    return pins, app


def test_update_mode_renders_a_target_into_the_app_checkout(
    pins_and_app: tuple[Path, Path],
) -> None:
    pins, app = pins_and_app
    code, outputs, _, log = run_action(
        pins, mode="update", target="ios", into="../app", base="HEAD~1"
    )
    assert code == 0, log
    assert outputs["changed"] == "true"
    body = Path(outputs["diff-file"]).read_text()
    assert f"| added | `{PIN_C}` |" in body and "`ios`: touched" in body
    assert body.endswith("#### Regenerated files\n\n- `App/pins.json`\n")
    assert PIN_C in (app / "App" / "pins.json").read_text()
    assert not (pins / "App").exists()
    code, _, _, log = run_action(pins, mode="check", target="ios", into="../app")
    assert code == 0, log
    git(app, "add", "-A")
    git(app, "commit", "-q", "-m", "pingen")
    # A re-run with nothing new changes nothing: the bot pushes nothing.
    code, outputs, _, log = run_action(
        pins, mode="update", target="ios", into="../app", base="0" * 40
    )
    assert code == 0, log
    assert outputs["changed"] == "false"


def test_into_without_target_fails_loudly(pins_and_app: tuple[Path, Path]) -> None:
    pins, _ = pins_and_app
    code, _, _, log = run_action(pins, mode="check", into="../app")
    assert code == 2 and "into goes with target" in log
