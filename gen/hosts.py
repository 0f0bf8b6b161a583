"""Host names and addresses as pins.yaml, the command line and the network take them.

One parser for each: `normalize_host` (a pinned host: lower case, IDNA A-labels, no
trailing dot) and `parse_address` (`host[:port]`, `[v6]:port`, port 443 by default).
"""

from __future__ import annotations

import ipaddress
import re

from pingen.model import Address

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
    import stringprep

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


def _is_ip(text: str) -> bool:
    candidate = text.strip("[]")
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


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
    try:
        if ipaddress.ip_address(text).version == version:
            return
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not an IPv{version} address")


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"port {text!r} is not a number from 1 to 65535")
    return int(text)
