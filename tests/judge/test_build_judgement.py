"""`build`'s offline judgement: what the pins and `provider:` alone tell, as a table of
configs with their exit codes and messages (README, "What `pingen build` refuses without
the network": build, and so pre-commit, applies the judgement that needs no network)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import CliRunner
from tests.support.docs import fenced_blocks
from tests.support.paths import REAL_CHAINS
from tests.support.samples import PIN_A, PIN_B, PIN_C

AT = "2026-12-01"  # every judgement here is as of this date, never today
UNKNOWN_1 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="  # keys no catalog knows
UNKNOWN_2 = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="


@dataclass(frozen=True)
class Case:
    domain: str  # the YAML under `api.example.com:` (indented four spaces)
    exit_code: int
    says: tuple[str, ...] = ()  # fragments of stderr, in order
    flags: tuple[str, ...] = ()
    expires: str = "2027-06-30"


NO_BACKUP = "pins.yaml:5:3: api.example.com has no backup"
# Keys no catalog knows, of a type every output can hash, one a backup: nothing to warn of
QUIET_PINS = (
    f"pins:\n  - sha256: {UNKNOWN_1}\n    key: ec-p256\n  - sha256: {UNKNOWN_2}\n"
    "    key: ec-p256\n    backup: true\n"
)
ONE_CA = "every pin of a known CA belongs to Let's Encrypt (ISRG)"

CASES = {
    "one CA, no backup": Case(
        f"pins:\n  - root: ISRG Root X1\n  - sha256: {PIN_B}\n",
        2,
        (
            NO_BACKUP,
            ONE_CA,
            "`root: GTS Root R1` with `backup: true`",
            "or set `allow_no_backup: true`",
        ),
    ),
    "one CA, intermediates and a root": Case(
        f"pins:\n  - intermediate: R12\n  - intermediate: E7\n  - sha256: {PIN_A}\n",
        2,
        (NO_BACKUP, ONE_CA),
    ),
    "one CA, opted out": Case(
        "allow_no_backup: true\npins:\n  - root: ISRG Root X1\n  - root: ISRG Root X2\n",
        0,
    ),
    "one CA, a backup pin": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: ISRG Root X2\n    backup: true\n",
        0,
    ),
    "two CAs of the catalog": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: GTS Root R1\n",
        0,
    ),
    "an intermediate and another CA's root": Case(
        f"pins:\n  - sha256: {PIN_C}\n  - root: Amazon Root CA 1\n",
        0,
    ),
    "a bare unknown hash is no second CA": Case(
        f"pins:\n  - root: ISRG Root X1\n  - sha256: {UNKNOWN_1}\n",
        2,
        (
            NO_BACKUP,
            f"(pin {UNKNOWN_1}: not a key of a CA pingen's catalog knows, so not a second CA)",
        ),
    ),
    "a Mozilla root outside the catalog is no second CA": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: DigiCert Global Root G2\n",
        2,
        (NO_BACKUP, "'DigiCert Global Root G2'"),
    ),
    "keys of no known CA: a warning": Case(
        f"pins:\n  - sha256: {UNKNOWN_1}\n  - sha256: {UNKNOWN_2}\n",
        0,
        (
            "pins.yaml:5:3: warning: api.example.com: no pin is marked `backup: true`, and "
            "pingen's CA catalog knows none of its keys",
        ),
    ),
    "keys of no known CA, --strict": Case(
        f"pins:\n  - sha256: {UNKNOWN_1}\n  - sha256: {UNKNOWN_2}\n",
        1,
        ("no pin is marked `backup: true`", "--strict: nothing was written"),
        flags=("--strict",),
    ),
    "keys of no known CA, one marked backup": Case(  # key: so that the json output can tell
        f"pins:\n  - sha256: {UNKNOWN_1}\n    key: ec-p256\n  - sha256: {UNKNOWN_2}\n"
        "    key: ec-p256\n    backup: true\n",
        0,
        flags=("--strict",),
    ),
    "a leaf pin on a provider that re-keys": Case(
        "provider: google-managed\npins:\n  - file: live.pub.pem\n  - root: GTS Root R1\n"
        "  - root: ISRG Root X1\n",
        2,
        (
            "pins.yaml:8:9: pin 'live.pub.pem'",
            "is a leaf pin, but api.example.com has `provider: google-managed`",
            "Pin the CA instead: `root: GTS Root R1`, "
            "`root: GTS Root R2`, `root: GTS Root R3`, `root: GTS Root R4`, `root: ISRG Root X1`",
            "`pingen suggest api.example.com --provider google-managed` prints them",
        ),
    ),
    "a hash with level leaf on aws-acm": Case(
        f"provider: aws-acm\npins:\n  - sha256: {UNKNOWN_1}\n    level: leaf\n"
        "  - root: Amazon Root CA 1\n  - root: ISRG Root X1\n",
        2,
        (
            "pins.yaml:8:9:",
            "is a leaf pin, but api.example.com has `provider: aws-acm`",
            "`root: Amazon Root CA 1`",
        ),
    ),
    "a backup key on a provider that re-keys": Case(
        "provider: cloudflare\npins:\n  - root: ISRG Root X1\n  - root: GTS Root R1\n"
        "  - file: live.pub.pem\n    backup: true\n",
        0,
    ),
    "a leaf pin where the key is kept": Case(
        "provider: letsencrypt-reuse-key\npins:\n  - file: live.pub.pem\n"
        f"  - sha256: {UNKNOWN_1}\n    backup: true\n",
        0,
    ),
    "both errors at once": Case(
        "provider: aws-acm\npins:\n  - file: live.pub.pem\n  - root: Amazon Root CA 1\n",
        2,
        (NO_BACKUP, "pins.yaml:8:9: pin 'live.pub.pem'"),
    ),
    "expires within 30 days: a warning": Case(
        QUIET_PINS,
        0,
        (
            "pins.yaml:5:3: warning: api.example.com: the pin set expires on 2026-12-20, in "
            "19 day(s)",
        ),
        expires="2026-12-20",
    ),
    "expires within 30 days, --strict": Case(
        QUIET_PINS,
        1,
        ("in 19 day(s)", "pingen: 1 warning(s) and --strict: nothing was written"),
        flags=("--strict",),
        expires="2026-12-20",
    ),
    "expires in 31 days, --strict": Case(QUIET_PINS, 0, flags=("--strict",), expires="2027-01-01"),
    "a future the catalog predicts: a warning": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: ISRG Root X2\n  - root: Root YE\n"
        "  - file: live.pub.pem\n    backup: true\n",
        0,
        (
            "pins.yaml:5:3: warning: api.example.com: next-root: chains from YR1, YR2 and YR3 "
            "match only through the cross-sign of Root YR",
            "Add `root: Root YR`.",
        ),
    ),
    "a future the catalog predicts, --strict": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: ISRG Root X2\n  - root: Root YE\n"
        "  - file: live.pub.pem\n    backup: true\n",
        1,
        ("next-root", "--strict: nothing was written"),
        flags=("--strict",),
    ),
    "the fix the catalog names clears it": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: ISRG Root X2\n  - root: Root YE\n"
        "  - root: Root YR\n  - file: live.pub.pem\n    backup: true\n",
        0,
        flags=("--strict",),
    ),
    "a future verify would fail on": Case(
        "pins:\n  - intermediate: R12\n  - intermediate: R13\n"
        "  - file: live.pub.pem\n    backup: true\n",
        0,
        ("warning: api.example.com: intermediate-siblings (certain: verify fails on it):",),
    ),
    "expired as of --at": Case(
        "pins:\n  - root: ISRG Root X1\n  - root: GTS Root R1\n",
        2,
        ("`expires: 2026-11-30` is not in the future (today is 2026-12-01)",),
        expires="2026-11-30",
    ),
}


def _project(folder: Path, case: Case) -> None:
    body = "".join(f"    {line}\n" for line in case.domain.splitlines())
    (folder / "pins.yaml").write_text(
        f"version: 1\ndefaults:\n  expires: {case.expires}\ndomains:\n  api.example.com:\n"
        f"{body}outputs:\n  - type: json\n    path: out/pins.json\n"
    )
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    (folder / "live.pub.pem").write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_build_judges_the_pins_offline(run_pingen: CliRunner, workdir: Path, case: Case) -> None:
    _project(workdir, case)
    result = run_pingen("build", "--at", AT, *case.flags)
    assert result.exit_code == case.exit_code, result.stderr
    position = 0
    for fragment in case.says:
        found = result.stderr.find(fragment, position)
        assert found >= 0, f"{fragment!r} not in (or out of order in) {result.stderr}"
        position = found + len(fragment)
    assert "Traceback" not in result.stderr
    assert (workdir / "out/pins.json").exists() is (case.exit_code == 0)


def test_check_with_strict_fails_on_warnings_even_when_current(
    run_pingen: CliRunner, workdir: Path
) -> None:
    _project(workdir, CASES["expires within 30 days: a warning"])
    assert run_pingen("build", "--at", AT).exit_code == 0
    assert run_pingen("build", "--at", AT, "--check").exit_code == 0
    result = run_pingen("build", "--at", AT, "--check", "--strict")
    assert result.exit_code == 1
    assert "nothing was checked" in result.stderr


def test_strict_counts_the_platforms_warnings_too(run_pingen: CliRunner, workdir: Path) -> None:
    """An ios-plist output warns that NSPinnedDomains has no expiry: --strict fails on it."""
    _project(workdir, CASES["two CAs of the catalog"])
    config = (workdir / "pins.yaml").read_text()
    (workdir / "pins.yaml").write_text(config + "  - type: ios-plist\n    path: out/Info.plist\n")
    assert run_pingen("build", "--at", AT).exit_code == 0
    result = run_pingen("build", "--at", AT, "--strict", "--check")
    assert result.exit_code == 1 and "NSPinnedDomains has no expiry" in result.stderr


def test_at_is_refused_with_verify(run_pingen: CliRunner, workdir: Path) -> None:
    _project(workdir, CASES["two CAs of the catalog"])
    result = run_pingen("build", "--at", AT, "--verify")
    assert result.exit_code == 2 and "--at judges as of a date offline" in result.stderr
    assert not (workdir / "out").exists()


def test_at_must_be_a_date(run_pingen: CliRunner, workdir: Path) -> None:
    _project(workdir, CASES["two CAs of the catalog"])
    result = run_pingen("build", "--at", "soon")
    assert result.exit_code == 2 and "'soon' is not a date" in result.stderr


# -- the same judgement everywhere: build, diff and verify count a backup alike -----------

R10_CHAIN = REAL_CHAINS / "R10-2025-04-30-1.pem"  # qubis.pl


def _one_domain(folder: Path, name: str, pins: str) -> None:
    body = "".join(f"      {line}\n" for line in pins.splitlines())
    (folder / name).write_text(
        f"version: 1\ndefaults:\n  expires: never\ndomains:\n  qubis.pl:\n    pins:\n{body}"
    )


@pytest.mark.parametrize(
    ("pins", "has_backup"),
    [
        ("- root: ISRG Root X1\n- root: GTS Root R1\n", True),  # a second CA's root counts
        (f"- root: ISRG Root X1\n- sha256: {UNKNOWN_1}\n  backup: true\n", True),
        ("- root: ISRG Root X1\n- root: ISRG Root X2\n", False),  # one CA, nothing marked
        (f"- root: ISRG Root X1\n- sha256: {UNKNOWN_1}\n", False),  # an unknown key is no 2nd CA
    ],
    ids=["second CA", "marked backup", "one CA", "unknown key"],
)
def test_build_diff_and_verify_agree_on_a_backup(
    run_pingen: CliRunner, workdir: Path, pins: str, has_backup: bool
) -> None:
    import json

    _one_domain(workdir, "old.yaml", "- root: ISRG Root X1\n- root: Amazon Root CA 1\n")
    _one_domain(workdir, "pins.yaml", pins)
    build = run_pingen("build", "--check", "--at", AT)
    assert build.exit_code == (0 if has_backup else 2), build.stderr
    assert ("has no backup" in build.stderr) is not has_backup
    diff = json.loads(run_pingen("diff", "--old", "old.yaml", "--format", "json").stdout)
    flagged = [f["code"] for f in diff["flags"]]
    assert ("no-backup" in flagged) is not has_backup
    verify = run_pingen(
        "verify",
        "--chain",
        str(R10_CHAIN),
        "--domain",
        "qubis.pl",
        "--at",
        "2025-03-01",
        "--format",
        "json",
    )
    (entry,) = json.loads(verify.stdout)["domains"]
    problems = [p["code"] for p in entry["problems"]]
    assert ("no-backup" in problems) is not has_backup, entry["problems"]


def test_allow_no_backup_is_accepted_by_build_diff_and_verify(
    run_pingen: CliRunner, workdir: Path
) -> None:
    import json

    _one_domain(workdir, "old.yaml", "- root: ISRG Root X1\n- root: Amazon Root CA 1\n")
    _one_domain(workdir, "pins.yaml", "- root: ISRG Root X1\n- root: ISRG Root X2\n")
    config = (workdir / "pins.yaml").read_text()
    (workdir / "pins.yaml").write_text(
        config.replace("  qubis.pl:\n", "  qubis.pl:\n    allow_no_backup: true\n")
    )
    build = run_pingen("build", "--check", "--at", AT)
    assert build.exit_code == 0 and "backup" not in build.stderr, build.stderr
    diff = json.loads(run_pingen("diff", "--old", "old.yaml", "--format", "json").stdout)
    assert "no-backup" not in [f["code"] for f in diff["flags"]]
    (domain,) = diff["domains"]
    assert {"setting": "allow_no_backup", "old": False, "new": True} in domain["settings"]
    verify = run_pingen(
        "verify",
        "--chain",
        str(R10_CHAIN),
        "--domain",
        "qubis.pl",
        "--at",
        "2025-03-01",
        "--format",
        "json",
    )
    (entry,) = json.loads(verify.stdout)["domains"]
    assert "no-backup" not in [p["code"] for p in entry["problems"]]


# -- suggest and init: their output builds once the backup step they print is done --------

REAL_CASES = [  # chain, host, a day in the leaf's validity, provider, does the step matter
    ("R12-2026-04-30-1.pem", "stanorg.ru", "2026-03-01", None, "required"),
    ("WR1-2026-03-26-1.pem", "app.vercel.app", "2026-02-01", None, "required"),
    (
        "Amazon_RSA_2048_M02-2025-07-26-1.pem",
        "x.execute-api.us-east-1.amazonaws.com",
        "2025-05-01",
        "aws-acm",
        "required",
    ),
    ("WR1-2026-03-26-1.pem", "app.vercel.app", "2026-02-01", "google-managed", "recommended"),
]


def _uncomment_backup(text: str) -> str:
    """What the user does after `pingen keygen`: uncomment the prepared backup pin."""
    import re

    return re.sub(r"(?m)^(\s*)# (- file: |  label: offline|  backup: true)", r"\1\2", text)


def _backup_key(folder: Path, host: str) -> None:
    from pingen.config.yamltext import backup_key_name

    (folder / "keys").mkdir(exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    (folder / "keys" / f"{backup_key_name(host)}.pub.pem").write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _build_before_and_after_the_step(
    run_pingen: CliRunner, folder: Path, text: str, host: str, at: str, step: str
) -> None:
    (folder / "pins.yaml").write_text(text)
    before = run_pingen("build", "--at", at)
    if step == "required":
        assert before.exit_code == 2, before.stderr
        assert f"{host} has no backup" in before.stderr
    else:
        assert before.exit_code == 0, before.stderr
    _backup_key(folder, host)
    (folder / "pins.yaml").write_text(_uncomment_backup(text))
    after = run_pingen("build", "--at", at)
    assert after.exit_code == 0, after.stderr
    assert "has no backup" not in after.stderr and "leaf pin" not in after.stderr


@pytest.mark.parametrize(
    ("chain", "host", "at", "provider", "step"),
    REAL_CASES,
    ids=[f"{c[0]}-{c[3]}" for c in REAL_CASES],
)
def test_suggest_output_builds_once_its_backup_step_is_done(
    run_pingen: CliRunner,
    workdir: Path,
    chain: str,
    host: str,
    at: str,
    provider: str | None,
    step: str,
) -> None:
    args = ["--provider", provider] if provider else []
    suggested = run_pingen("suggest", host, "--chain", str(REAL_CHAINS / chain), "--at", at, *args)
    assert suggested.exit_code == 0, suggested.stderr
    assert f"An offline backup key, {step}:" in suggested.stdout
    pasted = "".join(f"  {line}\n" for line in suggested.stdout.splitlines())
    text = f"version: 1\ndefaults:\n  expires: never\ndomains:\n{pasted}"
    _build_before_and_after_the_step(run_pingen, workdir, text, host, at, step)


@pytest.mark.parametrize(
    ("chain", "host", "at", "provider", "step"),
    REAL_CASES,
    ids=[f"{c[0]}-{c[3]}" for c in REAL_CASES],
)
def test_init_output_builds_once_its_backup_step_is_done(
    run_pingen: CliRunner,
    workdir: Path,
    chain: str,
    host: str,
    at: str,
    provider: str | None,
    step: str,
) -> None:
    import datetime as dt

    from cryptography import x509

    from pingen.author.init import Start, host_chain, starter_config
    from pingen.model import Trust
    from pingen.pki.catalog import load_catalog
    from pingen.pki.chain import build_verified_chain, load_trust_store

    served = x509.load_pem_x509_certificates((REAL_CHAINS / chain).read_bytes())
    when = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
    verified = build_verified_chain(served, load_trust_store(Trust()), host, when)
    text = starter_config(
        [host_chain(Start(host), verified, when, load_catalog(), provider)], expires=None
    )
    assert f"An offline backup key, {step}:" in text
    assert (f"    provider: {provider}\n" in text) is (provider is not None)
    if provider is not None:  # a platform that re-keys: no leaf pin, not even commented
        assert "# - sha256" not in text and f"provider {provider} makes a new key" in text
    _build_before_and_after_the_step(run_pingen, workdir, text, host, at, step)


def test_init_takes_provider_and_writes_it(run_pingen: CliRunner, workdir: Path) -> None:
    from tests.support.pki import CA, write_pem
    from tests.support.servers import tls_server

    root = CA.root("Loopback Root R1")
    leaf = root.intermediate("Loopback Issuing CA 1").issue_leaf("api.example.test")
    write_pem(workdir / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        result = run_pingen(
            "init",
            f"api.example.test={host}:{port}",
            "--ca-file",
            "roots.pem",
            "--provider",
            "cloudflare",
            "--expires",
            "never",
        )
    assert result.exit_code == 0, result.stderr
    assert (
        "Next (required: until then `pingen build` refuses, or warns on, a domain without "
        "a backup)" in result.stdout
    )
    text = (workdir / "pins.yaml").read_text()
    assert "  api.example.test:\n    connect: " in text and "\n    provider: cloudflare\n" in text
    assert leaf.pin not in text  # Cloudflare re-keys: no leaf pin, not even commented out
    assert "provider cloudflare makes a new key at" in text
    bad = run_pingen("init", "api.example.test", "--provider", "heroku")
    assert bad.exit_code == 2 and "--provider" in bad.stderr


# -- the README's examples build -----------------------------------------------------------


def _readme_configs() -> list[tuple[str, int, str]]:
    """Every ```yaml block of the docs that pins a domain, with its page and line."""
    return [block for block in fenced_blocks("yaml") if "    pins:" in block[2]]


def _runnable(folder: Path, block: str) -> str:
    """The block as a pins.yaml that loads here: a version and expiry where it is a
    fragment, its `file:` pins made (a CA certificate for a CA, else a key), its own
    trust files and outputs left out (they name files of the README's app)."""
    import re

    from tests.support.pki import CA, write_pem

    text = re.sub(r"(?ms)^(trust|outputs):.*?(?=^\S|\Z)", "", block)
    if "version:" not in text:
        text = "version: 1\ndefaults:\n  expires: 2027-06-30\n" + text
    for name in re.findall(r"- file: (\S+)", text):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if "ca" in Path(name).name:
            write_pem(path, CA.root("README backup CA").cert)
        else:
            key = ec.generate_private_key(ec.SECP256R1()).public_key()
            path.write_bytes(
                key.public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
    return text


def test_the_readmes_examples_build(run_pingen: CliRunner, tmp_path: Path) -> None:
    configs = _readme_configs()
    assert len(configs) >= 3  # the reference, setups A and B
    for page, line, block in configs:
        folder = tmp_path / f"{page.replace('/', '-')}-{line}"
        folder.mkdir()
        (folder / "pins.yaml").write_text(_runnable(folder, block))
        result = run_pingen("build", "--check", "--at", AT, cwd=folder)
        assert result.exit_code == 0, f"{page}:{line}: {result.stderr}"
        assert "has no backup" not in result.stderr and "leaf pin" not in result.stderr
