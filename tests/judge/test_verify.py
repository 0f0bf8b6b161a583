"""`pingen verify` end to end: pins.yaml -> loopback TLS servers -> judgement, report,
exit code. One SNI server serves every healthy domain; faults have servers of their own.
The trust store is `trust: ca_file:` holding the test root only."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any  # a parsed JSON report: its shape is what the test asserts

import pytest

from pingen.config.load import load_config
from pingen.judge.verify import verify_config
from pingen.report.verify import render_text
from pingen.spki import pin_of_public_key
from tests.conftest import CliRunner
from tests.support.pki import CA, Identity, Leaf, new_key, write_pem
from tests.support.servers import (
    garbage_server,
    handshake_failure_server,
    resetting_server,
    stalling_server,
    tls_server,
)

TODAY = dt.date.today()
NEXT_YEAR = TODAY + dt.timedelta(days=365)


@dataclass
class World:
    root: CA
    inter: CA
    leaves: dict[str, Leaf]
    rogue: Leaf  # from a root the trust store does not hold
    backup_pin: str  # a key held offline
    spare_pin: str  # another key nobody serves
    tls: tuple[str, int]
    faults: dict[str, tuple[str, int]]
    folder: Path

    def connect(self, address: tuple[str, int]) -> str:
        return f"{address[0]}:{address[1]}"


HEALTHY = ["ok.test", "leaf.test", "rotated.test", "ca.test", "expiring.test", "backup.test"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("verify")
    root = CA.root("Verify Test Root")
    inter = root.intermediate("Verify Test Issuing CA")
    leaves = {host: inter.issue_leaf(host) for host in HEALTHY}
    rogue = CA.root("Rogue Root").intermediate("Rogue CA").issue_leaf("untrusted.test")
    identities: dict[str, Identity] = {h: leaf.identity() for h, leaf in leaves.items()}
    # rotated.test renewed its certificate with a new key since its pins were taken
    identities["rotated.test"] = leaves["rotated.test"].renewed(new_key=True).identity()
    identities["untrusted.test"] = rogue.identity()
    write_pem(folder / "roots.pem", root.cert)
    with ExitStack() as stack:
        tls = stack.enter_context(tls_server(identities, default="ok.test"))
        faults = {
            "stall": stack.enter_context(stalling_server()),
            "reset": stack.enter_context(resetting_server()),
            "garbage": stack.enter_context(garbage_server()),
            "handshake": stack.enter_context(handshake_failure_server()),
        }
        yield World(
            root,
            inter,
            leaves,
            rogue,
            pin_of_public_key(new_key().public_key()),
            pin_of_public_key(new_key().public_key()),
            tls,
            faults,
            folder,
        )


def pin(
    sha256: str, label: str | None = None, *, backup: bool = False, level: str | None = None
) -> str:
    lines = [f"      - sha256: {sha256}"]
    if label:
        lines.append(f"        label: {label}")
    if level:
        lines.append(f"        level: {level}")
    if backup:
        lines.append("        backup: true")
    return "\n".join(lines)


def domain(host: str, connect: str, *pins: str, expires: dt.date | None = None) -> str:
    text = f"  {host}:\n    connect: '{connect}'\n"
    if expires:
        text += f"    expires: {expires.isoformat()}\n"
    return text + "    pins:\n" + "\n".join(pins) + "\n"


def write_config(folder: Path, *domains: str) -> Path:
    text = (
        "version: 1\n"
        f"defaults:\n  expires: {NEXT_YEAR.isoformat()}\n"
        "trust:\n  ca_file: roots.pem\n"
        "domains:\n" + "".join(domains)
    )
    path = folder / "pins.yaml"
    path.write_text(text)
    return path


def domains_for(w: World) -> dict[str, str]:
    """Every judgement code, one domain each (keyed by the code it must produce)."""
    tls = w.connect(w.tls)
    leaf = w.leaves
    return {
        "ok": domain(
            "ok.test", tls, pin(w.root.pin, "test root"), pin(w.backup_pin, "offline", backup=True)
        ),
        "leaf-only": domain(
            "leaf.test",
            tls,
            pin(leaf["leaf.test"].pin, "leaf"),
            pin(w.backup_pin, "offline", backup=True),
        ),
        "no-live-match": domain(
            "rotated.test",
            tls,
            pin(leaf["rotated.test"].pin, "old leaf"),
            pin(w.spare_pin, "spare"),
        ),
        "no-backup": domain("ca.test", tls, pin(w.root.pin, "root"), pin(w.inter.pin, "ca")),
        "expires-soon": domain(
            "expiring.test",
            tls,
            pin(w.root.pin),
            pin(w.backup_pin, backup=True),
            expires=TODAY + dt.timedelta(days=10),
        ),
        "backup-live": domain(
            "backup.test",
            tls,
            pin(w.root.pin, "root"),
            pin(w.inter.pin, "not really offline", backup=True),
            pin(w.backup_pin, "offline", backup=True),
        ),
        "untrusted-chain": domain("untrusted.test", tls, pin(w.rogue.pin), pin(w.backup_pin)),
    }


def run_json(run: CliRunner, folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run("verify", "--format", "json", "--timeout", "2", *args, cwd=folder)
    assert result.stderr == "", result.stderr
    return result.exit_code, json.loads(result.stdout)


def by_domain(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["domain"]: d for d in report["domains"]}


def codes(entry: dict[str, Any]) -> list[str]:
    return [p["code"] for p in entry["problems"]]


def test_every_judgement_code(world: World, run_pingen: CliRunner, tmp_path: Path) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    write_config(tmp_path, *domains_for(world).values())
    code, report = run_json(run_pingen, tmp_path)
    results = by_domain(report)
    assert code == 1  # rotated.test and untrusted.test fail
    assert codes(results["ok.test"]) == []
    assert results["ok.test"]["status"] == "ok"
    assert codes(results["leaf.test"]) == ["leaf-only"]
    assert codes(results["rotated.test"]) == ["no-live-match"]
    assert results["rotated.test"]["status"] == "fail"
    assert codes(results["ca.test"]) == ["no-backup"]
    assert codes(results["expiring.test"]) == ["expires-soon"]
    assert codes(results["backup.test"]) == ["backup-live"]
    assert codes(results["untrusted.test"]) == ["untrusted-chain"]
    assert report["summary"] == {"ok": 1, "warn": 4, "fail": 2, "error": 0}


def test_root_pin_matches_only_through_chain_building(
    world: World, run_pingen: CliRunner, tmp_path: Path
) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    write_config(tmp_path, domains_for(world)["ok"])
    code, report = run_json(run_pingen, tmp_path)
    (entry,) = report["domains"]
    assert code == 0
    # the server sends leaf + intermediate; the root comes from the trust store
    assert [c["level"] for c in entry["chain"]] == ["leaf", "intermediate", "root"]
    assert entry["chain"][2]["sha256"] == world.root.pin
    assert entry["matched"] == [{"sha256": world.root.pin, "label": "test root", "level": "root"}]


def test_json_shape_is_exactly_the_contract(
    world: World, run_pingen: CliRunner, tmp_path: Path
) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    write_config(tmp_path, domains_for(world)["leaf-only"])
    _, report = run_json(run_pingen, tmp_path)
    assert list(report) == ["domains", "summary"]
    (entry,) = report["domains"]
    assert list(entry) == ["domain", "address", "status", "chain", "matched", "problems"]
    assert entry["address"] == world.connect(world.tls)
    assert entry["status"] == "warn"
    leaf = world.leaves["leaf.test"].cert
    assert entry["chain"][0] == {
        "level": "leaf",
        "subject": "CN=leaf.test",
        "issuer": "CN=Verify Test Issuing CA,O=pingen tests",
        "not_after": leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": world.leaves["leaf.test"].pin,
    }
    assert all(
        list(c) == ["level", "subject", "issuer", "not_after", "sha256"] for c in entry["chain"]
    )
    (problem,) = entry["problems"]
    assert list(problem) == ["code", "severity", "message"]
    assert problem["severity"] == "warning"
    assert leaf.not_valid_after_utc.date().isoformat() in problem["message"]
    assert report["summary"] == {"ok": 0, "warn": 1, "fail": 0, "error": 0}


def test_messages_say_what_to_do(world: World, tmp_path: Path) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    config = load_config(write_config(tmp_path, *domains_for(world).values()))
    report = verify_config(config, timeout=2)
    messages = {d.domain: d.problems[0].message for d in report.domains if d.problems}
    assert "bricks the app today" in messages["rotated.test"]
    assert world.root.pin in messages["rotated.test"]  # the pin to add
    assert "pingen keygen" in messages["ca.test"]
    assert "'not really offline'" in messages["backup.test"]
    assert "Pin the issuing intermediate or the root" in messages["leaf.test"]
    assert "issued 'CN=Rogue Root,O=pingen tests'" in messages["untrusted.test"]
    assert "in 10 days" in messages["expiring.test"]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("stall", "did not complete a TLS handshake within 1 s"),
        ("reset", "reset the connection"),
        ("garbage", "not TLS"),
        ("handshake", "refused the TLS handshake"),
        ("unresolvable", "cannot resolve no-such-host.invalid"),
    ],
)
def test_faults_are_unreachable_with_their_reason(
    world: World, run_pingen: CliRunner, tmp_path: Path, fault: str, reason: str
) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    address = (
        "no-such-host.invalid:443"
        if fault == "unresolvable"
        else world.connect(world.faults[fault])
    )
    write_config(
        tmp_path,
        domain("down.test", address, pin(world.root.pin), pin(world.backup_pin)),
        domains_for(world)["ok"],
    )
    result = run_pingen("verify", "--timeout", "1", cwd=tmp_path)
    assert result.exit_code == 3  # the network kept a check from running; nothing failed
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("error") and "down.test" in line for line in lines)
    assert any(line.startswith("ok") and "ok.test" in line for line in lines)
    assert reason in result.stdout


def test_fail_outranks_unreachable_in_the_exit_code(
    world: World, run_pingen: CliRunner, tmp_path: Path
) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    write_config(
        tmp_path,
        domains_for(world)["no-live-match"],
        domain(
            "down.test",
            world.connect(world.faults["reset"]),
            pin(world.root.pin),
            pin(world.backup_pin),
        ),
    )
    code, report = run_json(run_pingen, tmp_path)
    assert code == 1
    assert report["summary"] == {"ok": 0, "warn": 0, "fail": 1, "error": 1}


def test_domain_option_limits_the_run_and_unknown_names_are_bad_input(
    world: World, run_pingen: CliRunner, tmp_path: Path
) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    write_config(tmp_path, *domains_for(world).values())
    code, report = run_json(run_pingen, tmp_path, "--domain", "OK.test.", "--domain", "ca.test")
    assert code == 0
    assert [d["domain"] for d in report["domains"]] == ["ok.test", "ca.test"]
    result = run_pingen("verify", "--domain", "nope.test", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("pins.yaml: --domain nope.test: no such domain")  # as typed


def test_text_and_markdown_reports(world: World, run_pingen: CliRunner, tmp_path: Path) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    write_config(tmp_path, domains_for(world)["ok"], domains_for(world)["no-backup"])
    text = run_pingen("verify", cwd=tmp_path)
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["STATUS", "DOMAIN", "MATCHED", "PROBLEMS"]
    assert lines[1].split()[:2] == ["ok", "ok.test"]
    assert "root test root" in lines[1]
    assert lines[-1] == "2 domains: 1 ok, 1 warn, 0 fail, 0 error"
    assert "\x1b[" not in text.stdout  # not a terminal: no colour
    assert text.stderr == ""  # not a terminal: no progress
    again = run_pingen("verify", cwd=tmp_path)
    assert again.stdout == text.stdout  # same input, same bytes
    md = run_pingen("verify", "--format", "markdown", cwd=tmp_path)
    assert "| status | domain | matched | problems |" in md.stdout
    assert "| ✅ ok | `ok.test` | root test root | - |" in md.stdout
    assert "- **warning** `no-backup`:" in md.stdout


def test_colour_on_a_terminal_only_and_never_with_no_color(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingen.report.verify import render

    write_pem(tmp_path / "roots.pem", world.root.cert)
    config = load_config(write_config(tmp_path, domains_for(world)["no-backup"]))
    report = verify_config(config, timeout=2)
    assert "\x1b[33m" in render(report, "text", colour=True)
    from pingen.report.term import colour_wanted

    class Tty(io.StringIO):  # a stream that says it is a terminal
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_wanted(Tty())
    monkeypatch.delenv("NO_COLOR")
    assert colour_wanted(Tty())


def test_verify_config_for_build_verify(world: World, tmp_path: Path) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    healthy = load_config(write_config(tmp_path, domains_for(world)["ok"]))
    report = verify_config(healthy, timeout=2)
    assert not report.failed and report.exit_code == 0
    assert render_text(report, colour=False).startswith("STATUS")
    broken = load_config(write_config(tmp_path, *domains_for(world).values()))
    report = verify_config(broken, timeout=2, domains=["rotated.test"])
    assert report.failed and report.exit_code == 1


def test_missing_config_is_bad_input(run_pingen: CliRunner, tmp_path: Path) -> None:
    result = run_pingen("verify", cwd=tmp_path)
    assert result.exit_code == 2
    assert "pins.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_ipv6_connect_in_pins_yaml(world: World, run_pingen: CliRunner, tmp_path: Path) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    with tls_server(world.leaves["ok.test"].identity(), host="::1") as (_, port):
        write_config(
            tmp_path,
            domain(
                "ok.test", f"[::1]:{port}", pin(world.root.pin), pin(world.backup_pin, backup=True)
            ),
        )
        code, report = run_json(run_pingen, tmp_path)
    (entry,) = report["domains"]
    assert code == 0
    assert entry["address"] == f"[::1]:{port}"
    assert entry["status"] == "ok"


def test_quiet_text_lists_only_the_domains_with_problems(
    world: World, run_pingen: CliRunner, tmp_path: Path
) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    write_config(tmp_path, domains_for(world)["ok"], domains_for(world)["no-backup"])
    full = run_pingen("verify", cwd=tmp_path)
    quiet = run_pingen("verify", "-q", cwd=tmp_path)
    assert quiet.exit_code == full.exit_code == 0
    # the same table without ok.test's row; the summary still counts every domain
    expected = [line for line in full.stdout.splitlines() if not line.startswith("ok ")]
    assert quiet.stdout.splitlines() == expected
    assert "ok.test" not in quiet.stdout
    assert expected[1].split()[:2] == ["warn", "ca.test"]
    assert expected[-1] == "2 domains: 1 ok, 1 warn, 0 fail, 0 error"
    assert quiet.stderr == ""


def test_quiet_says_nothing_when_every_domain_is_ok_and_keeps_json(
    world: World, run_pingen: CliRunner, tmp_path: Path
) -> None:
    write_pem(tmp_path / "roots.pem", world.root.cert)
    write_config(tmp_path, domains_for(world)["ok"])
    quiet = run_pingen("verify", "--quiet", cwd=tmp_path)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    write_config(tmp_path, domains_for(world)["ok"], domains_for(world)["no-live-match"])
    for output_format in ("json", "markdown"):  # for bots and comments: the whole report
        full = run_pingen("verify", "--format", output_format, cwd=tmp_path)
        same = run_pingen("verify", "--format", output_format, "-q", cwd=tmp_path)
        assert same.exit_code == full.exit_code == 1
        assert same.stdout == full.stdout and "ok.test" in same.stdout


def test_quiet_hides_the_progress_line_on_a_terminal(world: World, tmp_path: Path) -> None:
    """Progress shows only when stderr is a terminal: run pingen with a real one (a pty)."""
    import os
    import pty
    import select
    import subprocess
    import sys

    write_pem(tmp_path / "roots.pem", world.root.cert)
    write_config(tmp_path, domains_for(world)["ok"])

    def stderr_on_a_terminal(*args: str) -> bytes:
        controller, terminal = pty.openpty()
        try:
            subprocess.run(
                [sys.executable, "-m", "pingen", "verify", *args],
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=terminal,
                check=True,
                timeout=30,
            )
            output = b""
            while select.select([controller], [], [], 0)[0]:  # what it wrote; never block
                output += os.read(controller, 65536)
            return output
        finally:
            os.close(controller)
            os.close(terminal)

    assert b"verify: 1/1 ok.test" in stderr_on_a_terminal()
    assert stderr_on_a_terminal("-q") == b""


@pytest.mark.parametrize(
    "value",
    [
        {"domains": [], "summary": {"ok": 0}, "empty": {}},
        {'é\u202e"\\\n\t\x00': ["ünï", 0, -12, 10**30, True, False, None, 1.5, [[], {}]]},
        {1: "int key", None: "null key", 2.5: ("a", "tuple")},
        {True: "bool key"},
        [],
        {},
        "only a string",
        7,
        None,
    ],
)
def test_the_json_report_writer_gives_json_dumps_bytes(value: object) -> None:
    from pingen.report.verify import indented_json

    assert indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_the_json_report_writes_shared_chain_entries_as_json_dumps_does() -> None:
    """render_json writes the entry of a CA certificate shared by many domains once: the
    bytes stay those of json.dumps over the whole report."""
    from pingen.judge.domain import ChainEntry, DomainReport, Match
    from pingen.judge.findings import Finding, Severity
    from pingen.judge.verify import VerifyReport
    from pingen.model import Level
    from pingen.report.verify import render_json
    from pingen.textsafe import json_text

    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    root = ChainEntry(Level.ROOT, "CN=Röot\u202e", "CN=Röot\u202e", when, "r=", "Röot")
    inter = ChainEntry(Level.INTERMEDIATE, "CN=CA", "CN=Röot\u202e", when, "i=", "CA")

    def domain(host: str, *chain: ChainEntry) -> DomainReport:
        leaf = ChainEntry(Level.LEAF, f"CN={host}", "CN=CA", when, f"{host}=", host)
        problem = Finding("no-backup", Severity.WARNING, f'{host}: "quoted"\n')
        return DomainReport(
            host,
            f"{host}:443",
            (leaf, *chain),
            (Match("r=", "root", Level.ROOT, False),),
            (problem,),
        )

    report = VerifyReport(
        (
            domain("a.test", inter, root),
            domain("b.test", inter, root),
            domain("c.test", root),
            DomainReport("d.test", "d.test:443", (), (), ()),
        )
    )
    expected = json.dumps(report.as_json(), indent=2, ensure_ascii=False)
    assert render_json(report) == json_text(expected) + "\n"


def test_verify_gives_back_the_collector_pace_it_slows(
    run_pingen: CliRunner, tmp_path: Path
) -> None:
    """verify lets Python's cycle collector run less often during its run (its objects
    live to the end); the process's own pace is restored, however the run ends."""
    import gc

    before = gc.get_threshold()
    assert run_pingen("verify", "-c", str(tmp_path / "missing.yaml")).exit_code == 2
    assert gc.get_threshold() == before
