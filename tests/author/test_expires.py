"""`pingen expires`: the release bot's step. It moves dates forward in a hand-written,
commented pins.yaml and changes nothing else, byte for byte; it refuses a date the
pins cannot survive. Every run judges as of a fixed `--at`, never today."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

import pytest

from pingen.author.expiry import parse_duration
from pingen.config.load import load_config
from tests.conftest import CliRunner
from tests.support.samples import PIN_A, PIN_B

AT = "2026-12-04"

HAND_WRITTEN = f"""\
# Pins for the shop app.  Owned by the security team.
version: 1

defaults:
  expires:   2027-01-31      # bump each release (pingen expires)
  include_subdomains: false

domains:
  api.example.com:           # the API
    pins:
      - root: ISRG Root X1   # today's CA
      - root: GTS Root R1    # a second CA: survives a CA switch
        backup: true
  cdn.example.com:
    expires: '2027-02-28'    # quoted on purpose
    pins: [{{sha256: "{PIN_A}", label: a}}, {{sha256: "{PIN_B}", backup: true}}]
  old.example.com:
    expires: never
    pins:
      - sha256: {PIN_A}
      - sha256: {PIN_B}
        backup: true
  flow.example.com: {{pins: [{{sha256: "{PIN_A}"}}, {{sha256: "{PIN_B}", backup: true}}]}}
outputs:
  - type: json
    path: pins.json
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pins.yaml").write_text(HAND_WRITTEN)
    return tmp_path


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"
    ]


def test_every_date_moves_and_nothing_else_changes(run_pingen: CliRunner, project: Path) -> None:
    result = run_pingen("expires", "--to", "2027-12-31", "--at", AT, cwd=project)
    assert result.exit_code == 0, result.stderr
    after = (project / "pins.yaml").read_text()
    assert after == HAND_WRITTEN.replace("2027-01-31", "2027-12-31").replace(
        "'2027-02-28'", "'2027-12-31'"
    )
    assert "+  expires:   2027-12-31      # bump each release" in result.stdout  # the diff
    assert "old.example.com: left as it is: expires: never" in result.stderr
    config = load_config(project / "pins.yaml", today=dt.date(2026, 12, 4))
    expiries = {d.host: d.expires for d in config.domains}
    assert expiries == {
        "api.example.com": dt.date(2027, 12, 31),
        "cdn.example.com": dt.date(2027, 12, 31),
        "old.example.com": None,
        "flow.example.com": dt.date(2027, 12, 31),
    }


def test_one_domain_that_inherits_gets_its_own_line(run_pingen: CliRunner, project: Path) -> None:
    result = run_pingen(
        "expires", "--extend", "18m", "--domain", "API.example.com.", "--at", AT, cwd=project
    )
    assert result.exit_code == 0, result.stderr
    after = (project / "pins.yaml").read_text()
    assert changed_lines(HAND_WRITTEN, after) == ["+     expires: 2028-06-04"]
    assert "  api.example.com:           # the API\n    expires: 2028-06-04\n    pins:" in after


def test_a_flow_style_domain_is_left_to_the_user(run_pingen: CliRunner, project: Path) -> None:
    result = run_pingen(
        "expires", "--to", "2027-12-31", "--domain", "flow.example.com", "--at", AT, cwd=project
    )
    assert result.exit_code == 2
    assert "flow.example.com is written in flow style" in result.stderr
    assert "pins.yaml:23:3:" in result.stderr
    assert (project / "pins.yaml").read_text() == HAND_WRITTEN


def test_a_later_date_is_never_moved_back(run_pingen: CliRunner, project: Path) -> None:
    result = run_pingen("expires", "--to", "2027-02-01", "--at", AT, cwd=project)
    assert result.exit_code == 0, result.stderr
    assert "cdn.example.com: left as it is: already expires on 2027-02-28" in result.stderr
    assert changed_lines(HAND_WRITTEN, (project / "pins.yaml").read_text()) == [
        "-   expires:   2027-01-31      # bump each release (pingen expires)",
        "+   expires:   2027-02-01      # bump each release (pingen expires)",
    ]


def test_a_date_the_pins_cannot_survive_is_refused(run_pingen: CliRunner, project: Path) -> None:
    """ISRG Root X1's certificates end in 2035, GTS Root R1's in 2036: past that no chain
    can reach either key, whatever the server does."""
    result = run_pingen("expires", "--to", "2040-01-01", "--at", AT, cwd=project)
    assert result.exit_code == 1
    assert (
        "refused: api.example.com: pins-expire: no known certificate for the pinned CA "
        "keys (GTS Root R1 and ISRG Root X1) is valid after 2036-06-22"
    ) in result.stderr
    assert "Set `expires:` to 2036-06-22 or earlier" in result.stderr
    assert (project / "pins.yaml").read_text() == HAND_WRITTEN
    fine = run_pingen("expires", "--to", "2036-06-22", "--at", AT, cwd=project)
    assert fine.exit_code == 0, fine.stderr


def test_dry_run_writes_nothing(run_pingen: CliRunner, project: Path) -> None:
    result = run_pingen("expires", "--to", "2027-12-31", "--dry-run", "--at", AT, cwd=project)
    assert result.exit_code == 0
    assert "+  expires:   2027-12-31" in result.stdout
    assert "would move 2 date(s)" in result.stderr
    assert (project / "pins.yaml").read_text() == HAND_WRITTEN


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give the new expiry: --to DATE or --extend DURATION"),
        (("--to", "2027-12-31", "--extend", "1y"), "--to DATE or --extend DURATION (one)"),
        (("--to", "31/12/2027"), "'31/12/2027' is not a date; write YYYY-MM-DD"),
        (("--to", "2026-01-01"), "2026-01-01 is not after today (2026-12-04)"),
        (("--extend", "a while"), "'a while' is not a duration; write e.g. 90d, 6w, 12m or 1y"),
        (
            ("--to", "2027-12-31", "--domain", "nope.example.com"),
            "--domain nope.example.com: no such domain in this config",
        ),
    ],
)
def test_bad_input_changes_nothing(
    run_pingen: CliRunner, project: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_pingen("expires", *args, "--at", AT, cwd=project)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert (project / "pins.yaml").read_text() == HAND_WRITTEN


def test_crlf_files_keep_their_line_endings(run_pingen: CliRunner, project: Path) -> None:
    crlf = HAND_WRITTEN.replace("\n", "\r\n").encode()
    (project / "pins.yaml").write_bytes(crlf)
    result = run_pingen("expires", "--to", "2027-12-31", "--at", AT, cwd=project)
    assert result.exit_code == 0, result.stderr
    assert (project / "pins.yaml").read_bytes() == crlf.replace(
        b"2027-01-31", b"2027-12-31"
    ).replace(b"'2027-02-28'", b"'2027-12-31'")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", dt.date(2027, 3, 4)),
        ("6w", dt.date(2027, 1, 15)),
        ("12m", dt.date(2027, 12, 4)),
        ("1y", dt.date(2027, 12, 4)),
        ("2Y", dt.date(2028, 12, 4)),
    ],
)
def test_durations(text: str, expected: dt.date) -> None:
    assert parse_duration(text, dt.date(2026, 12, 4)) == expected


def test_a_month_later_lands_on_the_last_day_of_a_shorter_month() -> None:
    assert parse_duration("1m", dt.date(2027, 1, 31)) == dt.date(2027, 2, 28)
    assert parse_duration("1m", dt.date(2028, 1, 31)) == dt.date(2028, 2, 29)


def test_an_inserted_line_ends_as_the_file_s_lines_do(run_pingen: CliRunner, project: Path) -> None:
    (project / "pins.yaml").write_bytes(HAND_WRITTEN.replace("\n", "\r\n").encode())
    result = run_pingen(
        "expires", "--to", "2027-12-31", "--domain", "api.example.com", "--at", AT, cwd=project
    )
    assert result.exit_code == 0, result.stderr
    assert (
        b"# the API\r\n    expires: 2027-12-31\r\n    pins:" in (project / "pins.yaml").read_bytes()
    )


def test_a_date_already_past_is_moved(run_pingen: CliRunner, project: Path) -> None:
    """`build` refuses a past `expires`; `pingen expires` is the way out, so it must read
    the file that has one (and still refuse to leave a past date behind)."""
    past = HAND_WRITTEN.replace("2027-01-31", "2026-11-30")
    (project / "pins.yaml").write_text(past)
    result = run_pingen("expires", "--extend", "12m", "--at", AT, cwd=project)
    assert result.exit_code == 0, result.stderr
    assert "+  expires:   2027-12-04      # bump each release" in result.stdout
    assert run_pingen("build", "--at", AT, cwd=project).exit_code == 0

    (project / "pins.yaml").write_text(past)
    one = run_pingen(
        "expires", "--to", "2027-12-31", "--domain", "cdn.example.com", "--at", AT, cwd=project
    )
    assert one.exit_code == 2
    assert "pins.yaml:5:14: `expires: 2026-11-30` is not in the future" in one.stderr
    assert "Traceback" not in one.stderr
    assert (project / "pins.yaml").read_text() == past
