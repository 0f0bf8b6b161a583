"""`pingen verify --chain FILE` as the tests run it: a served chain judged offline, read
back from the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliRunner


def chain_problems(
    run: CliRunner, folder: Path, chain: bytes, host: str = "api.example.com"
) -> tuple[int, list[dict[str, str]]]:
    """Verify `chain` (PEM) for `host` against the pins.yaml in `folder`: the exit code and
    the host's problems."""
    (folder / "chain.pem").write_bytes(chain)
    result = run("verify", "--chain", "chain.pem", "--domain", host, "--format", "json", cwd=folder)
    return result.exit_code, json.loads(result.stdout)["domains"][0]["problems"]
