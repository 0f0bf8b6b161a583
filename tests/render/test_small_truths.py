"""Smaller truths of the outputs (issue 10, item 9): IDN hosts as OkHttp really maps them,
comments that keep `xn--` outside XML, `report_uris` the okhttp output cannot use, and
TrustKit-Android's default report URI as an android-nsc option."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from pingen.config.load import load_config
from pingen.hosts import idna2003_warning
from pingen.model import Config, Level
from pingen.render import android_nsc, ios_plist, okhttp, trustkit
from pingen.render.escape import comment_text, line_comment_text
from tests.conftest import CliRunner
from tests.support import kotlin
from tests.support.android_nsc_rules import assert_valid, parse
from tests.support.models import config, domain, fake_pin, output, pin
from tests.support.rendering import render
from tests.support.samples import PIN_A, PIN_B, TODAY

A, B = fake_pin("a"), fake_pin("b")
EXPIRES = dt.date(2027, 6, 30)

# -- IDNA2003 (OkHttp 4.12) against UTS-46 (pingen) ---------------------------------------

_HOST_PROBE = """\
public class HostProbe {
  public static void main(String[] args) {
    for (String host : args) System.out.println(okhttp3.HttpUrl.parse("https://" + host + "/"));
  }
}
"""


def okhttp_hosts(tmp_path: Path, *hosts: str) -> list[str | None]:
    """What OkHttp 4.12 itself makes of each URL host (None: it refuses the URL)."""
    source = tmp_path / "HostProbe.java"
    source.write_text(_HOST_PROBE)
    classpath = ":".join(map(str, kotlin.library_jars()))
    result = subprocess.run(
        [kotlin.java(), "-cp", classpath, str(source), *hosts],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [
        None if line == "null" else line.removeprefix("https://").removesuffix("/")
        for line in result.stdout.splitlines()
    ]


def test_okhttp_maps_hosts_as_the_warning_says(tmp_path: Path) -> None:
    """The rule is checked against OkHttp 4.12 itself, on both sides: a URL host becomes
    `IDN.toASCII(host).lowercase(Locale.US)` (square/okhttp@parent-4.12.0:okhttp/src/main/
    kotlin/okhttp3/internal/hostnames.kt, toCanonicalHost), which is IDNA2003."""
    assert okhttp_hosts(tmp_path, "straße.de", "bücher.de", "aͱ.de") == [
        "strasse.de",
        "xn--bcher-kva.de",
        None,
    ]
    sharp_s = idna2003_warning("xn--strae-oqa.de")  # straße.de under UTS-46
    assert sharp_s is not None and "maps the URL host straße.de to strasse.de" in sharp_s
    assert "pin strasse.de too" in sharp_s
    assert idna2003_warning("xn--bcher-kva.de") is None  # both forms agree
    assert idna2003_warning("api.example.com") is None
    newer = idna2003_warning("xn--a-cib.de")  # aͱ.de: U+0371 is not in Unicode 3.2
    assert newer is not None and "cannot parse a URL with this host in Unicode" in newer


def test_the_loader_warns_at_the_host(tmp_path: Path) -> None:
    (tmp_path / "pins.yaml").write_text(
        "version: 1\ndefaults:\n  expires: 2027-06-30\ndomains:\n"
        f"  Straße.de:\n    pins:\n      - sha256: {PIN_A}\n      - sha256: {PIN_B}\n"
        f"  bücher.de:\n    pins:\n      - sha256: {PIN_A}\n      - sha256: {PIN_B}\n"
    )
    loaded = load_config(tmp_path / "pins.yaml", today=TODAY)
    assert [d.host for d in loaded.domains] == ["xn--strae-oqa.de", "xn--bcher-kva.de"]
    (warning,) = loaded.warnings
    assert warning.location is not None
    assert (warning.location.line, warning.location.column) == (5, 3)
    assert "(IDNA2003)" in warning.message and "strasse.de" in warning.message


# -- comments: `--` is an XML matter only ------------------------------------------------------


def test_line_comments_keep_double_hyphens_and_xml_comments_do_not() -> None:
    assert line_comment_text("cdn.xn--bcher-kva.de v2--backup */") == (
        "cdn.xn--bcher-kva.de v2--backup * /"
    )
    assert comment_text("cdn.xn--bcher-kva.de") == "cdn.xn- -bcher-kva.de"


def idn_config() -> Config:
    return config(
        [
            domain(
                "cdn.xn--bcher-kva.de",
                [
                    pin(A, "v2--backup", Level.ROOT, key="ec-p256"),
                    pin(B, "live", Level.ROOT, key="ec-p256"),
                ],
                expires=EXPIRES,
            )
        ]
    )


def test_kotlin_and_swift_comments_keep_xn_hyphens() -> None:
    cfg = idn_config()
    kt = render(okhttp, cfg, output("okhttp", "P.kt", package="a.b")).text
    assert "// cdn.xn--bcher-kva.de: pinned until" in kt and "// v2--backup" in kt
    swift = render(trustkit, cfg, output("trustkit", "T.swift")).text
    assert "// v2--backup" in swift and "- -" not in swift


def test_xml_comments_still_split_double_hyphens() -> None:
    cfg = idn_config()
    xml = render(android_nsc, cfg, output("android-nsc", "n.xml")).content
    assert_valid(xml)
    assert b"<!-- v2- -backup -->" in xml
    plist = render(ios_plist, cfg, output("ios-plist", "Info.plist")).text
    assert "v2- -backup" in plist and "v2--backup" not in plist


# -- okhttp: report_uris go unused ------------------------------------------------------------


def test_okhttp_warns_that_report_uris_go_unused() -> None:
    out = output("okhttp", "P.kt", package="a.b")
    reporting = config(
        [
            domain(
                "api.example.com", [A, B], expires=EXPIRES, report_uris=("https://r.example.com/",)
            )
        ]
    )
    (warning,) = render(okhttp, reporting, out).warnings
    assert "api.example.com: `report_uris` are not used" in warning.message
    assert warning.message.startswith("okhttp output P.kt: ")
    quiet = config([domain("api.example.com", [A, B], expires=EXPIRES)])
    assert render(okhttp, quiet, out).warnings == ()


# -- android-nsc: TrustKit-Android's default report URI ---------------------------------------


def trustkit_configs(xml: bytes) -> list[dict[str, str]]:
    return [dict(element.attrib) for element in parse(xml).iter("trustkit-config")]


@pytest.mark.parametrize(
    ("options", "attribute"),
    [
        ({"trustkit": True}, "true"),
        ({"trustkit": True, "default_report_uri": False}, "true"),
        # DomainPinningPolicy.java#L128: if ((shouldDisableDefaultReportUri == null) ||
        #     (!shouldDisableDefaultReportUri)) { reportUris.add(... DEFAULT_REPORTING_URL); }
        ({"trustkit": True, "default_report_uri": True}, "false"),
    ],
)
def test_default_report_uri_mirrors_trustkits_option(
    options: dict[str, bool], attribute: str
) -> None:
    cfg = config(
        [
            domain(
                "api.example.com", [A, B], expires=EXPIRES, report_uris=("https://r.example.com/",)
            ),
            domain("cdn.example.com", [A, B], expires=EXPIRES),
        ]
    )
    result = render(android_nsc, cfg, output("android-nsc", "n.xml", **options))
    assert_valid(result.content)
    assert [c["disableDefaultReportUri"] for c in trustkit_configs(result.content)] == [
        attribute,
        attribute,
    ]


def test_default_report_uri_without_trustkit_warns(run_pingen: CliRunner, workdir: Path) -> None:
    (workdir / "pins.yaml").write_text(
        "version: 1\ndefaults:\n  expires: 2027-06-30\ndomains:\n  api.example.com:\n"
        f"    pins:\n      - sha256: {PIN_A}\n      - sha256: {PIN_B}\n        backup: true\n"
        "outputs:\n  - type: android-nsc\n    path: n.xml\n    default_report_uri: true\n"
    )
    result = run_pingen("build", "--at", TODAY.isoformat())
    assert result.exit_code == 0
    assert "`default_report_uri: true` does nothing without `trustkit: true`" in result.stderr
    assert b"trustkit-config" not in (workdir / "n.xml").read_bytes()
