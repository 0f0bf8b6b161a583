"""`pingen probe` with Python `ssl` clients on loopback: SNI picks the certificate, CONNECT
tunnels reach the same hosts, and the verdicts, the table, the JSON report and the exit
code say what the clients did. Every probe runs in its own process and stops by itself.
(The JVM/OkHttp proof is tests/probe/test_probe_okhttp.py.)"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import socket
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pingen.probe.endpoint import Attempt, HostLog, Request, Target, judge
from pingen.spki import pin_of_public_key
from tests.conftest import CliRunner
from tests.support.docs import docs_text
from tests.support.models import fake_pin
from tests.support.probe import plain_request, running_probe, tls_request

API, CDN, IMG, CONTROL = (
    "api.example.test",
    "cdn.example.test",
    "img.example.test",
    "control.example.net",
)


def write_project(folder: Path, *, extra_pin: str | None = None) -> Path:
    """pins.yaml with three hosts (cdn includes subdomains) and an Android output folder."""
    backup = (
        f"      - file: {extra_pin}\n        backup: true\n"
        if extra_pin
        else (f"      - sha256: {fake_pin('offline backup')}\n        backup: true\n")
    )
    pins = f"      - sha256: {fake_pin('live root')}\n        level: root\n" + backup
    text = "version: 1\ndefaults:\n  expires: 2099-12-31\ndomains:\n"
    for host, subdomains in ((API, False), (CDN, True), (IMG, False)):
        text += f"  {host}:\n    include_subdomains: {str(subdomains).lower()}\n    pins:\n{pins}"
    text += (
        "outputs:\n  - type: android-nsc\n"
        "    path: app/src/main/res/xml/network_security_config.xml\n"
    )
    (folder / "pins.yaml").write_text(text)
    return folder


def served_leaf(port: int, host: str, ca: Path) -> x509.Certificate:
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


# -- refuse mode ------------------------------------------------------------------------


def test_refuse_mode_judges_each_host_by_what_its_client_did(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    with running_probe(project, "--control", CONTROL, "--connections", "4") as probe:
        # a pinning client: handshake, then hangs up without a request
        assert tls_request(probe.port, API, probe.ca, request=False) == b""
        # a client that does not pin, through the proxy, to a subdomain of cdn
        answer = tls_request(probe.port, f"x.{CDN}", probe.ca, connect=True)
        assert answer.startswith(b"HTTP/1.1 200 OK")
        # a host not under test is refused in the handshake, and never forwarded
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            tls_request(probe.port, "www.example.org", probe.ca)
        assert tls_request(probe.port, CONTROL, probe.ca).startswith(b"HTTP/1.1 200")
        assert tls_request(probe.port, API, probe.ca, request=False) == b""
    result = probe.result
    assert result.exit_code == 1, result.stderr
    assert result.verdicts() == {API: "PASS", CDN: "FAIL", IMG: "UNTESTED", CONTROL: "PASS"}
    assert f"GET /v1/items, via CONNECT, for x.{CDN}" in result.stdout
    assert "nobody dialled it" in result.stdout
    assert "www.example.org (1)" in result.stdout
    assert "SECRET" not in result.stdout + result.stderr  # never the query or headers
    report = result.report
    assert report is not None and report["passed"] is False and report["mode"] == "refuse"
    assert report["listen"] == f"127.0.0.1:{probe.port}" and report["control"] == CONTROL
    assert report["summary"] == {"pass": 2, "fail": 1, "untested": 1}
    hosts = {h["host"]: h for h in report["hosts"]}
    assert hosts[API]["connections"] == 2 and hosts[API]["requests"] == 0
    assert hosts[API]["attempts"][0]["handshake"] == "completed"
    cdn = hosts[CDN]["attempts"][0]
    assert (cdn["name"], cdn["via"]) == (f"x.{CDN}", "connect")
    assert cdn["request"] == {"method": "GET", "path": "/v1/items", "cleartext": False}
    assert "SECRET" not in str(report)
    assert report["other_hosts"] == {"www.example.org": 1}
    ca = x509.load_pem_x509_certificate(probe.ca.read_bytes())
    assert report["probe_ca"]["sha256"] == pin_of_public_key(ca.public_key())


def test_every_host_refused_and_the_control_reached_exits_0(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    args = ("--domain", API, "--domain", CDN, "--control", CONTROL, "--connections", "3")
    with running_probe(project, *args) as probe:
        tls_request(probe.port, API, probe.ca, request=False)
        tls_request(probe.port, CDN, probe.ca, request=False, connect=True)
        tls_request(probe.port, CONTROL, probe.ca)
    assert probe.result.exit_code == 0, probe.result.stdout + probe.result.stderr
    assert probe.result.verdicts() == {API: "PASS", CDN: "PASS", CONTROL: "PASS"}
    assert "every host passed" in probe.result.stdout
    assert IMG not in probe.result.stdout  # not selected by --domain


def test_sni_picks_a_certificate_for_the_name_and_connect_stands_in_for_no_sni(
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path)
    with running_probe(project, "--connections", "3") as probe:
        leaf = served_leaf(probe.port, f"deep.a.{CDN}", probe.ca)
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.DNSName) == [f"deep.a.{CDN}"]
        assert (
            served_leaf(probe.port, API, probe.ca).issuer
            == x509.load_pem_x509_certificate(probe.ca.read_bytes()).subject
        )
        # a client that sends no SNI inside a CONNECT tunnel gets the tunnel's host
        context = ssl.create_default_context(cafile=str(probe.ca))
        context.check_hostname = False
        with socket.create_connection(("127.0.0.1", probe.port), timeout=10) as raw:
            raw.sendall(f"CONNECT {IMG}:443 HTTP/1.1\r\n\r\n".encode())
            assert raw.recv(4096).startswith(b"HTTP/1.1 200")
            with context.wrap_socket(raw) as tls:
                der = tls.getpeercert(binary_form=True)
                assert der is not None
                san = (
                    x509.load_der_x509_certificate(der)
                    .extensions.get_extension_for_class(x509.SubjectAlternativeName)
                    .value
                )
                assert san.get_values_for_type(x509.DNSName) == [IMG]
    pins = {fake_pin("live root"), fake_pin("offline backup")}
    assert pin_of_public_key(leaf.public_key()) not in pins
    # what ATS and Android demand of a server certificate from a user-trusted CA
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= dt.timedelta(days=7, hours=1)
    assert probe.result.verdicts() == {API: "PASS", CDN: "PASS", IMG: "PASS"}


def test_a_cleartext_request_or_a_connect_elsewhere_is_never_forwarded(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    with running_probe(project, "--domain", API, "--connections", "1") as probe:
        refused = plain_request(probe.port, b"CONNECT www.example.org:443 HTTP/1.1\r\n\r\n")
        assert refused.startswith(b"HTTP/1.1 403") and b"never forwards" in refused
        answer = plain_request(
            probe.port, f"GET http://{API}/login?pw=SECRET HTTP/1.1\r\nHost: {API}\r\n\r\n".encode()
        )
        assert answer.startswith(b"HTTP/1.1 403")
    assert probe.result.verdicts() == {API: "FAIL"}
    assert "GET /login (cleartext HTTP)" in probe.result.stdout
    assert "SECRET" not in probe.result.stdout + probe.result.stderr


def test_a_client_that_refuses_the_probe_ca_is_recorded_with_its_alert(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    with running_probe(
        project, "--domain", API, "--control", CONTROL, "--connections", "2"
    ) as probe:
        for host in (API, CONTROL):
            with pytest.raises(ssl.SSLCertVerificationError):
                tls_request(probe.port, host, None)
    result = probe.result
    assert result.verdicts() == {API: "UNTESTED", CONTROL: "FAIL"}
    assert 'the client sent the alert "unknown ca"' in result.stdout
    assert "install the probe CA as trusted" in result.stdout
    assert result.exit_code == 1


def test_sigint_stops_the_probe_and_prints_the_verdicts(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    with running_probe(project, "--domain", API, "--domain", CDN) as probe:
        context = ssl.create_default_context(cafile=str(probe.ca))
        with (
            socket.create_connection(("127.0.0.1", probe.port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname=CDN),
        ):  # held open, no request
            tls_request(probe.port, API, probe.ca, request=False)
            probe.finish(timeout=3)  # no --connections: it runs until SIGINT
    assert probe.result.verdicts() == {API: "PASS", CDN: "PASS"}
    assert "no request yet when the probe stopped" in probe.result.stdout
    assert probe.result.exit_code == 0
    assert "no --control host" in probe.result.stderr


# -- accept mode ------------------------------------------------------------------------


def write_key(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / "test.key.pem", folder / "test.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def test_accept_mode_serves_the_pinned_key_and_passes_when_the_client_connects(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    private, public = write_key(keys)
    project = write_project(tmp_path, extra_pin="keys/test.pub.pem")
    args = ("--mode", "accept", "--key", str(private), "--domain", API, "--connections", "1")
    with running_probe(project, *args) as probe:
        leaf = served_leaf(probe.port, API, probe.ca)
    key = serialization.load_pem_public_key(public.read_bytes())
    assert pin_of_public_key(leaf.public_key()) == pin_of_public_key(key)
    assert probe.result.verdicts() == {API: "FAIL"}  # handshake only: the "app" refused
    assert "refused a chain whose leaf holds the pinned key" in probe.result.stdout
    with running_probe(project, *args) as probe:
        tls_request(probe.port, API, probe.ca)
    assert probe.result.exit_code == 0 and probe.result.verdicts() == {API: "PASS"}
    assert "accept" in probe.result.stdout


# -- the verdicts themselves ------------------------------------------------------------


def test_a_request_to_a_pinned_host_fails_even_when_the_control_got_none() -> None:
    log = HostLog(Target(API, False, "refuse"))
    log.add(Attempt(API, "tls", "completed", "sent", Request("GET", "/")))
    control = HostLog(Target(CONTROL, False, "control"))
    assert [v.verdict for v in judge([log, control])] == ["FAIL", "FAIL"]


# -- bad input: exit 2, a clear message, nothing written --------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--domain", "nope.example.test"), "--domain nope.example.test: no such domain"),
        (("--control", f"x.{CDN}"), f"pins x.{CDN} (domain {CDN})"),
        (("--key", "k.pem"), "--key is for --mode accept"),
        (("--mode", "accept"), "--mode accept needs --key FILE"),
        (("--listen", "example.org:8443"), "is not an IP address"),
        (("--ca-dir", "app/src/main/res/xml/ca"), "--ca-dir app/src/main/res/xml/ca is inside"),
        (("--report", "no-such-folder/probe.json"), "no-such-folder does not exist"),
    ],
)
def test_bad_input_is_exit_2_with_a_clear_message(
    run_pingen: CliRunner,
    workdir: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    write_project(workdir)
    result = run_pingen(
        "probe", "--listen", "127.0.0.1:0", "--ca-out", "ca.pem", "--duration", "5", *args
    )
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["pins.yaml"]


def test_without_pins_yaml_the_probe_refuses_to_start(run_pingen: CliRunner, workdir: Path) -> None:
    result = run_pingen("probe", "--listen", "127.0.0.1:0", "--duration", "5")
    assert result.exit_code == 2
    assert "pins.yaml" in result.stderr and "Traceback" not in result.stderr


def test_a_key_that_is_not_pinned_is_refused(run_pingen: CliRunner, workdir: Path) -> None:
    private, _public = write_key(workdir)
    write_project(workdir)
    result = run_pingen(
        "probe",
        "--listen",
        "127.0.0.1:0",
        "--mode",
        "accept",
        "--key",
        str(private),
        "--duration",
        "5",
    )
    assert result.exit_code == 2
    assert "is not pinned by" in result.stderr and "sha256/" in result.stderr


def test_a_port_in_use_is_exit_2_and_writes_nothing(run_pingen: CliRunner, workdir: Path) -> None:
    write_project(workdir)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_pingen(
            "probe",
            "--listen",
            f"127.0.0.1:{port}",
            "--ca-out",
            "ca.pem",
            "--ca-dir",
            "probe-ca",
            "--duration",
            "5",
        )
    assert result.exit_code == 2
    assert f"--listen 127.0.0.1:{port}: the port is in use" in result.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["pins.yaml"]


def test_ca_out_never_overwrites_a_file_it_did_not_write(
    run_pingen: CliRunner, workdir: Path
) -> None:
    write_project(workdir)
    (workdir / "ca.pem").write_text("mine")
    result = run_pingen("probe", "--listen", "127.0.0.1:0", "--ca-out", "ca.pem", "--duration", "5")
    assert result.exit_code == 2 and "never overwrites" in result.stderr
    assert (workdir / "ca.pem").read_text() == "mine"


def test_ca_dir_keeps_one_ca_with_a_private_key_of_mode_0600(workdir: Path) -> None:
    write_project(workdir)
    command = [
        sys.executable,
        "-m",
        "pingen",
        "probe",
        "--listen",
        "127.0.0.1:0",
        "--duration",
        "0.2",
        "--ca-dir",
        "probe-ca",
    ]
    first = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=60)
    second = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=60)
    assert first.returncode == second.returncode == 1  # nobody dialled: UNTESTED
    key = workdir / "probe-ca" / "probe-ca.key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(workdir / "probe-ca").st_mode) == 0o700
    pin_line = next(line for line in first.stdout.splitlines() if "probe CA" in line)
    assert pin_line in second.stdout  # the same CA both times
    assert "PRIVATE KEY" not in first.stdout + second.stdout
    fresh = subprocess.run(command[:-2], cwd=workdir, capture_output=True, text=True, timeout=60)
    assert pin_line not in fresh.stdout  # without --ca-dir: a new CA each run


def test_a_probe_ca_that_pins_yaml_pins_is_refused(workdir: Path) -> None:
    write_project(workdir)
    command = [
        sys.executable,
        "-m",
        "pingen",
        "probe",
        "--listen",
        "127.0.0.1:0",
        "--duration",
        "0.1",
        "--ca-dir",
        "probe-ca",
    ]
    subprocess.run(command, cwd=workdir, capture_output=True, timeout=60, check=False)
    pins = workdir / "pins.yaml"
    pins.write_text(
        pins.read_text().replace(
            f"      - sha256: {fake_pin('offline backup')}\n",
            "      - file: probe-ca/probe-ca.pem\n",
            1,
        )
    )
    again = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2, again.stdout + again.stderr
    assert "the probe CA's key" in again.stderr and "would prove nothing" in again.stderr


def readme_probe_commands() -> list[list[str]]:
    """Every `pingen probe ...` command line of the README's code blocks."""
    readme = docs_text()
    joined = readme.replace("\\\n", " ")
    lines = [
        line.strip() for line in joined.splitlines() if line.strip().startswith("pingen probe ")
    ]
    return [shlex.split(line.split(">", 1)[0].split("&", 1)[0])[2:] for line in lines]


def test_the_readme_probe_commands_parse() -> None:
    from pingen.commands.probe import command

    commands = readme_probe_commands()
    assert len(commands) >= 3
    for args in commands:
        context = command.make_context("probe", list(args))
        assert context.params["control"] == "control.example.net", args


def test_accept_mode_expects_refusal_from_hosts_that_do_not_pin_the_key(tmp_path: Path) -> None:
    private, _public = write_key(tmp_path)
    project = write_project(tmp_path)
    pins = project / "pins.yaml"
    pins.write_text(
        pins.read_text().replace(  # only api pins the test key
            f"      - sha256: {fake_pin('offline backup')}\n", "      - file: test.pub.pem\n", 1
        )
    )
    with running_probe(
        project, "--mode", "accept", "--key", str(private), "--connections", "2"
    ) as probe:
        tls_request(probe.port, API, probe.ca)
        tls_request(probe.port, CDN, probe.ca, request=False)
    assert probe.result.verdicts() == {API: "PASS", CDN: "PASS", IMG: "UNTESTED"}
    assert probe.result.report is not None
    assert {h["host"]: h["expect"] for h in probe.result.report["hosts"]} == {
        API: "accept",
        CDN: "refuse",
        IMG: "refuse",
    }


@pytest.mark.parametrize("damage", ["only the certificate", "a key others can read"])
def test_a_damaged_ca_dir_is_exit_2(run_pingen: CliRunner, workdir: Path, damage: str) -> None:
    write_project(workdir)
    command = [
        sys.executable,
        "-m",
        "pingen",
        "probe",
        "--listen",
        "127.0.0.1:0",
        "--duration",
        "0.1",
        "--ca-dir",
        "probe-ca",
    ]
    subprocess.run(command, cwd=workdir, capture_output=True, timeout=60, check=False)
    key = workdir / "probe-ca" / "probe-ca.key.pem"
    if damage == "only the certificate":
        key.unlink()
        expected = "exists but probe-ca/probe-ca.key.pem does not"
    else:
        key.chmod(0o644)
        expected = "is readable by others (mode 644): run `chmod 600"
    result = run_pingen(
        "probe", "--listen", "127.0.0.1:0", "--duration", "5", "--ca-dir", "probe-ca"
    )
    assert result.exit_code == 2, result.stdout + result.stderr
    assert expected in result.stderr


def test_accept_mode_puts_a_key_pinned_as_a_ca_into_an_intermediate(tmp_path: Path) -> None:
    """A CA-level pin (NSPinnedCAIdentities looks above the leaf) is served as the
    intermediate that issued the leaf, under the probe CA."""
    private, public = write_key(tmp_path)
    project = write_project(tmp_path)
    pins = project / "pins.yaml"
    pins.write_text(
        pins.read_text().replace(
            f"      - sha256: {fake_pin('offline backup')}\n",
            "      - file: test.pub.pem\n        level: intermediate\n",
            1,
        )
    )
    with running_probe(
        project, "--mode", "accept", "--key", str(private), "--domain", API, "--connections", "1"
    ) as probe:
        leaf = served_leaf(probe.port, API, probe.ca)  # verifies through the intermediate
    key = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(key, ec.EllipticCurvePublicKey)  # write_key makes a P-256 key
    assert pin_of_public_key(leaf.public_key()) != pin_of_public_key(key)
    issuer = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert issuer.key_identifier == x509.SubjectKeyIdentifier.from_public_key(key).digest
    assert "an intermediate holds --key" in probe.result.stdout
    assert probe.result.verdicts() == {API: "FAIL"}  # a handshake only: no request


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("8443", ("127.0.0.1", 8443)),
        ("localhost:9", ("127.0.0.1", 9)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("[::1]:8443", ("::1", 8443)),
    ],
)
def test_listen_takes_an_address_and_a_port(text: str, address: tuple[str, int]) -> None:
    from pingen.commands.probe import parse_listen

    assert parse_listen(text) == address


@pytest.mark.parametrize("text", ["127.0.0.1:70000", "127.0.0.1:http", "api.example.test:443"])
def test_listen_refuses_what_is_not_an_ip_and_a_port(text: str) -> None:
    from pingen.commands.probe import parse_listen
    from pingen.errors import ConfigError

    with pytest.raises(ConfigError, match=re.escape(f"--listen {text}: ")):
        parse_listen(text)
