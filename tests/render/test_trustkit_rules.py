"""TrustKit (iOS) and TrustKit-Android as their source decides: which domains they accept,
which keys TrustKit can hash, and what `build` and `verify` say about it.

Each rule quotes the upstream line it follows (datatheorem/TrustKit@c48790f,
datatheorem/TrustKit-Android@230582d)."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from pingen.render import trustkit_rules
from pingen.render.trustkit_rules import (
    android_refusal,
    check_chain,
    hash_refusal,
    ios_refusal,
    minimum_version,
    registry_length,
)
from pingen.spki import KeyType, key_type_of, pin_of_der_spki, pin_of_public_key
from tests.conftest import CliRunner
from tests.support.offline_verify import chain_problems
from tests.support.pki import CA, pem_of, write_pem
from tests.support.samples import PIN_A, PIN_B, TODAY


def data(name: str) -> dict[str, list[str]]:
    loaded: dict[str, list[str]] = json.loads(files("pingen.data").joinpath(name).read_text())
    return loaded


# -- iOS: GetRegistryLength --------------------------------------------------------------

IOS_RULES = data("trustkit_ios_registry.json")["rules"]


def test_the_registry_is_trustkits_2018_copy_with_its_provenance() -> None:
    about = data("trustkit_ios_registry.json")
    assert len(IOS_RULES) == 8611
    assert "datatheorem/TrustKit@c48790f" in about["source"]
    assert "registry_tables.h" in about["source"]
    assert "Mozilla Public License" in about["license"]
    # 2018: rules added to the PSL since are not there
    assert "music" not in IOS_RULES and "execute-api.eu-west-1.amazonaws.com" not in IOS_RULES
    assert {"com", "appspot.com", "*.compute.amazonaws.com", "!city.kawasaki.jp"} <= set(IOS_RULES)


PLAIN_RULES = [rule for rule in IOS_RULES if not rule.startswith(("*", "!"))]


def test_every_plain_rule_is_the_registry_of_a_host_below_it() -> None:
    """The issue's test of an implementation: `L.R` has registry length len(R)."""
    wrong = [
        rule for rule in PLAIN_RULES if registry_length(f"pingen-test-label.{rule}") != len(rule)
    ]
    assert len(PLAIN_RULES) > 8000 and wrong == []


@pytest.mark.parametrize(
    ("host", "registry"),
    [
        # the worked examples of the reference
        ("api.example.com", "com"),
        ("foo.appspot.com", "appspot.com"),  # appspot.com is a rule
        ("sts.amazonaws.com", None),  # amazonaws.com is a node, not a rule: the match drops
        ("abc123.execute-api.eu-west-1.amazonaws.com", None),  # a rule newer than 2018
        ("api.myband.music", None),  # .music is newer
        ("localhost", None),
        ("api.example.test", None),
        # "!label: the exception's parent" (trie_search.c#L180-L200)
        ("city.kawasaki.jp", "kawasaki.jp"),
        ("www.ck", "ck"),
        # "*": any label, which becomes part of the registry
        ("a.b.kawasaki.jp", "b.kawasaki.jp"),
        ("api.x.compute.amazonaws.com", "x.compute.amazonaws.com"),
        ("compute.amazonaws.com", None),  # the wildcard's parent alone matches no rule
        ("x.bg", "x.bg"),  # a rule of its own
    ],
)
def test_registry_lookup_examples(host: str, registry: str | None) -> None:
    assert registry_length(host) == (len(registry) if registry else 0)


def test_quoted_lookup_line_drops_the_match_at_a_node_that_is_not_a_rule() -> None:
    # registry_search.c#L187-L192:
    #     if (current->is_terminal == 1) { last_valid = GetDomainRegistryStr(...); }
    #     else { last_valid = NULL; }
    assert "amazonaws.com" not in IOS_RULES and registry_length("amazonaws.com") == 0
    assert registry_length("sts.amazonaws.com") == 0
    assert registry_length("s3.amazonaws.com") == len("s3.amazonaws.com")  # a rule: kept
    assert registry_length("bucket.s3.amazonaws.com") == len("s3.amazonaws.com")


def test_ios_refusals_say_why_and_what_to_do() -> None:
    # parse_configuration.m#L72: if (GetRegistryLength([domainName UTF8String]) == 0)
    aws = ios_refusal("sts.amazonaws.com", include_subdomains=False)
    assert aws is not None and "invalid domain" in aws
    assert "reaches `amazonaws.com`" in aws and "pin a host name TrustKit knows" in aws
    music = ios_refusal("api.myband.music", include_subdomains=False)
    assert music is not None and "no `.music`" in music
    # parse_configuration.m#L120: GetRegistryLength(domainName) == [domainName length]
    suffix = ios_refusal("appspot.com", include_subdomains=True)
    assert suffix is not None and "includeSubdomains for a domain suffix" in suffix
    assert ios_refusal("appspot.com", include_subdomains=False) is None
    assert ios_refusal("foo.appspot.com", include_subdomains=True) is None
    assert ios_refusal("api.mystore.shop", include_subdomains=True) is None  # .shop is known


# -- Android: DomainValidator -------------------------------------------------------------


def test_android_tlds_are_the_2016_arrays_with_their_provenance() -> None:
    about = data("trustkit_android_tlds.json")
    assert (len(about["infrastructure"]), len(about["generic"]), len(about["country_code"])) == (
        1,
        999,
        292,
    )
    assert "datatheorem/TrustKit-Android@230582d" in about["source"]
    assert "DomainValidator.java" in about["source"]


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        ("api.mystore.shop", True),
        ("api.myband.music", True),
        ("blog.example.blog", True),
        ("api.example.test", True),
        ("x.y.internal", True),
        ("a.b.123", True),
        ("api.example.com", False),
        ("api.mystore.app", False),
        ("api.example.dev", False),
        ("api.example.co.uk", False),
        ("x.example.arpa", False),
        ("cdn.xn--bcher-kva.de", False),
        ("api.example.xn--p1ai", False),
    ],
)
def test_android_accepts_only_its_top_level_domains(host: str, refused: bool) -> None:
    # DomainPinningPolicy.java#L66-L68:
    #     if (!domainValidator.isValid(hostname)) {
    #         throw new ConfigurationException("Tried to pin an invalid domain: " + hostname);
    assert (android_refusal(host) is not None) is refused


# -- iOS: hashable keys ----------------------------------------------------------------------

# TSKSPKIHashCache.m#L22-L26 and #L40-L45: the fixed headers TrustKit puts before the raw key.
RSA_2048_HEADER = bytes(
    [
        0x30,
        0x82,
        0x01,
        0x22,
        0x30,
        0x0D,
        0x06,
        0x09,
        0x2A,
        0x86,
        0x48,
        0x86,
        0xF7,
        0x0D,
        0x01,
        0x01,
        0x01,
        0x05,
        0x00,
        0x03,
        0x82,
        0x01,
        0x0F,
        0x00,
    ]
)
EC_P256_HEADER = bytes(
    [
        0x30,
        0x59,
        0x30,
        0x13,
        0x06,
        0x07,
        0x2A,
        0x86,
        0x48,
        0xCE,
        0x3D,
        0x02,
        0x01,
        0x06,
        0x08,
        0x2A,
        0x86,
        0x48,
        0xCE,
        0x3D,
        0x03,
        0x01,
        0x07,
        0x03,
        0x42,
        0x00,
    ]
)


def trustkit_hash(header: bytes, key: PublicKeyTypes) -> str:
    """What TrustKit computes: SHA-256 of header + SecKeyCopyExternalRepresentation (PKCS#1
    for RSA, the X9.63 point for EC)."""
    if isinstance(key, rsa.RSAPublicKey):
        raw = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    else:
        raw = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return pin_of_der_spki(header + raw)


def test_the_fixed_rsa_header_fits_only_the_exponent_65537() -> None:
    usual = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    odd = rsa.generate_private_key(public_exponent=3, key_size=2048).public_key()
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert trustkit_hash(RSA_2048_HEADER, usual) == pin_of_public_key(usual)
    assert trustkit_hash(EC_P256_HEADER, ec_key) == pin_of_public_key(ec_key)
    assert trustkit_hash(RSA_2048_HEADER, odd) != pin_of_public_key(odd)  # never matches
    assert hash_refusal(key_type_of(usual)) is None
    refusal = hash_refusal(key_type_of(odd))
    assert refusal is not None and "exponent 65537" in refusal


@pytest.mark.parametrize(
    ("key", "hashable"),
    [
        ("rsa-2048", True),
        ("rsa-3072", True),
        ("rsa-4096", True),
        ("ec-p256", True),
        ("ec-p384", True),
        ("ec-p521", False),
        ("ed25519", False),
        ("ed448", False),
        ("rsa-1024", False),
        ("rsa-8192", False),
    ],
)
def test_trustkit_hashes_five_key_types(key: str, hashable: bool) -> None:
    # TSKSPKIHashCache.m#L270-L274:
    #     if (!isKeySupported(publicKeyType, publicKeysize)) { ... return nil; }
    assert (hash_refusal(KeyType.parse(key)) is None) is hashable


def test_minimum_versions_from_the_changelog() -> None:
    assert minimum_version([KeyType.parse("ec-p256"), None]) == []
    needs = minimum_version([KeyType.parse("rsa-3072"), KeyType.parse("ec-p384")])
    assert [n.version for n in needs] == ["3.0.5"]
    needs = minimum_version([KeyType.parse("rsa-3072"), KeyType.parse("rsa-2048")])
    assert [n.version for n in needs] == ["3.0.7", "3.0.5"]
    assert "datatheorem/TrustKit#352" in needs[0].reason


def test_trustkits_chain_walk_stops_at_the_first_pin_or_the_first_unhashable_key() -> None:
    p256, p521 = KeyType.parse("ec-p256"), KeyType.parse("ec-p521")
    odd = KeyType("rsa", 2048, exponent=3)
    chain = [("leaf", p521), ("inter", p256), ("root", p256)]  # leaf first
    assert check_chain(chain, ["inter"]) == trustkit_rules.ChainCheck(1, None)
    assert check_chain(chain, ["leaf"]) == trustkit_rules.ChainCheck(None, 0)
    assert check_chain([("leaf", p256), ("inter", p521), ("root", p256)], ["leaf"]) == (
        trustkit_rules.ChainCheck(None, 1)
    )
    assert check_chain([("leaf", p256), ("inter", odd)], ["inter"]) == (
        trustkit_rules.ChainCheck(None, None)
    )  # hashed, under the wrong header


# -- build: trustkit, json and android-nsc with trustkit: true ------------------------------


def project(folder: Path, host: str, outputs: str, pins: str | None = None) -> None:
    pins = pins or (
        f"      - sha256: {PIN_A}\n        key: rsa-4096\n"
        f"      - sha256: {PIN_B}\n        key: ec-p384\n        backup: true\n"
    )
    (folder / "pins.yaml").write_text(
        f"version: 1\ndefaults:\n  expires: 2027-06-30\ndomains:\n  {host}:\n    pins:\n"
        f"{pins}outputs:\n{outputs}"
    )


# `project` writes a fixed `expires`: every build judges it as of the fixed TODAY.
AT = ("--at", TODAY.isoformat())
TRUSTKIT = "  - type: trustkit\n    path: ios/TrustKitConfig.swift\n"
JSON = "  - type: json\n    path: pins.json\n"
NSC_TRUSTKIT = "  - type: android-nsc\n    path: nsc.xml\n    trustkit: true\n"
NSC = "  - type: android-nsc\n    path: nsc.xml\n"


@pytest.mark.parametrize("outputs", [TRUSTKIT, JSON])
@pytest.mark.parametrize(
    "host", ["sts.amazonaws.com", "abc123.execute-api.eu-west-1.amazonaws.com", "api.myband.music"]
)
def test_trustkit_and_json_refuse_what_trustkit_refuses_at_launch(
    run_pingen: CliRunner, workdir: Path, host: str, outputs: str
) -> None:
    project(workdir, host, outputs)
    result = run_pingen("build", *AT)
    assert result.exit_code == 2
    assert "pins.yaml:5:3: " in result.stderr and f"TrustKit refuses {host}" in result.stderr
    assert "invalid domain" in result.stderr and "Traceback" not in result.stderr
    assert not (workdir / "ios").exists() and not (workdir / "pins.json").exists()


def test_the_same_hosts_build_for_android(run_pingen: CliRunner, workdir: Path) -> None:
    project(workdir, "sts.amazonaws.com", NSC_TRUSTKIT)
    assert run_pingen("build", *AT).exit_code == 0


def test_trustkit_android_refuses_a_top_level_domain_newer_than_2016(
    run_pingen: CliRunner, workdir: Path
) -> None:
    project(workdir, "api.mystore.shop", NSC_TRUSTKIT)
    result = run_pingen("build", *AT)
    assert result.exit_code == 2 and "pins.yaml:5:3: " in result.stderr
    assert "TrustKit-Android refuses api.mystore.shop" in result.stderr
    assert "`.shop` is not among them" in result.stderr
    assert not (workdir / "nsc.xml").exists()
    project(workdir, "api.mystore.shop", NSC + TRUSTKIT)  # the OS and TrustKit iOS know .shop
    assert run_pingen("build", *AT).exit_code == 0


def public_key_file(folder: Path, name: str, key: PublicKeyTypes) -> str:
    (folder / name).write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return name


@pytest.mark.parametrize("outputs", [TRUSTKIT, JSON])
def test_a_pin_trustkit_cannot_hash_is_an_error_at_the_pin(
    run_pingen: CliRunner, workdir: Path, outputs: str
) -> None:
    p521 = public_key_file(
        workdir, "p521.pem", ec.generate_private_key(ec.SECP521R1()).public_key()
    )
    pins = (
        f"      - sha256: {PIN_A}\n        key: rsa-4096\n"
        f"      - file: {p521}\n        backup: true\n"
        f"      - sha256: {PIN_B}\n        key: ed25519\n"
    )
    project(workdir, "api.example.com", outputs, pins)
    result = run_pingen("build", *AT)
    assert result.exit_code == 2
    assert "pins.yaml:9:9: " in result.stderr
    assert "the pin `p521.pem` of api.example.com can never match on iOS" in result.stderr
    assert "TrustKit cannot hash EC P-521 keys" in result.stderr
    assert "pins.yaml:11:9: " in result.stderr and "cannot hash Ed25519 keys" in result.stderr
    project(workdir, "api.example.com", NSC, pins)  # Android hashes any key
    assert run_pingen("build", *AT).exit_code == 0


@pytest.mark.parametrize("outputs", [TRUSTKIT, JSON])
def test_a_sha256_pin_without_key_is_a_warning(
    run_pingen: CliRunner, workdir: Path, outputs: str
) -> None:
    project(
        workdir,
        "api.example.com",
        outputs,
        f"      - sha256: {PIN_A}\n      - sha256: {PIN_B}\n        backup: true\n",
    )
    result = run_pingen("build", *AT)
    assert result.exit_code == 0
    assert "api.example.com: sha256 pins without `key:`" in result.stderr
    project(workdir, "api.example.com", outputs)  # with key: no such warning
    result = run_pingen("build", *AT)
    assert result.exit_code == 0 and "without `key:`" not in result.stderr


@pytest.mark.parametrize(
    ("keys", "header"),
    [
        (("rsa-4096", "ec-p384"), "// Any TrustKit 3.x hashes the key types of these pins."),
        (("rsa-3072", "ec-p384"), "// Needs TrustKit 3.0.5 or later: RSA-3072 keys are hashed"),
        (("rsa-3072", "rsa-2048"), "// Needs TrustKit 3.0.7 or later: RSA-2048 keys failed"),
        ((None, "ec-p384"), "// Some pins have no `key:`, so the TrustKit version"),
    ],
)
def test_the_trustkit_header_names_the_version_its_pins_need(
    run_pingen: CliRunner, workdir: Path, keys: tuple[str | None, str], header: str
) -> None:
    lines = [f"      - sha256: {PIN_A}\n", f"      - sha256: {PIN_B}\n        backup: true\n"]
    pins = "".join(
        line + (f"        key: {key}\n" if key else "")
        for line, key in zip(lines, keys, strict=True)
    )
    project(workdir, "api.example.com", TRUSTKIT, pins)
    assert run_pingen("build", *AT).exit_code == 0
    assert header in (workdir / "ios" / "TrustKitConfig.swift").read_text()


# -- verify: a live chain TrustKit stops at ---------------------------------------------------


def chain_project(folder: Path, pins: list[str], outputs: str) -> None:
    lines = "".join(f"      - sha256: {pin}\n" for pin in pins)
    (folder / "pins.yaml").write_text(
        "version: 1\ndefaults:\n  expires: never\ntrust:\n  ca_file: roots.pem\n"
        f"domains:\n  api.example.com:\n    pins:\n{lines}outputs:\n{outputs}"
    )


@pytest.fixture(scope="module")
def p521_leaf_chain() -> tuple[CA, CA, str, bytes]:
    root = CA.root("Test Root P-256")
    inter = root.intermediate("Test Issuing CA")
    leaf = inter.issue_leaf("api.example.com", key=ec.generate_private_key(ec.SECP521R1()))
    return root, inter, leaf.pin, pem_of(leaf.chain())


def test_verify_fails_a_chain_trustkit_stops_at_before_a_pin(
    run_pingen: CliRunner, workdir: Path, p521_leaf_chain: tuple[CA, CA, str, bytes]
) -> None:
    root, _, leaf_pin, chain = p521_leaf_chain
    write_pem(workdir / "roots.pem", root.cert)
    chain_project(workdir, [leaf_pin, PIN_B], TRUSTKIT)
    code, problems = chain_problems(run_pingen, workdir, chain)
    unhashable = [p for p in problems if p["code"] == "trustkit-unhashable"]
    assert code == 1 and len(unhashable) == 1 and unhashable[0]["severity"] == "fail"
    assert "EC P-521 key of the leaf api.example.com" in unhashable[0]["message"]
    assert "even with `enforce: false`" in unhashable[0]["message"]
    # Without a TrustKit-based output, nothing runs that check.
    chain_project(workdir, [leaf_pin, PIN_B], NSC)
    code, problems = chain_problems(run_pingen, workdir, chain)
    assert "trustkit-unhashable" not in [p["code"] for p in problems]


def test_verify_passes_when_trustkit_meets_a_pin_above_the_key_it_cannot_hash(
    run_pingen: CliRunner, workdir: Path, p521_leaf_chain: tuple[CA, CA, str, bytes]
) -> None:
    root, inter, _, chain = p521_leaf_chain
    write_pem(workdir / "roots.pem", root.cert)
    chain_project(workdir, [inter.pin, PIN_B], JSON)
    code, problems = chain_problems(run_pingen, workdir, chain)
    assert "trustkit-unhashable" not in [p["code"] for p in problems]
    assert code == 0


@pytest.mark.parametrize(("stated", "mismatch"), [("rsa-2048", True), ("ec-p256", False)])
def test_verify_checks_a_stated_key_against_the_live_key(
    run_pingen: CliRunner,
    workdir: Path,
    p521_leaf_chain: tuple[CA, CA, str, bytes],
    stated: str,
    mismatch: bool,
) -> None:
    root, inter, _, chain = p521_leaf_chain  # the intermediate's key is EC P-256
    write_pem(workdir / "roots.pem", root.cert)
    (workdir / "pins.yaml").write_text(
        "version: 1\ndefaults:\n  expires: never\ntrust:\n  ca_file: roots.pem\n"
        f"domains:\n  api.example.com:\n    pins:\n      - sha256: {inter.pin}\n"
        f"        key: {stated}\n      - sha256: {PIN_B}\n        backup: true\n"
    )
    _, problems = chain_problems(run_pingen, workdir, chain)
    found = [p for p in problems if p["code"] == "key-mismatch"]
    assert bool(found) is mismatch
    if mismatch:
        assert found[0]["severity"] == "warning"
        assert (
            "says `key: rsa-2048`, but the live key with that hash is EC P-256"
            in (found[0]["message"])
        )
        assert "write `key: ec-p256`" in found[0]["message"]


def test_an_rsa_key_with_another_exponent_is_an_error_at_its_pin(
    run_pingen: CliRunner, workdir: Path
) -> None:
    odd = public_key_file(
        workdir, "odd.pem", rsa.generate_private_key(public_exponent=3, key_size=2048).public_key()
    )
    usual = public_key_file(
        workdir,
        "usual.pem",
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
    )
    pins = (
        f"      - sha256: {PIN_A}\n        key: rsa-4096\n"
        f"      - file: {odd}\n        backup: true\n"
    )
    project(workdir, "api.example.com", TRUSTKIT, pins)
    result = run_pingen("build", *AT)
    assert result.exit_code == 2 and "pins.yaml:9:9: " in result.stderr
    assert "RSA-2048 (exponent 3) keys under a fixed header written for the exponent 65537" in (
        result.stderr
    )
    project(workdir, "api.example.com", TRUSTKIT, pins.replace(odd, usual))
    assert run_pingen("build", *AT).exit_code == 0


def test_verify_judges_trustkit_for_a_target_s_outputs_too(
    run_pingen: CliRunner, workdir: Path, p521_leaf_chain: tuple[CA, CA, str, bytes]
) -> None:
    """A pins repository keeps the iOS app's trustkit output under `targets:`: the app
    still runs TrustKit, so verify's TrustKit check applies."""
    root, _, leaf_pin, chain = p521_leaf_chain
    write_pem(workdir / "roots.pem", root.cert)
    chain_project(
        workdir,
        [leaf_pin, PIN_B],
        "  []\ntargets:\n  ios:\n    outputs:\n"
        "      - type: trustkit\n        path: App/TrustKitConfig.swift\n",
    )
    code, problems = chain_problems(run_pingen, workdir, chain)
    assert code == 1
    assert [p["code"] for p in problems if p["code"] == "trustkit-unhashable"] == [
        "trustkit-unhashable"
    ]


def test_build_warns_when_pins_yaml_leaves_swizzling_unset(
    run_pingen: CliRunner, workdir: Path
) -> None:
    """Through the loader, which fills every option's default in: unset is not written."""
    pins = (
        "      - sha256: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n        key: rsa-4096\n"
        "      - sha256: ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=\n        key: ec-p384\n"
        "        backup: true\n"
    )  # keys no catalog knows: no catalog warnings
    project(workdir, "api.example.com", TRUSTKIT, pins)
    result = run_pingen("build", *AT)
    assert result.exit_code == 0, result.stderr
    assert "`swizzle_network_delegates` is not set, so it is false" in result.stderr
    assert run_pingen("build", "--strict", "--check", *AT).exit_code == 1
    project(workdir, "api.example.com", TRUSTKIT + "    swizzle_network_delegates: false\n", pins)
    result = run_pingen("build", "--strict", *AT)
    assert result.exit_code == 0, result.stderr
    assert "swizzle_network_delegates" not in result.stderr
