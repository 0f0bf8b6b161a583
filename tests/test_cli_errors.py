"""Every command's bad input: exit 2, a message that names the file or flag, no
traceback, and nothing written in the working folder.

One table of cases over build verify suggest pin keygen guard diff init schema, run
in-process (an exception escaping `main` fails the test), and a few of them again as
real `python -m pingen` processes to prove no traceback reaches stderr. No case dials
anything: every one is refused before a connection would be made.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from tests.conftest import CliRunner
from tests.support.folders import snapshot
from tests.support.pki import CA, new_key, public_key_pem, write_pem

HOST = "api.example.com"
PIN_A = "diGVwiVYbubAI3RW4hB9xU8e/CH2GnkuvVFZE8zmgzI="
PIN_B = "jQJTbIh0grw0/1TkHSumWb+Fs0Ggogr621gT3PvPKG0="
VALID = f"""\
version: 1
defaults:
  expires: never
trust:
  ca_file: roots.pem
domains:
  {HOST}:
    pins:
      - sha256: {PIN_A}
        label: live
      - sha256: {PIN_B}
        backup: true
outputs:
  - type: json
    path: out/pins.json
"""


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    names: str  # what stderr must mention: the file or the flag
    id: str


def case(names: str, *args: str) -> Case:
    return Case(tuple(args), names, " ".join(args))


CASES = [
    # the command line itself
    case("nosuchcommand", "nosuchcommand"),
    case("--bogus", "--bogus"),
    # build
    case("missing.yaml", "build", "-c", "missing.yaml"),
    case("missing.yaml", "explain", "api.example.com", "-c", "missing.yaml"),
    case("afolder", "build", "-c", "afolder"),
    case("a-fifo", "build", "-c", "a-fifo"),
    case("/dev/zero", "build", "-c", "/dev/zero"),
    case("not-utf8.yaml", "build", "-c", "not-utf8.yaml"),
    case("empty.yaml", "build", "-c", "empty.yaml"),
    case("broken.yaml", "build", "-c", "broken.yaml"),
    case("long-output.yaml:", "build", "-c", "long-output.yaml"),
    case("nul-output.yaml:", "build", "-c", "nul-output.yaml"),
    case("fifo-output.yaml:", "build", "-c", "fifo-output.yaml"),
    case("fifo-output.yaml:", "build", "--check", "-c", "fifo-output.yaml"),
    case("a-fifo", "build", "-c", "fifo-plist.yaml"),
    case("folder-output.yaml:", "build", "-c", "folder-output.yaml"),
    case("-c", "build", "-c"),
    case("--bogus", "build", "--bogus"),
    case("extra", "build", "extra"),
    case("--timeout", "build", "--verify", "--timeout", "0"),
    # verify
    case("--timeout", "verify", "--timeout", "abc"),
    case("--timeout", "verify", "--timeout", "0"),
    case("--timeout", "verify", "--timeout", "-1"),
    case("--timeout", "verify", "--timeout", "nan"),
    case("--timeout", "verify", "--timeout", "inf"),
    case("--timeout", "suggest", HOST, "--chain", "chain.pem", "--timeout", "nan"),
    case("--timeout", "diff", "--old", "pins.yaml", "--timeout", "nan"),
    case("--timeout", "init", HOST, "-o", "new.yaml", "--timeout", "nan"),
    case("--concurrency", "verify", "--concurrency", "0"),
    case("--concurrency", "verify", "--concurrency", "1.5"),
    case("--concurrency", "verify", "--concurrency", "99999999999999999999999"),
    case("--format", "verify", "--format", "yaml"),
    case("missing.yaml", "verify", "-c", "missing.yaml"),
    case("missing.pem", "verify", "--chain", "missing.pem", "--domain", HOST),
    case("afolder", "verify", "--chain", "afolder", "--domain", HOST),
    case("garbage.pem", "verify", "--chain", "garbage.pem", "--domain", HOST),
    case("empty.pem", "verify", "--chain", "empty.pem", "--domain", HOST),
    case("a-fifo", "verify", "--chain", "a-fifo", "--domain", HOST),
    case("--domain", "verify", "--chain", "chain.pem"),
    case(
        "--domain", "verify", "--chain", "chain.pem", "--domain", HOST, "--domain", "b.example.com"
    ),
    case("--at", "verify", "--chain", "chain.pem", "--domain", HOST, "--at", "2027-02-30"),
    case("--at", "verify", "--at", "2027-01-01"),
    case("other.example.org", "verify", "--domain", "other.example.org"),
    # suggest
    case("HOST", "suggest"),
    case("missing.pem", "suggest", HOST, "--chain", "missing.pem"),
    case("garbage.pem", "suggest", HOST, "--chain", "garbage.pem"),
    case("afolder", "suggest", HOST, "--chain", "afolder"),
    case("--timeout", "suggest", HOST, "--timeout", "-1"),
    case("--provider", "suggest", HOST, "--provider", "azure"),
    case("garbage.pem", "suggest", HOST, "--chain", "chain.pem", "--catalog", "garbage.pem"),
    case("missing.json", "suggest", HOST, "--chain", "chain.pem", "--catalog", "missing.json"),
    case("--connect", "suggest", HOST, "--connect", "127.0.0.1:99999"),
    case("--at", "suggest", HOST, "--chain", "chain.pem", "--at", "yesterday"),
    case("http://api.example.com/x", "suggest", "http://api.example.com/x", "--chain", "chain.pem"),
    case("HOST", "suggest", "a: b", "--chain", "chain.pem"),
    # pin
    case("SOURCE", "pin"),
    case("missing.pem", "pin", "missing.pem"),
    case("afolder", "pin", "afolder"),
    case("garbage.pem", "pin", "garbage.pem"),
    case("empty.pem", "pin", "empty.pem"),
    case("a-fifo", "pin", "a-fifo"),
    case("--format", "pin", "--format", "xml", "chain.pem"),
    case("--timeout", "pin", "--timeout", "nan", "chain.pem"),
    case("File name too long", "pin", "x" * 300),
    # keygen
    case("NAME", "keygen"),
    case("--type", "keygen", "k", "--type", "rsa-1024"),
    case("a-file.txt", "keygen", "k", "--dir", "a-file.txt"),
    case("UNSET_PINGEN_VARIABLE", "keygen", "k", "--passphrase-env", "UNSET_PINGEN_VARIABLE"),
    case("http://bad", "keygen", "k", "--csr-domain", "http://bad"),
    case("existing.key.pem", "keygen", "existing"),
    case("missing.yaml", "keygen", "k", "-c", "missing.yaml"),
    case("a/b", "keygen", "a/b"),
    case("File name too long", "keygen", "k", "--dir", "x" * 300),
    # guard
    case("--chain", "guard"),
    case("missing.pem", "guard", "--chain", "missing.pem"),
    case("garbage.pem", "guard", "--chain", "garbage.pem"),
    case("afolder", "guard", "--chain", "afolder"),
    case("a-fifo", "guard", "--chain", "a-fifo"),
    case("missing.yaml", "guard", "--chain", "chain.pem", "-c", "missing.yaml"),
    case("garbage.pem", "guard", "--key", "garbage.pem"),
    case("afolder", "guard", "--key", "afolder"),
    case("--domain", "guard", "--chain", "chain.pem", "--domain", HOST),
    # diff
    case("missing.yaml", "diff", "--old", "missing.yaml"),
    case("not-utf8.yaml", "diff", "--old", "not-utf8.yaml"),
    case("afolder", "diff", "--old", "afolder"),
    case("--base", "diff", "--old", "pins.yaml", "--base", "HEAD"),
    case("--format", "diff", "--old", "pins.yaml", "--format", "html"),
    case("--timeout", "diff", "--old", "pins.yaml", "--timeout", "0"),
    case("missing.yaml", "diff", "--old", "pins.yaml", "-c", "missing.yaml"),
    case("File name too long", "diff", "--old", "x" * 300),
    case("--chain", "diff", "--old", "pins.yaml", "--chain", "served.pem"),
    case("--at", "diff", "--old", "pins.yaml", "--at", "2030-01-01"),
    case("--at", "guard", "--chain", "chain.pem", "--at", "soon"),
    # expires
    case("--to DATE or --extend DURATION", "expires"),
    case("--to", "expires", "--to", "tomorrow"),
    case("--extend", "expires", "--extend", "forever"),
    case("missing.yaml", "expires", "--to", "2099-01-01", "-c", "missing.yaml"),
    case("--domain", "expires", "--to", "2099-01-01", "--domain", "nope.example"),
    # init
    case("HOST", "init"),
    case("pins.yaml", "init", HOST),
    case("--expires", "init", HOST, "-o", "new.yaml", "--expires", "2020-01-01"),
    case("--expires", "init", HOST, "-o", "new.yaml", "--expires", "soon"),
    case("missing.pem", "init", HOST, "-o", "new.yaml", "--ca-file", "missing.pem"),
    case("garbage.pem", "init", HOST, "-o", "new.yaml", "--ca-file", "garbage.pem"),
    case("--timeout", "init", HOST, "-o", "new.yaml", "--timeout", "x"),
    case("http://x.example.com/y", "init", "http://x.example.com/y", "-o", "new.yaml"),
    case("afolder", "init", HOST, "-o", "afolder"),
    case("no-such-folder", "init", HOST, "-o", "no-such-folder/new.yaml"),
    case("File name too long", "init", HOST, "-o", "x" * 300),
    # probe (every case is refused before it listens; --duration bounds it if not)
    case("missing.yaml", "probe", "-c", "missing.yaml", "--duration", "5"),
    case("--mode", "probe", "--mode", "intercept"),
    case("--listen", "probe", "--listen", "nohost.example:8443", "--duration", "5"),
    case("--connections", "probe", "--connections", "0"),
    case("--duration", "probe", "--duration", "nan"),
    case("garbage.pem", "probe", "--mode", "accept", "--key", "garbage.pem", "--duration", "5"),
    case(
        "backup.pub.pem", "probe", "--mode", "accept", "--key", "backup.pub.pem", "--duration", "5"
    ),
    case("a-fifo", "probe", "--mode", "accept", "--key", "a-fifo", "--duration", "5"),
    case("--control", "probe", "--control", "http://x.example/", "--duration", "5"),
    # schema
    case("afolder", "schema", "-o", "afolder"),
    case("no-such-folder", "schema", "-o", "no-such-folder/schema.json"),
    case("--bogus", "schema", "--bogus"),
]


@pytest.fixture
def project(workdir: Path) -> Path:
    """A project folder with a valid pins.yaml and one file of every wrong kind."""
    root = CA.root("CLI Errors Root")
    leaf = root.intermediate("CLI Errors CA").issue_leaf(HOST)
    write_pem(workdir / "roots.pem", root.cert)
    write_pem(workdir / "chain.pem", *leaf.chain())
    (workdir / "pins.yaml").write_text(VALID)
    (workdir / "afolder").mkdir()
    (workdir / "a-file.txt").write_text("not a folder\n")
    (workdir / "empty.pem").write_bytes(b"")
    (workdir / "empty.yaml").write_bytes(b"")
    (workdir / "garbage.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64!\n")
    (workdir / "broken.yaml").write_text("version: 1\ndomains: [\n")
    (workdir / "not-utf8.yaml").write_bytes(VALID.encode().replace(b"live", b"l\xffve"))
    (workdir / "existing.key.pem").write_bytes(b"do not overwrite\n")
    (workdir / "backup.pub.pem").write_bytes(public_key_pem(new_key()))
    os.mkfifo(workdir / "a-fifo")  # reading it would block forever
    outputs = {
        "long-output.yaml": "  - type: json\n    path: " + "x" * 300 + "\n",
        "nul-output.yaml": '  - type: json\n    path: "out\\0put.json"\n',
        "fifo-output.yaml": "  - type: json\n    path: a-fifo\n",
        "fifo-plist.yaml": "  - type: ios-plist\n    path: a-fifo\n",
        "folder-output.yaml": "  - type: json\n    path: afolder\n",
    }
    for name, output in outputs.items():
        text = VALID.replace("label: live", "label: live\n        level: root")
        text = text.replace("backup: true", "backup: true\n        level: root")
        (workdir / name).write_text(text.split("outputs:")[0] + "outputs:\n" + output)
    return workdir


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_naming_it_and_writes_nothing(
    run_pingen: CliRunner, project: Path, bad: Case
) -> None:
    before = snapshot(project)
    result = run_pingen(*bad.args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert bad.names in result.stderr, result.stderr
    assert snapshot(project) == before


SUBPROCESS_CASES = [
    c
    for c in CASES
    if c.id
    in (
        "build -c not-utf8.yaml",
        "build -c broken.yaml",
        "pin garbage.pem",
        "guard --chain a-fifo",
        "keygen existing",
        "diff --old afolder",
        "schema -o afolder",
        "build -c /dev/zero",
    )
]


@pytest.mark.parametrize("bad", SUBPROCESS_CASES, ids=[c.id for c in SUBPROCESS_CASES])
def test_a_real_process_prints_no_traceback(project: Path, bad: Case) -> None:
    before = snapshot(project)
    done = subprocess.run(
        [sys.executable, "-m", "pingen", *bad.args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and bad.names in done.stderr
    assert snapshot(project) == before


def test_the_table_covers_every_command() -> None:
    from pingen.cli import COMMANDS

    covered = {c.args[0] for c in CASES}
    assert set(COMMANDS) <= covered


def test_every_command_that_dials_takes_the_same_timeout() -> None:
    from pingen.cli import cli

    ranges = {}
    for name in ("build", "verify", "suggest", "pin", "diff", "init"):
        command = cli.get_command(click.Context(cli), name)
        assert command is not None, name
        (option,) = [p for p in command.params if p.name == "timeout"]
        assert isinstance(option.type, click.FloatRange), option.type
        ranges[name] = (tuple(option.opts), option.type.min, option.type.min_open, option.default)
    assert set(ranges.values()) == {(("--timeout",), 0, True, 10.0)}, ranges
