"""`--chain FILE` of verify and suggest: one reader, errors at the file (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import trustme

from pingen.errors import ConfigError
from pingen.pki.chain import read_chain_file


def test_reads_pem_leaf_first_and_one_der_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("a.example")
    pem = tmp_path / "chain.pem"
    pem.write_bytes(leaf.cert_chain_pems[0].bytes() + ca.cert_pem.bytes())
    chain = read_chain_file(pem)
    assert [c.subject for c in chain][1] == chain[0].issuer
    der = tmp_path / "leaf.der"
    from cryptography.hazmat.primitives.serialization import Encoding

    der.write_bytes(chain[0].public_bytes(Encoding.DER))
    assert read_chain_file(der) == chain[:1]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("text.pem", b"not a certificate\n", "holds no certificate"),
        ("cut.pem", b"-----BEGIN CERTIFICATE-----\nnope\n", "not a certificate chain"),
        ("empty.pem", b"", "holds no certificate"),
        ("missing.pem", None, "cannot read the chain file"),
    ],
)
def test_bad_chain_files_name_the_file(
    tmp_path: Path, name: str, data: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    with pytest.raises(ConfigError) as caught:
        read_chain_file(path)
    assert message in caught.value.message
    assert caught.value.location is not None and caught.value.location.file == path


# A FIFO blocks whoever opens it, and /dev/zero never ends: every command that reads a
# chain or key file names it and exits 2 instead of hanging.
_PINS = """\
version: 1
domains:
  a.example.com:
    expires: never
    pins:
      - sha256: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
      - sha256: BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize(
    "args",
    [
        ["guard", "--chain", "{file}"],
        ["guard", "--key", "{file}", "--domain", "a.example.com"],
        ["verify", "--chain", "{file}", "--domain", "a.example.com"],
        ["suggest", "a.example.com", "--chain", "{file}"],
    ],
)
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_fifo_or_device_is_refused_not_read(
    tmp_path: Path, args: list[str], special: str
) -> None:
    (tmp_path / "pins.yaml").write_text(_PINS)
    file = special
    if special == "fifo":
        os.mkfifo(tmp_path / "new.pem")
        file = "new.pem"
    result = subprocess.run(
        [sys.executable, "-m", "pingen", *(a.format(file=file) for a in args)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert f"{file}: " in result.stderr and "not a regular file" in result.stderr
