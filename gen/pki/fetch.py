"""Take the chain each server serves, without trusting it: asyncio, bounded concurrency.

    results = fetch_chains([Target("api.example.com"), Target("b.test", Address("::1", 8443))],
                           timeout=10, concurrency=32)
    # -> [Fetched(host, address, served=(leaf, ...), error=None), ...] in the same order

One timeout bounds connect plus handshake for each domain, counted from the moment
its turn comes (a queue never eats into it), so a stalled server costs its timeout
once and no other domain waits behind it. SNI is the domain's host; `connect:` only
changes where we dial. Every failure becomes `Fetched.error`, a reason a person can
act on; nothing here raises for a network fault.

Trust is not decided here: the handshake runs with CERT_NONE and we read the chain
the server sent (`SSLObject.get_unverified_chain`, public since Python 3.13 and
present as the private `_sslobj.get_unverified_chain` since 3.10), so an untrusted
chain can still be reported, and pingen.pki.chain builds the verified chain itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pingen.model import Address

if TYPE_CHECKING:
    from cryptography import x509

DEFAULT_PORT = 443
DEFAULT_TIMEOUT = 10.0
DEFAULT_CONCURRENCY = 32


@dataclass(frozen=True)
class Target:
    host: str  # the domain: SNI and the name the chain must cover
    connect: Address | None = None  # where to dial instead of host:443

    @property
    def address(self) -> Address:
        return self.connect or Address(self.host, DEFAULT_PORT)


@dataclass(frozen=True)
class Fetched:
    host: str
    address: str  # what was dialed, "host:port" ("[::1]:443" for IPv6)
    served: tuple[bytes, ...] = ()  # DER certificates as sent, leaf first
    error: str | None = None  # why no chain was taken (unreachable)

    def certificates(self) -> list[x509.Certificate]:
        from cryptography import x509

        return [x509.load_der_x509_certificate(der) for der in self.served]


# Called with each result as it arrives (for a progress line, or to start judging it).
OnFetched = Callable[[Fetched], None]


def fetch_chains(
    targets: Sequence[Target],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: OnFetched | None = None,
) -> list[Fetched]:
    """Fetch every target's served chain; results in the order of `targets`."""
    return asyncio.run(
        fetch_all(targets, timeout=timeout, concurrency=concurrency, progress=progress)
    )


async def fetch_all(
    targets: Sequence[Target],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: OnFetched | None = None,
) -> list[Fetched]:
    gate = asyncio.Semaphore(max(1, concurrency))
    context = unverified_context()

    async def one(target: Target) -> Fetched:
        async with gate:
            result = await fetch_chain(target, context, timeout)
        if progress is not None:
            progress(result)
        return result

    return list(await asyncio.gather(*(one(target) for target in targets)))


def unverified_context() -> ssl.SSLContext:
    """A client context that completes the handshake whatever the chain (trust comes later)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def fetch_chain(target: Target, context: ssl.SSLContext, timeout: float) -> Fetched:
    address = target.address
    dialed = str(address)
    stage = _Stage()
    try:
        async with asyncio.timeout(timeout):
            served = await _handshake(target.host, address, context, stage)
    except TimeoutError:
        return Fetched(target.host, dialed, error=stage.timeout_reason(timeout))
    except Exception as error:  # every fault is a result, never a traceback
        return Fetched(target.host, dialed, error=describe_error(error, address))
    if not served:
        return Fetched(
            target.host, dialed, error="the server completed the handshake but sent no certificate"
        )
    return Fetched(target.host, dialed, served=served)


class _Stage:
    """How far a connection got, so a timeout can say where it stalled."""

    def __init__(self) -> None:
        self.connected = False

    def timeout_reason(self, timeout: float) -> str:
        if self.connected:
            return (
                f"the server accepted the connection but did not complete a TLS "
                f"handshake within {timeout:g} s"
            )
        return f"could not connect within {timeout:g} s"


async def _handshake(
    host: str, address: Address, context: ssl.SSLContext, stage: _Stage
) -> tuple[bytes, ...]:
    loop = asyncio.get_running_loop()
    sock = await _connect(loop, address)
    stage.connected = True
    try:
        # SNI is the domain's host (ssl leaves it out for IP literals by itself).
        tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
        await _drive_handshake(loop, tls)
        return served_chain(tls)
    finally:
        sock.close()  # no close_notify: nothing was sent, nothing is owed


async def _connect(loop: asyncio.AbstractEventLoop, address: Address) -> socket.socket:
    """A connected non-blocking socket: each resolved address in turn, like
    create_connection (IP literals skip the resolver thread)."""
    last_error: OSError | None = None
    for family, sockaddr in await _resolve(loop, address):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, sockaddr)
        except OSError as error:
            sock.close()
            last_error = error
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise last_error or OSError(f"no address for {address.host}")


async def _resolve(
    loop: asyncio.AbstractEventLoop, address: Address
) -> list[tuple[socket.AddressFamily, Any]]:
    try:
        ip = ipaddress.ip_address(address.host)
    except ValueError:  # a name: the resolver, in a thread
        infos = await _getaddrinfo(loop, address.host, address.port)
        return [(family, sockaddr) for family, _, _, _, sockaddr in infos]
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return [(family, (address.host, address.port))]


def _getaddrinfo(
    loop: asyncio.AbstractEventLoop, host: str, port: int
) -> asyncio.Future[list[Any]]:
    """getaddrinfo in a daemon thread of its own. The loop's default executor would
    queue lookups behind a slow resolver, and `asyncio.run` waits for its threads at
    the end: one hung lookup would outlive its timeout and hold the whole run."""
    future: asyncio.Future[list[Any]] = loop.create_future()

    def settle(result: list[Any] | None, error: BaseException | None) -> None:
        if future.done():
            return  # timed out and cancelled meanwhile
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result or [])

    def lookup() -> None:
        try:
            result, error = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), None
        except Exception as failure:
            result, error = None, failure
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
    return future


async def _drive_handshake(loop: asyncio.AbstractEventLoop, tls: ssl.SSLSocket) -> None:
    """Run the handshake on the socket itself, waking only when it can make progress:
    OpenSSL does the I/O, far less Python per handshake than asyncio's SSL transport."""
    while True:
        try:
            tls.do_handshake()
            return
        except ssl.SSLWantReadError:
            await _ready(loop, tls.fileno(), writing=False)
        except ssl.SSLWantWriteError:
            await _ready(loop, tls.fileno(), writing=True)


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, *, writing: bool) -> None:
    waiter: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not waiter.done():
            waiter.set_result(None)

    add, remove = (
        (loop.add_writer, loop.remove_writer) if writing else (loop.add_reader, loop.remove_reader)
    )
    add(fd, wake)
    try:
        await waiter
    finally:
        remove(fd)


def served_chain(ssl_object: Any) -> tuple[bytes, ...]:
    """The DER certificates the peer sent, leaf first, from an SSLObject/SSLSocket."""
    public = getattr(ssl_object, "get_unverified_chain", None)  # Python 3.13+
    private = getattr(getattr(ssl_object, "_sslobj", None), "get_unverified_chain", None)
    chain = (public or private or (lambda: None))()
    if chain:
        return tuple(_der(cert) for cert in chain)
    # Without either API only the leaf is available; chain building then needs the
    # intermediates from the trust store.
    leaf = ssl_object.getpeercert(binary_form=True)
    return (leaf,) if leaf else ()


def _der(cert: Any) -> bytes:
    if isinstance(cert, bytes):
        return cert
    import _ssl

    return bytes(cert.public_bytes(_ssl.ENCODING_DER))


_SSL_REASONS = {
    "WRONG_VERSION_NUMBER": "the server answered with something that is not TLS "
    "(is this port serving plain HTTP or another protocol?)",
    "RECORD_LAYER_FAILURE": "the server answered with something that is not TLS",
    "PACKET_LENGTH_TOO_LONG": "the server answered with something that is not TLS",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the server refused the TLS handshake (alert: "
    "handshake failure): no common protocol version or "
    "cipher, or it does not serve this name",
    "TLSV1_ALERT_PROTOCOL_VERSION": "the server refused the TLS handshake (alert: protocol "
    "version): it does not speak TLS 1.2 or 1.3",
    "TLSV1_UNRECOGNIZED_NAME": "the server does not serve this name (alert: unrecognized name)",
    "UNSUPPORTED_PROTOCOL": "the server offers only a TLS version older than 1.2",
}


def describe_error(error: BaseException, address: Address) -> str:
    """A reason a person can act on, for a connection or handshake failure."""
    if isinstance(error, socket.gaierror):
        return f"cannot resolve {address.host}: {error.strerror or error}"
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused by {address} (nothing listens on port {address.port}?)"
    if isinstance(error, ConnectionResetError):
        return "the server reset the connection during the TLS handshake"
    if isinstance(error, ssl.SSLEOFError | ConnectionAbortedError | asyncio.IncompleteReadError):
        return "the server closed the connection during the TLS handshake"
    if isinstance(error, ssl.SSLError):
        reason = getattr(error, "reason", None) or ""
        return _SSL_REASONS.get(reason, f"the TLS handshake failed: {reason or error}")
    if isinstance(error, OSError):
        return f"cannot connect to {address}: {error.strerror or error}"
    return f"the TLS handshake failed: {type(error).__name__}: {error}"
