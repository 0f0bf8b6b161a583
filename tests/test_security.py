"""Issue 12: every attack an untrusted pull request tried, as a regression test."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from tests.conftest import CliRunner
from tests.support.pki import CA, write_pem
from tests.support.samples import PIN_A, PIN_B, PIN_C

REPO = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------
# edges: attacks 4 (Markdown/HTML), 5 (long hosts), 8 (terminal and workflow commands),
# 9 (pins.yaml comments), 12 (dependency floors), 13 (Action outputs), 14 (--verify)
# ---------------------------------------------------------------------------------------

# What a pull request puts in a label or a certificate name.
HTML = "<img src=x onerror=alert(1)><details open>"
MENTIONS = "@octocat @org/team #1 https://evil.example www.evil.example"
BIDI = "txt.exe\u202egnp.js"
BACKTICKS = "``</code>`` x `"
OSC52 = "\x1b]52;c;cGF3bmVk\x07\x1b[2K"
WORKFLOW_COMMAND = "\n::add-mask::secret\n::error title=pwned::owned\n  ::warning::x\n##[error]y"
EVIL = f"{HTML} {MENTIONS} {BIDI} {BACKTICKS}{OSC52}{WORKFLOW_COMMAND}\x85\u2028\x9b31m"
# A certificate's CN holds at most 64 bytes.
EVIL_CN = "<img src=x onerror=alert(1)>@a #1\u202e\x1b]52;c;aGk=\x07\n::error::x"


def _yaml_string(text: str) -> str:
    return yaml.safe_dump(text, allow_unicode=False, width=10**6).removesuffix("\n...\n")


def _config(label: str, *, output: str = "pins.txt") -> str:
    return f"""\
version: 1
defaults:
  expires: 2030-06-30
domains:
  api.example.com:
    pins:
      - sha256: {PIN_A}
        label: {_yaml_string(label)}
      - sha256: {PIN_B}
        label: backup
        backup: true
outputs:
  - type: json
    path: {output}
"""


# A code span: GitHub shows its text literally (no HTML, mentions or links inside).
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)")


def assert_inert_markdown(text: str) -> None:
    """Nothing of EVIL is live in `text` as GitHub Markdown."""
    assert not any(c in text for c in "\u202e\x1b\x07\x85\u2028\x9b"), "a raw control"
    prose = _CODE_SPAN.sub("", re.sub(r"\\[^\w\s]", "", text))  # escapes, then spans
    assert "`" not in prose.replace("<code>pingen diff</code>", ""), "a span left open"
    assert "<img" not in prose and "<details" not in prose
    assert not re.search(r"@[A-Za-z]", prose), "a live @mention"
    assert not re.search(r"(?<!&)#[0-9]", prose), "a live issue reference"
    assert "https://" not in prose and "www.evil" not in prose, "a live autolink"


def assert_inert_terminal(text: str) -> None:
    assert not any(c in text for c in "\x1b\x07\x85\u2028\u202e\x9b"), repr(text)
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), f"a workflow command: {line!r}"
        assert "##[" not in line, f"a workflow command: {line!r}"


# -- attack 4: Markdown and HTML in pull request bodies and job summaries ----------------


def test_diff_markdown_leaves_no_label_live(run_pingen: CliRunner, workdir: Path) -> None:
    # the pin is new: its label goes into the table as text
    (workdir / "old.yaml").write_text(_config("plain").replace(PIN_A, PIN_C))
    (workdir / "pins.yaml").write_text(_config(EVIL))
    result = run_pingen("diff", "--old", "old.yaml", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert_inert_markdown(result.stdout)
    assert "&lt;img src=x onerror=alert(1)&gt;" in result.stdout
    assert "@&#8203;octocat" in result.stdout and "#&#8203;1" in result.stdout
    assert "\\u202e" in result.stdout  # shown, not obeyed


def test_a_code_span_fence_outgrows_every_backtick_run() -> None:
    from pingen.markdown import md_code

    assert md_code("plain") == "`plain`"
    assert md_code("a``b") == "``` a``b ```"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("a|b", in_table=True) == "`a\\|b`"
    for text in ("``", "x````y", BACKTICKS):
        span = md_code(text)
        fence = re.match("`+", span).group()  # type: ignore[union-attr]
        assert "`" * len(fence) not in span[len(fence):-len(fence)]


def test_verify_markdown_escapes_certificate_names(run_pingen: CliRunner, workdir: Path) -> None:
    root = CA.root(EVIL_CN)
    leaf = root.intermediate("pingen Test Issuing CA").issue_leaf("api.example.com")
    write_pem(workdir / "roots.pem", root.cert)
    write_pem(workdir / "chain.pem", *leaf.chain())
    (workdir / "pins.yaml").write_text(
        "version: 1\ndefaults:\n  expires: never\ntrust:\n  ca_file: roots.pem\n"
        f"domains:\n  api.example.com:\n    pins:\n      - sha256: {root.pin}\n"
        f"      - sha256: {PIN_C}\n        label: backup\n        backup: true\n"
    )
    args = ("verify", "--chain", "chain.pem", "--domain", "api.example.com")
    markdown = run_pingen(*args, "--format", "markdown")
    assert markdown.exit_code in (0, 1), markdown.stderr
    assert "root &lt;img" in markdown.stdout  # the root's name, escaped
    assert_inert_markdown(markdown.stdout)
    # attack 8: the same name in the text table
    text = run_pingen(*args)
    assert "root <img" in text.stdout
    assert_inert_terminal(text.stdout + text.stderr)


def test_the_actions_list_of_regenerated_files_is_escaped() -> None:
    from pingen.markdown import regenerated_files

    porcelain = b"".join(f"{xy} {path}\0".encode() for xy, path in [
        (" M", "out/pins.json"), ("??", f"out/{HTML} @octocat ``x``.txt")])
    text = regenerated_files(porcelain)
    assert text.startswith("\n#### Regenerated files\n\n- `out/pins.json`\n")  # git's order
    assert "- ``` out/<img src=x onerror=alert(1)><details open> @octocat ``x``.txt ```" in text
    assert regenerated_files(b"") == ""
    done = subprocess.run([sys.executable, "-m", "pingen.markdown", "regenerated-files"],
                          input=porcelain, capture_output=True, check=True)
    assert done.stdout.decode() == text


# -- attack 5: a long host name never reaches IDNA ---------------------------------------


@pytest.mark.parametrize("host", ["a" * 800_000 + ".example.com", "ü" * 254],
                         ids=["800k", "254-u-label"])
def test_a_host_longer_than_253_characters_is_refused_quickly(
        run_pingen: CliRunner, workdir: Path, host: str) -> None:
    # YAML reads a key longer than 1024 characters only in the explicit form
    config = _config("x").replace("  api.example.com:\n    pins:", f"  ? {host}\n  : pins:")
    (workdir / "pins.yaml").write_text(config)
    started = time.monotonic()
    result = run_pingen("build")
    assert time.monotonic() - started < 10
    assert result.exit_code == 2
    assert re.match(r"pins\.yaml:5:\d+: `\w{40}…` is \d+ characters long; a host name has at "
                    r"most 253",
                    result.stderr), result.stderr[:300]
    assert len(result.stderr) < 400
    assert not (workdir / "pins.txt").exists()


def test_253_characters_with_a_trailing_dot_still_load() -> None:
    from pingen.load import normalize_host

    host = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert len(host) == 253
    assert normalize_host(host + ".") == host


# -- attack 8: terminal escapes and workflow commands ------------------------------------


def test_text_reports_and_messages_escape_controls(run_pingen: CliRunner, workdir: Path) -> None:
    (workdir / "old.yaml").write_text(_config("plain"))
    (workdir / "pins.yaml").write_text(_config(EVIL))
    diff = run_pingen("diff", "--old", "old.yaml")
    assert diff.exit_code == 0
    assert "\\x1b]52;c;cGF3bmVk\\x07" in diff.stdout
    assert_inert_terminal(diff.stdout + diff.stderr)
    # a message quoting data: an unknown key named by the pull request
    (workdir / "pins.yaml").write_text(_config("x").replace(
        "version: 1", f"version: 1\n{_yaml_string(EVIL)}: 1"))
    error = run_pingen("build")
    assert error.exit_code == 2
    assert_inert_terminal(error.stdout + error.stderr)


def test_terminal_text_keeps_our_lines_and_escapes_data() -> None:
    from pingen.textsafe import one_line, terminal_text

    assert terminal_text("a\tb\nc") == "a\tb\nc"
    assert terminal_text("x\n::error::y\n  ::add-mask::z") == (
        "x\n\\x3a:error::y\n  \\x3a:add-mask::z")
    assert terminal_text("ok ##[error]x") == "ok #\\x23[error]x"
    assert one_line("a\nb\x1b\u202e\U000e0041") == "a\\x0ab\\x1b\\u202e\\U000e0041"
    assert one_line("Zürich 東京") == "Zürich 東京"


# -- attack 9: a certificate name cannot end init's comments -----------------------------


@pytest.mark.parametrize("breaker", ["\n", "\r", "\x85", "\u2028", "\u2029"])
def test_init_comments_hold_no_line_break(breaker: str) -> None:
    from pingen.catalog import load_catalog
    from pingen.init import host_chain, parse_start, starter_config
    from tests.support.pki import now

    injected = f"{breaker}- sha256: {PIN_C}"  # a CN holds at most 64 bytes
    root = CA.root(f"R{injected}")
    leaf = root.intermediate(f"I{injected}").issue_leaf("api.example.com")
    chain = host_chain(parse_start("api.example.com"), leaf.chain(include_root=True), now(),
                       load_catalog())
    text = starter_config([chain], expires=None)
    loaded = yaml.safe_load(text)
    pins = loaded["domains"]["api.example.com"]["pins"]
    assert PIN_C not in [pin.get("sha256") for pin in pins]
    assert breaker not in text.replace("\n", "") if breaker != "\n" else True
    assert [pin["label"] for pin in pins] == [f"I{injected}", f"R{injected}"]


def test_one_quoting_for_pins_yaml() -> None:
    from pingen import init, suggest
    from pingen.commands import keygen
    from pingen.yamltext import comment, quote

    assert init.quote is quote and suggest.comment is comment
    assert "_yaml_scalar" not in vars(keygen)
    for text in ["a\x85b", "a\u2028b", "a\u202eb", "\x1b[2K", "yes", "-1", "a: b", "#x"]:
        assert yaml.safe_load(f"k: {quote(text)}") == {"k": text}, text
        assert yaml.safe_load(f"k: 1 {comment(text)}") == {"k": 1}, text


# -- attack 12: dependency floors ---------------------------------------------------------


FLOORS = {"certifi": "2024.7.4", "jinja2": "3.1.6", "cryptography": "44.0.1", "idna": "3.7"}


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_dependency_floors() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    floors = dict(re.fullmatch(r"([a-z0-9_-]+)(?:>=(\S+))?", d).groups()  # type: ignore[union-attr]
                  for d in declared)
    for name, floor in FLOORS.items():
        assert floors.get(name) == floor, (name, floors.get(name))
        assert _release(version(name)) >= _release(floor), name
    # imported directly, so declared
    assert "markupsafe" in floors
    assert "from markupsafe import" in (REPO / "gen" / "render" / "escape.py").read_text()


# -- attack 13: the Action's outputs -------------------------------------------------------


def test_the_action_writes_outputs_with_a_random_delimiter() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    update = next(step for step in action["runs"]["steps"] if step.get("id") == "update")
    script = update["run"]
    assert 'diff-file<<$delimiter' in script and "secrets.token_hex" in script
    assert not re.search(r'echo "[a-z-]+=\$(?!changed")', script), "a value written raw"


def test_a_diff_file_input_with_a_newline_is_refused(tmp_path: Path,
                                                     run_pingen: CliRunner) -> None:
    from tests.test_action import git, run_action

    folder = tmp_path / "workspace"
    folder.mkdir()
    git(folder, "init", "-q")
    (folder / "pins.yaml").write_text(_config("x"))
    assert run_pingen("build", cwd=folder).exit_code == 0
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "pins")
    evil = "body.md\nchanged=owned\n::add-mask::x"
    code, outputs, _, log = run_action(folder, mode="update", diff_file=evil)
    assert code == 2 and outputs == {}
    assert "diff-file holds a control character: 'body.md?changed=owned?::add-mask::x'" in log
    assert_inert_terminal(log.replace("::error::pingen action:", "pingen action:"))
    assert (tmp_path / "output").read_text() == ""
    code, _, _, log = run_action(folder, mode="up\ndate\n::add-mask::x")
    assert code == 2 and "not 'up?date?::add-mask::x'" in log


# -- attack 14: what --verify dials is said where it is switched on ------------------------


def test_what_verify_dials_is_documented() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert "connect:" in action["inputs"]["verify"]["description"]
    assert "untrusted" in action["inputs"]["verify"]["description"]
    readme = (REPO / "README.md").read_text()
    assert "`build --verify` and `diff --verify` dial" in readme
