"""`pingen init`: a starter pins.yaml from chains served by real TLS servers on
loopback, trusted through --ca-file; never overwriting; loading once a backup key
is added."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pingen.author.init import Start, host_chain, starter_config
from pingen.config.load import load_config
from pingen.config.yamltext import backup_key_name, default_expiry, quote
from pingen.model import Level
from pingen.spki import KeyType, pin_of_certificate
from tests.conftest import CliRunner
from tests.support.catalogs import Hierarchy  # its `pki` fixture is a plugin (tests/conftest.py)
from tests.support.paths import REAL_CHAINS
from tests.support.pki import CA, Identity, write_pem
from tests.support.servers import closed_port, tls_server

EXPIRES = (dt.date.today() + dt.timedelta(days=200)).isoformat()
P256 = KeyType.parse("ec-p256")


def uncomment_backup(text: str) -> str:
    """What the user does after `pingen keygen`: uncomment the prepared backup pin."""
    return re.sub(r"(?m)^      # (- file: |  label: offline|  backup: true)", r"      \1", text)


def test_init_writes_ca_pins_and_loads_once_a_backup_is_added(
    run_pingen: CliRunner, workdir: Path
) -> None:
    root = CA.root("Loopback Root R1")
    inter = root.intermediate("Loopback Issuing CA 1")
    api = inter.issue_leaf("api.example.test")
    cdn = inter.issue_leaf("cdn.example.test")
    write_pem(workdir / "certs" / "roots.pem", root.cert)
    with tls_server(api.identity()) as (host, api_port), tls_server(cdn.identity()) as (_, port):
        result = run_pingen(
            "init",
            f"api.example.test={host}:{api_port}",
            f"cdn.example.test={host}:{port}",
            "--ca-file",
            "certs/roots.pem",
            "--expires",
            EXPIRES,
        )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no progress off a terminal
    text = (workdir / "pins.yaml").read_text()
    # The CA pins are live; the leaf pin is there, commented out, with the reason.
    assert (
        f"      - sha256: {inter.pin}\n        label: Loopback Issuing CA 1\n"
        "        level: intermediate\n" in text
    )
    assert (
        f"      - sha256: {root.pin}\n        label: Loopback Root R1\n"
        "        level: root\n        key: ec-p256\n" in text
    )  # what TrustKit needs to know
    assert f"      # - sha256: {api.pin}\n      #   label: api.example.test\n" in text
    assert "a new key at each renewal" in text
    assert "trust:\n  ca_file: certs/roots.pem\n" in text
    assert f'    connect: "127.0.0.1:{api_port}"\n' in text
    # TrustKit refuses `.test` (an exception at launch): iOS gets urlsession instead.
    assert "  - type: android-nsc\n" in text and "  - type: urlsession\n" in text
    assert "  # TrustKit refuses api.example.test, cdn.example.test by its own" in text
    assert "  # - type: trustkit\n  #   path: ios/TrustKitConfig.swift\n" in text
    # The next step is the backup key.
    assert "pingen keygen api-example-test-backup --dir keys" in result.stdout
    assert "pingen keygen cdn-example-test-backup --dir keys" in result.stdout

    # It loads as is (two CA pins each) ...
    config = load_config(workdir / "pins.yaml")
    assert [d.host for d in config.domains] == ["api.example.test", "cdn.example.test"]
    assert [(p.sha256, p.level, p.key) for p in config.domains[0].pins] == [
        (inter.pin, Level.INTERMEDIATE, P256),
        (root.pin, Level.ROOT, P256),
    ]
    assert config.domains[0].expires == dt.date.fromisoformat(EXPIRES)
    assert [o.type for o in config.outputs] == ["android-nsc", "urlsession"]

    # ... and with the backup keys `pingen keygen` makes, as the comments say.
    for name in ("api-example-test-backup", "cdn-example-test-backup"):
        made = run_pingen("keygen", name, "--dir", "keys")
        assert made.exit_code == 0, made.stderr
    (workdir / "pins.yaml").write_text(uncomment_backup(text))
    config = load_config(workdir / "pins.yaml")
    for domain in config.domains:
        assert len(domain.pins) == 3 and domain.pins[-1].backup
        assert domain.pins[-1].label == "offline backup key"
    built = run_pingen("build", "--strict")  # as README promises: once done, it builds
    assert built.exit_code == 0, built.stderr
    assert (workdir / "ios" / "PinnedTrust.swift").is_file()


def test_same_chains_give_the_same_bytes(run_pingen: CliRunner, workdir: Path) -> None:
    root = CA.root()
    leaf = root.intermediate().issue_leaf("api.example.test")
    write_pem(workdir / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        for name in ("a.yaml", "b.yaml"):
            result = run_pingen(
                "init",
                f"api.example.test={host}:{port}",
                "-o",
                name,
                "--ca-file",
                "roots.pem",
                "--expires",
                EXPIRES,
                "-q",
            )
            assert result.exit_code == 0, result.stderr
            assert result.stdout == ""  # --quiet
    assert (workdir / "a.yaml").read_bytes() == (workdir / "b.yaml").read_bytes()
    assert (workdir / "a.yaml").read_bytes().endswith(b"\n")


def test_default_expiry_is_a_year_out_and_never_is_allowed(
    run_pingen: CliRunner, workdir: Path
) -> None:
    assert default_expiry(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)
    root = CA.root()
    leaf = root.intermediate().issue_leaf("api.example.test")
    write_pem(workdir / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        dated = run_pingen("init", f"api.example.test={host}:{port}", "--ca-file", "roots.pem")
        never = run_pingen(
            "init",
            f"api.example.test={host}:{port}",
            "-o",
            "never.yaml",
            "--ca-file",
            "roots.pem",
            "--expires",
            "never",
        )
    assert dated.exit_code == 0 and never.exit_code == 0
    year = default_expiry(dt.date.today()).isoformat()
    assert f"  expires: {year}\n" in (workdir / "pins.yaml").read_text()
    assert load_config(workdir / "never.yaml").domains[0].expires is None


def test_a_root_that_issues_the_leaf_directly(run_pingen: CliRunner, workdir: Path) -> None:
    """One CA pin only: the file needs the backup pin before it loads, and says so."""
    root = CA.root()
    leaf = root.issue_leaf("api.example.test")
    write_pem(workdir / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        result = run_pingen(
            "init",
            f"api.example.test={host}:{port}",
            "--ca-file",
            "roots.pem",
            "--expires",
            EXPIRES,
        )
    assert result.exit_code == 0, result.stderr
    text = (workdir / "pins.yaml").read_text()
    early = run_pingen("build", "--check")  # one pin: not loadable yet, and it says why
    assert early.exit_code == 2 and "at least two are needed" in early.stderr
    assert run_pingen("keygen", "api-example-test-backup", "--dir", "keys").exit_code == 0
    (workdir / "pins.yaml").write_text(uncomment_backup(text))
    (domain,) = load_config(workdir / "pins.yaml").domains
    assert [p.sha256 for p in domain.pins[:1]] == [root.pin] and domain.pins[1].backup


def test_hostile_names_stay_labels(run_pingen: CliRunner, workdir: Path) -> None:
    """A CA's name comes from the server: it must not be able to write YAML."""
    evil = 'Evil: CA # "x"\n      - sha256: AAAA'
    root = CA.root("yes")
    leaf = root.intermediate(evil).issue_leaf("api.example.test")
    write_pem(workdir / "roots.pem", root.cert)
    with tls_server(leaf.identity()) as (host, port):
        result = run_pingen(
            "init",
            f"api.example.test={host}:{port}",
            "--ca-file",
            "roots.pem",
            "--expires",
            EXPIRES,
        )
    assert result.exit_code == 0, result.stderr
    (domain,) = load_config(workdir / "pins.yaml").domains
    assert [p.label for p in domain.pins] == [evil, "yes"]
    assert quote("a\nb") == '"a\\nb"' and quote("no") == '"no"' and quote("1.5") == '"1.5"'
    assert quote("ISRG Root X1") == "ISRG Root X1"
    for text in ("null", "~", "0x1F", "@x", "a: b", "- a", "#", "", "*a", "!t", "'q'"):
        assert yaml.safe_load(f"k: {quote(text)}") == {"k": text}, text


def test_never_overwrites(run_pingen: CliRunner, workdir: Path) -> None:
    (workdir / "pins.yaml").write_text("mine\n")
    with closed_port() as (host, port):
        result = run_pingen("init", f"api.example.test={host}:{port}")
    assert result.exit_code == 2
    assert "pins.yaml already exists; pingen init never overwrites" in result.stderr
    assert (workdir / "pins.yaml").read_text() == "mine\n"


def test_untrusted_chain_asks_for_the_ca_file(run_pingen: CliRunner, workdir: Path) -> None:
    leaf = CA.root().intermediate().issue_leaf("api.example.test")
    with tls_server(leaf.identity()) as (host, port):
        result = run_pingen("init", f"api.example.test={host}:{port}")
    assert result.exit_code == 1
    assert "does not verify" in result.stderr and "--ca-file" in result.stderr
    assert not (workdir / "pins.yaml").exists()


def test_unreachable_host_is_exit_3_and_writes_nothing(
    run_pingen: CliRunner, workdir: Path
) -> None:
    with closed_port() as (host, port):
        result = run_pingen("init", f"api.example.test={host}:{port}", "--timeout", "2")
    assert result.exit_code == 3
    assert "api.example.test" in result.stderr and "refused" in result.stderr
    assert not (workdir / "pins.yaml").exists()


def test_bad_hosts_and_options_are_exit_2(run_pingen: CliRunner, workdir: Path) -> None:
    cases = {
        ("https://api.example.com",): "has a scheme",
        ("203.0.113.7",): "is an IP address",
        ("api.example.com", "API.example.com"): "is given twice",
        ("api.example.com=[::1",): "closing `]`",
        ("api.example.com", "--expires", "2001-01-01"): "not in the future",
        ("api.example.com", "--expires", "soon"): "yyyy-mm-dd",
        ("api.example.com", "-o", "no/such/folder/pins.yaml"): "does not exist",
        ("api.example.com", "--catalog", "no-catalog.json"): "cannot read the CA catalog",
    }
    for args, message in cases.items():
        result = run_pingen("init", *args)
        assert result.exit_code == 2, args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert list(workdir.iterdir()) == []


def test_output_in_a_subfolder_keeps_paths_relative_to_it(
    run_pingen: CliRunner, workdir: Path
) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(workdir)], check=True)  # ../certs stays inside
    root = CA.root()
    leaf = root.intermediate().issue_leaf("api.example.test")
    write_pem(workdir / "certs" / "roots.pem", root.cert)
    (workdir / "app").mkdir()
    with tls_server(leaf.identity()) as (host, port):
        result = run_pingen(
            "init",
            f"api.example.test={host}:{port}",
            "-o",
            "app/pins.yaml",
            "--ca-file",
            "certs/roots.pem",
            "--expires",
            EXPIRES,
        )
    assert result.exit_code == 0, result.stderr
    assert "pingen keygen api-example-test-backup --dir app/keys -c app/pins.yaml" in (
        result.stdout
    )
    config = load_config(workdir / "app" / "pins.yaml")
    assert config.trust.ca_file is not None
    assert config.trust.ca_file.resolve() == (workdir / "certs" / "roots.pem").resolve()


def test_progress_only_on_a_terminal() -> None:
    import io

    from pingen.report.term import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown, quiet, piped = Terminal(), Terminal(), io.StringIO()
    for stream, is_quiet in ((shown, False), (quiet, True), (piped, False)):
        progress = Progress(quiet=is_quiet, stream=stream)
        progress.update("taking chains: 1/2 a.example")
        progress.done()
    assert "taking chains: 1/2 a.example" in shown.getvalue()
    assert shown.getvalue().endswith("\r")  # the line is cleared when done
    assert quiet.getvalue() == "" and piped.getvalue() == ""


# -- a CA in the catalog: suggest's durable selection --------------------------------------


def pins_block(text: str, indent: str) -> list[str]:
    """The lines from `pins:` up to the backup step, without the commented leaf pin."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "pins:") + 1
    block = []
    for line in lines[start:]:
        if "Backup:" in line or "An offline backup key" in line:
            break
        block.append(line.removeprefix(indent))
    return [
        line
        for line in block
        if not line.startswith(("# - sha256", "#   ", "# The leaf", "# servers make"))
    ]


def test_init_writes_suggests_roots_for_a_catalogued_ca(
    run_pingen: CliRunner, workdir: Path, pki: Hierarchy
) -> None:
    """The durable set: every root of the CA (both key types, the next generation),
    each with its reason, the same lines `pingen suggest` prints; not R1, which its
    siblings replace."""
    import shutil

    write_pem(workdir / "roots.pem", pki.x1.cert, pki.x2.cert, pki.other.cert)
    leaf = pki.leaf("R1")
    shutil.copytree(pki.catalog_path.parent, workdir / "ca")  # pins.yaml names files inside
    catalog = "ca/catalog.json"
    with tls_server(Identity((leaf.cert, *pki.upper("R1")), leaf.key)) as (host, port):
        address = f"app.example.test={host}:{port}"
        written = [
            run_pingen(
                "init",
                address,
                "-o",
                name,
                "--ca-file",
                "roots.pem",
                "--catalog",
                catalog,
                "--expires",
                EXPIRES,
            )
            for name in ("pins.yaml", "again.yaml")
        ]
        assert [r.exit_code for r in written] == [0, 0], written[0].stderr
        suggested = run_pingen(
            "suggest",
            "app.example.test",
            "--connect",
            f"{host}:{port}",
            "--ca-file",
            "roots.pem",
            "--catalog",
            catalog,
        )
        text = (workdir / "pins.yaml").read_text()
        assert text == (workdir / "again.yaml").read_text()  # deterministic
        assert "wrote pins.yaml: 1 domain(s), 4 CA pin(s)" in written[0].stdout

        names = re.findall(r"(?m)^      - root: (.+)$", text)
        assert names == ["Test Root X1", "Test Root X2", "Test Root YR", "Test Root YE"]
        lines = text.splitlines()
        for name in names:  # each with its reason right above it
            assert lines[lines.index(f"      - root: {name}") - 1].startswith("      # ")
        assert "level: intermediate" not in text and pki.intermediates["R1"].pin not in text
        assert f"      # - sha256: {leaf.pin}\n" in text  # the leaf, commented, as before
        assert "trust:\n  ca_file: roots.pem\n  catalog: " in text
        assert "still open" not in text
        # one selection: init's pins are suggest's, line for line
        assert suggested.exit_code == 0, suggested.stderr
        assert pins_block(text, "      ") == pins_block(suggested.stdout, "    ")

        # With the backup key it loads, and verify finds nothing to say of the future.
        assert run_pingen("keygen", "app-example-test-backup", "--dir", "keys").exit_code == 0
        (workdir / "pins.yaml").write_text(uncomment_backup(text))
        (domain,) = load_config(workdir / "pins.yaml").domains
        assert [p.label for p in domain.pins] == [*names, "offline backup key"]
        checked = run_pingen("verify", "--format", "json")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["domains"][0]["problems"] == []


@pytest.mark.parametrize(
    ("chain", "host", "at", "roots"),
    [
        (
            "R12-2026-04-30-1.pem",
            "stanorg.ru",
            "2026-03-01",
            ["ISRG Root X1", "ISRG Root X2", "Root YR", "Root YE"],
        ),
        (
            "YE2-2026-10-18-1.pem",
            "poliban-english-verse.duckdns.org",
            "2026-09-01",
            ["ISRG Root X1", "ISRG Root X2", "Root YR", "Root YE"],
        ),
        (
            "WR1-2026-03-26-1.pem",
            "app.vercel.app",
            "2026-02-01",
            ["GTS Root R1", "GTS Root R2", "GTS Root R3", "GTS Root R4"],
        ),
    ],
)
def test_real_served_chains_get_every_root_of_their_ca(
    workdir: Path, chain: str, host: str, at: str, roots: list[str]
) -> None:
    """What init writes for real Let's Encrypt and Google chains, as a client verified
    them on a day inside the leaf's validity: the CA's roots, not its intermediate."""
    from pingen.model import Trust
    from pingen.pki.catalog import load_catalog
    from pingen.pki.chain import build_verified_chain, load_trust_store

    served = x509.load_pem_x509_certificates((REAL_CHAINS / chain).read_bytes())
    when = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC)
    verified = build_verified_chain(served, load_trust_store(Trust()), host, when)
    written = host_chain(Start(host), verified, when, load_catalog())
    text = starter_config([written], expires=None)
    assert text == starter_config(
        [host_chain(Start(host), verified, when, load_catalog())], expires=None
    )
    assert re.findall(r"(?m)^      - root: (.+)$", text) == roots
    assert "level: intermediate" not in text and "still open" not in text
    assert pin_of_certificate(verified[1]) not in text  # the intermediate rotates among siblings
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    (workdir / "keys").mkdir()
    (workdir / "keys" / f"{backup_key_name(host)}.pub.pem").write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (workdir / "pins.yaml").write_text(uncomment_backup(text))
    (domain,) = load_config(workdir / "pins.yaml").domains
    assert [p.label for p in domain.pins] == [*roots, "offline backup key"]


def test_ios_output_is_trustkit_unless_trustkit_refuses_a_host() -> None:
    from pingen.author.init import _outputs

    accepted = "\n".join(_outputs(["api.example.com"]))
    assert "  - type: trustkit\n    path: ios/TrustKitConfig.swift" in accepted
    assert "  # - type: urlsession\n  #   path: ios/PinnedTrust.swift" in accepted
    gateway = "abc123.execute-api.eu-west-1.amazonaws.com"  # README: TrustKit refuses it
    refused = "\n".join(_outputs(["api.example.com", gateway]))
    assert "  - type: urlsession\n    path: ios/PinnedTrust.swift" in refused
    assert f"  # TrustKit refuses {gateway} by its own suffix rules" in refused
    assert "  # - type: trustkit\n  #   path: ios/TrustKitConfig.swift" in refused
