"""`pingen probe` in its own process, as a CI job runs it, and loopback clients for it.

    with running_probe(project, "--control", "ctl.example.net", "--connections", "2") as p:
        tls_request(p.port, "api.example.test", p.ca)          # SNI api.example.test
        tls_request(p.port, "cdn.example.test", p.ca, connect=True)  # through CONNECT
    result = p.result                  # exit code, stdout, stderr, the JSON report

Every probe listens on 127.0.0.1 on a free port and stops by itself: by its
`--connections`, else by `--duration` (bounded), else the context manager interrupts it
(SIGINT, which prints the verdicts) and finally kills it.
"""

from __future__ import annotations

import functools
import json
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from tests.support.pki import CA

REQUEST = "GET /v1/items?token=SECRET HTTP/1.1\r\nHost: {host}\r\nAuthorization: SECRET\r\n\r\n"


@dataclass
class ProbeResult:
    exit_code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def verdicts(self) -> dict[str, str]:
        """host -> PASS/FAIL/UNTESTED, from the printed table."""
        rows = self.stdout.split("HOST ", 1)[1].splitlines()[1:]
        return {
            row.split()[0]: row.split()[2]
            for row in rows
            if row.strip()
            and len(row.split()) > 2
            and row.split()[2] in ("PASS", "FAIL", "UNTESTED")
        }


@dataclass
class RunningProbe:
    process: subprocess.Popen[str]
    port: int
    ca: Path
    report_path: Path
    announcement: str
    result: ProbeResult = field(init=False)

    def finish(self, timeout: float = 60) -> ProbeResult:
        """Wait for the probe to stop (SIGINT after `timeout` s); once."""
        if hasattr(self, "result"):
            return self.result
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(30)
        # Read through the text streams, never communicate(): it reads the raw pipe and
        # would lose what readline() already buffered. The output is small (no pipe fills).
        assert self.process.stdout is not None and self.process.stderr is not None
        stdout, stderr = self.process.stdout.read(), self.process.stderr.read()
        report = json.loads(self.report_path.read_text()) if self.report_path.exists() else None
        self.result = ProbeResult(
            self.process.returncode, self.announcement + stdout, stderr, report
        )
        return self.result


def probe_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pingen", "probe", *args]


@contextmanager
def running_probe(
    project: Path, *args: str, duration: float = 60, wait: float = 60
) -> Iterator[RunningProbe]:
    """Start `pingen probe ARGS` in `project`; after the block, collect its result
    (waiting up to `wait` seconds for it to stop by itself, then SIGINT)."""
    ca, report = project / "probe-ca.pem", project / "probe-report.json"
    report.unlink(missing_ok=True)
    command = probe_command(
        "--listen",
        "127.0.0.1:0",
        "--ca-out",
        str(ca),
        "--report",
        str(report),
        "--duration",
        str(duration),
        *args,
    )
    process = subprocess.Popen(
        command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if "listening on" not in first:
            _, stderr = process.communicate(timeout=30)
            raise AssertionError(f"the probe did not start ({process.returncode}): {stderr}")
        port = int(first.split("listening on ", 1)[1].split(" ", 1)[0].rsplit(":", 1)[1])
        running = RunningProbe(process, port, ca, report, first)
        yield running
        running.finish(wait)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def tls_request(
    port: int,
    host: str,
    ca: Path | None,
    *,
    connect: bool = False,
    request: bool = True,
    sni: bool = True,
) -> bytes:
    """Dial the probe on loopback as `host` (SNI, or a CONNECT tunnel first), verify its
    chain against `ca` (None: no CA, so the client refuses), and send a request unless
    `request` is false. Returns what the probe answered (b"" without a request)."""
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    if ca is None:
        context.load_verify_locations(cadata=_unrelated_ca())
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        if connect:
            raw.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
            answer = raw.recv(4096)
            # exactly this: the Android emulator's proxy client fails on any header line
            assert answer == b"HTTP/1.1 200 Connection established\r\n\r\n", answer
        with context.wrap_socket(raw, server_hostname=host if sni else None) as tls:
            if not request:
                return b""
            tls.sendall(REQUEST.format(host=host).encode())
            return _read_all(tls)


def plain_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(data)
        return _read_all(raw)


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (ssl.SSLError, ConnectionResetError):
        pass
    return data


@functools.cache
def _unrelated_ca() -> str:
    """A CA that is not the probe's: a client trusting only it refuses the probe."""
    return (
        CA.root("pingen test: not the probe CA")
        .cert.public_bytes(serialization.Encoding.PEM)
        .decode()
    )
