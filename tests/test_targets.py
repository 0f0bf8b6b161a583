"""One pins.yaml, many app repositories: a central pins repository and two app
repositories, as real git repositories in a temporary folder, built target by target
with `pingen build --target NAME --into DIR`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.conftest import CliRunner
from tests.support.git import git
from tests.support.samples import LATER, PIN_A, PIN_B

PINS = f"""\
# The security team's pins: one file, every app.
version: 1
defaults:
  expires: {LATER}
domains:
  api.example.com:
    pins:
      - sha256: {PIN_A}
        label: ISRG Root X1
        level: root
      - sha256: {PIN_B}
        label: ISRG Root X2 (backup)
        level: root
        backup: true
targets:
  ios:
    outputs:
      - type: trustkit
        path: App/Pinning/TrustKitConfig.swift
  android:
    outputs:
      - type: android-nsc
        path: app/src/main/res/xml/network_security_config.xml
      - type: okhttp
        path: app/src/main/java/com/example/net/CertificatePins.kt
        package: com.example.net
"""

IOS_FILE = "App/Pinning/TrustKitConfig.swift"
NSC_FILE = "app/src/main/res/xml/network_security_config.xml"
KT_FILE = "app/src/main/java/com/example/net/CertificatePins.kt"


def commit(folder: Path, message: str) -> str:
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", message)
    return git(folder, "rev-parse", "HEAD").strip()


@pytest.fixture
def org(tmp_path: Path) -> Path:
    """pins/ (the security team's) and ios/, android/ (the app teams'), each a repo."""
    for name in ("pins", "ios", "android"):
        (tmp_path / name).mkdir()
        git(tmp_path / name, "init", "-q", "-b", "main")
    (tmp_path / "pins" / "pins.yaml").write_text(PINS)
    (tmp_path / "pins" / "README.md").write_text("pins\n")
    commit(tmp_path / "pins", "pins")
    for app in ("ios", "android"):
        (tmp_path / app / "README.md").write_text(f"{app} app\n")
        commit(tmp_path / app, "app")
    return tmp_path


def build(run_pingen: CliRunner, org: Path, target: str, *extra: str) -> tuple[int, str]:
    result = run_pingen(
        "build", "-c", "pins/pins.yaml", "--target", target, "--into", target, *extra, cwd=org
    )
    return result.exit_code, result.stdout + result.stderr


def test_each_target_builds_into_its_own_repository(run_pingen: CliRunner, org: Path) -> None:
    revision = git(org / "pins", "rev-parse", "HEAD").strip()
    assert build(run_pingen, org, "ios")[0] == 0
    assert build(run_pingen, org, "android")[0] == 0
    swift = (org / "ios" / IOS_FILE).read_text()
    assert f"Pins revision: {revision}." in swift.splitlines()[0]
    assert f"Pins revision: {revision}." in (org / "android" / KT_FILE).read_text()
    assert f"Pins revision: {revision}." in (org / "android" / NSC_FILE).read_text()
    assert not (org / "ios" / KT_FILE).exists() and not (org / "android" / IOS_FILE).exists()
    assert not (org / "pins" / "App").exists()  # nothing lands in the pins repository
    for target in ("ios", "android"):
        code, output = build(run_pingen, org, target, "--check")
        assert code == 0, output


def test_a_change_makes_only_the_affected_targets_stale(run_pingen: CliRunner, org: Path) -> None:
    for target in ("ios", "android"):
        build(run_pingen, org, target)
    kotlin_before = (org / "android" / KT_FILE).read_bytes()
    # An option of the ios target only: a new pins revision, android unaffected.
    pins = org / "pins" / "pins.yaml"
    pins.write_text(
        PINS.replace("      - type: trustkit\n", "      - type: trustkit\n        name: Pinning\n")
    )
    new_revision = commit(org / "pins", "ios: rename the enum")
    code, output = build(run_pingen, org, "ios", "--check")
    assert code == 1 and "TrustKitConfig.swift: out of date" in output
    code, output = build(run_pingen, org, "android", "--check")
    assert code == 0, output  # only the provenance line would differ: ignored
    code, output = build(run_pingen, org, "android")
    assert code == 0 and "0 written, 2 unchanged" in output
    assert (org / "android" / KT_FILE).read_bytes() == kotlin_before  # not rewritten
    build(run_pingen, org, "ios")
    assert f"Pins revision: {new_revision}." in (org / "ios" / IOS_FILE).read_text()
    # A domain change reaches every app.
    later_still = (dt.date.fromisoformat(LATER) + dt.timedelta(days=184)).isoformat()
    pins.write_text(pins.read_text().replace(LATER, later_still))
    commit(org / "pins", "expiry")
    for target in ("ios", "android"):
        assert build(run_pingen, org, target, "--check")[0] == 1


def test_a_commit_that_does_not_touch_the_pins_keeps_the_revision(
    run_pingen: CliRunner, org: Path
) -> None:
    first = git(org / "pins", "rev-parse", "HEAD").strip()
    (org / "pins" / "README.md").write_text("more words\n")
    commit(org / "pins", "docs")
    build(run_pingen, org, "ios")
    assert f"Pins revision: {first}." in (org / "ios" / IOS_FILE).read_text()


def test_source_rev_names_the_revision_and_same_inputs_give_the_same_bytes(
    run_pingen: CliRunner, org: Path
) -> None:
    assert build(run_pingen, org, "ios", "--source-rev", "v4.2.0")[0] == 0
    data = (org / "ios" / IOS_FILE).read_bytes()
    assert b"Pins revision: v4.2.0." in data
    (org / "ios" / IOS_FILE).unlink()
    assert build(run_pingen, org, "ios", "--source-rev", "v4.2.0")[0] == 0
    assert (org / "ios" / IOS_FILE).read_bytes() == data
    code, output = build(run_pingen, org, "ios", "--source-rev", "x; rm -rf /")
    assert code == 2 and "--source-rev" in output


def test_single_repository_builds_carry_no_revision(run_pingen: CliRunner, org: Path) -> None:
    pins = org / "pins"
    (pins / "pins.yaml").write_text(
        PINS.split("targets:")[0] + "outputs:\n  - type: json\n    path: pins.json\n"
    )
    commit(pins, "single repository")
    assert run_pingen("build", cwd=pins).exit_code == 0
    assert "revision" not in (pins / "pins.json").read_text()


def test_build_without_target_needs_an_into_for_every_target(
    run_pingen: CliRunner, org: Path
) -> None:
    result = run_pingen("build", cwd=org / "pins")
    assert result.exit_code == 2
    assert "pins.yaml:16:3: target(s) without `into:`: ios, android" in result.stderr
    assert "pingen build --target NAME --into DIR" in result.stderr


def test_into_in_pins_yaml_renders_inside_the_pins_repository(
    run_pingen: CliRunner, org: Path
) -> None:
    """A monorepo: `into:` names a folder of the repository that holds pins.yaml."""
    pins = org / "pins"
    (pins / "apps" / "ios").mkdir(parents=True)
    (pins / "apps" / "android").mkdir(parents=True)
    text = PINS.replace("  ios:\n", "  ios:\n    into: apps/ios\n").replace(
        "  android:\n", "  android:\n    into: apps/android\n"
    )
    (pins / "pins.yaml").write_text(text)
    result = run_pingen("build", cwd=pins)
    assert result.exit_code == 0, result.stderr
    assert (pins / "apps" / "ios" / IOS_FILE).is_file()
    assert (pins / "apps" / "android" / KT_FILE).is_file()
    assert run_pingen("build", "--check", cwd=pins).exit_code == 0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("  ios:\n", "  ios:\n    into: ../ios\n"), "`into: ../ios` leaves the git work tree"),
        (("  ios:\n", "  iOS App:\n"), "target name `iOS App`: use lower-case letters"),
        (
            ("path: App/Pinning/TrustKitConfig.swift", "path: ../App.swift"),
            "output path '../App.swift' leaves the target's folder",
        ),
        (
            ("path: App/Pinning/TrustKitConfig.swift", "path: /etc/App.swift"),
            "output path '/etc/App.swift' is absolute",
        ),
    ],
)
def test_bad_targets_in_pins_yaml(
    run_pingen: CliRunner, org: Path, edit: tuple[str, str], message: str
) -> None:
    (org / "pins" / "pins.yaml").write_text(PINS.replace(*edit))
    code, output = build(run_pingen, org, "android")
    assert code == 2, output
    assert message in output
    assert sorted(p.name for p in (org / "android").iterdir()) == [".git", "README.md"]


def test_target_outputs_stay_inside_the_app_repository(run_pingen: CliRunner, org: Path) -> None:
    (org / "ios" / "App").symlink_to(org / "pins")
    code, output = build(run_pingen, org, "ios")
    assert code == 2 and "leaves" in output and "symbolic link" in output
    assert not (org / "pins" / "Pinning").exists()
    (org / "ios" / "App").unlink()
    (org / "pins" / "pins.yaml").write_text(
        PINS.replace("path: App/Pinning/TrustKitConfig.swift", "path: .GIT/hooks/post-checkout")
    )
    code, output = build(run_pingen, org, "ios")
    assert code == 2 and "is inside a `.git` folder" in output
    assert not (org / "ios" / ".git" / "hooks" / "post-checkout").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--target", "web", "--into", "ios"),
            "--target web: no such target in this config (targets: ios, android)",
        ),
        (("--into", "ios"), "--into goes with --target"),
        (("--target", "ios"), "target ios has no `into:`; give --into DIR"),
        (("--target", "ios", "--into", "nowhere"), "nowhere is not a folder"),
    ],
)
def test_bad_flags(run_pingen: CliRunner, org: Path, args: tuple[str, ...], message: str) -> None:
    result = run_pingen("build", "-c", "pins/pins.yaml", *args, cwd=org)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_diff_says_which_app_repositories_a_change_touches(
    run_pingen: CliRunner, org: Path
) -> None:
    pins = org / "pins"
    (pins / "pins.yaml").write_text(
        PINS.replace("      - type: trustkit\n", "      - type: trustkit\n        name: P\n")
    )
    result = run_pingen("diff", "--format", "json", cwd=pins)
    data = json.loads(result.stdout)
    assert data["targets"] == [
        {"name": "ios", "into": None, "touched": True},
        {"name": "android", "into": None, "touched": False},
    ]
    assert data["outputs"][0]["target"] == "ios"
    android = run_pingen("diff", "--target", "android", "--format", "markdown", cwd=pins)
    assert "No changes to pins or outputs." in android.stdout
    assert "`android`: not touched" in android.stdout
    ios = run_pingen("diff", "--target", "ios", cwd=pins)
    assert "~ output ios: App/Pinning/TrustKitConfig.swift (trustkit, changed)" in ios.stdout
    assert "target ios: touched" in ios.stdout
    bad = run_pingen("diff", "--target", "web", cwd=pins)
    assert bad.exit_code == 2
    assert bad.stderr.startswith("pins.yaml: --target web: no such target")  # as build says


HAND_PINNED_PLIST = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
\t<key>NSAppTransportSecurity</key>
\t<dict>
\t\t<key>NSPinnedDomains</key>
\t\t<dict>
\t\t\t<key>hand.example.org</key>
\t\t\t<dict>
\t\t\t\t<key>NSPinnedLeafIdentities</key>
\t\t\t\t<array><dict><key>SPKI-SHA256-BASE64</key><string>{pin}</string></dict></array>
\t\t\t</dict>
\t\t</dict>
\t</dict>
</dict>
</plist>
"""


def test_explain_shows_every_target_s_outputs(run_pingen: CliRunner, org: Path) -> None:
    """`explain` answers for the files the apps ship, which a pins repository keeps under
    `targets:`; a target's Info.plist is read where `into:` puts it."""
    pins = org / "pins"
    (pins / "apps" / "ios").mkdir(parents=True)
    (pins / "apps" / "ios" / "Info.plist").write_text(HAND_PINNED_PLIST.format(pin=PIN_A))
    (pins / "pins.yaml").write_text(
        PINS.replace(
            "  ios:\n    outputs:\n",
            "  ios:\n    into: apps/ios\n    outputs:\n"
            "      - type: ios-plist\n        path: Info.plist\n",
        )
    )
    result = run_pingen("explain", "api.example.com", cwd=pins)
    assert result.exit_code == 0, result.stderr
    assert (
        "  target ios: App/Pinning/TrustKitConfig.swift (trustkit): TrustKit (iOS)\n"
        f"    pinned, enforced, until {LATER}" in result.stdout
    )
    assert (
        "  target android: app/src/main/java/com/example/net/CertificatePins.kt "
        "(okhttp): OkHttp CertificatePinner" in result.stdout
    )
    document = json.loads(
        run_pingen("explain", "hand.example.org", "--format", "json", cwd=pins).stdout
    )
    plist = [o for o in document["outputs"] if o["type"] == "ios-plist"]
    assert [(o["target"], o["output"], o["pinned"]) for o in plist] == [
        ("ios", "Info.plist", True)
    ]  # the app's own hand-pinned host
    assert {o["target"] for o in document["outputs"]} == {"ios", "android"}


def test_an_output_and_a_target_s_output_on_one_file_is_bad_input(
    run_pingen: CliRunner, org: Path
) -> None:
    """A monorepo: `outputs:` and a target's `into:` may name one file; the second would
    replace the first, and `--check` would find one stale on every run."""
    pins = org / "pins"
    (pins / "apps" / "ios").mkdir(parents=True)
    (pins / "pins.yaml").write_text(
        PINS.replace("  ios:\n", "  ios:\n    into: apps/ios\n").replace(
            "  android:\n", "  android:\n    into: apps\n"
        )
        + "outputs:\n  - type: json\n"
        f"    path: apps/ios/{IOS_FILE}\n"
    )
    result = run_pingen("build", cwd=pins)
    assert result.exit_code == 2
    assert (
        f"pins.yaml:19:9: output target ios's {IOS_FILE} is the same file as the "
        f"outputs' apps/ios/{IOS_FILE}: give one of them another path"
    ) in result.stderr
    assert not (pins / "apps" / "ios" / "App").exists()  # nothing written
