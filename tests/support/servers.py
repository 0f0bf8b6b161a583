"""Loopback servers for tests: real TLS serving a chosen chain, and faulty servers.

Every server binds 127.0.0.1 (or ::1 with host="::1") on a free port, runs an asyncio
loop in a daemon thread, and stops when its `with` block ends (open connections are
closed, the thread is joined). Each context manager yields `(host, port)`.

    from tests.support.pki import CA
    from tests.support.servers import tls_server, stalling_server

    root = CA.root(); leaf = root.intermediate().issue_leaf("api.example.test")
    with tls_server(leaf.identity()) as (host, port):
        ...  # dial host:port with SNI api.example.test

    # several names on one port, chosen by SNI; `default` answers no/unknown SNI
    with tls_server({"a.test": a.identity(), "b.test": b.identity()}, default="a.test"):
        ...

TLS servers answer an HTTP/1.1 request with `200 ok` (so OkHttp/curl clients get a
response) and otherwise just wait for the client to close. No ALPN is offered.

Faults (each accepts TCP connections on 127.0.0.1):
- `stalling_server()`: accepts, reads, never answers (a client must time out).
- `resetting_server()`: reads the ClientHello, then resets the connection (RST).
- `garbage_server(data=...)`: answers the ClientHello with non-TLS bytes.
- `handshake_failure_server()`: answers with a TLS fatal `handshake_failure` alert.
- `closed_port()`: a port with nothing listening (connection refused).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.support.pki import Identity

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
HostPort = tuple[str, int]

HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
# A TLS 1.2 record: alert (21), version 3.3, length 2, fatal (2), handshake_failure (40).
HANDSHAKE_FAILURE_ALERT = bytes([21, 3, 3, 0, 2, 2, 40])
GARBAGE = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
_IDLE_LIMIT = 30.0  # a forgotten client connection is dropped after this many seconds


class _LoopThread:
    """An asyncio loop in a daemon thread that serves one listening socket."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.writers: set[asyncio.StreamWriter] = set()

    def start(self, handler: Handler, host: str, ssl_context: ssl.SSLContext | None) -> HostPort:
        self.thread.start()

        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.add(writer)
            try:
                await handler(reader, writer)
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError, TimeoutError):
                pass  # clients that leave early are normal here
            except asyncio.CancelledError:
                pass  # the server is stopping; ending quietly is the point
            finally:
                self.writers.discard(writer)
                writer.close()

        async def open_server() -> asyncio.Server:
            return await asyncio.start_server(
                tracked,
                host,
                0,
                ssl=ssl_context,
                backlog=1024,
                ssl_handshake_timeout=_IDLE_LIMIT if ssl_context else None,
            )

        self.server = asyncio.run_coroutine_threadsafe(open_server(), self.loop).result(10)
        port = self.server.sockets[0].getsockname()[1]
        return host, port

    def stop(self) -> None:
        async def shutdown() -> None:
            self.server.close()
            for writer in list(self.writers):
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            if not self.loop.is_running():
                self.loop.close()


@contextmanager
def _serving(
    handler: Handler, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None
) -> Iterator[HostPort]:
    runner = _LoopThread()
    address = runner.start(handler, host, ssl_context)
    try:
        yield address
    finally:
        runner.stop()


def _context_for(identity: Identity, folder: Path, index: int) -> ssl.SSLContext:
    # load_cert_chain only reads files, so the chain and key go to a private folder.
    chain_file = folder / f"chain{index}.pem"
    key_file = folder / f"key{index}.pem"
    chain_file.write_bytes(identity.chain_pem())
    key_file.write_bytes(identity.key_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)
    return context


def server_context(
    identities: Identity | Mapping[str, Identity], default: str | None = None
) -> ssl.SSLContext:
    """An SSL server context choosing the identity by SNI (exposed for other servers)."""
    if isinstance(identities, Identity):
        identities = {"": identities}
    if not identities:
        raise ValueError("a TLS server needs at least one identity")
    with tempfile.TemporaryDirectory(prefix="pingen-tls-") as folder:
        contexts = {
            name.lower(): _context_for(identity, Path(folder), index)
            for index, (name, identity) in enumerate(identities.items())
        }
    fallback = contexts[default.lower()] if default else next(iter(contexts.values()))

    def choose(sslobj: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: object) -> None:
        chosen = contexts.get((name or "").lower(), fallback)
        if chosen is not fallback:
            sslobj.context = chosen

    fallback.sni_callback = choose
    return fallback


async def _answer_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = await asyncio.wait_for(reader.read(4096), _IDLE_LIMIT)
        if not chunk:
            return  # the client only wanted the handshake
        request += chunk
    writer.write(HTTP_OK)
    await writer.drain()


@contextmanager
def tls_server(
    identities: Identity | Mapping[str, Identity],
    *,
    default: str | None = None,
    host: str = "127.0.0.1",
) -> Iterator[HostPort]:
    """Serve `identities` (one, or a mapping SNI name -> identity) over TLS."""
    with _serving(_answer_http, host, server_context(identities, default)) as address:
        yield address


async def _stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while await reader.read(4096):
        pass  # read everything, answer nothing, until the client gives up


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()  # linger 0: the kernel sends RST, not FIN


def _replying(data: bytes) -> Handler:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        writer.write(data)
        await writer.drain()
        await asyncio.sleep(0.2)  # let the client read it before FIN

    return reply


@contextmanager
def stalling_server(host: str = "127.0.0.1") -> Iterator[HostPort]:
    with _serving(_stall, host) as address:
        yield address


@contextmanager
def resetting_server(host: str = "127.0.0.1") -> Iterator[HostPort]:
    with _serving(_reset, host) as address:
        yield address


@contextmanager
def garbage_server(data: bytes = GARBAGE, host: str = "127.0.0.1") -> Iterator[HostPort]:
    with _serving(_replying(data), host) as address:
        yield address


@contextmanager
def handshake_failure_server(host: str = "127.0.0.1") -> Iterator[HostPort]:
    with _serving(_replying(HANDSHAKE_FAILURE_ALERT), host) as address:
        yield address


@contextmanager
def closed_port(host: str = "127.0.0.1") -> Iterator[HostPort]:
    """A port that was free a moment ago and has nothing listening: refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    yield host, port
