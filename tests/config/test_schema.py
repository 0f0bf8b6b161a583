"""The JSON Schema of pins.yaml: generated from pingen.config.schema, shipped as
schema/pins.schema.json, and in agreement with the loader on what is valid."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pingen.config.jsonschema import dumps, json_schema
from pingen.config.load import load_config
from pingen.errors import ConfigError
from tests.conftest import CliRunner
from tests.support.paths import REPO
from tests.support.projects import write_project
from tests.support.samples import PIN_A, PIN_B

SHIPPED = REPO / "schema" / "pins.schema.json"
TODAY = dt.date(2026, 11, 27)

VALID = f"""\
# yaml-language-server: $schema=schema/pins.schema.json
version: 1
defaults:
  include_subdomains: false
  enforce: true
  expires: 2027-06-30
  report_uris: []
domains:
  api.example.com:
    include_subdomains: true
    connect: 203.0.113.7:443
    provider: letsencrypt-certbot
    pins:
      - sha256: {PIN_A}
        label: ISRG Root X1
        level: root
      - sha256: sha256/{PIN_B}
        label: offline backup key
        backup: true
  Cdn.Example.ORG.:
    expires: never
    enforce: false
    report_uris: [https://report.example.org/pins]
    pins:
      - sha256: {PIN_B}
      - sha256: {PIN_A}
outputs:
  - type: android-nsc
    path: android/res/xml/network_security_config.xml
    debug_overrides: true
  - type: okhttp
    path: android/CertificatePins.kt
    package: com.example.net
    name: Pins
  - type: trustkit
    path: ios/TrustKitConfig.swift
  - type: ios-plist
    path: ios/Info.plist
  - type: json
    path: config/pins.json
  - template: custom.txt.j2
    path: build/custom.txt
"""

# Every one of these is a mistake the loader refuses; the schema must refuse it too,
# so the editor shows it before `pingen build` does.
INVALID: dict[str, tuple[str, str]] = {
    "typo in a domain key": ("include_subdomains: true", "include_subdomain: true"),
    "typo in a pin key": ("label: ISRG Root X1", "lable: ISRG Root X1"),
    "typo in a top-level key": ("outputs:", "output:"),
    "typo in an output option": ("package: com.example.net", "pakage: com.example.net"),
    "option of another output type": (
        "path: ios/TrustKitConfig.swift",
        "path: ios/TrustKitConfig.swift\n    package: x.y",
    ),
    "unknown output type": ("type: json", "type: jsonn"),
    "output with type and template": ("type: json", "type: json\n    template: custom.txt.j2"),
    "output without a path": ("    path: config/pins.json\n", ""),
    "okhttp without package": ("    package: com.example.net\n", ""),
    "boolean written as text": ("include_subdomains: true", 'include_subdomains: "yes"'),
    "version as text": ("version: 1", 'version: "1"'),
    "unsupported version": ("version: 1", "version: 2"),
    "pins as a mapping": (
        f"    pins:\n      - sha256: {PIN_B}\n      - sha256: {PIN_A}\n",
        f"    pins:\n      sha256: {PIN_B}\n",
    ),
    "missing pins": (f"    pins:\n      - sha256: {PIN_B}\n      - sha256: {PIN_A}\n", ""),
    "a single pin": (
        f"      - sha256: {PIN_B}\n      - sha256: {PIN_A}\n",
        f"      - sha256: {PIN_B}\n",
    ),
    "a pin without a source": (f"      - sha256: {PIN_B}\n", "      - label: nothing\n"),
    "a pin with two sources": (
        f"      - sha256: {PIN_B}\n",
        f"      - sha256: {PIN_B}\n        root: ISRG Root X1\n",
    ),
    "a pin that is not base64 of 32 bytes": (
        f"sha256: {PIN_A}\n        label",
        "sha256: abc\n        label",
    ),
    "an unknown level": ("level: root", "level: ca"),
    "an unknown provider": ("provider: letsencrypt-certbot", "provider: letsencrypt"),
    "expiry that is not a date": ("expires: 2027-06-30", "expires: next year"),
    "no expiry anywhere": ("  expires: 2027-06-30\n", ""),
    "host with a scheme": ("api.example.com:", "https://api.example.com:"),
    "host with a port": ("  api.example.com:", "  'api.example.com:8443':"),
    "host that is an IP address": ("api.example.com:", "203.0.113.7:"),
    "wildcard host": ("api.example.com:", "'*.example.com':"),
    "single-label host": ("api.example.com:", "localhost:"),
    "empty domains": (VALID[VALID.index("  api.example.com:") : VALID.index("outputs:")], " {}\n"),
}


class _YAML12Loader(yaml.SafeLoader):
    """Reads dates as text, as yaml-language-server (YAML 1.2) does."""


_YAML12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def instance(text: str) -> Any:
    return yaml.load(text, Loader=_YAML12Loader)  # a SafeLoader subclass: safe


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema())


def test_shipped_copy_equals_pingen_schema(run_pingen: CliRunner) -> None:
    result = run_pingen("schema")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert SHIPPED.read_text(encoding="utf-8") == result.stdout, (
        "schema/pins.schema.json is stale: run `pingen schema -o schema/pins.schema.json`"
    )


def test_schema_is_valid_draft_2020_12_and_deterministic() -> None:
    document = json.loads(dumps())
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert dumps() == dumps()
    assert dumps().endswith("}\n") and "\r" not in dumps()


def test_schema_output_option_writes_a_file(run_pingen: CliRunner, workdir: Path) -> None:
    result = run_pingen("schema", "-o", "out.json")
    assert result.exit_code == 0 and result.stdout == ""
    assert (workdir / "out.json").read_text() == dumps()


def test_descriptions_come_from_the_declarations() -> None:
    from pingen.config import schema

    document = json_schema()
    domain = document["properties"]["domains"]["additionalProperties"]
    assert domain["properties"]["provider"]["description"] == (
        schema.DOMAIN.fields["provider"].description
    )
    assert domain["properties"]["provider"]["enum"] == list(schema.PROVIDERS)
    pin = domain["properties"]["pins"]["items"]
    assert set(pin["properties"]) == set(schema.PIN.fields)
    okhttp = next(
        branch["then"]
        for branch in document["properties"]["outputs"]["items"]["allOf"]
        if branch["if"].get("properties", {}).get("type", {}).get("const") == "okhttp"
    )
    assert okhttp["properties"]["name"]["default"] == "CertificatePins"
    assert okhttp["required"] == ["package"]


def test_valid_config_is_accepted_by_schema_and_loader(tmp_path: Path) -> None:
    validator().validate(instance(VALID))
    config = load_config(write_project(tmp_path, VALID, "custom.txt.j2"), today=TODAY)
    assert len(config.domains) == 2 and len(config.outputs) == 6


# The pins.yaml example the product was specified with, word for word.
CONTRACT_EXAMPLE = """\
version: 1

defaults:                       # every key here may be overridden per domain
  include_subdomains: false
  enforce: true                 # false: report-only where the platform supports it
  expires: 2027-06-30           # pin-set expiry (ISO date) or `never`
  report_uris: []               # where TrustKit (iOS/Android) sends violation reports

trust:                          # optional: roots the resolver trusts when it builds chains
  ca_file: certs/test-roots.pem # default: certifi's Mozilla roots

domains:                        # a mapping; the key is the host name
  api.example.com:
    include_subdomains: true
    connect: 203.0.113.7:443    # optional: address that `verify` dials instead of DNS:443
    pins:                       # at least two, no duplicates
      - sha256: C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M=
        label: ISRG Root X1
        level: root
      - file: keys/api-backup-2027.pub.pem
        label: offline backup key
        backup: true
      - root: ISRG Root X2

outputs:
  - type: android-nsc
    path: android/app/src/main/res/xml/network_security_config.xml
  - type: okhttp
    path: android/app/src/main/java/com/example/net/CertificatePins.kt
    package: com.example.net
  - type: trustkit
    path: ios/App/TrustKitConfig.swift
  - type: ios-plist
    path: ios/App/Info.plist
  - type: json
    path: config/pins.json
  - template: pinning/custom.txt.j2
    path: build/custom.txt
"""


def example_configs() -> dict[str, str]:
    """The contract's example and the repository's own example configs (those that exist)."""
    candidates = [
        REPO / "pins.yaml",
        *sorted(REPO.glob("examples/**/*.yaml")),
        *sorted(REPO.glob("docs/**/pins*.yaml")),
    ]
    found = {str(p.relative_to(REPO)): p.read_text() for p in candidates if p.is_file()}
    return {"contract example": CONTRACT_EXAMPLE, "VALID": VALID, **found}


@pytest.mark.parametrize("name", sorted(example_configs()))
def test_examples_are_accepted(name: str) -> None:
    text = example_configs()[name]
    errors = [e.message for e in validator().iter_errors(instance(text))]
    assert errors == []


@pytest.mark.parametrize("case", sorted(INVALID))
def test_mistakes_are_rejected_by_schema_and_loader(case: str, tmp_path: Path) -> None:
    old, new = INVALID[case]
    assert old in VALID, f"{case}: the test's anchor text is not in VALID"
    text = VALID.replace(old, new, 1)
    errors = list(validator().iter_errors(instance(text)))
    assert errors, f"{case}: the schema accepted it"
    with pytest.raises(ConfigError):
        load_config(write_project(tmp_path, text, "custom.txt.j2"), today=TODAY)


def test_a_typo_is_reported_where_it_is() -> None:
    text = VALID.replace("lable", "label").replace("label: ISRG Root X1", "lable: ISRG Root X1")
    (error,) = validator().iter_errors(instance(text))
    assert list(error.absolute_path) == ["domains", "api.example.com", "pins", 0]
    assert "lable" in error.message
