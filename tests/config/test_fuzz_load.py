"""Hostile pins.yaml and key files: the loader only ever returns a Config or raises a
ConfigError whose every error points at a line; the key reader only ever raises a
SourceError.

Documents start from a valid pins.yaml that uses every section and pin source, get
random structural mutations (wrong types, unknown keys, odd scalars, unicode, deep
nesting, huge numbers, dates, nulls) and random text mutations (tabs, BOM, CRLF,
duplicate lines, anchors and aliases, truncation, stray characters). Hypothesis runs
derandomized with no example database, so CI sees the same examples on every run.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingen.config.load import load_config
from pingen.errors import ConfigError, ConfigErrors
from pingen.model import Config
from pingen.pki.sources import KeyInfo, SourceError, read_key_bytes, read_key_file
from tests.support.pki import CA, key_pem, new_key, public_key_pem

TODAY = dt.date(2026, 11, 27)
PIN_A = "diGVwiVYbubAI3RW4hB9xU8e/CH2GnkuvVFZE8zmgzI="
PIN_B = "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def valid_document() -> dict[str, Any]:
    """A pins.yaml using every section, every pin source and every output type."""
    return {
        "version": 1,
        "defaults": {
            "include_subdomains": False,
            "enforce": True,
            "expires": dt.date(2027, 6, 30),
            "report_uris": ["https://report.example.com/pins"],
        },
        "trust": {"ca_file": "roots.pem"},
        "domains": {
            "api.example.com": {
                "include_subdomains": True,
                "connect": "127.0.0.1:8443",
                "provider": "letsencrypt-certbot",
                "pins": [
                    {"sha256": PIN_A, "label": "live", "level": "intermediate"},
                    {"file": "keys/backup.pub.pem", "label": "backup", "backup": True},
                    {"root": "ISRG Root X1"},
                ],
            },
            "bücher.example": {
                "expires": "never",
                "enforce": False,
                "pins": [{"sha256": PIN_A}, {"sha256": PIN_B, "backup": True}],
            },
        },
        "outputs": [
            {"type": "android-nsc", "path": "android/nsc.xml", "trustkit": True},
            {"type": "okhttp", "path": "android/Pins.kt", "package": "com.example.net"},
            {"type": "trustkit", "path": "ios/TrustKitConfig.swift"},
            {"type": "ios-plist", "path": "ios/Info.plist"},
            {"type": "json", "path": "config/pins.json"},
            {"template": "custom.txt.j2", "path": "build/custom.txt"},
        ],
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the files the valid document names."""
    folder = tmp_path_factory.mktemp("fuzz-project")
    (folder / "keys").mkdir()
    (folder / "keys" / "backup.pub.pem").write_bytes(public_key_pem(new_key()))
    (folder / "roots.pem").write_bytes(CA.root("Fuzz Root").pem)
    (folder / "custom.txt.j2").write_text("{{ notice }}\n")
    (folder / "a-folder").mkdir()
    os.mkfifo(folder / "a-fifo")  # reading it would block forever
    return folder


# -- the property ------------------------------------------------------------------------------
def assert_loads_or_explains(path: Path) -> Config | None:
    """load_config returns a Config or raises ConfigError(s) that each name `path` and a
    line; any other exception fails the test (it would be a traceback for the user)."""
    try:
        config = load_config(path, today=TODAY)
    except ConfigErrors as errors:
        problems = errors.errors
    except ConfigError as error:
        problems = [error]
    else:
        assert isinstance(config, Config)
        return config
    assert problems
    for problem in problems:
        assert problem.message.strip(), problem
        assert problem.location is not None, problem.message
        assert problem.location.file == path, problem
        assert problem.location.line is not None and problem.location.line >= 1, problem
    return None


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


def test_the_unmutated_document_loads(project: Path) -> None:
    path = write(project / "pins.yaml", yaml.safe_dump(valid_document(), allow_unicode=True))
    config = assert_loads_or_explains(path)
    assert config is not None
    assert [d.host for d in config.domains] == ["api.example.com", "xn--bcher-kva.example"]
    assert len(config.outputs) == 6


# -- strategies: odd values --------------------------------------------------------------------
HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "~",
        "null",
        "NULL",
        "yes",
        "no",
        "on",
        "off",
        "True",
        "0x1F",
        "0o17",
        "1e400",
        ".inf",
        "-.nan",
        "2027-02-30",
        "2027-13-01",
        "0000-01-01",
        "9999-12-31",
        "2027-06-30T00:00:00Z",
        "never ",
        "Never",
        "sha256/",
        "=" * 44,
        "A" * 43 + "=",
        "../../etc/passwd",
        "/etc/passwd",
        "/dev/zero",
        "/dev/stdin",
        "a-folder",
        "a-fifo",
        "x" * 300,
        "a/" * 200 + "b",
        "C:\\x",
        "a\\b",
        "a\0b",
        "\u2028",
        "\u202e",
        "\ufeff",
        "☃.example",
        "xn--",
        "xn--zz.example",
        "-bad.example",
        "a..b",
        ".",
        "..",
        "http://x.example",
        "*.example.com",
        "[::1]:443",
        "[::1",
        "host:99999",
        "host:0",
        "1.2.3.4",
        "::1",
        "ISRG Root",
        "isrg root x1",
        "{{ x }}",
        "{% raw %}",
        "$(rm -rf /)",
        "%s%n",
        "\x1b[31m",
        "\ud800",
        "\U0001d518\U0001d52b",
        "😀" * 10,
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**400),
    st.floats(),
    st.dates(),
    st.datetimes(),
    st.text(max_size=20),
    HOSTILE_TEXT,
    st.binary(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.one_of(HOSTILE_TEXT, st.text(max_size=8), st.integers()), inner, max_size=3
        )
    ),
    max_leaves=8,
)
KNOWN_KEYS = sorted(
    {
        "version",
        "defaults",
        "trust",
        "domains",
        "outputs",
        "include_subdomains",
        "enforce",
        "expires",
        "report_uris",
        "ca_file",
        "catalog",
        "connect",
        "provider",
        "pins",
        "sha256",
        "file",
        "root",
        "intermediate",
        "label",
        "level",
        "backup",
        "type",
        "template",
        "path",
        "package",
        "name",
        "cleartext_permitted",
        "debug_overrides",
        "trustkit",
        "swizzle_network_delegates",
        "default_report_uri",
    }
)


def containers(tree: Any) -> list[Any]:
    """Every dict and list in `tree` (the places a mutation can happen)."""
    found: list[Any] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict | list):
            found.append(node)
            stack.extend(node.values() if isinstance(node, dict) else node)
    return found


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    tree = copy.deepcopy(valid_document())
    for _ in range(draw(st.integers(1, 4))):
        place = draw(st.sampled_from(containers(tree)))
        action = draw(st.sampled_from(["replace", "delete", "add", "nest"]))
        if isinstance(place, dict):
            keys = list(place)
            if action == "add" or not keys:
                key = draw(st.one_of(st.sampled_from(KNOWN_KEYS), HOSTILE_TEXT, st.integers()))
                place[key] = draw(VALUES)
            elif action == "delete":
                del place[draw(st.sampled_from(keys))]
            elif action == "nest":
                key = draw(st.sampled_from(keys))
                place[key] = [place[key]] if draw(st.booleans()) else {"x": place[key]}
            else:
                place[draw(st.sampled_from(keys))] = draw(VALUES)
        else:
            if action == "add" or not place:
                place.append(draw(VALUES))
            elif action == "delete":
                del place[draw(st.integers(0, len(place) - 1))]
            else:
                place[draw(st.integers(0, len(place) - 1))] = draw(VALUES)
    return tree


def dump(tree: Any, draw: Callable[[st.SearchStrategy[Any]], Any]) -> str:
    return yaml.safe_dump(
        tree,
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, True, None])),
        sort_keys=draw(st.booleans()),
    )


# -- strategies: text mutations ----------------------------------------------------------------
def _lines_op(change: Callable[[list[str], int], object]) -> Callable[[str, int], str]:
    def apply(text: str, at: int) -> str:
        lines = text.splitlines(keepends=True) or [""]
        change(lines, at % len(lines))
        return "".join(lines)

    return apply


TEXT_MUTATIONS: dict[str, Callable[[str, int], str]] = {
    "bom": lambda text, at: "\ufeff" + text,
    "crlf": lambda text, at: text.replace("\n", "\r\n"),
    "cr only": lambda text, at: text.replace("\n", "\r"),
    "tab indent": lambda text, at: text.replace("  ", "\t", 1 + at % 5),
    "duplicate line": _lines_op(lambda lines, i: lines.insert(i, lines[i])),
    "drop line": _lines_op(lambda lines, i: lines.pop(i)),
    "indent line": _lines_op(lambda lines, i: lines.__setitem__(i, "   " + lines[i])),
    "anchor and alias": lambda text, at: (
        text.replace(": ", ": &x ", 1).replace(": ", ": *x ", 1 + at % 3) if ": " in text else text
    ),
    "recursive alias": lambda text, at: text + "domains: &loop\n  a.example.com: *loop\n",
    "alias to nothing": lambda text, at: text.replace(": ", ": *nowhere\n#", 1),
    "merge key": lambda text, at: text + "defaults:\n  <<: {expires: never}\n",
    "truncate": lambda text, at: text[: at % (len(text) + 1)],
    "stray character": lambda text, at: (
        text[: at % (len(text) + 1)]
        + "\0\x07\x1b{[&*!|>%@`"[at % 10]
        + text[at % (len(text) + 1) :]
    ),
    "odd tag": lambda text, at: text.replace(": ", ": !!python/object:os.system ", 1),
    "binary tag": lambda text, at: text.replace(": ", ": !!binary AAAA ", 1),
    "document marker": lambda text, at: "%YAML 1.1\n---\n" + text + "...\n---\nversion: 2\n",
    "deep nesting": lambda text, at: text + "x: " + "[" * (200 + at * 40) + "]" * (200 + at * 40),
    "alias bomb": lambda text, at: (
        text
        + "".join(
            f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9 if i else ["1"] * 9) + "]\n"
            for i in range(9)
        )
    ),
    "huge number": lambda text, at: text.replace("version: 1", "version: " + "9" * 5000),
    "line separator": lambda text, at: text.replace("\n", "\u2028", 1 + at % 3),
    "lone surrogate": lambda text, at: text + "label: \ud800\n",
}


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    text = dump(draw(st.one_of(mutated_documents(), st.just(valid_document()))), draw)
    for name in draw(st.lists(st.sampled_from(sorted(TEXT_MUTATIONS)), min_size=1, max_size=3)):
        text = TEXT_MUTATIONS[name](text, draw(st.integers(0, 50)))
    return text


# -- the loader fuzz tests ---------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_structural_mutations_load_or_explain(project: Path, data: st.DataObject) -> None:
    text = dump(data.draw(mutated_documents()), data.draw)
    assert_loads_or_explains(write(project / "pins.yaml", text))


@FUZZ
@given(text=mutated_texts())
def test_text_mutations_load_or_explain(project: Path, text: str) -> None:
    assert_loads_or_explains(write(project / "pins.yaml", text))


@FUZZ
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_random_bytes_load_or_explain(project: Path, data: bytes) -> None:
    assert_loads_or_explains(write(project / "pins.yaml", data))


@settings(FUZZ, max_examples=120)
@given(
    value=HOSTILE_TEXT | st.text(max_size=30),
    where=st.sampled_from(["file", "ca_file", "catalog", "path", "template", "host"]),
)
def test_hostile_names_and_paths_load_or_explain(project: Path, value: str, where: str) -> None:
    tree = valid_document()
    if where == "file":
        tree["domains"]["api.example.com"]["pins"][1]["file"] = value
    elif where in ("ca_file", "catalog"):
        tree["trust"][where] = value
    elif where == "path":
        tree["outputs"][0]["path"] = value
    elif where == "template":
        tree["outputs"][5]["template"] = value
    else:
        tree["domains"][value] = tree["domains"].pop("bücher.example")
    assert_loads_or_explains(write(project / "pins.yaml", yaml.safe_dump(tree)))


@pytest.mark.parametrize("name", sorted(TEXT_MUTATIONS))
def test_each_text_mutation_alone(project: Path, name: str) -> None:
    """Every mutation at least once, whatever hypothesis draws."""
    text = TEXT_MUTATIONS[name](yaml.safe_dump(valid_document(), allow_unicode=True), 7)
    assert_loads_or_explains(write(project / "pins.yaml", text))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/dev/zero", "a system file"),
        ("/dev/stdin", "a system file"),
        ("a-fifo", "not a regular file"),
        ("a-folder", "is a folder"),
        ("a\0b", "nul character"),
        ("x" * 300, "too long"),
    ],
)
def test_a_file_pin_that_is_no_regular_file_is_refused(
    project: Path, value: str, expected: str
) -> None:
    """Reading /dev/zero or a FIFO would never end: such a `file:` is an error at its line."""
    tree = valid_document()
    tree["domains"]["api.example.com"]["pins"][1]["file"] = value
    path = write(project / "pins.yaml", yaml.safe_dump(tree))
    assert assert_loads_or_explains(path) is None
    with pytest.raises(ConfigError) as caught:
        load_config(path, today=TODAY)
    assert expected in str(caught.value).lower()


@pytest.mark.parametrize("key", ["ca_file", "catalog"])
@pytest.mark.parametrize("value", ["x" * 300, "a\0b", "a-fifo", "a-folder"])
def test_a_trust_file_with_an_impossible_name_is_refused(
    project: Path, key: str, value: str
) -> None:
    tree = valid_document()
    tree["trust"][key] = value
    path = write(project / "pins.yaml", yaml.safe_dump(tree))
    assert assert_loads_or_explains(path) is None


def test_invalid_utf8_names_its_line(project: Path) -> None:
    text = yaml.safe_dump(valid_document()).encode()
    bad = text.replace(b"label: live", b"label: l\xffve")
    with pytest.raises(ConfigError) as caught:
        load_config(write(project / "pins.yaml", bad), today=TODAY)
    line = (
        text.decode()
        .splitlines()
        .index(next(x for x in text.decode().splitlines() if "label: live" in x))
        + 1
    )
    assert caught.value.location is not None and caught.value.location.line == line
    assert "UTF-8" in caught.value.message


# -- key files -----------------------------------------------------------------------------------
def sample_key_files() -> dict[str, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    root = CA.root("Fuzz Keys Root")
    leaf = root.intermediate("Fuzz Keys CA").issue_leaf("keys.example.test")
    ec_key, rsa_key = new_key(), new_key("rsa-2048")
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr.example")]))
        .sign(ec_key, hashes.SHA256())
    )
    ed = ed25519.Ed25519PrivateKey.generate()
    der = serialization.Encoding.DER
    return {
        "cert pem": leaf.identity().chain_pem(),
        "cert der": leaf.cert.public_bytes(der),
        "ec private pem": key_pem(ec_key),
        "rsa public pem": public_key_pem(rsa_key),
        "rsa public der": rsa_key.public_key().public_bytes(
            der, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "pkcs1 rsa public": rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        ),
        "ed25519 private der": ed.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "csr pem": csr.public_bytes(serialization.Encoding.PEM),
        "csr der": csr.public_bytes(der),
        "encrypted": ec_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        ),
        "ec parameters": b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
        b"-----END EC PARAMETERS-----\n",
    }


KEY_FILES = sample_key_files()


def assert_reads_or_explains(data: bytes) -> list[KeyInfo]:
    try:
        keys = read_key_bytes(data)
    except SourceError as error:
        assert str(error).strip()
        return []
    assert all(isinstance(k, KeyInfo) for k in keys)
    return keys


@st.composite
def corrupted_key_files(draw: st.DrawFn) -> bytes:
    data = bytearray(KEY_FILES[draw(st.sampled_from(sorted(KEY_FILES)))])
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "label", "crlf", "double"]))
        if action == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "label":
            label = draw(
                st.sampled_from(
                    [
                        b"CERTIFICATE",
                        b"PUBLIC KEY",
                        b"RSA PUBLIC KEY",
                        b"PRIVATE KEY",
                        b"RSA PRIVATE KEY",
                        b"EC PRIVATE KEY",
                        b"CERTIFICATE REQUEST",
                        b"ENCRYPTED PRIVATE KEY",
                        b"TRUSTED CERTIFICATE",
                        b"X509 CRL",
                        b"DSA PRIVATE KEY",
                    ]
                )
            )
            data = bytearray(
                bytes(data)
                .replace(b"BEGIN ", b"BEGIN " + label + b" ", 1)
                .replace(b"END ", b"END " + label + b" ", 1)
            )
        elif action == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        else:
            data = bytearray(bytes(data) * 2)
    return bytes(data)


@settings(FUZZ, max_examples=300)
@given(data=corrupted_key_files())
def test_corrupted_key_files_read_or_explain(data: bytes) -> None:
    assert_reads_or_explains(data)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_are_no_key_file(data: bytes) -> None:
    assert_reads_or_explains(data)


@FUZZ
@given(
    body=st.binary(max_size=200),
    label=st.sampled_from(
        [
            "CERTIFICATE",
            "PUBLIC KEY",
            "RSA PUBLIC KEY",
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "CERTIFICATE REQUEST",
            "OPENSSH PRIVATE KEY",
            "DH PARAMETERS",
        ]
    ),
)
def test_pem_armour_around_random_bytes(body: bytes, label: str) -> None:
    import base64

    armoured = (
        f"-----BEGIN {label}-----\n".encode()
        + base64.encodebytes(body)
        + f"-----END {label}-----\n".encode()
    )
    assert_reads_or_explains(armoured)


@pytest.mark.parametrize("name", sorted(KEY_FILES))
def test_every_sample_key_file_reads(name: str) -> None:
    """The seeds are valid: each gives keys, or the SourceError it should."""
    if name == "encrypted":
        with pytest.raises(SourceError, match="encrypted"):
            read_key_bytes(KEY_FILES[name])
    elif name == "ec parameters":
        assert read_key_bytes(KEY_FILES[name]) == []
    else:
        assert len(read_key_bytes(KEY_FILES[name])) >= 1


def test_read_key_file_stops_at_the_size_cap(project: Path) -> None:
    big = project / "big.pem"
    big.write_bytes(b"A" * (2 * 1024 * 1024))
    with pytest.raises(SourceError, match="1 MiB"):
        read_key_file(big)


def _rsa_key_with_a_longer_oid() -> bytes:
    """An RSA public key whose OID swallowed its NULL parameters (1.2.840.113549.1.1.1.5.0)."""
    der = KEY_FILES["rsa public der"]
    rsa_oid = bytes.fromhex("06092a864886f70d0101010500")
    assert rsa_oid in der
    return der.replace(rsa_oid, bytes.fromhex("060b2a864886f70d0101010500"), 1)


@pytest.mark.parametrize(
    "data",
    [
        _rsa_key_with_a_longer_oid(),
        # a PKCS#8 private key of an unknown algorithm (OID 1.2.101.112)
        b'0.\x02\x01\x000\x05\x06\x03*ep\x04"\x04 ' + bytes(32),
    ],
    ids=["public key", "private key"],
)
def test_a_der_key_of_an_unknown_algorithm_is_a_source_error(data: bytes) -> None:
    """cryptography raises UnsupportedAlgorithm (no ValueError) for these: it used to
    escape as a traceback."""
    with pytest.raises(SourceError):
        read_key_bytes(data)
