"""git as the tests run it: in a folder, with an author of its own, failing loudly."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(folder: Path, *args: str) -> str:
    """Run `git ARGS` in `folder`; its stdout (a failing command fails the test)."""
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout
