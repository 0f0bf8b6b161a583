"""Where the tests find the repository and their data, from any depth of the test tree."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
# Chains real servers served (copied from the shared CA catalog; public certificates).
REAL_CHAINS = DATA / "real-chains"
