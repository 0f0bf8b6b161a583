"""The composite GitHub Action (action.yml) run the way the runner runs it: its shell
steps with bash, inputs in the environment, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.
`actions/setup-python` and the pip install of pingen are the runner's part and are
skipped: pingen is installed here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.paths import REPO

ACTION = yaml.safe_load((REPO / "action.yml").read_text())

# The steps run this checkout's pingen (and python), not another one on PATH.
BIN_FIRST = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
_EXPRESSION = re.compile(r"\$\{\{\s*([a-z.-]+)\s*\}\}")


def evaluate(text: str, inputs: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "github.action_path":
            return str(REPO)
        assert name.startswith("inputs."), name
        return inputs[name.removeprefix("inputs.")]

    return _EXPRESSION.sub(value, text)


def condition(expression: str | None, inputs: dict[str, str]) -> bool:
    if expression is None:
        return True
    match = re.fullmatch(r"inputs\.([a-z-]+) (==|!=) '([^']*)'", expression.strip())
    assert match, f"the test cannot evaluate `if: {expression}`"
    name, operator, literal = match.groups()
    return (inputs[name] == literal) == (operator == "==")


def run_action(workspace: Path, **given: str) -> tuple[int, dict[str, str], str, str]:
    """Run the action's shell steps; (exit code, outputs, job summary, log)."""
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs.update({k.replace("_", "-"): v for k, v in given.items()})
    output_file, summary_file = workspace.parent / "output", workspace.parent / "summary"
    output_file.write_text("")
    summary_file.write_text("")
    log = ""
    for step in ACTION["runs"]["steps"]:
        if "run" not in step or step["name"] == "Install pingen":
            continue
        if not condition(step.get("if"), inputs):
            continue
        env = {
            **os.environ,
            "PATH": BIN_FIRST,
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "RUNNER_TEMP": str(workspace.parent),
        }
        env.update({k: evaluate(str(v), inputs) for k, v in step.get("env", {}).items()})
        folder = workspace / evaluate(step.get("working-directory", "."), inputs)
        done = subprocess.run(
            ["bash", "-e", "-c", evaluate(step["run"], inputs)],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        log += done.stdout + done.stderr
        if done.returncode != 0:
            return done.returncode, {}, summary_file.read_text(), log
    return 0, read_outputs(output_file.read_text()), summary_file.read_text(), log


def read_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `name=value` lines and the multi-line
    form `name<<DELIMITER`, value lines, `DELIMITER`."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for each in lines:
                if each == delimiter:
                    break
                value.append(each)
            else:
                raise AssertionError(f"{name}: no closing {delimiter!r}")
            outputs[name] = "\n".join(value)
        else:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs
