"""The real Kotlin toolchain for tests: kotlinc from the `kotlin-compiler` npm package
(`npm ci` at the repository root installs it), OkHttp 4.12.0 and Okio 3.6.0 from the local
Maven repository (`~/.m2/repository`, or $M2_REPOSITORY), and `java` to run what was
compiled. A missing jar is fetched with `mvn dependency:get` for its exact version when
Maven is installed; `python -m tests.support.kotlin` does that ahead of a test run
(.ci/run calls it).

    from tests.support import kotlin

    classes = kotlin.compile_sources([generated_kt, kotlin.PROBE], tmp / "classes")
    result = kotlin.run(classes, kotlin.PROBE_MAIN, ["roots.pem"], stdin="...")

Nothing here is ever skipped: a missing tool is a failure that says how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.support.paths import REPO

PROBE = Path(__file__).with_name("PinningProbe.kt")
PROBE_MAIN = "pingen.probe.PinningProbeKt"

_COMPILER_HOME = REPO / "node_modules" / "kotlin-compiler"
M2 = Path(os.environ.get("M2_REPOSITORY", Path.home() / ".m2" / "repository"))
# Maven coordinates -> the jar's path in a local repository. OkHttp 4.12.0 was built
# against Okio 3.6.0 (its published POM).
MAVEN_JARS = {
    "com.squareup.okhttp3:okhttp:4.12.0": "com/squareup/okhttp3/okhttp/4.12.0/okhttp-4.12.0.jar",
    "com.squareup.okio:okio-jvm:3.6.0": "com/squareup/okio/okio-jvm/3.6.0/okio-jvm-3.6.0.jar",
}


class ToolchainMissing(AssertionError):
    """A tool the tests need is not installed (a failure, never a skip)."""


def kotlinc() -> Path:
    script = _COMPILER_HOME / "bin" / "kotlinc"
    if not script.is_file():
        raise ToolchainMissing(
            f"kotlinc not found at {script}: run `npm ci` in {REPO} (package.json pins "
            "kotlin-compiler)"
        )
    return script


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise ToolchainMissing("`java` is not on PATH: install a JDK (17 or later)")
    return found


def maven_jars(m2: Path = M2) -> list[Path]:
    """The OkHttp and Okio jars in the local Maven repository `m2`; each missing one is
    fetched with `mvn dependency:get` for its exact version, else ToolchainMissing says
    how to get it."""
    jars = []
    for coordinates, relative in MAVEN_JARS.items():
        jar = m2 / relative
        if not jar.is_file():
            _maven_get(coordinates, m2)
            if not jar.is_file():
                raise ToolchainMissing(f"`mvn dependency:get` ran but {jar} is still missing")
        jars.append(jar)
    return jars


def _maven_get(coordinates: str, m2: Path) -> None:
    command = [
        "mvn",
        "-B",
        "-q",
        "dependency:get",
        f"-Dartifact={coordinates}",
        "-Dtransitive=false",
        f"-Dmaven.repo.local={m2}",
    ]
    by_hand = " ".join(command)
    if shutil.which("mvn") is None:
        raise ToolchainMissing(
            f"{coordinates} is not in {m2} and Maven is not installed: install Maven "
            f"(e.g. `apt-get install maven`) so the tests can fetch it, or run `{by_hand}` "
            "on a machine that has it"
        )
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        errors = [line for line in result.stdout.splitlines() if "ERROR" in line][:3]
        raise ToolchainMissing(
            f"`{by_hand}` failed ({result.returncode}): "
            + (" / ".join(errors) or result.stderr.strip()[-500:])
        )


def library_jars() -> list[Path]:
    """What generated code and the probe compile and run against."""
    stdlib = _COMPILER_HOME / "lib" / "kotlin-stdlib.jar"
    if not stdlib.is_file():
        raise ToolchainMissing(f"missing {stdlib}: run `npm ci` in {REPO}")
    return [*maven_jars(), stdlib]


def _classpath(paths: Sequence[Path]) -> str:
    return os.pathsep.join(str(p) for p in paths)


def compile_sources(sources: Sequence[Path], out: Path, *, timeout: float = 300) -> Path:
    """Compile Kotlin `sources` in ONE kotlinc run (it is slow to start) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    command = [
        "bash",
        str(kotlinc()),
        "-nowarn",
        "-jvm-target",
        "17",
        "-cp",
        _classpath(maven_jars()),
        "-d",
        str(out),
        *map(str, sources),
    ]
    env = {**os.environ, "JAVA_OPTS": "-Xmx1g -XX:+UseSerialGC -XX:TieredStopAtLevel=1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise AssertionError(f"kotlinc failed ({result.returncode}):\n{result.stderr}")
    return out


def run(
    classes: Path,
    main_class: str,
    args: Sequence[str],
    *,
    stdin: str = "",
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    command = [
        java(),
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        _classpath([classes, *library_jars()]),
        main_class,
        *args,
    ]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout)


if __name__ == "__main__":  # python -m tests.support.kotlin: make sure the jars are there
    for path in maven_jars():
        print(path)
