"""The pins.yaml schema (version 1), declared once.

The loader (`pingen.config.load`) validates against these declarations, `pingen schema`
turns them into a JSON Schema, and `pingen.config.reference` writes the key reference of
docs/pins-yaml.md from them. The declaration types (`Field`, `Kind`, `Section`) and the
checker that reads nodes against them are pingen.nodes', shared with the CA catalog.
Cross-field rules (exactly one pin source, at least two pins, hosts, paths) live in the
loader, next to the code that builds the model.
"""

from __future__ import annotations

from pingen.model import Level, PinSource
from pingen.nodes import Field, Kind, Section
from pingen.pki import providers as provider_facts

VERSION = 1


# The model's enums are the one list of each; the schema only spells them out.
LEVELS = tuple(level.value for level in Level)
PROVIDERS = tuple(provider_facts.PROVIDERS)  # what each implies lives in pingen.pki.providers
PIN_SOURCES = tuple(source.value for source in PinSource)

# Settings a domain inherits from `defaults:` and may override.
DOMAIN_SETTINGS: dict[str, Field] = {
    "include_subdomains": Field(
        Kind.BOOL,
        "Pin every subdomain too (any depth on Android, OkHttp and TrustKit).",
        default=False,
    ),
    "enforce": Field(
        Kind.BOOL,
        "false: report violations only, where the platform supports it (TrustKit).",
        default=True,
    ),
    "expires": Field(
        Kind.EXPIRY,
        "When the pin set stops being enforced (yyyy-mm-dd, in the future), or `never`. "
        "Required, here or in defaults.",
    ),
    "report_uris": Field(
        Kind.STRING_LIST,
        "Where TrustKit (iOS/Android) sends pin-violation reports.",
        default=(),
    ),
}

PIN = Section(
    "pin",
    {
        "sha256": Field(
            Kind.STRING,
            "base64 SHA-256 of the DER SubjectPublicKeyInfo (44 characters); "
            "a leading `sha256/` is accepted.",
        ),
        "file": Field(
            Kind.STRING,
            "A certificate, public key, private key or CSR (PEM or DER), relative to pins.yaml.",
        ),
        "root": Field(Kind.STRING, "The common name of a root in the Mozilla store or catalog."),
        "intermediate": Field(
            Kind.STRING, "The common name of an intermediate in pingen's CA catalog."
        ),
        "label": Field(Kind.STRING, "A name, carried into the generated files as a comment."),
        "key": Field(
            Kind.STRING,
            "The key's type, for a sha256 pin: ec-p256, ec-p384, ec-p521, "
            "rsa-2048, rsa-3072, rsa-4096, ed25519, ... (file, root and intermediate pins "
            "tell their own). TrustKit can hash only some types.",
        ),
        "level": Field(
            Kind.STRING,
            "leaf, intermediate or root (inferred where the source tells).",
            choices=LEVELS,
        ),
        "backup": Field(
            Kind.BOOL,
            "A key held offline for the next rotation; must not be live today.",
            default=False,
        ),
    },
)

DOMAIN = Section(
    "domain",
    {
        **DOMAIN_SETTINGS,
        "connect": Field(
            Kind.STRING, "host:port that `verify` dials instead of the domain on port 443."
        ),
        "provider": Field(
            Kind.STRING, "Who controls key rotation and which CAs may issue.", choices=PROVIDERS
        ),
        "allow_no_backup": Field(
            Kind.BOOL,
            "true: build accepts a domain whose pins all belong to one CA operator with no "
            "`backup: true` pin. Risky: if that CA must be left, the apps break until an update.",
            default=False,
        ),
        "pins": Field(
            Kind.SECTION_LIST,
            "At least two pins, no duplicates.",
            required=True,
            section=PIN,
            min_items=2,
        ),
    },
)

# Options of each built-in output type, beside the common `type`/`template`/`path`.
OUTPUT_OPTIONS: dict[str, dict[str, Field]] = {
    "android-nsc": {
        "cleartext_permitted": Field(
            Kind.BOOL, "cleartextTrafficPermitted on each pinned domain.", default=False
        ),
        "debug_overrides": Field(
            Kind.BOOL,
            "Trust user-installed CAs in debug builds (<debug-overrides>).",
            default=False,
        ),
        "debug_overrides_keep_pins": Field(
            Kind.BOOL,
            "Debug builds still enforce the pins against user-installed CAs "
            '(overridePins="false"), e.g. to test pinning with `pingen probe`.',
            default=False,
        ),
        "trustkit": Field(
            Kind.BOOL, "Add TrustKit-Android's <trustkit-config> to each domain.", default=False
        ),
        "default_report_uri": Field(
            Kind.BOOL,
            "With `trustkit`: also send reports to TrustKit-Android's default "
            "(Data Theorem) server.",
            default=False,
        ),
    },
    "okhttp": {
        "package": Field(Kind.STRING, "The Kotlin package of the generated file.", required=True),
        "name": Field(Kind.STRING, "The Kotlin object's name.", default="CertificatePins"),
    },
    "trustkit": {
        "name": Field(Kind.STRING, "The Swift enum's name.", default="TrustKitConfig"),
        "swizzle_network_delegates": Field(
            Kind.BOOL,
            "TSKSwizzleNetworkDelegates: let TrustKit hook URLSession delegates.",
            default=False,
        ),
        "default_report_uri": Field(
            Kind.BOOL,
            "Also send reports to TrustKit's default (Data Theorem) server.",
            default=False,
        ),
    },
    "ios-plist": {},
    "json": {},
    "urlsession": {
        "name": Field(
            Kind.STRING,
            "Prefix of the Swift types: NAME, NAMEDelegate, NAMEServerTrustManager.",
            default="PinnedTrust",
        ),
        "alamofire": Field(
            Kind.BOOL,
            "Add an Alamofire 5 evaluator and ServerTrustManager (#if canImport).",
            default=False,
        ),
        "minimum_ios": Field(
            Kind.INTEGER,
            "The app's minimum iOS version, at least 12: decides which Apple "
            "APIs the code calls (CryptoKit from 13, SecTrustCopyCertificateChain from 15).",
            default=13,
        ),
    },
}
OUTPUT_TYPES = tuple(OUTPUT_OPTIONS)

OUTPUT_COMMON: dict[str, Field] = {
    "type": Field(Kind.STRING, "A built-in output type.", choices=OUTPUT_TYPES),
    "template": Field(Kind.STRING, "A Jinja2 template of your own, relative to pins.yaml."),
    "path": Field(Kind.STRING, "Where to write, relative to pins.yaml.", required=True),
}


def output_section(output_type: str | None) -> Section:
    """The keys an output may have, given its type (None: a user template)."""
    options = OUTPUT_OPTIONS.get(output_type, {}) if output_type else {}
    return Section("output", {**OUTPUT_COMMON, **options})


# Every key any output may have: used to tell "unknown key" from "not for this type".
ALL_OUTPUT_KEYS = frozenset(OUTPUT_COMMON) | {k for o in OUTPUT_OPTIONS.values() for k in o}

TRUST = Section(
    "trust",
    {
        "ca_file": Field(
            Kind.STRING, "PEM roots the resolver trusts instead of certifi's Mozilla roots."
        ),
        "catalog": Field(Kind.STRING, "A CA catalog of your own (same format as pingen's)."),
    },
)

# A target's name goes into branch names (`pingen/ios`) and messages: keep it plain.
TARGET_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"

TARGET = Section(
    "target",
    {
        "into": Field(
            Kind.STRING,
            "The app repository's checkout that `pingen build` renders this "
            "target into, relative to pins.yaml and inside its repository; without it, "
            "`pingen build --target NAME --into DIR`.",
        ),
        "outputs": Field(
            Kind.SECTION_LIST,
            "The files this target writes, relative to its folder.",
            required=True,
            section=output_section(None),
            min_items=1,
        ),
    },
)

CONFIG = Section(
    "pins.yaml",
    {
        "version": Field(Kind.INTEGER, "The format version: 1.", required=True),
        "defaults": Field(
            Kind.SECTION,
            "Settings every domain inherits.",
            section=Section("defaults", DOMAIN_SETTINGS),
        ),
        "trust": Field(Kind.SECTION, "Roots the resolver trusts.", section=TRUST),
        "domains": Field(
            Kind.SECTION_MAP,
            "The pinned hosts; each key is a host name.",
            required=True,
            section=DOMAIN,
        ),
        "outputs": Field(
            Kind.SECTION_LIST, "The files `pingen build` writes.", section=output_section(None)
        ),
        "targets": Field(
            Kind.SECTION_MAP,
            "Outputs grouped by app repository: each key names a target "
            "(`ios`, `android`) that `pingen build --target NAME --into DIR` renders into "
            "that repository's checkout.",
            section=TARGET,
            key_pattern=TARGET_NAME,
        ),
    },
)
