"""The platform model (pingen.render.platforms): each platform's lookup rule, quoted from its
source, with cases on both sides; and `build` proving outputs against it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pingen.cli import main
from pingen.model import Level
from pingen.render import platforms
from pingen.render.platforms import Entry, Position, effective
from tests.support.models import output, pin
from tests.support.samples import PIN_A, PIN_B, PIN_C, PIN_D, TODAY

A = pin(PIN_A, "A", Level.ROOT)
B = pin(PIN_B, "B", Level.ROOT)
C = pin(PIN_C, "C", Level.LEAF)
D = pin(PIN_D, "D", Level.LEAF)

PARENT = Entry("example.com", True, (A, B))
CHILD = Entry("api.example.com", False, (C, D))
INNER = Entry("api.example.com", True, (C, D))


def hashes(eff: platforms.Effective) -> set[str]:
    return {p.sha256 for p in eff.pins}


def test_aosp_nsc_exact_first_else_longest_including_match() -> None:
    """ApplicationConfig.getConfigForHostname:
    if (domain.hostname.equals(hostname)) { return config; }
    ... } else if (domain.hostname.length() > bestMatch.first.hostname.length()) {
    """
    nsc = platforms.AOSP_NSC
    assert hashes(effective(nsc, [PARENT, CHILD], "api.example.com")) == {PIN_C, PIN_D}
    # The exact entry wins even though it does not include subdomains...
    assert not effective(nsc, [PARENT, CHILD], "x.api.example.com").entries[1:]
    # ...but a subdomain of it falls to the including parent, at any depth.
    assert hashes(effective(nsc, [PARENT, CHILD], "x.api.example.com")) == {PIN_A, PIN_B}
    assert hashes(effective(nsc, [PARENT, INNER], "a.b.api.example.com")) == {PIN_C, PIN_D}
    assert not effective(nsc, [PARENT], "example.org").pinned
    assert not effective(nsc, [Entry("example.com", False, (A,))], "x.example.com").pinned


def test_okhttp_pools_every_matching_pattern() -> None:
    """CertificatePinner.kt: `fun findMatchingPins(hostname: String): List<Pin> =
    pins.filterList { matchesHostname(hostname) }` — "If multiple patterns match a
    hostname, any match is sufficient"."""
    eff = effective(platforms.OKHTTP, [PARENT, CHILD], "api.example.com")
    assert hashes(eff) == {PIN_A, PIN_B, PIN_C, PIN_D}
    assert "pooled" in eff.decided_by
    # The exact pattern alone matches no subdomain: only the `**.` parent does.
    assert hashes(effective(platforms.OKHTTP, [PARENT, CHILD], "x.api.example.com")) == {
        PIN_A,
        PIN_B,
    }
    assert hashes(effective(platforms.OKHTTP, [CHILD], "api.example.com")) == {PIN_C, PIN_D}


def test_trustkit_ios_exact_key_else_longest_match() -> None:
    """configuration_utils.m: `if (domainPinningPolicies[hostname] == nil)` ...
    `if (currentMatch > 0 && currentMatch > bestMatch)`."""
    tk = platforms.TRUSTKIT_IOS
    assert hashes(effective(tk, [PARENT, INNER], "api.example.com")) == {PIN_C, PIN_D}
    assert hashes(effective(tk, [PARENT, INNER], "x.y.api.example.com")) == {PIN_C, PIN_D}
    assert hashes(effective(tk, [PARENT, INNER], "www.example.com")) == {PIN_A, PIN_B}


def test_trustkit_ios_subdomain_needs_the_same_registry() -> None:
    """configuration_utils.m isSubdomain: `if (subdomainRegistryLength !=
    domainRegistryLength) { return 0; }` — GetRegistryLength by TrustKit's own rules."""
    aws = Entry("amazonaws.com", True, (A, B))
    # TrustKit finds no registry for amazonaws.com and s3.amazonaws.com for the host...
    assert not platforms.trustkit_is_subdomain("amazonaws.com", "x.s3.amazonaws.com")
    assert not effective(platforms.TRUSTKIT_IOS, [aws], "x.s3.amazonaws.com").pinned
    # ...but Android takes any label suffix.
    assert effective(platforms.AOSP_NSC, [aws], "x.s3.amazonaws.com").pinned
    assert platforms.trustkit_is_subdomain("example.com", "a.b.example.com")
    assert not platforms.trustkit_is_subdomain("example.com", "a.myexample.com")
    assert not platforms.trustkit_is_subdomain("example.com", "example.com")


def test_trustkit_ios_expired_policy_is_not_pinned_and_has_no_fallback() -> None:
    """TSKPinningValidator.m: `if (expirationDate != nil && [expirationDate compare:[NSDate
    date]] == NSOrderedAscending)` -> TSKTrustDecisionDomainNotPinned (no parent lookup)."""
    child = Entry("api.example.com", False, (C, D), expires=dt.date(2030, 1, 1))
    before = effective(
        platforms.TRUSTKIT_IOS, [PARENT, child], "api.example.com", at=dt.date(2029, 12, 31)
    )
    after = effective(
        platforms.TRUSTKIT_IOS, [PARENT, child], "api.example.com", at=dt.date(2030, 1, 1)
    )
    assert before.pinned and before.expires == dt.date(2030, 1, 1)
    assert not after.pinned and "expired" in after.decided_by


def test_trustkit_android_exact_else_longest() -> None:
    """TrustKitConfiguration.getPolicyForHostname: `if (domainPolicy.getHostname()
    .equals(serverHostname)) { ... break; }` ... `else if (domainPolicy.getHostname()
    .length() > bestMatchPolicy.getHostname().length())`."""
    tka = platforms.TRUSTKIT_ANDROID
    report_only = Entry("api.example.com", True, (C, D), enforce=False)
    eff = effective(tka, [PARENT, report_only], "x.api.example.com")
    assert hashes(eff) == {PIN_C, PIN_D} and not eff.enforce
    # The OS (NSC) enforces the same pin-set whatever TrustKit's enforcePinning says.
    assert effective(platforms.AOSP_NSC, [PARENT, report_only], "x.api.example.com").enforce


def test_ns_pinned_domains_exact_or_immediate_parent_unioned_lists_each_required() -> None:
    """SecPolicy.c parseNSPinnedDomains: `hostNameMatched = (CFStringCompare(domainName,
    hostName, ...` else `require_quiet(nsIncludesSubdomains == kCFBooleanTrue, ...)` and
    `hostNameMatched = (CFStringCompare(domainName, parentDomainName, ...`; every match
    `CFArrayAppendValue(targetSPKISHA256, spkiSHA256)`; then
    `add_element(options, kSecPolicyCheckLeafSPKISHA256, ...)` and
    `add_element(options, kSecPolicyCheckCAspkiSHA256, ...)` are two checks."""
    ats = platforms.NS_PINNED_DOMAINS
    eff = effective(ats, [PARENT, CHILD], "api.example.com")
    assert [(r.position, {p.sha256 for p in r.pins}) for r in eff.requirements] == [
        (Position.LEAF, {PIN_C, PIN_D}),
        (Position.CA, {PIN_A, PIN_B}),
    ]
    # Immediate parent only: two labels below example.com is not pinned by it.
    assert effective(ats, [PARENT], "www.example.com").pinned
    assert not effective(ats, [PARENT], "a.www.example.com").pinned
    # No expiry: iOS keeps pinning.
    old = Entry("example.com", True, (A, B), expires=dt.date(2030, 1, 1))
    assert effective(ats, [old], "example.com", at=dt.date(2031, 1, 1)).pinned
    # Two CA entries are unioned into one list.
    other_ca = Entry("www.example.com", False, (pin(PIN_C, "E", Level.ROOT),))
    unioned = effective(ats, [PARENT, other_ca], "www.example.com")
    assert len(unioned.requirements) == 1 and hashes(unioned) == {PIN_A, PIN_B, PIN_C}


def test_react_native_is_trustkit_on_ios_and_okhttp_on_android() -> None:
    """SslPublicKeyPinningModule.java: `builder.add(includeSubdomains ? "**." + domain :
    domain, publicKeyHashesArray)`; SslPublicKeyPinning.mm: `forKey:kTSKIncludeSubdomains`."""
    out = platforms.OUTPUT_PLATFORMS["json"](output("json", "pins.json"))
    ios, android = (effective(p, [PARENT, CHILD], "api.example.com") for p in out)
    assert hashes(ios) == {PIN_C, PIN_D}
    assert hashes(android) == {PIN_A, PIN_B, PIN_C, PIN_D}


def test_every_output_type_has_semantics() -> None:
    from pingen.render import ADAPTERS

    assert set(platforms.OUTPUT_PLATFORMS) == set(ADAPTERS)


# -- build proves outputs -------------------------------------------------------------------

CASE = f"""\
version: 1
defaults:
  expires: 2030-06-30
domains:
  example.com:
    include_subdomains: true
    pins:
      - sha256: {PIN_A}
        label: A
        level: root
      - sha256: {PIN_B}
        label: B
        level: root
        backup: true
  api.example.com:
    pins:
      - sha256: {PIN_C}
        label: C
        level: leaf
      - sha256: {PIN_D}
        label: D
        level: leaf
        backup: true
outputs:
"""


def build(tmp_path: Path, outputs: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Build CASE + `outputs` as of the fixed TODAY (CASE's `expires` are fixed days)."""
    (tmp_path / "pins.yaml").write_text(CASE + outputs)
    code = main(["build", "--at", TODAY.isoformat(), "-c", str(tmp_path / "pins.yaml")])
    return code, capsys.readouterr().err


def test_case_4_ios_plist_overlap_is_an_error_at_the_child(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = build(tmp_path, "  - type: ios-plist\n    path: Info.plist\n", capsys)
    assert code == 2
    assert not (tmp_path / "Info.plist").exists()
    assert "pins.yaml:15:3:" in err  # api.example.com's line
    assert "NSPinnedDomains" in err and "would block api.example.com" in err
    assert "the leaf in [C, D] AND a CA certificate in [A, B]" in err
    assert "Drop include_subdomains from example.com" in err


def test_case_5_okhttp_pooling_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = build(
        tmp_path,
        "  - type: okhttp\n    path: P.kt\n    package: a.b\n"
        "  - type: android-nsc\n    path: nsc.xml\n",
        capsys,
    )
    assert code == 0
    assert (
        "warning: okhttp output P.kt: OkHttp CertificatePinner pins api.example.com "
        "more weakly" in err
    )
    assert "also accepts A, B" in err and "example.com" in err
    assert "android-nsc" not in err  # NSC takes the exact entry: what pins.yaml says


def test_okhttp_fallback_after_the_child_expires_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CASE.replace(
        "        backup: true\noutputs:", "        backup: true\n    expires: 2029-01-01\noutputs:"
    )
    (tmp_path / "pins.yaml").write_text(
        text + "  - type: okhttp\n    path: P.kt\n    package: a.b\n"
    )
    assert main(["build", "--at", TODAY.isoformat(), "-c", str(tmp_path / "pins.yaml")]) == 0
    err = capsys.readouterr().err
    assert "still pins api.example.com from 2029-01-01" in err


def test_two_ca_entries_unioned_on_ios_is_a_warning() -> None:
    e = pin(PIN_C, "E", Level.ROOT)
    f = pin(PIN_D, "F", Level.INTERMEDIATE)
    child = Entry("api.example.com", False, (e, f))
    found = platforms.divergences(platforms.NS_PINNED_DOMAINS, [PARENT, child], [PARENT, child])
    assert [d.blocking for d in found] == [False]
    assert "also accepts A, B" in platforms.explain_divergence(found[0])


def test_identical_pins_or_no_overlap_prove_clean() -> None:
    same = Entry("api.example.com", False, (A, B))
    elsewhere = Entry("example.org", True, (C, D))
    for platform in (platforms.OKHTTP, platforms.NS_PINNED_DOMAINS, platforms.AOSP_NSC):
        assert (
            platforms.divergences(platform, [PARENT, same, elsewhere], [PARENT, same, elsewhere])
            == []
        )


# -- pingen explain -------------------------------------------------------------------------

EXPLAIN_OUTPUTS = """\
  - type: okhttp
    path: P.kt
    package: a.b
  - type: android-nsc
    path: nsc.xml
  - type: json
    path: pins.json
  - template: t.j2
    path: t.txt
"""


def explain(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    (tmp_path / "pins.yaml").write_text(CASE + EXPLAIN_OUTPUTS)
    (tmp_path / "t.j2").write_text("{{ notice }}\n")
    code = main(["explain", *args, "-c", str(tmp_path / "pins.yaml")])
    return code, capsys.readouterr().out


def test_explain_json_for_a_configured_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    code, out = explain(tmp_path, capsys, "API.Example.com", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["host"] == "api.example.com"
    by = {(o["output"], o["platform"]): o for o in doc["outputs"]}
    okhttp = by[("P.kt", platforms.OKHTTP.name)]
    assert okhttp["pinned"] and okhttp["enforce"] and okhttp["expires"] == "2030-06-30"
    assert {p["sha256"] for p in okhttp["pins"]} == {PIN_A, PIN_B, PIN_C, PIN_D}
    assert {p["from"] for p in okhttp["pins"]} == {"api.example.com", "example.com"}
    assert "pooled" in okhttp["decided_by"]
    nsc = by[("nsc.xml", platforms.AOSP_NSC.name)]
    assert [p["label"] for p in nsc["pins"]] == ["C", "D"]
    assert nsc["decided_by"] == "api.example.com's own entry"
    assert {o["platform"] for o in doc["outputs"] if o["output"] == "pins.json"} == {
        platforms.RN_IOS.name,
        platforms.RN_ANDROID.name,
    }
    template = by[("t.txt", None)]
    assert template["pinned"] is False and template["known"] is False
    assert set(okhttp) >= {"output", "type", "pinned", "pins", "expires", "enforce", "decided_by"}


def test_explain_text_for_a_subdomain_and_an_unrelated_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = explain(tmp_path, capsys, "a.b.example.com")
    assert code == 0
    assert out.startswith("a.b.example.com\n  P.kt (okhttp): OkHttp CertificatePinner\n")
    assert "decided by: the include_subdomains parent example.com" in out
    assert "pinned, enforced, until 2030-06-30" in out
    code, out = explain(tmp_path, capsys, "example.org")
    assert code == 0
    assert "not pinned" in out and "no entry matches example.org" in out
    assert "pinned, enforced" not in out


def test_explain_at_a_date_after_expiry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = explain(tmp_path, capsys, "api.example.com", "--at", "2030-07-01")
    assert code == 0 and "pinned, enforced" not in out and "(expired): not pinned" in out


def test_explain_a_bad_host_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pins.yaml").write_text(CASE + EXPLAIN_OUTPUTS)
    (tmp_path / "t.j2").write_text("{{ notice }}\n")
    assert main(["explain", "https://x.example.com/", "-c", str(tmp_path / "pins.yaml")]) == 2
    assert "has a scheme" in capsys.readouterr().err


def test_many_weakened_hosts_are_one_warning_naming_them() -> None:
    """A thousand subdomains pooled with one parent must not give a thousand lines."""
    from tests.support.models import config, domain, fake_pin, output

    parent = domain("example.com", [PIN_A, PIN_B], include_subdomains=True)
    children = [
        domain(f"h{i}.example.com", [fake_pin(f"{i}a"), fake_pin(f"{i}b")]) for i in range(300)
    ]
    out = output("okhttp", "P.kt", package="a.b")
    proof = platforms.prove(config([parent, *children], [out]), out)
    assert not proof.errors and len(proof.warnings) == 1
    text = str(proof.warnings[0])
    assert "pins these hosts more weakly than pins.yaml says: h0.example.com, " in text
    assert "and 295 more. It takes every matching entry, pins pooled" in text
    assert f"the pins of example.com ({PIN_A}, {PIN_B})" in text


def test_a_platform_without_expiry_gets_no_after_expiry_finding() -> None:
    """NSPinnedDomains ignores `expires` altogether; ios-plist's adapter already warns."""
    child = Entry(
        "api.example.com",
        False,
        (pin(PIN_C, "E", Level.ROOT), pin(PIN_D, "F", Level.ROOT)),
        expires=dt.date(2029, 1, 1),
    )
    parent = Entry("example.com", True, (A, B), expires=dt.date(2030, 1, 1))
    kinds = [
        d.kind
        for d in platforms.divergences(
            platforms.NS_PINNED_DOMAINS, [parent, child], [parent, child]
        )
    ]
    assert kinds == ["weaker"]  # the CA lists unioned; nothing "after expiry"
    okhttp = [
        d.kind for d in platforms.divergences(platforms.OKHTTP, [parent, child], [parent, child])
    ]
    assert sorted(okhttp) == ["pinned after expiry", "weaker"]


def test_explain_at_reads_a_config_whose_expiry_is_past(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Expiry is what `explain --at` judges: a pin set already past its `expires` is
    explained (as of a day before it, and after), not refused as `build` refuses it."""
    (tmp_path / "pins.yaml").write_text(CASE.replace("2030-06-30", "2001-06-30") + EXPLAIN_OUTPUTS)
    (tmp_path / "t.j2").write_text("{{ notice }}\n")
    config = str(tmp_path / "pins.yaml")
    assert main(["explain", "api.example.com", "--at", "2001-01-01", "-c", config]) == 0
    assert "pinned, enforced, until 2001-06-30" in capsys.readouterr().out
    assert main(["explain", "api.example.com", "--at", "2001-07-01", "-c", config]) == 0
    assert "(expired): not pinned" in capsys.readouterr().out
