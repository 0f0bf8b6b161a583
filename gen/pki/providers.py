"""What each `provider:` of a domain implies: who rotates the key, which CAs may issue.

The one place these facts live; the survivability judgement and `suggest` read them.
Each provider carries the vendor pages its facts come from (`sources`), so a message
can cite them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class KeyRotation(StrEnum):
    ALWAYS = "always"  # a new key at every issuance and renewal; the operator cannot stop it
    DEFAULT = "default"  # the usual clients make a new key unless configured otherwise
    NEVER = "never"  # the operator keeps the key across renewals


@dataclass(frozen=True)
class Provider:
    name: str  # the value of `provider:` in pins.yaml
    description: str
    rotation: KeyRotation
    operators: tuple[str, ...]  # catalog operator ids that may issue; () = whoever issues
    automatic_ca_choice: bool  # the platform picks (and switches) the CA without notice
    sources: tuple[str, ...]
    # The CA moves among sibling intermediates on its own (Let's Encrypt, GTS, ACM all do);
    # False: the platform keeps one intermediate of a family (its next generation counts).
    rotates_intermediates: bool = True
    # Catalog families it issues from; () = every family of its operators that issues.
    families: tuple[str, ...] = ()

    @property
    def refuses_leaf_pins(self) -> bool:
        return self.rotation is KeyRotation.ALWAYS


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider(
            name="google-managed",
            description=(
                "Google-managed certificates (App Engine custom domains, Cloud Load "
                "Balancing, Certificate Manager): a freshly generated key at every issuance "
                "and renewal, signed by Google Trust Services or Let's Encrypt"
            ),
            rotation=KeyRotation.ALWAYS,
            operators=("google-trust-services", "letsencrypt"),
            automatic_ca_choice=True,
            sources=(
                "https://docs.cloud.google.com/certificate-manager/docs/how-it-works",
                "https://cloud.google.com/appengine/docs/flexible/go/securing-custom-domains-with-ssl",
                "balance-io/balance-open#445",
            ),
        ),
        Provider(
            name="aws-acm",
            description=(
                "AWS Certificate Manager (CloudFront, ELB, API Gateway): ACM generates a new "
                "key pair at each renewal and rotates its intermediates; AWS advises pinning "
                "all Amazon roots"
            ),
            rotation=KeyRotation.ALWAYS,
            operators=("amazon",),
            automatic_ca_choice=False,
            sources=(
                "https://docs.aws.amazon.com/acm/latest/userguide/troubleshooting-pinning.html",
                "Expensify/App#100518",
            ),
        ),
        Provider(
            name="cloudflare",
            description=(
                "Cloudflare edge certificates (Universal, Advanced, Custom Hostname): changed "
                "regularly, issued by Let's Encrypt, Google Trust Services or SSL.com, with "
                "backup certificates from a different CA with a different key"
            ),
            rotation=KeyRotation.ALWAYS,
            operators=("letsencrypt", "google-trust-services", "ssl-com", "sectigo"),
            automatic_ca_choice=True,
            sources=(
                "cloudflare/cloudflare-docs:content/ssl/reference/certificate-pinning.md",
                "https://developers.cloudflare.com/ssl/edge-certificates/backup-certificates",
                "Expensify/App#100518",
            ),
        ),
        Provider(
            name="letsencrypt-certbot",
            description=(
                "Let's Encrypt through certbot, Caddy, cert-manager (>= 1.18) or another ACME "
                "client at its defaults: a new key at every renewal, and the key type (so the "
                "intermediate family) can change on upgrade"
            ),
            rotation=KeyRotation.DEFAULT,
            operators=("letsencrypt",),
            automatic_ca_choice=False,
            sources=(
                "https://github.com/certbot/certbot/releases/tag/v1.20.0",
                "certbot/certbot#9635",
                "caddyserver/caddy:modules/caddytls/automation.go",
                "cert-manager v1.18.0 release notes (privateKey.rotationPolicy: Always)",
            ),
        ),
        Provider(
            name="letsencrypt-reuse-key",
            description=(
                "Let's Encrypt with the key kept across renewals (certbot --reuse-key, "
                "cert-manager rotationPolicy: Never): the leaf key survives renewals, the "
                "intermediate still rotates among its siblings"
            ),
            rotation=KeyRotation.NEVER,
            operators=("letsencrypt",),
            automatic_ca_choice=False,
            sources=("certbot/certbot#5901", "certbot/certbot#9185"),
        ),
        Provider(
            name="self-managed",
            description=(
                "a certificate whose key the operator generates and keeps; pingen cannot tell "
                "which CA issues the next one"
            ),
            rotation=KeyRotation.NEVER,
            operators=(),
            automatic_ca_choice=False,
            sources=(),
        ),
    )
}

# The CA operators whose usual clients make a new key at each renewal, when no provider
# is given: ACME clients at their defaults (Let's Encrypt), managed platforms (GTS, Amazon).
ROTATING_OPERATORS = frozenset({"letsencrypt", "google-trust-services", "amazon"})
