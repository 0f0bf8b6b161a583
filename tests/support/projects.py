"""Small projects the tests build in a folder: pins.yaml and what it names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pingen.spki import pin_of_public_key
from tests.support.pki import CA, new_key, write_pem

VERIFY_CONFIG = """\
version: 1
trust:
  ca_file: roots.pem
defaults:
  expires: {expires}
domains:
  api.example.test:
    connect: "{address}"
    pins:
      - sha256: {live}
      - sha256: {backup}
        backup: true
outputs:
  - template: t.j2
    path: out/pins.txt
"""


def verify_project(folder: Path, root: CA, address: tuple[str, int], live: str) -> None:
    """pins.yaml whose one domain dials `address`, trusting `root`, pinned to `live` and a
    backup key nobody serves; a template that lists the hosts."""
    write_pem(folder / "roots.pem", root.cert)
    (folder / "t.j2").write_text("{{ notice }}\n{% for d in domains %}{{ d.host }}\n{% endfor %}")
    backup = pin_of_public_key(new_key().public_key())
    (folder / "pins.yaml").write_text(
        # Shipped for a year: the test root lives ten, so its certificate outlives the set.
        VERIFY_CONFIG.format(
            address=f"{address[0]}:{address[1]}",
            live=live,
            backup=backup,
            expires=dt.date.today() + dt.timedelta(days=365),
        )
    )


def write_project(folder: Path, config: str, template: str = "t.j2") -> Path:
    """pins.yaml holding `config` in `folder`, beside the template it names (`template`,
    which renders the notice); the path of pins.yaml."""
    (folder / template).write_text("{{ notice }}\n")
    path = folder / "pins.yaml"
    path.write_text(config)
    return path
