"""What a folder holds, to prove a command wrote nothing there."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def snapshot(folder: Path) -> dict[str, str]:
    """Every path below `folder` with a digest of its content, or its kind; a symbolic
    link as its target, never followed (where it points is not the folder's content)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = f"link to {os.readlink(path)}"
        elif path.is_fifo():
            found[name] = "fifo"
        elif path.is_dir():
            found[name] = "folder"
        else:
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
