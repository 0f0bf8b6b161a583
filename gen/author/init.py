"""`pingen init`: a starter pins.yaml from the chains hosts serve today.

    chains = fetch_host_chains([Start("api.example.com")], trust, timeout=10)
    text = starter_config(chains, expires=date(2027, 11, 27))

Each domain pins what `pingen suggest` selects for its verified chain: the roots of
every family its CA can serve it from (both key types, next-generation roots,
cross-sign paths), each with its reason, from the CA catalog. A CA the catalog does
not describe (a private or test CA) gets the intermediate(s) and root of the chain
instead. CA keys outlive leaf keys, which many servers replace at every renewal: the
leaf pin is written commented out, with why; and a backup pin is prepared in comments
for the key `pingen keygen` makes. The text depends only on the chains, the hosts and
the expiry date: the same chains give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pingen import hosts
from pingen.author.suggest import open_lines, pin_lines, suggest
from pingen.config.yamltext import (
    BACKUP_KEY_FOLDER,
    backup_key_name,
    backup_pin_entry,
    comment,
    commented,
    comments,
    expiry,
    hash_pin_entry,
    indented,
    item,
    key_line,
    key_value,
    quote,
)
from pingen.judge.offline import backup_step_note
from pingen.model import Address, Level, Trust
from pingen.pki.catalog import load_catalog
from pingen.pki.chain import UntrustedChain, build_verified_chain, levels, load_trust_store
from pingen.pki.providers import PROVIDERS
from pingen.pki.sources import common_name
from pingen.spki import KeyType, key_type_of, pin_of_certificate

if TYPE_CHECKING:
    from cryptography import x509

    from pingen.author.suggest import Suggestion
    from pingen.pki.catalog import Catalog
    from pingen.pki.fetch import OnFetched

KEY_FOLDER = BACKUP_KEY_FOLDER


@dataclass(frozen=True)
class Start:
    """A host to start from, and where to dial it when that is not host:443."""

    host: str  # normalised
    connect: Address | None = None


@dataclass(frozen=True)
class ChainKey:
    sha256: str
    level: Level
    subject: str
    not_after: dt.date
    key: KeyType | None = None


@dataclass(frozen=True)
class HostChain:
    start: Start
    keys: tuple[ChainKey, ...]  # the verified chain, leaf first, root last
    selection: Suggestion | None = None  # suggest's durable pins; None: CA not in the catalog
    provider: str | None = None  # written as the domain's `provider:`
    backup_note: str = ""  # why the backup step matters for these pins (pingen.judge.offline)

    @property
    def pinned(self) -> tuple[str, ...]:
        """The hashes of the pins written uncommented (the backup step aside)."""
        if self.selection is not None:
            return tuple(pin.sha256 for pin in self.selection.pins)
        return tuple(key.sha256 for key in self.keys[1:]) or (self.keys[0].sha256,)


def parse_start(text: str) -> Start:
    """`host`, `host:port` (dialled there; written as `connect:`) or `host=address[:port]`
    (SNI host, dialled at address); ValueError saying what is wrong (pingen.hosts)."""
    host, connect = hosts.parse_start(text)
    return Start(host, connect)


class InitError(Exception):
    """A host whose chain cannot start a pins.yaml; `network` says whether to exit 3."""

    def __init__(self, message: str, *, network: bool) -> None:
        super().__init__(message)
        self.network = network


def fetch_host_chains(
    starts: Sequence[Start],
    trust: Trust,
    *,
    timeout: float,
    progress: OnFetched | None = None,
    catalog: Catalog | None = None,
    provider: str | None = None,
) -> list[HostChain]:
    """The verified chain of every host, with the pins to write (`trust.catalog`'s
    selection unless `catalog` is given; with `provider`, every CA it may issue from), or
    InitError naming every host that failed."""
    from pingen.pki.fetch import Target, fetch_chains

    store = load_trust_store(trust, named="--ca-file")
    catalog = catalog if catalog is not None else load_catalog(trust.catalog)
    targets = [Target(start.host, start.connect) for start in starts]
    fetched = fetch_chains(targets, timeout=timeout, progress=progress)
    chains, network, untrusted, unanchored = [], [], [], False
    now = dt.datetime.now(dt.UTC)
    for start, result in zip(starts, fetched, strict=True):
        if result.error is not None:
            network.append(f"{start.host} ({result.address}): {result.error}")
            continue
        try:
            chain = build_verified_chain(result.certificates(), store, start.host, now)
        except UntrustedChain as error:
            untrusted.append(f"{start.host}: {error.reason}")
            unanchored = unanchored or error.no_anchor
            continue
        chains.append(host_chain(start, chain, now, catalog, provider))
    if untrusted:
        # the trust store can help only when no root of it anchors the chain
        hint = (
            ""
            if not unanchored
            else (
                " (a private or test CA? pass its root with --ca-file)"
                if trust.ca_file is None
                else f" (is its root in {trust.ca_file}?)"
            )
        )
        raise InitError(
            "the chain does not verify, so its pins cannot be trusted: "
            + "; ".join(untrusted)
            + hint,
            network=False,
        )
    if network:
        raise InitError("cannot take the chain: " + "; ".join(network), network=True)
    return chains


def host_chain(
    start: Start,
    chain: Sequence[x509.Certificate],
    at: dt.datetime,
    catalog: Catalog,
    provider: str | None = None,
) -> HostChain:
    """What init writes for a host whose verified chain (leaf first, anchor last) is
    `chain`, judged as of `at`."""

    selection = durable_selection(start.host, chain, at, catalog, provider)
    written = HostChain(start, _chain_keys(chain), selection, provider)
    note = backup_step_note(start.host, written.pinned, catalog)
    return HostChain(start, written.keys, selection, provider, note)


def durable_selection(
    host: str,
    chain: Sequence[x509.Certificate],
    at: dt.datetime,
    catalog: Catalog,
    provider: str | None = None,
) -> Suggestion | None:
    """`pingen suggest`'s pins for the verified chain, or None when the catalog does not
    describe its CA (init then pins the chain's own CA keys)."""

    if len(chain) < 2:  # the server's own certificate is the trust anchor
        return None
    selection = suggest(host, chain, at, catalog, provider, verified=True)
    return selection if selection.catalogued else None


def _chain_keys(chain: Sequence[x509.Certificate]) -> tuple[ChainKey, ...]:

    return tuple(
        ChainKey(
            pin_of_certificate(cert),
            level,
            common_name(cert.subject),
            cert.not_valid_after_utc.date(),
            key_type_of(cert.public_key()),
        )
        for cert, level in zip(chain, levels(chain), strict=True)
    )


def starter_config(
    chains: Sequence[HostChain],
    *,
    expires: dt.date | None,
    ca_file: str | None = None,
    catalog: str | None = None,
) -> str:
    """The text of the starter pins.yaml (expires None: `never`)."""
    lines = [
        "# pins.yaml: the TLS public-key pins of this app, started by `pingen init` from the",
        "# chains the servers served. Next, required before `pingen build` accepts a domain",
        "# whose pins are all one CA's: make an offline backup key for each domain",
        "# (`pingen keygen`, see the commented `backup` pins), then `pingen verify` and",
        "# `pingen build`. Reference: docs/pins-yaml.md.",
        key_value("version", 1),
        "",
        key_line("defaults"),
        "  " + key_value("include_subdomains", False),
        "  " + key_value("enforce", True),
        "  # After this date the apps stop enforcing the pins (they fail open). Move it",
        "  # forward with each release; `never` means a mistake can strand old versions.",
        "  " + key_value("expires", expiry(expires)),
        "",
    ]
    trust = [
        "  " + key_value(key, path)
        for key, path in (("ca_file", ca_file), ("catalog", catalog))
        if path
    ]
    if trust:
        lines += [key_line("trust"), *trust, ""]
    lines.append(key_line("domains"))
    for chain in chains:
        lines += _domain_lines(chain)
    lines += _outputs([chain.start.host for chain in chains])
    return "\n".join(lines) + "\n"


def _outputs(hosts: Sequence[str]) -> list[str]:
    """`outputs:` for Android and iOS. iOS takes `trustkit` unless TrustKit refuses a
    host (it raises at launch, so `build` refuses it): then `urlsession`, which pins any
    host name, is the live one and trustkit is left commented out, with the reason."""
    from pingen.render.trustkit_rules import ios_refusal

    refused = [host for host in hosts if ios_refusal(host, include_subdomains=False)]
    if not refused:
        ios = [*_TRUSTKIT_NOTE, *_TRUSTKIT, *_URLSESSION_NOTE, *commented(_URLSESSION)]
    else:
        why = (
            f"TrustKit refuses {', '.join(refused)} by its own suffix rules (an exception",
            "at app launch), so `pingen build` refuses a trustkit output for this file:",
        )
        ios = [*_URLSESSION_NOTE, *_URLSESSION, *map(comment, why), *commented(_TRUSTKIT)]
    return [key_line("outputs"), *indented("  ", [*_ANDROID, *ios, *_OTHER_OUTPUTS])]


def _domain_lines(chain: HostChain) -> list[str]:
    lines = ["  " + key_line(chain.start.host)]
    if chain.start.connect is not None:
        lines.append("    " + key_value("connect", str(chain.start.connect)))
    if chain.provider is not None:
        lines.append("    " + key_value("provider", chain.provider))
    lines.append("    " + key_line("pins"))
    leaf, *cas = chain.keys
    if not cas:  # the server's own certificate is the trust anchor
        lines += _pin_lines(leaf, "      ")
    else:
        lines += _leaf_lines(leaf, chain.provider)
        lines += _ca_pin_lines(chain.selection, cas)
    name = backup_key_name(chain.start.host)
    backup_step = (
        f"An offline backup key, {chain.backup_note}. Run `pingen keygen {name} --dir "
        f"{KEY_FOLDER}`, keep the private key offline, and uncomment these lines:"
    )
    lines += indented("      ", [*comments(backup_step, 80), *backup_pin_entry(name)])
    return [*lines, ""]


def _leaf_lines(leaf: ChainKey, provider: str | None) -> list[str]:
    """The leaf key, commented out, with why; not even that where the provider re-keys
    (`pingen build` refuses a leaf pin there)."""

    facts = PROVIDERS.get(provider or "")
    if facts is not None and facts.refuses_leaf_pins:
        return indented(
            "      ",
            [
                comment(f"The leaf key is not pinned: provider {facts.name} makes a new key at"),
                comment("every renewal, and `pingen build` refuses a leaf pin there."),
            ],
        )
    return [
        "      "
        + comment(
            f"The leaf key ({quote(leaf.subject)}, certificate valid "
            f"until {leaf.not_after.isoformat()}): many"
        ),
        "      # servers make a new key at each renewal, so it is not pinned by default.",
        *_pin_lines(leaf, "      # "),
    ]


def _ca_pin_lines(selection: Suggestion | None, cas: Sequence[ChainKey]) -> list[str]:
    """suggest's durable selection with the reasons, else the chain's own CA keys."""

    if selection is None:
        return [line for key in cas for line in _pin_lines(key, "      ")]
    return pin_lines(selection, "      ") + open_lines(selection, "      ")


def ca_pin_count(chain: HostChain) -> int:
    """How many live (uncommented) pins the domain's lines hold."""
    if chain.selection is not None:
        return len(chain.selection.pins)
    return len(chain.keys) - 1 or 1


def _pin_lines(key: ChainKey, prefix: str) -> list[str]:
    return indented(prefix, hash_pin_entry(key.sha256, key.subject, key.level, key.key))


_ANDROID = [
    comment("Android (API 24+): res/xml/network_security_config.xml; reference it from the"),
    comment('manifest: <application android:networkSecurityConfig="@xml/network_security_config">'),
    *item(
        [
            ("type", "android-nsc"),
            ("path", "android/app/src/main/res/xml/network_security_config.xml"),
        ]
    ),
]
_TRUSTKIT_NOTE = [
    comment("iOS: TrustKit's configuration, for TrustKit.initSharedInstance(withConfiguration:)")
]
_TRUSTKIT = item([("type", "trustkit"), ("path", "ios/TrustKitConfig.swift")])
_URLSESSION_NOTE = [
    comment("iOS without TrustKit: one Swift file on Apple's frameworks only, for URLSession"),
    comment("(and Alamofire 5 with `alamofire: true`), with expiry, backup keys and report-only:"),
]
_URLSESSION = item([("type", "urlsession"), ("path", "ios/PinnedTrust.swift")])
_OTHER_OUTPUTS = [
    comment("Other outputs: okhttp (Kotlin, needs `package:`), ios-plist (NSPinnedDomains in"),
    comment("Info.plist), json (react-native-ssl-public-key-pinning), or `template:` of your own."),
]
