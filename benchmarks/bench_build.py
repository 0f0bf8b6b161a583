"""Benchmark: `pingen build` of 1,000 domains into every output type.

Budget: under 1 s on a 2-core machine. Run by hand:

    python benchmarks/bench_build.py [--domains 1000] [--repeat 5]

It prints the best wall time of the whole command (a fresh `pingen build` process,
start-up included) and of the in-process pipeline (load, render, write).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUTPUTS = """\
outputs:
  - type: android-nsc
    path: out/network_security_config.xml
    trustkit: true
  - type: okhttp
    path: out/CertificatePins.kt
    package: com.example.net
  - type: trustkit
    path: out/TrustKitConfig.swift
    swizzle_network_delegates: true
  - type: urlsession
    path: out/PinnedTrust.swift
  - type: ios-plist
    path: out/Info.plist
  - type: json
    path: out/pins.json
"""


def fake_pin(seed: str) -> str:
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def make_config(domains: int) -> str:
    lines = ["version: 1", "defaults:", "  expires: 2099-12-31", "domains:"]
    for i in range(domains):
        lines += [
            f"  api{i}.example.com:",
            "    include_subdomains: true" if i % 2 else "    include_subdomains: false",
            "    pins:",
            f"      - sha256: {fake_pin(f'root-{i}')}",
            f"        label: root {i}",
            "        level: root",
            f"      - sha256: {fake_pin(f'backup-{i}')}",
            f"        label: backup {i}",
            "        level: intermediate",
            "        backup: true",
        ]
    return "\n".join(lines) + "\n" + OUTPUTS


def time_command(folder: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pingen", "build"], cwd=folder, check=True, capture_output=True
    )
    return time.perf_counter() - started


def time_pipeline(folder: Path) -> float:
    from pingen import write
    from pingen.config.load import load_config
    from pingen.render.pipeline import render_all

    started = time.perf_counter()
    config = load_config(folder / "pins.yaml")
    write.write_all(write.plan(config, render_all(config)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "pins.yaml").write_text(make_config(args.domains))
        command = min(time_command(folder) for _ in range(args.repeat))
        for stale in (folder / "out").iterdir():
            stale.unlink()
        pipeline = min(time_pipeline(folder) for _ in range(args.repeat))
        sizes = {p.name: p.stat().st_size for p in sorted((folder / "out").iterdir())}
    print(f"domains: {args.domains}, outputs: {len(sizes)} ({sum(sizes.values()):,} bytes)")
    print(f"pingen build (fresh process): best of {args.repeat}: {command:.3f} s (budget 1 s)")
    print(f"in-process load+render+write: best of {args.repeat}: {pipeline:.3f} s")


if __name__ == "__main__":
    main()
