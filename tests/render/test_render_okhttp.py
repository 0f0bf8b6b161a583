"""The `okhttp` output, proven by the real toolchain.

Every generated file of this module is compiled by ONE kotlinc run (with the test client
tests/support/PinningProbe.kt) against OkHttp 4.12.0, and ONE JVM runs every request:
an OkHttp client that trusts two test CAs reaches loopback TLS servers through the
generated `certificatePinner`. The server whose chain holds the pinned key is reached;
the one whose chain comes from the other trusted CA (a trusted-CA attacker) is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus

import pytest

from pingen.errors import ConfigError
from pingen.model import Config, Domain, Output
from pingen.render import RenderedFile, okhttp
from pingen.render.pipeline import render_output
from tests.conftest import CliRunner
from tests.support import kotlin
from tests.support.models import config, domain, fake_pin, output, pin
from tests.support.pki import CA, Leaf, write_pem
from tests.support.rendering import render as render_adapter
from tests.support.servers import tls_server

API = "api.example.test"
DEEP = "a.b.api.example.test"
SIBLING = "other.example.test"
HOSTS = (API, DEEP, SIBLING)
BACKUP = fake_pin("offline backup key")
SPARE = fake_pin("spare key")
PAST = dt.date(2020, 1, 1)
FUTURE = dt.date(2099, 12, 31)
HOSTILE_LABEL = 'evil */ /* "q" $x ${y} \\ back\nslash\r\u2028 end'
HOSTILE_HOST = "a\"b$c{d}'e.example.test"
BROKEN_HOST = "x\\y\n${z}.example.test"  # compiles; OkHttp itself refuses it at run time


def render(cfg: Config, out: Output) -> str:
    return render_adapter(okhttp, cfg, out).text


def kt_output(package: str, **options: object) -> Output:
    return output(
        "okhttp", f"gen/{package.replace('.', '/')}/CertificatePins.kt", package=package, **options
    )


# -- the two CAs, the servers and the generated files ------------------------------------
@dataclass(frozen=True)
class Pki:
    genuine: Leaf  # issued under root A / intermediate A: the server we pin
    attacker: Leaf  # the same names under root B: a CA the client also trusts


@pytest.fixture(scope="module")
def pki() -> Pki:
    root_a = CA.root("pingen Test Root A", key_type="rsa-2048")
    root_b = CA.root("pingen Test Root B")
    genuine = root_a.intermediate("pingen Test Issuing CA A").issue_leaf(*HOSTS)
    attacker = root_b.intermediate("pingen Test Issuing CA B").issue_leaf(*HOSTS)
    return Pki(genuine, attacker)


def scenarios(pki: Pki) -> dict[str, tuple[Config, Output]]:
    """package -> (config, output): one generated Kotlin file each."""
    leaf, inter, root = pki.genuine, pki.genuine.issuer, pki.genuine.issuer.issuer
    assert root is not None
    live = [pin(BACKUP, "backup"), pin(SPARE, "spare")]  # pins that match no server

    def single(package: str, *domains: Domain, **options: object) -> tuple[Config, Output]:
        return config(list(domains)), kt_output(package, **options)

    many = [
        domain(
            f"host{i}.example.test",
            [fake_pin(f"{i}a"), fake_pin(f"{i}b")],
            include_subdomains=i % 2 == 0,
            expires=None if i % 3 else PAST if i % 2 else FUTURE,
        )
        for i in range(250)
    ]
    return {
        "pins.leaf": single("pins.leaf", domain(API, [pin(leaf.pin, "leaf"), pin(BACKUP)])),
        "pins.intermediate": single(
            "pins.intermediate", domain(API, [pin(inter.pin, "issuing CA A"), pin(BACKUP)])
        ),
        "pins.root": single("pins.root", domain(API, [pin(root.pin, "root A"), pin(BACKUP)])),
        "pins.subdomains": single(
            "pins.subdomains",
            domain(API, [pin(inter.pin), pin(BACKUP)], include_subdomains=True, expires=FUTURE),
        ),
        "pins.expired": single("pins.expired", domain(API, live, expires=PAST)),
        # issue 10 case 5: the child's own pins match nothing served; the parent's do.
        "pins.pooled": single(
            "pins.pooled",
            domain(
                "example.test",
                [pin(inter.pin, "parent: issuing CA A"), pin(BACKUP)],
                include_subdomains=True,
            ),
            domain(API, live),
        ),
        "pins.live": single("pins.live", domain(API, live, expires=FUTURE)),
        "pins.never": single("pins.never", domain(API, live)),
        "pins.many": single("pins.many", *many),
        "pins.hostile.`in`": single(
            "pins.hostile.in",
            domain(
                HOSTILE_HOST,
                [pin(BACKUP, HOSTILE_LABEL), pin(SPARE, "*/")],
                include_subdomains=True,
            ),
            name="when",
        ),
        "pins.broken": single(
            "pins.broken", domain(BROKEN_HOST, [pin(BACKUP, HOSTILE_LABEL), pin(SPARE)])
        ),
    }


@dataclass(frozen=True)
class Compiled:
    classes: Path
    sources: dict[str, str]  # package -> generated Kotlin
    roots: Path


@pytest.fixture(scope="module")
def compiled(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    folder = tmp_path_factory.mktemp("okhttp")
    sources: dict[str, str] = {}
    files = []
    for package, (cfg, out) in scenarios(pki).items():
        text = render(cfg, out)
        sources[package] = text
        path = folder / "src" / out.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        files.append(path)
    classes = kotlin.compile_sources([*files, kotlin.PROBE], folder / "classes")
    roots = write_pem(
        folder / "roots.pem",
        pki.genuine.issuer.lineage[-1].cert,
        pki.attacker.issuer.lineage[-1].cert,
    )
    return Compiled(classes, sources, roots)


@dataclass(frozen=True)
class Answer:
    status: str  # OK, PINNING_FAILURE, ERROR
    detail: str


# (request id) -> (pinner class or "-", server "genuine"/"attacker", host)
REQUESTS: dict[str, tuple[str, str, str]] = {
    "baseline-genuine": ("-", "genuine", API),
    "baseline-attacker": ("-", "attacker", API),
    "leaf-genuine": ("pins.leaf.CertificatePins", "genuine", API),
    "leaf-attacker": ("pins.leaf.CertificatePins", "attacker", API),
    "leaf-subdomain-not-pinned": ("pins.leaf.CertificatePins", "attacker", DEEP),
    "intermediate-genuine": ("pins.intermediate.CertificatePins", "genuine", API),
    "intermediate-attacker": ("pins.intermediate.CertificatePins", "attacker", API),
    "root-genuine": ("pins.root.CertificatePins", "genuine", API),
    "root-attacker": ("pins.root.CertificatePins", "attacker", API),
    "subdomains-apex-genuine": ("pins.subdomains.CertificatePins", "genuine", API),
    "subdomains-apex-attacker": ("pins.subdomains.CertificatePins", "attacker", API),
    "subdomains-deep-genuine": ("pins.subdomains.CertificatePins", "genuine", DEEP),
    "subdomains-deep-attacker": ("pins.subdomains.CertificatePins", "attacker", DEEP),
    "subdomains-sibling-attacker": ("pins.subdomains.CertificatePins", "attacker", SIBLING),
    "pooled-genuine": ("pins.pooled.CertificatePins", "genuine", API),
    "pooled-attacker": ("pins.pooled.CertificatePins", "attacker", API),
    "expired-genuine": ("pins.expired.CertificatePins", "genuine", API),
    "expired-attacker": ("pins.expired.CertificatePins", "attacker", API),
    "live-genuine": ("pins.live.CertificatePins", "genuine", API),
    "never-genuine": ("pins.never.CertificatePins", "genuine", API),
}
# (request id) -> pinner class whose pins are listed
PIN_LISTS = {
    "list-hostile": "pins.hostile.in.when",
    "list-many": "pins.many.CertificatePins",
    "list-broken": "pins.broken.CertificatePins",
}


@dataclass(frozen=True)
class Results:
    answers: dict[str, Answer]
    pins: dict[str, list[tuple[str, str]]]  # id -> [(pattern, "sha256/…")]


@pytest.fixture(scope="module")
def results(pki: Pki, compiled: Compiled) -> Iterator[Results]:
    with (
        tls_server(pki.genuine.identity()) as (_, genuine_port),
        tls_server(pki.attacker.identity()) as (_, attacker_port),
    ):
        ports = {"genuine": genuine_port, "attacker": attacker_port}
        lines = [
            f"{rid}\tGET\t{cls}\t{host}\t{ports[server]}"
            for rid, (cls, server, host) in REQUESTS.items()
        ]
        lines += [f"{rid}\tPINS\t{cls}" for rid, cls in PIN_LISTS.items()]
        run = kotlin.run(
            compiled.classes,
            kotlin.PROBE_MAIN,
            [str(compiled.roots)],
            stdin="\n".join(lines) + "\n",
        )
    assert run.returncode == 0, run.stderr
    yield parse_probe_output(run.stdout)


def parse_probe_output(stdout: str) -> Results:
    answers: dict[str, Answer] = {}
    pins: dict[str, list[tuple[str, str]]] = {}
    for line in stdout.splitlines():
        rid, status, *rest = line.split("\t")
        if status == "PIN":
            pins.setdefault(rid, []).append((unquote_plus(rest[0]), unquote_plus(rest[1])))
        elif status == "END":
            pins.setdefault(rid, [])
        else:
            answers[rid] = Answer(status, unquote_plus(rest[0]) if rest else "")
    return Results(answers, pins)


def assert_reached(results: Results, rid: str) -> None:
    answer = results.answers[rid]
    assert (answer.status, answer.detail) == ("OK", "200"), f"{rid}: {answer}"


def assert_refused_by_pins(results: Results, rid: str) -> None:
    answer = results.answers[rid]
    assert answer.status == "PINNING_FAILURE", f"{rid}: {answer}"
    assert "Certificate pinning failure" in answer.detail


# -- running the generated pinner --------------------------------------------------------
def test_both_cas_are_trusted_so_only_pins_refuse_the_attacker(results: Results) -> None:
    assert_reached(results, "baseline-genuine")
    assert_reached(results, "baseline-attacker")


@pytest.mark.parametrize("level", ["leaf", "intermediate", "root"])
def test_a_pin_at_each_level_admits_the_genuine_chain_and_refuses_the_attacker(
    results: Results, level: str
) -> None:
    assert_reached(results, f"{level}-genuine")
    assert_refused_by_pins(results, f"{level}-attacker")
    assert f"sha256/{BACKUP}" in results.answers[f"{level}-attacker"].detail


def test_root_pin_matches_although_the_server_never_sends_its_root(pki: Pki) -> None:
    root = pki.genuine.issuer.lineage[-1]
    assert root.cert not in pki.genuine.identity().chain
    assert root.issuer is None


def test_an_exact_domain_leaves_its_subdomains_unpinned(results: Results) -> None:
    assert_reached(results, "leaf-subdomain-not-pinned")


def test_include_subdomains_pins_the_apex_and_every_depth(results: Results) -> None:
    for rid in ("subdomains-apex-genuine", "subdomains-deep-genuine"):
        assert_reached(results, rid)
    for rid in ("subdomains-apex-attacker", "subdomains-deep-attacker"):
        assert_refused_by_pins(results, rid)
    assert_reached(results, "subdomains-sibling-attacker")


def test_okhttp_pools_the_parents_pins_on_the_child_host_as_the_model_says(
    pki: Pki, results: Results
) -> None:
    """CertificatePinner.findMatchingPins pools every matching pattern: api.example.test,
    whose own pins match nothing it serves, is reached through example.test's pin."""
    from pingen.render import platforms

    assert_reached(results, "pooled-genuine")
    assert_refused_by_pins(results, "pooled-attacker")
    cfg, _ = scenarios(pki)["pins.pooled"]
    eff = platforms.effective(platforms.OKHTTP, [platforms.Entry.of(d) for d in cfg.domains], API)
    assert pki.genuine.issuer.pin in {p.sha256 for p in eff.pins}
    assert [e.host for e in eff.entries] == [API, "example.test"]


def test_an_expired_domain_is_not_pinned_at_run_time(results: Results) -> None:
    # Its pins match nothing, yet both servers are reached: the domain was left out.
    assert_reached(results, "expired-genuine")
    assert_reached(results, "expired-attacker")


@pytest.mark.parametrize("rid", ["live-genuine", "never-genuine"])
def test_an_unexpired_domain_is_pinned(results: Results, rid: str) -> None:
    assert_refused_by_pins(results, rid)  # its pins match neither server


def test_hostile_host_and_labels_reach_okhttp_unchanged(results: Results) -> None:
    assert sorted(results.pins["list-hostile"]) == sorted(
        [
            (f"**.{HOSTILE_HOST}", f"sha256/{BACKUP}"),
            (f"**.{HOSTILE_HOST}", f"sha256/{SPARE}"),
        ]
    )


def test_hostile_host_compiles_and_okhttp_itself_refuses_it(results: Results) -> None:
    answer = results.answers["list-broken"]
    assert answer.status == "ERROR"
    assert "IllegalArgumentException" in answer.detail
    assert "x\\y\n${z}.example.test" in answer.detail  # the exact host arrived


def test_many_domains_in_several_functions_keep_all_unexpired_pins(
    results: Results, compiled: Compiled
) -> None:
    source = compiled.sources["pins.many"]
    assert source.count("private fun addPins") == 3
    expected = set()
    for i in range(250):
        if i % 3 == 0 and i % 2 == 1:
            continue  # expired in 2020
        pattern = f"**.host{i}.example.test" if i % 2 == 0 else f"host{i}.example.test"
        expected |= {(pattern, f"sha256/{fake_pin(f'{i}{s}')}") for s in "ab"}
    assert set(results.pins["list-many"]) == expected


# -- the generated text -------------------------------------------------------------------
def test_generated_file_shape(pki: Pki, compiled: Compiled) -> None:
    text = compiled.sources["pins.subdomains"]
    assert text.startswith(
        "// Generated by pingen from pins.yaml. Do not edit: change pins.yaml and run "
        "`pingen build`.\n"
    )
    assert "\npackage pins.subdomains\n" in text
    assert "\nobject CertificatePins {\n" in text
    assert "    val certificatePinner: okhttp3.CertificatePinner =" in text
    assert '"**.api.example.test",' in text
    assert '"api.example.test",' not in text  # `**.` already covers the apex (OkHttp >= 4.3)
    assert "import java.time" not in text and "java.time" not in text
    assert text.endswith("}\n") and "\r" not in text


def test_expiry_is_midnight_utc_in_epoch_millis(compiled: Compiled) -> None:
    text = compiled.sources["pins.expired"]
    assert "if (now < 1577836800000L) {" in text  # 2020-01-01T00:00:00Z
    assert "pinned until 2020-01-01 00:00 UTC" in text
    assert "java.lang.System.currentTimeMillis()" in text
    assert okhttp.expiry_millis(FUTURE) == 4102358400000  # 2099-12-31T00:00:00Z


def test_never_is_always_added(compiled: Compiled) -> None:
    text = compiled.sources["pins.never"]
    assert "currentTimeMillis" not in text and "if (now" not in text
    assert "never expires" in text


def test_each_pin_carries_its_label_as_a_comment(compiled: Compiled) -> None:
    text = compiled.sources["pins.intermediate"]
    assert re.search(r'"sha256/[^"]+", // issuing CA A\n', text)


def test_hostile_labels_stay_inside_one_comment_line(compiled: Compiled) -> None:
    text = compiled.sources["pins.hostile.`in`"]
    comment_lines = [line for line in text.splitlines() if "evil" in line]
    assert len(comment_lines) == 1
    assert comment_lines[0].endswith('// evil * / / * "q" $x ${y} \\ back slash   end')
    assert "package pins.hostile.`in`\n" in text
    assert "object `when` {" in text
    assert '"**.a\\"b\\$c{d}\'e.example.test",' in text


def test_same_input_same_bytes(pki: Pki) -> None:
    cfg, out = scenarios(pki)["pins.subdomains"]
    assert render(cfg, out) == render(cfg, out)


def test_the_pipeline_renders_it(pki: Pki) -> None:
    cfg, out = scenarios(pki)["pins.leaf"]
    rendered = render_output(cfg, out)
    assert isinstance(rendered, RenderedFile)
    assert rendered.content == render(cfg, out).encode()
    assert rendered.warnings == ()


# -- what OkHttp cannot express, and bad options -----------------------------------------
def test_report_only_is_an_error_pointing_at_the_domain() -> None:
    cfg = config([domain("api.example.com", [BACKUP, SPARE], enforce=False, line=7)])
    with pytest.raises(ConfigError) as caught:
        okhttp.context(cfg, kt_output("com.example.net"))
    assert caught.value.location is not None and caught.value.location.line == 7
    assert "no report-only mode" in caught.value.message
    assert "Set `enforce: true`" in caught.value.message


def test_a_domain_without_pins_is_an_error() -> None:
    cfg = config([domain("api.example.com", [])])
    with pytest.raises(ConfigError, match="has no pins"):
        okhttp.context(cfg, kt_output("com.example.net"))


@pytest.mark.parametrize(
    "package",
    ["1com.example", "com..example", "com.ex-ample", "", "com.", "com.é", "__.x", "com example"],
)
def test_a_bad_package_is_an_error_at_the_output(package: str) -> None:
    out = kt_output("x")
    out = Output(out.path, out.type, options={"package": package}, location=out.location)
    with pytest.raises(ConfigError) as caught:
        okhttp.context(config([domain("api.example.com", [BACKUP, SPARE])]), out)
    assert caught.value.location == out.location
    assert "is not a Kotlin package name" in caught.value.message


def test_a_missing_package_is_an_error() -> None:
    out = output("okhttp", "CertificatePins.kt")
    with pytest.raises(ConfigError, match="needs `package:`") as caught:
        okhttp.context(config([domain("api.example.com", [BACKUP, SPARE])]), out)
    assert caught.value.location == out.location


@pytest.mark.parametrize("name", ["9Pins", "Pins-2", "", "a.b", "Long"])
def test_a_bad_object_name_is_an_error(name: str) -> None:
    with pytest.raises(ConfigError, match="is not a usable Kotlin object name"):
        okhttp.context(
            config([domain("api.example.com", [BACKUP, SPARE])]),
            kt_output("com.example", name=name),
        )


def test_keywords_are_quoted_and_soft_keywords_are_not() -> None:
    text = render(
        config([domain("api.example.com", [BACKUP, SPARE])]),
        kt_output("com.data.fun.value", name="object"),
    )
    assert "package com.data.`fun`.value\n" in text
    assert "object `object` {" in text


# -- through `pingen build` ------------------------------------------------------------------
PINS_YAML = f"""\
version: 1
defaults:
  expires: never
domains:
  api.example.com:
    enforce: false
    pins: [{{sha256: "{BACKUP}"}}, {{sha256: "{SPARE}"}}]
  www.example.com:
    include_subdomains: true
    enforce: false
    pins: [{{sha256: "{BACKUP}"}}, {{sha256: "{SPARE}"}}]
outputs:
  - type: okhttp
    path: out/CertificatePins.kt
    package: com.example.net
"""


def test_build_reports_every_report_only_domain_and_writes_nothing(
    workdir: Path, run_pingen: CliRunner
) -> None:
    (workdir / "pins.yaml").write_text(PINS_YAML)
    result = run_pingen("build")
    assert result.exit_code == 2
    assert "pins.yaml:5:3: api.example.com has `enforce: false`" in result.stderr
    assert "pins.yaml:8:3: www.example.com has `enforce: false`" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (workdir / "out").exists()


def test_build_writes_the_kotlin_file(workdir: Path, run_pingen: CliRunner) -> None:
    (workdir / "pins.yaml").write_text(PINS_YAML.replace("enforce: false", "enforce: true"))
    result = run_pingen("build")
    assert result.exit_code == 0, result.stderr
    text = (workdir / "out/CertificatePins.kt").read_text()
    assert '"api.example.com",' in text and '"**.www.example.com",' in text
