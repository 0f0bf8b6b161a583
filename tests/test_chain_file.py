"""`--chain FILE` of verify and suggest: one reader, errors at the file (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from pingen.chain import read_chain_file
from pingen.errors import ConfigError


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
def test_bad_chain_files_name_the_file(tmp_path: Path, name: str, data: bytes | None,
                                       message: str) -> None:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    with pytest.raises(ConfigError) as caught:
        read_chain_file(path)
    assert message in caught.value.message
    assert caught.value.location is not None and caught.value.location.file == path
