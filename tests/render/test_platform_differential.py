"""Differential: the platform model (pingen.render.platforms) and the generated files agree, host
by host.

Hypothesis builds configs with overlapping domains, include_subdomains at several depths,
leaf and CA pins, expiry and report-only. Each output is rendered, then read back the way
its platform reads it, with that platform's lookup ported line by line from its source
(tests/support/platform_lookups.py, each citing it). For every configured host, a
subdomain one and two labels below each, and an unrelated host, on a day before any
expiry and on each expiry day, the pins the file makes the platform enforce must be what
the model says.
"""

from __future__ import annotations

import datetime as dt
import json
import plistlib
from typing import Any

from hypothesis import given

from pingen.model import Config, Output
from pingen.render import android_nsc, ios_plist, json_output, okhttp, platforms, trustkit
from tests.support.models import output
from tests.support.platform_lookups import (
    DIFFERENTIAL,
    EPOCH,
    agree,
    ats_lookup,
    configs,
    model_lookup,
    nsc_lookup,
    okhttp_lookup,
    okhttp_patterns,
    trustkit_lookup,
)
from tests.support.rendering import render
from tests.support.swift import configuration


def rendered(adapter: Any, cfg: Config, out: Output) -> str:
    return render(adapter, cfg, out).text


@DIFFERENTIAL
@given(configs(same_level=False, report_only=True))
def test_android_nsc_file_and_model_agree(cfg: Config) -> None:
    xml = render(android_nsc, cfg, output("android-nsc", "n.xml", trustkit=True)).content
    agree(model_lookup(platforms.AOSP_NSC, cfg), nsc_lookup(xml), cfg)
    agree(model_lookup(platforms.TRUSTKIT_ANDROID, cfg), nsc_lookup(xml), cfg)


@DIFFERENTIAL
@given(configs(same_level=False, report_only=False))
def test_okhttp_file_and_model_agree(cfg: Config) -> None:
    kotlin = rendered(okhttp, cfg, output("okhttp", "P.kt", package="a.b"))
    agree(model_lookup(platforms.OKHTTP, cfg), okhttp_lookup(okhttp_patterns(kotlin)), cfg)


@DIFFERENTIAL
@given(configs(same_level=False, report_only=True))
def test_trustkit_file_and_model_agree(cfg: Config) -> None:
    swift = rendered(trustkit, cfg, output("trustkit", "T.swift", swizzle_network_delegates=True))
    _, value = configuration(swift)
    agree(
        model_lookup(platforms.TRUSTKIT_IOS, cfg), trustkit_lookup(value["TSKPinnedDomains"]), cfg
    )


@DIFFERENTIAL
@given(configs(same_level=True, report_only=False))
def test_ios_plist_file_and_model_agree(cfg: Config) -> None:
    data = render(ios_plist, cfg, output("ios-plist", "Info.plist")).content
    pinned = plistlib.loads(data)["NSAppTransportSecurity"]["NSPinnedDomains"]
    agree(model_lookup(platforms.NS_PINNED_DOMAINS, cfg), ats_lookup(pinned), cfg)


@DIFFERENTIAL
@given(configs(same_level=False, report_only=False))
def test_react_native_json_and_model_agree(cfg: Config) -> None:
    document = json.loads(rendered(json_output, cfg, output("json", "p.json")))
    # SslPublicKeyPinningModule.java#L102: `includeSubdomains ? "**." + domain : domain`.
    patterns = []
    for host, options in document.items():
        expires = options.get("expirationDate")
        until = None
        if expires:  # skipped at initialisation once past (Android); compare at midnight
            day = dt.date.fromisoformat(expires)
            until = (
                dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - EPOCH
            ) // dt.timedelta(milliseconds=1)
        pattern = f"**.{host}" if options["includeSubdomains"] else host
        patterns.append((pattern, list(options["publicKeyHashes"]), until))
    agree(model_lookup(platforms.RN_ANDROID, cfg), okhttp_lookup(patterns), cfg)
    # SslPublicKeyPinning.mm#L48: a TrustKit policy per domain.
    policies = {
        host: {
            "TSKIncludeSubdomains": options["includeSubdomains"],
            "TSKPublicKeyHashes": options["publicKeyHashes"],
            **(
                {"TSKExpirationDate": options["expirationDate"]}
                if "expirationDate" in options
                else {}
            ),
        }
        for host, options in document.items()
    }
    agree(model_lookup(platforms.RN_IOS, cfg), trustkit_lookup(policies), cfg)
