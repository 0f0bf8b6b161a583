"""Take the chain each server serves, without trusting it: one selector loop, bounded
concurrency.

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

import _ssl
import collections
import contextlib
import ipaddress
import queue
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from pingen.model import Address

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
    return _Dialler(targets, timeout, max(1, concurrency), progress).run()


def unverified_context() -> ssl.SSLContext:
    """A client context that completes the handshake whatever the chain (trust comes later)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# One thread, one selector, a state machine per connection. OpenSSL does the TLS on the
# non-blocking socket itself (SSLSocket.do_handshake); the loop only waits until the
# socket can make progress. asyncio's machinery (tasks, futures, handles, the timeout
# context) took about a third of the client's CPU per handshake on loopback, where the
# client's CPU is the limit (benchmarks/bench_verify.py), and importing it ~15 ms.


class _Connection:
    """One target's turn: resolve, connect (each address in turn), handshake."""

    def __init__(self, index: int, target: Target, deadline: float) -> None:
        self.index = index
        self.target = target
        self.address = target.address
        self.deadline = deadline  # connect plus handshake, counted from its turn
        self.addresses: list[tuple[socket.AddressFamily, Any]] = []
        self.sockaddr: Any = None  # the address being dialled
        self.sock: socket.socket | None = None  # until the TLS socket takes it over
        self.tls: ssl.SSLSocket | None = None
        self.connected = False
        self.last_error: OSError | None = None
        self.fd: int | None = None  # registered with the selector, for `events`
        self.events = 0
        self.done = False

    def timeout_reason(self, timeout: float) -> str:
        if self.connected:
            return (
                f"the server accepted the connection but did not complete a TLS "
                f"handshake within {timeout:g} s"
            )
        return f"could not connect within {timeout:g} s"


class _Dialler:
    def __init__(
        self,
        targets: Sequence[Target],
        timeout: float,
        concurrency: int,
        progress: OnFetched | None,
    ) -> None:
        self.targets = targets
        self.timeout = timeout
        self.concurrency = concurrency
        self.progress = progress
        self.context = unverified_context()
        self.results: list[Fetched | None] = [None] * len(targets)
        self.started = 0  # targets whose turn came
        self.active: collections.deque[_Connection] = collections.deque()  # in turn order
        self.open = 0
        self.selector = selectors.DefaultSelector()
        # name lookups answered by their threads, and the socket pair that wakes the loop
        self.answers: queue.SimpleQueue[tuple[_Connection, Any, BaseException | None]]
        self.answers = queue.SimpleQueue()
        self.wake: tuple[socket.socket, socket.socket] | None = None

    def run(self) -> list[Fetched]:
        try:
            self.start_turns()
            while self.open:
                self.step()
        finally:
            for connection in self.active:
                if not connection.done:
                    self.close(connection)
            for end in self.wake or ():
                end.close()
            self.selector.close()
        return [result for result in self.results if result is not None]

    def start_turns(self) -> None:
        while self.open < self.concurrency and self.started < len(self.targets):
            index = self.started
            self.started += 1
            deadline = time.monotonic() + self.timeout
            connection = _Connection(index, self.targets[index], deadline)
            self.active.append(connection)
            self.open += 1
            self.guarded(connection, self.resolve)

    def step(self) -> None:
        while self.active[0].done:
            self.active.popleft()
        wait = max(0.0, self.active[0].deadline - time.monotonic())
        for key, _ in self.selector.select(wait):
            if key.data is None:
                self.take_answers()
            elif not key.data.done:
                self.guarded(key.data, self.advance)
        now = time.monotonic()
        for connection in self.active:
            if connection.deadline > now:
                break  # turns start in order, so later ones end later
            if not connection.done:
                self.finish(connection, error=connection.timeout_reason(self.timeout))
        self.start_turns()

    def guarded(self, connection: _Connection, action: Callable[[_Connection], None]) -> None:
        """Run one step of a connection; every fault is a result, never a traceback."""
        try:
            action(connection)
        except Exception as error:
            self.finish(connection, error=describe_error(error, connection.address))

    def finish(
        self, connection: _Connection, served: tuple[bytes, ...] = (), error: str | None = None
    ) -> None:
        connection.done = True
        self.close(connection)
        self.open -= 1
        if error is None and not served:
            error = "the server completed the handshake but sent no certificate"
        result = Fetched(connection.target.host, str(connection.address), served, error)
        self.results[connection.index] = result
        if self.progress is not None:
            self.progress(result)

    def close(self, connection: _Connection) -> None:
        """Forget and close its socket (no close_notify: nothing was sent, nothing is owed)."""
        if connection.fd is not None:
            self.selector.unregister(connection.fd)
            connection.fd = None
        for sock in (connection.tls, connection.sock):
            if sock is not None:
                sock.close()
        connection.tls = connection.sock = None

    def wait_for(self, connection: _Connection, fd: int, events: int) -> None:
        if connection.fd is None:
            self.selector.register(fd, events, connection)
        elif connection.events != events:
            self.selector.modify(fd, events, connection)
        connection.fd, connection.events = fd, events

    # -- the stages of a connection ------------------------------------------------
    def resolve(self, connection: _Connection) -> None:
        address = connection.address
        try:
            ip = ipaddress.ip_address(address.host)
        except ValueError:  # a name: the resolver, in a thread
            self.look_up(connection)
            return
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        connection.addresses = [(family, (address.host, address.port))]
        self.connect_next(connection)

    def look_up(self, connection: _Connection) -> None:
        """getaddrinfo in a daemon thread of its own: a hung resolver costs its domain's
        timeout and never holds the run (nothing waits for the thread at the end)."""

        if self.wake is None:
            self.wake = socket.socketpair()
            for end in self.wake:
                end.setblocking(False)
            self.selector.register(self.wake[0], selectors.EVENT_READ, None)
        wake, answers = self.wake[1], self.answers
        host, port = connection.address.host, connection.address.port

        def lookup() -> None:
            try:
                infos, error = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), None
            except Exception as failure:
                infos, error = None, failure
            answers.put((connection, infos, error))
            with contextlib.suppress(OSError):  # the run is over, or the wake-up is pending
                wake.send(b"\0")

        threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()

    def take_answers(self) -> None:
        assert self.wake is not None
        with contextlib.suppress(BlockingIOError):
            while self.wake[0].recv(4096):
                pass
        while not self.answers.empty():
            connection, infos, error = self.answers.get()
            if connection.done:
                continue  # timed out meanwhile
            if error is not None:
                self.finish(connection, error=describe_error(error, connection.address))
                continue
            connection.addresses = [(info[0], info[4]) for info in infos]
            self.guarded(connection, self.connect_next)

    def connect_next(self, connection: _Connection) -> None:
        """Dial the next resolved address (one after another, like create_connection)."""
        if not connection.addresses:
            raise connection.last_error or OSError(f"no address for {connection.address.host}")
        family, connection.sockaddr = connection.addresses.pop(0)
        sock = connection.sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect(connection.sockaddr)
        except (BlockingIOError, InterruptedError):
            self.wait_for(connection, sock.fileno(), selectors.EVENT_WRITE)
            return
        except OSError as error:
            self.next_address(connection, error)
            return
        self.start_tls(connection)

    def next_address(self, connection: _Connection, error: OSError) -> None:
        self.close(connection)
        connection.last_error = error
        self.connect_next(connection)

    def advance(self, connection: _Connection) -> None:
        """Its socket is ready: the connect ended, or the handshake can go on."""
        if connection.tls is not None:
            self.handshake(connection)
            return
        assert connection.sock is not None
        failed = connection.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if failed:  # worded as asyncio's sock_connect words it
            self.next_address(
                connection, OSError(failed, f"Connect call failed {connection.sockaddr}")
            )
            return
        self.start_tls(connection)

    def start_tls(self, connection: _Connection) -> None:
        assert connection.sock is not None
        connection.connected = True
        # SNI is the domain's host (ssl leaves it out for IP literals by itself). The TLS
        # socket takes over the file descriptor, so its registration stays.
        connection.tls = self.context.wrap_socket(
            connection.sock, server_hostname=connection.target.host, do_handshake_on_connect=False
        )
        connection.sock = None
        self.handshake(connection)

    def handshake(self, connection: _Connection) -> None:
        tls = connection.tls
        assert tls is not None
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            self.wait_for(connection, tls.fileno(), selectors.EVENT_READ)
            return
        except ssl.SSLWantWriteError:
            self.wait_for(connection, tls.fileno(), selectors.EVENT_WRITE)
            return
        self.finish(connection, served=served_chain(tls))


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
    if isinstance(error, ssl.SSLEOFError | ConnectionAbortedError):
        return "the server closed the connection during the TLS handshake"
    if isinstance(error, ssl.SSLError):
        reason = getattr(error, "reason", None) or ""
        return _SSL_REASONS.get(reason, f"the TLS handshake failed: {reason or error}")
    if isinstance(error, OSError):
        return f"cannot connect to {address}: {error.strerror or error}"
    return f"the TLS handshake failed: {type(error).__name__}: {error}"
