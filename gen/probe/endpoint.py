"""`pingen probe`: a TLS test endpoint that tells whether an app really pins.

The probe answers for every host under test on one port, both as a TLS server (the
client's SNI picks the certificate) and as an HTTP CONNECT proxy (a device or emulator
whose proxy points here). It terminates every connection itself: it never opens a
connection anywhere, so nothing is ever forwarded to the real servers.

Per host it records what each client did: the TLS handshake completed or aborted (and
where: the alert the client sent, or that it hung up), and whether an HTTP request
followed — its method and path only (no query, headers or body). `judge` turns that
into a verdict per host:

- expecting refusal (the chain holds no pinned key): PASS when the client went away
  without a request, FAIL when a request arrived — the app does not pin that host;
- expecting acceptance (accept mode: the leaf carries a pinned key): PASS when a
  request arrived, FAIL when the client refused;
- the control host (pinned nowhere) must receive a request: that proves the device
  trusts the probe CA. When it got none, a refusal proves nothing and the verdicts are
  UNTESTED (a request to a pinned host is still a FAIL: it is proof on its own);
- UNTESTED for a host nobody dialled.

The TLS is driven through `ssl.MemoryBIO`, so the probe sees every byte and every
alert, and the SNI callback can pick a certificate per name (a CONNECT's host stands
in for a client that sends no SNI).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import signal
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization

from pingen.author.keys import PRIVATE_MODE, write_files
from pingen.hosts import authority_host, network_name
from pingen.probe.pki import issuer_key

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from pingen.probe.pki import ProbeCA

Expectation = Literal["refuse", "accept", "control"]
Via = Literal["tls", "connect", "http"]
Verdict = Literal["PASS", "FAIL", "UNTESTED"]

IDLE_TIMEOUT = 30.0  # a silent client is let go after this many seconds
MAX_HEAD = 16 * 1024  # an HTTP request head (or CONNECT) longer than this is refused
MAX_ATTEMPTS_KEPT = 50  # per host: the report keeps the first ones, counts all
MAX_NAMES = 1000  # distinct names a run issues certificates for / remembers
TLS_HANDSHAKE = 0x16  # the first byte of a TLS record carrying a ClientHello
_NEVER_FORWARDS = (
    b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 78\r\nConnection: close\r\n\r\n"
    b"pingen probe answers only for the hosts under test and never forwards "
    b"traffic\n"
)
_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 46\r\n"
    b"Connection: close\r\n\r\npingen probe: this request reached the probe.\n"
)
# No header lines: the Android emulator's -http-proxy client fails HTTPS when the
# CONNECT answer carries any (Android issue 72551; the workaround
# tmurakam/android-emulator-proxy-forwarder exists only to strip them).
_TUNNEL_OPEN = b"HTTP/1.1 200 Connection established\r\n\r\n"


class ProbeError(Exception):
    """The probe cannot start (a port in use, no permission); says what to do."""


@dataclass(frozen=True)
class Target:
    """A host the probe answers for, and what the client is expected to do there."""

    host: str
    include_subdomains: bool
    expect: Expectation

    def covers(self, name: str) -> bool:
        return name == self.host or (self.include_subdomains and name.endswith("." + self.host))


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # the path only: never the query string, headers or body
    cleartext: bool = False  # arrived without TLS (plain HTTP, or inside a CONNECT tunnel)

    def __str__(self) -> str:
        text = f"{self.method} {self.path}".strip()
        return f"{text} (cleartext HTTP)" if self.cleartext else text


@dataclass(frozen=True)
class Attempt:
    """One connection to a host under test."""

    name: str  # the name the client asked for: its SNI, else the CONNECT host
    via: Via
    handshake: Literal["completed", "aborted", "none"]
    detail: str  # what happened, in words
    request: Request | None = None


@dataclass
class HostLog:
    target: Target
    attempts: list[Attempt] = field(default_factory=list)
    count: int = 0  # every attempt, also those not kept
    tls_requests: int = 0
    cleartext_requests: int = 0
    first_request: Attempt | None = None  # the first connection that sent a request

    def add(self, attempt: Attempt) -> None:
        self.count += 1
        if len(self.attempts) < MAX_ATTEMPTS_KEPT:
            self.attempts.append(attempt)
        request = attempt.request
        if request is None:
            return
        if request.cleartext:
            self.cleartext_requests += 1
        else:
            self.tls_requests += 1
        if self.first_request is None:
            self.first_request = attempt

    @property
    def requests(self) -> int:
        return self.tls_requests + self.cleartext_requests


@dataclass(frozen=True)
class HostVerdict:
    host: str
    expect: Expectation
    verdict: Verdict
    reason: str


# -- verdicts ------------------------------------------------------------------------------


def judge(logs: Iterable[HostLog]) -> list[HostVerdict]:
    """A verdict for every host under test, then for the control host (if any)."""
    logs = list(logs)
    control = next((log for log in logs if log.target.expect == "control"), None)
    control_ok = control is None or control.tls_requests > 0
    verdicts = [_judge_host(log, control_ok) for log in logs if log is not control]
    if control is not None:
        verdicts.append(_judge_control(control))
    return verdicts


def _judge_host(log: HostLog, control_ok: bool) -> HostVerdict:
    target = log.target

    def verdict(value: Verdict, reason: str) -> HostVerdict:
        return HostVerdict(target.host, target.expect, value, reason)

    if target.expect == "refuse" and log.requests:
        return verdict(
            "FAIL",
            f"a request arrived ({_request_seen(log)}): the app does not "
            "enforce pinning for this host",
        )
    if not log.count:
        return verdict("UNTESTED", "nobody dialled it: make the app's test reach this host")
    if not control_ok:
        return verdict(
            "UNTESTED",
            "the control host got no request, so the device may not "
            "trust the probe CA and a refusal proves nothing",
        )
    if target.expect == "refuse":
        return verdict(
            "PASS",
            f"the client went away without a request "
            f"({_connections(log.count)}; {log.attempts[-1].detail})",
        )
    if log.tls_requests:
        return verdict("PASS", f"the client accepted the pinned key and sent {_request_seen(log)}")
    return verdict(
        "FAIL",
        f"the client refused a chain whose leaf holds the pinned key "
        f"({_connections(log.count)}; {log.attempts[-1].detail})",
    )


def _judge_control(log: HostLog) -> HostVerdict:
    host = log.target.host
    if log.tls_requests:
        return HostVerdict(
            host,
            "control",
            "PASS",
            f"a request arrived over TLS ({_request_seen(log)}): the device trusts the probe CA",
        )
    what = (
        f"{_connections(log.count)}; {log.attempts[-1].detail}"
        if log.count
        else "nobody dialled it"
    )
    return HostVerdict(
        host,
        "control",
        "FAIL",
        f"no request over TLS ({what}): install the "
        "probe CA as trusted and route the traffic "
        "to the probe",
    )


def _request_seen(log: HostLog) -> str:
    """`GET /v1 (via CONNECT, for x.api.example.com)`: the first request and how it came."""
    attempt = log.first_request
    if attempt is None:
        return "no request"
    notes = [f"via {attempt.via.upper()}"] if attempt.via == "connect" else []
    if attempt.name != log.target.host:
        notes.append(f"for {attempt.name}")
    return f"{attempt.request}" + (f", {', '.join(notes)}" if notes else "")


def _connections(count: int) -> str:
    return f"{count} connection{'s' if count != 1 else ''}"


# -- the server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything the server needs, checked by the command before it starts."""

    targets: tuple[Target, ...]
    ca: ProbeCA
    refuse_key: PrivateKeyTypes  # the leaf key no host pins
    accept_key: PrivateKeyTypes | None = None  # --key: the key accept hosts present
    accept_as_ca: bool = False  # the key is pinned as a CA's: it signs an intermediate
    idle_timeout: float = IDLE_TIMEOUT


@dataclass
class Outcome:
    logs: list[HostLog]
    other_names: dict[str, int]  # names dialled that are not under test -> count

    @property
    def verdicts(self) -> list[HostVerdict]:
        return judge(self.logs)

    @property
    def passed(self) -> bool:
        return all(v.verdict == "PASS" for v in self.verdicts)


class _Stop(Exception):
    """The connection ends here (the client left, or went silent)."""


class _Silent(Exception):
    """The client sent nothing for the idle timeout."""


class ProbeServer:
    """Serves a `Plan` until `stop()`, a duration, or a number of finished connections."""

    def __init__(
        self, plan: Plan, folder: Path, log: Callable[[str, str], None] | None = None
    ) -> None:
        self.plan = plan
        self.log = log  # (host, what happened), as each connection to a host ends
        self.folder = folder  # private (0700): certificate chains and the leaf key file
        self.logs = {t.host: HostLog(t) for t in plan.targets}
        self.other_names: dict[str, int] = {}
        self.finished = 0
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._names: dict[int, str] = {}  # id(SSLObject) -> the name its client asked for
        self._fallback_names: dict[int, str] = {}  # id(SSLObject) -> the CONNECT host
        self._key_files: dict[str, Path] = {}
        self._intermediate: ProbeCA | None = None  # accept mode with a CA-level pin
        self._base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._base.sni_callback = self._choose
        self._stopping: asyncio.Event | None = None
        self._limit: int | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- names and certificates
    def target_for(self, name: str) -> Target | None:
        exact = [t for t in self.plan.targets if t.host == name]
        if exact:
            return exact[0]
        parents = [t for t in self.plan.targets if t.covers(name)]
        return max(parents, key=lambda t: len(t.host)) if parents else None

    def _note_other(self, name: str) -> None:
        if name in self.other_names or len(self.other_names) < MAX_NAMES:
            self.other_names[name] = self.other_names.get(name, 0) + 1

    def _choose(self, sslobj: ssl.SSLObject, server_name: str | None, _: object) -> int | None:
        name = network_name(server_name) if server_name else self._fallback_names.get(id(sslobj))
        if not name:
            self._note_other("(no server name)")
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        self._names[id(sslobj)] = name
        target = self.target_for(name)
        if target is None or (name not in self._contexts and len(self._contexts) >= MAX_NAMES):
            self._note_other(name)
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        sslobj.context = self._context_for(name, target)
        return None

    def _context_for(self, name: str, target: Target) -> ssl.SSLContext:
        if name not in self._contexts:
            self._contexts[name] = self._new_context(name, target)
        return self._contexts[name]

    def _new_context(self, name: str, target: Target) -> ssl.SSLContext:

        certificates, kind, key = self._chain_for(name, target)
        chain = self.folder / f"chain-{len(self._contexts)}.pem"
        chain.write_bytes(
            b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])  # the probe speaks HTTP/1.1 only
        context.load_cert_chain(chain, self._key_file(kind, key))
        return context

    def _chain_for(
        self, name: str, target: Target
    ) -> tuple[list[x509.Certificate], str, PrivateKeyTypes]:
        """The chain served for `name` (leaf first), and the leaf's key with its kind."""

        now = dt.datetime.now(dt.UTC)
        plan = self.plan
        accept_key = plan.accept_key if target.expect == "accept" else None
        signer = issuer_key(accept_key) if accept_key is not None and plan.accept_as_ca else None
        if signer is not None:
            if self._intermediate is None:
                self._intermediate = plan.ca.intermediate(signer, now)
            issuer: ProbeCA = self._intermediate
            return (
                [issuer.issue([name], plan.refuse_key, now), issuer.cert],
                "refuse",
                plan.refuse_key,
            )
        if accept_key is not None:
            return [plan.ca.issue([name], accept_key, now)], "accept", accept_key
        return [plan.ca.issue([name], plan.refuse_key, now)], "refuse", plan.refuse_key

    def _key_file(self, kind: str, key: PrivateKeyTypes) -> Path:
        """The leaf key as a PEM file (ssl loads keys from files only), mode 0600 in the
        private folder; removed with it at the end of the run."""
        if kind not in self._key_files:
            path = self.folder / f"{kind}.key.pem"
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_files([(path, pem, PRIVATE_MODE)])
            self._key_files[kind] = path
        return self._key_files[kind]

    # -- running
    async def serve(
        self,
        sock: socket.socket,
        *,
        duration: float | None,
        connections: int | None,
        ready: Callable[[tuple[str, int]], None],
    ) -> Outcome:
        """Serve on the listening `sock` (see `listening_socket`) until stopped."""
        self._stopping = asyncio.Event()
        self._limit = connections
        server = await asyncio.start_server(self._track, sock=sock)
        bound = sock.getsockname()
        self._watch_signals()
        try:
            ready((bound[0], bound[1]))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), duration)
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()
        return Outcome(list(self.logs.values()), dict(self.other_names))

    def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    def _watch_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # a probe in a test's thread stops by duration or connections
        loop = asyncio.get_running_loop()
        for each in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(each, self.stop)

    async def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._connection(reader, writer)
        except (_Stop, OSError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the client left; what it did is already recorded
        finally:
            self._tasks.discard(task)
            writer.close()

    def _record(self, target: Target, attempt: Attempt) -> None:
        self.logs[target.host].add(attempt)
        if self.log is not None:
            self.log(attempt.name, attempt.detail)
        self.finished += 1
        if self._limit is not None and self.finished >= self._limit:
            self.stop()

    async def _receive(self, reader: asyncio.StreamReader) -> bytes:
        try:
            return await asyncio.wait_for(reader.read(65536), self.plan.idle_timeout)
        except TimeoutError:
            raise _Stop from None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await self._receive(reader)
        if not first:
            return
        if first[0] == TLS_HANDSHAKE:
            await self._tls(reader, writer, first, "tls", None)
        else:
            await self._plain(reader, writer, first)

    # -- plain HTTP: CONNECT, or a cleartext request
    async def _plain(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
    ) -> None:
        head, rest = await self._head(reader, data)
        method, request_target, host_header = _parse_head(head)
        if method == "CONNECT":
            await self._tunnel(reader, writer, authority_host(request_target), rest)
            return
        name = _request_host(request_target, host_header)
        target = self.target_for(name) if name else None
        if target is None:
            self._note_other(name or "(no host)")
        else:
            request = Request(method, _path_of(request_target), cleartext=True)
            self._record(
                target,
                Attempt(name or target.host, "http", "none", f"the client sent {request}", request),
            )
        writer.write(_NEVER_FORWARDS)
        await writer.drain()

    async def _head(self, reader: asyncio.StreamReader, data: bytes) -> tuple[bytes, bytes]:
        while b"\r\n\r\n" not in data:
            if len(data) > MAX_HEAD:
                raise _Stop
            more = await self._receive(reader)
            if not more:
                raise _Stop
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        return head, rest

    async def _tunnel(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str, rest: bytes
    ) -> None:
        target = self.target_for(name) if name else None
        if target is None:
            self._note_other(name or "(no host)")
            writer.write(_NEVER_FORWARDS)
            await writer.drain()
            return
        writer.write(_TUNNEL_OPEN)
        await writer.drain()
        data = rest or await self._receive(reader)
        if not data:
            self._record(
                target,
                Attempt(name, "connect", "none", "the client opened a tunnel and sent nothing"),
            )
        elif data[0] == TLS_HANDSHAKE:
            await self._tls(reader, writer, data, "connect", name)
        else:
            head, _ = await self._head(reader, data)
            method, request_target, _host = _parse_head(head)
            request = Request(method, _path_of(request_target), cleartext=True)
            self._record(
                target,
                Attempt(
                    name, "connect", "none", f"the client sent {request} inside the tunnel", request
                ),
            )
            writer.write(_NEVER_FORWARDS)
            await writer.drain()

    # -- TLS
    async def _tls(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        data: bytes,
        via: Via,
        fallback_name: str | None,
    ) -> None:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self._base.wrap_bio(incoming, outgoing, server_side=True)
        if fallback_name:
            self._fallback_names[id(tls)] = fallback_name
        incoming.write(data)
        session = _Session(tls, incoming, outgoing, reader, writer, self)
        try:
            aborted = await session.handshake()
        finally:
            name = self._names.pop(id(tls), None)
            self._fallback_names.pop(id(tls), None)
        target = self.target_for(name) if name else None
        if name is None or target is None:
            return  # not a host under test: noted by the SNI callback
        if aborted is not None:
            self._record(target, Attempt(name, via, "aborted", aborted))
            return
        try:
            request, detail = await session.request()
        except asyncio.CancelledError:  # the probe stops: what the client did so far counts
            self._record(
                target,
                Attempt(
                    name,
                    via,
                    "completed",
                    "handshake completed; no request yet when the probe stopped",
                ),
            )
            raise
        self._record(target, Attempt(name, via, "completed", detail, request))
        if request is not None:
            await session.answer()


class _Session:
    """One server-side TLS session over a MemoryBIO pair."""

    def __init__(
        self,
        tls: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        server: ProbeServer,
    ) -> None:
        self.tls, self.incoming, self.outgoing = tls, incoming, outgoing
        self.reader, self.writer, self.server = reader, writer, server

    async def _flush(self) -> None:
        pending = self.outgoing.read()
        if pending:
            self.writer.write(pending)
            with contextlib.suppress(OSError):
                await self.writer.drain()

    async def _fill(self) -> bool:
        """More bytes from the client; False when it closed the connection, _Silent when
        it sent nothing for the idle timeout."""
        await self._flush()
        try:
            data = await asyncio.wait_for(self.reader.read(65536), self.server.plan.idle_timeout)
        except TimeoutError:
            raise _Silent from None
        except OSError:
            data = b""
        if data:
            self.incoming.write(data)
        return bool(data)

    async def handshake(self) -> str | None:
        """None when the handshake completed, else where and how it ended."""
        while True:
            try:
                self.tls.do_handshake()
            except ssl.SSLWantReadError:
                try:
                    if not await self._fill():
                        return "the client hung up during the TLS handshake"
                except _Silent:
                    return (
                        f"the client sent nothing for {self.server.plan.idle_timeout:g} s "
                        "during the TLS handshake"
                    )
                continue
            except ssl.SSLError as error:
                await self._flush()
                return f"the TLS handshake failed: {describe_tls_error(error)}"
            await self._flush()
            return None

    async def request(self) -> tuple[Request | None, str]:
        """The request that followed the handshake, or why none came."""
        data = b""
        while b"\r\n" not in data and len(data) <= MAX_HEAD:
            try:
                chunk = self.tls.read(65536)
            except ssl.SSLWantReadError:
                try:
                    if not await self._fill():
                        return None, (
                            "handshake completed; the client closed the "
                            "connection before sending a request"
                        )
                except _Silent:
                    return None, (
                        f"handshake completed; the client sent no request for "
                        f"{self.server.plan.idle_timeout:g} s"
                    )
                continue
            except ssl.SSLZeroReturnError:
                return None, "handshake completed; the client closed TLS before a request"
            except ssl.SSLError as error:
                return None, f"handshake completed, then {describe_tls_error(error)}"
            if not chunk:
                break
            data += chunk
        if not data:
            return None, "handshake completed; the client closed before sending a request"
        line = data.split(b"\r\n", 1)[0]
        method, request_target, _host = _parse_head(line)
        request = Request(method, _path_of(request_target))
        return request, f"handshake completed; the client sent {request}"

    async def answer(self) -> None:
        with contextlib.suppress(ssl.SSLError):
            self.tls.write(_ANSWER)
            self.tls.unwrap()
        await self._flush()


def describe_tls_error(error: ssl.SSLError) -> str:
    """`the client sent the alert "unknown ca"`, or the library's reason."""
    reason = error.reason or str(error)
    for prefix in ("TLSV1_ALERT_", "SSLV3_ALERT_", "TLSV13_ALERT_"):
        if reason.startswith(prefix):
            alert = reason.removeprefix(prefix).lower().replace("_", " ")
            return f'the client sent the alert "{alert}"'
    return reason.lower().replace("_", " ")


# -- small parsers (the client's bytes are untrusted: nothing here raises on them) --------


def _parse_head(head: bytes) -> tuple[str, str, str | None]:
    """(method, request target, Host header) of an HTTP/1.x head; blanks when absent."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    method = parts[0][:16] if parts and parts[0].isalpha() else "(not HTTP)"
    request_target = parts[1] if len(parts) > 1 else ""
    host = None
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "host":
            host = value.strip()
            break
    return method, request_target, host


def _path_of(request_target: str) -> str:
    """The path of an origin-form or absolute-form target; the query is dropped."""
    path = urlsplit(request_target).path if "://" in request_target else request_target
    return path.split("?", 1)[0].split("#", 1)[0][:200] or "/"


def _request_host(request_target: str, host_header: str | None) -> str:
    if "://" in request_target:
        return network_name(urlsplit(request_target).hostname or "")
    return authority_host(host_header) if host_header else ""


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on host:port (port 0: a free one), or ProbeError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(256)
    except OSError as error:
        sock.close()
        raise ProbeError(_bind_message(host, port, error)) from None
    sock.setblocking(False)
    return sock


def _bind_message(host: str, port: int, error: OSError) -> str:

    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return (
            f"--listen {shown}: the port is in use; stop what listens there or choose "
            "another port (--listen 127.0.0.1:PORT)"
        )
    if error.errno == errno.EACCES:
        return (
            f"--listen {shown}: no permission to listen there (ports below 1024 need "
            "privileges); choose a port above 1023"
        )
    return f"--listen {shown}: cannot listen there ({error.strerror or error})"
