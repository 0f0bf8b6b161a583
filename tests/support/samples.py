"""Pins the tests share (two real roots and two keys nobody serves) and configs built on them."""

import datetime as dt

PIN_A = "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M="  # ISRG Root X1
PIN_B = "diGVwiVYbubAI3RW4hB9xU8e/CH2GnkuvVFZE8zmgzI="  # ISRG Root X2
PIN_C = "jQJTbIh0grw0/1TkHSumWb+Fs0Ggogr621gT3PvPKG0="
PIN_D = "YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg="

# The day the loader tests load as (never the real today).
TODAY = dt.date(2026, 11, 27)

# An `expires` for configs that a command loads as of the real today (the loader refuses
# a past date): two years on from whenever the tests run, so no test expires. A test
# whose output shows the date reads it from here.
LATER = (dt.date.today() + dt.timedelta(days=730)).isoformat()

# A pins.yaml every rule accepts: one domain, a pin and a backup, one template output.
VALID_CONFIG = f"""\
version: 1
defaults:
  expires: 2027-06-30
domains:
  api.example.com:
    pins:
      - sha256: {PIN_A}
        label: live
      - sha256: {PIN_B}
        backup: true
outputs:
  - template: t.j2
    path: out/custom.txt
"""


def two_root_config(expires: str = LATER) -> str:
    """A pins.yaml up to its `outputs:` line: one domain, two roots, one a backup; it
    expires `LATER` unless told, as commands load it as of the real today."""
    return f"""\
version: 1
defaults:
  expires: {expires}
domains:
  api.example.com:
    pins:
      - sha256: {PIN_A}
        label: ISRG Root X1
      - sha256: {PIN_B}
        label: backup
        backup: true
outputs:
"""


def template_project(output_path: str) -> str:
    """A pins.yaml whose one output is the template `pins.txt.j2` written to
    `output_path`: what the pre-commit and Action tests run pingen on (as of the real
    today, so it expires LATER)."""
    return two_root_config(LATER) + f"  - template: pins.txt.j2\n    path: {output_path}\n"
