"""The real Kotlin toolchain for tests: kotlinc from the `kotlin-compiler` npm package
(`npm ci` at the repository root installs it), OkHttp 4.12.0 and Okio from the local Maven
repository, and `java` to run what was compiled.

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

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("PinningProbe.kt")
PROBE_MAIN = "pingen.probe.PinningProbeKt"

_COMPILER_HOME = REPO / "node_modules" / "kotlin-compiler"
_M2 = Path(os.environ.get("M2_REPOSITORY", Path.home() / ".m2" / "repository"))
OKHTTP_JAR = _M2 / "com/squareup/okhttp3/okhttp/4.12.0/okhttp-4.12.0.jar"
OKIO_JAR = _M2 / "com/squareup/okio/okio-jvm/3.6.0/okio-jvm-3.6.0.jar"


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


def library_jars() -> list[Path]:
    """What generated code and the probe compile and run against."""
    jars = [OKHTTP_JAR, OKIO_JAR, _COMPILER_HOME / "lib" / "kotlin-stdlib.jar"]
    missing = [jar for jar in jars if not jar.is_file()]
    if missing:
        raise ToolchainMissing(f"missing jar(s): {', '.join(map(str, missing))}")
    return jars


def _classpath(paths: Sequence[Path]) -> str:
    return os.pathsep.join(str(p) for p in paths)


def compile_sources(sources: Sequence[Path], out: Path, *, timeout: float = 300) -> Path:
    """Compile Kotlin `sources` in ONE kotlinc run (it is slow to start) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    command = [
        "bash", str(kotlinc()), "-nowarn", "-jvm-target", "17",
        "-cp", _classpath([OKHTTP_JAR, OKIO_JAR]),
        "-d", str(out), *map(str, sources),
    ]
    env = {**os.environ, "JAVA_OPTS": "-Xmx1g -XX:+UseSerialGC -XX:TieredStopAtLevel=1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise AssertionError(f"kotlinc failed ({result.returncode}):\n{result.stderr}")
    return out


def run(
    classes: Path, main_class: str, args: Sequence[str], *, stdin: str = "",
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    command = [
        java(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", _classpath([classes, *library_jars()]), main_class, *args,
    ]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout)
