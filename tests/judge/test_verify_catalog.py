"""`trust.catalog` in pins.yaml reaches both the name lookups and verify's judgement."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import CliRunner
from tests.support.catalogs import Hierarchy  # its `pki` fixture is a plugin (tests/conftest.py)
from tests.support.pki import write_pem

CONFIG = """\
version: 1
trust:
  ca_file: roots.pem
{catalog}
domains:
  app.example.test:
    expires: never
    pins:
      - intermediate: R1
      - sha256: {backup}
        backup: true
"""
BACKUP = "jQJTbIh0grw0/1TkHSumWb+Fs0Ggogr621gT3PvPKG0="


def verify_codes(run_pingen: CliRunner, folder: Path) -> list[str]:
    result = run_pingen(
        "verify",
        "--chain",
        "served.pem",
        "--domain",
        "app.example.test",
        "--format",
        "json",
        cwd=folder,
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    (domain,) = json.loads(result.stdout)["domains"]
    assert [m["label"] for m in domain["matched"]] == ["R1"]
    return [p["code"] for p in domain["problems"]]


def test_a_catalog_of_your_own_names_pins_and_judges_siblings(
    run_pingen: CliRunner, tmp_path: Path, pki: Hierarchy
) -> None:
    write_pem(tmp_path / "roots.pem", pki.x1.cert, pki.x2.cert)
    write_pem(tmp_path / "served.pem", *pki.served("R1"))
    shutil.copytree(pki.catalog_path.parent, tmp_path / "ca")  # inside pins.yaml's folder
    catalog = "  catalog: ca/catalog.json"
    (tmp_path / "pins.yaml").write_text(CONFIG.format(catalog=catalog, backup=BACKUP))
    assert "intermediate-siblings" in verify_codes(run_pingen, tmp_path)


def test_without_it_the_name_is_unknown(
    run_pingen: CliRunner, tmp_path: Path, pki: Hierarchy
) -> None:
    (tmp_path / "pins.yaml").write_text(CONFIG.format(catalog="", backup=BACKUP))
    write_pem(tmp_path / "roots.pem", pki.x1.cert)
    result = run_pingen("build", cwd=tmp_path)
    assert result.exit_code == 2
    assert "pins.yaml:9:23: unknown intermediate 'R1'" in result.stderr


def test_a_broken_catalog_is_an_error_at_its_line(run_pingen: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text("{not json")
    (tmp_path / "roots.pem").write_text("")
    (tmp_path / "pins.yaml").write_text(
        CONFIG.format(catalog="  catalog: catalog.json", backup=BACKUP)
    )
    result = run_pingen("build", cwd=tmp_path)
    assert result.exit_code == 2
    assert "pins.yaml:4:12: `catalog`:" in result.stderr and "Traceback" not in result.stderr
