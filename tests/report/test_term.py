"""Terminal manners: the progress counter the fetching commands share."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pingen.report.term import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@dataclass(frozen=True)
class _Result:
    host: str


def test_counter_counts_each_host_and_clears_the_line_at_the_end() -> None:
    stream = _Terminal()
    with Progress(stream=stream) as progress:
        step = progress.counter("verify", 2)
        step(_Result("a.example"))
        step(_Result("b.example"))
    assert stream.getvalue() == (
        "\rverify: 1/2 a.example\rverify: 2/2 b.example\r" + " " * 21 + "\r"
    )


def test_counter_is_silent_off_a_terminal_and_when_quiet() -> None:
    for stream, quiet in ((io.StringIO(), False), (_Terminal(), True)):
        with Progress(quiet=quiet, stream=stream) as progress:
            progress.counter("verify", 1)(_Result("a.example"))
        assert stream.getvalue() == ""
