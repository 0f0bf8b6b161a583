"""The openssl CLI, an implementation independent of pingen's, for the tests to check
pingen's pins and key files against."""

from __future__ import annotations

import subprocess


def openssl(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """`openssl ARGS` with `data` on stdin; the caller reads the return code."""
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)


def openssl_pin(*command: str) -> str:
    """The pin of the SubjectPublicKeyInfo DER that `openssl COMMAND` prints, by RFC 7469's
    recipe: `| openssl dgst -sha256 -binary | openssl base64 -A`."""
    der = _output(openssl(*command))
    digest = _output(openssl("dgst", "-sha256", "-binary", data=der))
    return _output(openssl("base64", "-A", data=digest)).decode().strip()


def _output(result: subprocess.CompletedProcess[bytes]) -> bytes:
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout
