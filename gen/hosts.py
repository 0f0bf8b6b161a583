"""Host names and addresses as pins.yaml, the command line and the network take them.

Every place that reads host or address text parses it here; callers only add the
option or file to their messages:

- `normalize_host`: a pinned host (lower case, IDNA A-labels, no trailing dot);
  `normalize_certificate_name` adds `*.` wildcards (a CSR's names);
- `parse_address`: pins.yaml's `connect:` (`host[:port]`, `[v6]:port`, port 443);
  `parse_dial_address` also takes a bare IPv6 address (the command line);
- `parse_target` (`pin`: `host[:port]` or `host=address[:port]`), `parse_start`
  (`init`: `host`, `host:port` or `host=address`), `host_without_port` (`suggest`);
- `parse_listen` (`probe --listen`), `ip_address`, and `authority_host` (a client's
  CONNECT or Host header: untrusted bytes, never an error).
"""

from __future__ import annotations

import ipaddress
import re
import stringprep
from collections.abc import Callable
from typing import TypeVar

from pingen.model import Address

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_T = TypeVar("_T")

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Plain ASCII LDH names need no IDNA processing (the common case, and 10x faster).
_PLAIN_HOST = re.compile(r"^[a-z0-9.-]+$")


# The longest host name DNS can carry, without the trailing dot.
MAX_HOST_LENGTH = 253


def normalize_host(text: str) -> str:
    """Lower case, IDNA A-labels, no trailing dot; or ValueError saying what is wrong."""

    host = text.strip()
    if not host:
        raise ValueError("an empty host name")
    if len(host.removesuffix(".")) > MAX_HOST_LENGTH:
        # before IDNA: idna < 3.7 took minutes on a crafted long name (CVE-2024-3651),
        # and no DNS name is longer (RFC 1035 section 2.3.4 with RFC 2181 section 11)
        raise ValueError(
            f"`{host[:40]}…` is {len(host)} characters long; a host name has "
            f"at most {MAX_HOST_LENGTH}"
        )
    if "://" in host:
        raise ValueError(
            f"`{text}` has a scheme; write only the host name "
            f"(`{host.split('://', 1)[1].split('/')[0]}`)"
        )
    if "/" in host:
        raise ValueError(f"`{text}` has a path; write only the host name")
    if "*" in host:
        raise ValueError(
            f"`{text}` is a wildcard; pin the parent domain with `include_subdomains: true` instead"
        )
    if _is_ip(host):
        raise ValueError(
            f"`{text}` is an IP address; pinning needs a host name "
            "(use `connect:` to dial an address)"
        )
    if ":" in host:
        raise ValueError(
            f"`{text}` has a port; write only the host name (use `connect:` for another port)"
        )
    if " " in host or "\t" in host:
        raise ValueError(f"`{text}` contains white space")
    host = host.rstrip(".") if host.endswith(".") and not host.endswith("..") else host
    labels = host.split(".")
    if any(label == "" for label in labels):
        raise ValueError(f"`{text}` has an empty label (two dots in a row, or a leading dot)")
    ascii_host = host.lower()
    if not ascii_host.isascii() or "xn--" in ascii_host or not _PLAIN_HOST.match(ascii_host):
        import idna

        try:
            ascii_host = idna.encode(host, uts46=True).decode("ascii").lower()
        except idna.IDNAError as error:
            raise ValueError(f"`{text}` is not a valid host name: {error}") from None
    labels = ascii_host.split(".")
    if len(labels) < 2:
        raise ValueError(
            f"`{text}` is a single label; pin a full host name such as api.example.com"
        )
    bad = [label for label in labels if not _LABEL.match(label)]
    if bad:
        raise ValueError(
            f"`{text}` has an invalid label `{bad[0]}` (letters, digits and "
            "inner hyphens only, at most 63 characters)"
        )
    if len(ascii_host) > MAX_HOST_LENGTH:
        raise ValueError(
            f"`{text}` is longer than {MAX_HOST_LENGTH} characters as an "
            f"A-label ({len(ascii_host)}: `{ascii_host[:40]}…`)"
        )
    return ascii_host


def idna2003_warning(host: str) -> str | None:
    """Where IDNA2003 maps an IDN host elsewhere than UTS-46 (pingen's form), say so.

    OkHttp 4.12 turns a URL's host into its ASCII form with java.net.IDN.toASCII, which is
    IDNA2003 (square/okhttp@parent-4.12.0:okhttp/src/main/kotlin/okhttp3/internal/
    hostnames.kt, toCanonicalHost: `IDN.toASCII(host).lowercase(Locale.US)`): `straße.de`
    becomes `strasse.de`, not `xn--strae-oqa.de`, so pins of the one never apply to the
    other. Python's `idna` codec is the same IDNA2003 (RFC 3490, nameprep).
    """
    if "xn--" not in host:
        return None

    import idna

    try:
        unicode = idna.decode(host)
    except (idna.IDNAError, UnicodeError):
        return None
    try:
        # IDN.toASCII without ALLOW_UNASSIGNED refuses code points Unicode 3.2 lacks
        # (RFC 3454 table A.1); Python's codec lets them through, so check first.
        if any(stringprep.in_table_a1(c) for c in unicode):
            raise UnicodeError("unassigned in Unicode 3.2")
        legacy = unicode.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return (
            f"{unicode} ({host}): OkHttp 4.12 (IDNA2003, Unicode 3.2) cannot parse a URL "
            f"with this host in Unicode; write it as {host} in the app's URLs"
        )
    if legacy == host:
        return None
    return (
        f"{unicode} is pinned as {host} (UTS-46), but OkHttp 4.12 (the okhttp output, "
        f"and Android's react-native pinning) maps the URL host {unicode} to {legacy} "
        f"(IDNA2003), which these pins do not cover: pin {legacy} too, or write the host "
        f"as {host} in the app's URLs"
    )


def host_key(text: str) -> str:
    """A host the command line names (`--domain`) as pins.yaml's keys are normalised, to
    look it up; a name that is no host name stays as given (then reported as unknown)."""
    try:
        return normalize_host(text)
    except ValueError:
        return text.strip()


def normalize_certificate_name(text: str) -> str:
    """A host name for a certificate (a CSR's names, guard --domain): normalised like
    pins.yaml hosts; `*.` wildcards allowed (a CA may issue them, and the certificate
    then covers one label)."""
    if text.startswith("*."):
        return "*." + normalize_host(text[2:])
    return normalize_host(text)


def ip_address(text: str) -> IPAddress | None:
    """`text` as an IP address (IPv6 without brackets), or None: it is a name."""
    if ":" not in text and not text[-1:].isdigit():
        return None  # no IPv6 (a colon) nor IPv4 (ends in a digit): spared a failed parse
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_ip(text: str) -> bool:
    return ip_address(text.strip("[]")) is not None


# Characters no host name holds (IDN names are written in Unicode, so no ASCII-only rule).
_NOT_IN_HOSTS = re.compile(r"[\s/\\=@?#,;*\[\]\"'<>|]")


def parse_address(text: str) -> Address:
    """`host`, `host:port`, `1.2.3.4:443`, `[::1]:443` (port defaults to 443)."""
    text = text.strip()
    if "://" in text:
        raise ValueError("write host:port, not a URL")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep:
            raise ValueError("an IPv6 address needs its closing `]`")
        port_text = rest[1:] if rest.startswith(":") else rest
        if rest and not rest.startswith(":"):
            raise ValueError("write [IPv6]:port")
        _check_ip(host, 6)
    elif text.count(":") > 1:
        raise ValueError("write an IPv6 address in brackets: [::1]:443")
    else:
        host, _, port_text = text.partition(":")
        if _NOT_IN_HOSTS.search(host):  # it would only fail later, as a DNS lookup
            raise ValueError(f"`{host}` is not a host name or IP address")
    if not host:
        raise ValueError("no host")
    port = _port(port_text) if port_text else 443
    return Address(host=host, port=port)


def _check_ip(text: str, version: int) -> None:
    ip = ip_address(text)
    if ip is None or ip.version != version:
        raise ValueError(f"{text!r} is not an IPv{version} address")


def parse_dial_address(text: str) -> Address:
    """An address the command line dials (`pin`, `suggest --connect`): parse_address's
    forms and a bare IPv6 address (which then cannot carry a port); the host in lower
    case, without a trailing dot."""
    stripped = text.strip()
    if stripped.count(":") > 1 and not stripped.startswith("["):
        stripped = f"[{stripped}]"  # a bare IPv6 address
    address = parse_address(stripped)
    return Address(address.host.lower().rstrip("."), address.port)


def parse_target(text: str) -> tuple[str, Address]:
    """`pingen pin`'s `host[:port]` (the TLS server name is the host, which may be an
    IP address) or `host=address[:port]` (server name host, dialled at address): the
    server name and where to dial. ValueError whose message starts with the part of
    `text` that is wrong."""
    name, sep, where = text.partition("=")
    if not sep:
        address = _prefixed(parse_dial_address, text)
        return address.host, address
    return _prefixed(normalize_host, name, shown=text), _prefixed(parse_dial_address, where)


def _prefixed(parse: Callable[[str], _T], text: str, *, shown: str | None = None) -> _T:
    try:
        return parse(text)
    except ValueError as error:
        raise ValueError(f"{text if shown is None else shown}: {error}") from None


# `name:port` on the command line: the port is for dialling only.
_NAME_PORT = re.compile(r"[^\[\]:/]+:[0-9]+")


def parse_start(text: str) -> tuple[str, Address | None]:
    """`pingen init`'s `host`, `host:port` (dialled there) or `host=address[:port]`
    (SNI host, dialled at address, as pins.yaml's `connect:` takes it): the normalised
    host, and where to dial it when that is not host:443; ValueError saying what is
    wrong."""
    name, sep, where = text.partition("=")
    connect = where if sep else None
    if not sep and _NAME_PORT.fullmatch(name):
        connect = name
        name = name.split(":")[0]
    return normalize_host(name), parse_address(connect) if connect else None


def host_without_port(text: str) -> str:
    """`host` or `host:port` (the port is for dialling only) as pins.yaml holds the
    host; ValueError saying what is wrong."""
    text = text.strip()
    if _NAME_PORT.fullmatch(text):
        text = text.rsplit(":", 1)[0]
    return normalize_host(text)


def parse_listen(text: str) -> tuple[str, int]:
    """`ADDR:PORT`, `[v6]:PORT` or a bare `PORT` (on 127.0.0.1) to listen on; ADDR is
    an IP address or `localhost` (listening never asks DNS); port 0 is any free port.
    ValueError saying what is wrong."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", text.strip()
    host = host.removeprefix("[").removesuffix("]")
    if host == "localhost":
        host = "127.0.0.1"
    if ip_address(host) is None:
        raise ValueError(
            f"`{host}` is not an IP address; write ADDR:PORT, e.g. 127.0.0.1:8443 or 0.0.0.0:8443"
        )
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError("the port must be a number from 0 to 65535")
    return host, int(port_text)


def authority_host(authority: str) -> str:
    """The host of a CONNECT `host:port` or `[v6]:port`, or of a Host header, as a
    client sent it (untrusted bytes: never an error; lower case, no trailing dot, at
    most MAX_HOST_LENGTH characters)."""
    if authority.startswith("["):
        return network_name(authority[1:].split("]", 1)[0])
    return network_name(authority.rsplit(":", 1)[0] if ":" in authority else authority)


def network_name(text: str) -> str:
    """A host name a client sent (SNI, a URL): compared, never trusted, never an error."""
    return text.strip().rstrip(".").lower()[:MAX_HOST_LENGTH]


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"port {text!r} is not a number from 1 to 65535")
    return int(text)
