"""How a VerifyReport reads: a compact text table, the stable json for bots, markdown
for a pull-request comment. Same report, same bytes (no times, no colour unless asked).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from json.encoder import encode_basestring
from typing import TYPE_CHECKING

from pingen.judge.findings import Status
from pingen.report.term import paint
from pingen.textsafe import json_text, one_line

if TYPE_CHECKING:
    from pingen.judge.domain import ChainEntry, DomainReport
    from pingen.judge.verify import VerifyReport


def render(report: VerifyReport, output_format: str, *, colour: bool = False) -> str:
    if output_format == "json":
        return render_json(report)
    if output_format == "markdown":
        return render_markdown(report)
    return render_text(report, colour=colour)


def render_json(report: VerifyReport) -> str:
    """The report as `json.dumps(report.as_json(), indent=2, ensure_ascii=False)` writes
    it. The chain entry of a CA certificate is one object in every domain it serves
    (pingen.judge.domain describes each certificate once): it is written once."""
    shared: dict[int, _Shared] = {}  # by the entry's id: the report keeps them alive

    def entry_json(entry: ChainEntry) -> _Shared:
        found = shared.get(id(entry))
        if found is None:
            found = shared[id(entry)] = _Shared(entry.as_json())
        return found

    return json_text(indented_json(report.as_json(entry_json))) + "\n"


class _Shared:
    """A value written in many places of one document: its text is made once per
    indentation."""

    __slots__ = ("texts", "value")

    def __init__(self, value: object) -> None:
        self.value = value
        self.texts: dict[str, str] = {}

    def text(self, newline: str) -> str:
        found = self.texts.get(newline)
        if found is None:
            parts: list[str] = []
            _indented(self.value, newline, parts.append)
            found = self.texts[newline] = "".join(parts)
        return found


def indented_json(value: object) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False)`, byte for byte, in about half
    the time: with `indent`, json.dumps leaves its C encoder for a generic generator
    chain, and a 500-domain verify report (half a megabyte) spent 10 ms in it. Strings
    still go through json's own (C) escaper; a value of another type (a float) through
    json.dumps itself."""
    parts: list[str] = []
    _indented(value, "\n", parts.append)
    return "".join(parts)


def _indented(value: object, newline: str, write: Callable[[str], object]) -> None:
    if isinstance(value, str):
        write(encode_basestring(value))
    elif isinstance(value, dict):
        if not value:
            write("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            # json.dumps writes a key that is not a string as its JSON text, quoted
            name = encode_basestring(key if isinstance(key, str) else json.dumps(key))
            if isinstance(item, str):  # most values: one write, no call
                write(f"{separator}{name}: {encode_basestring(item)}")
            else:
                write(f"{separator}{name}: ")
                _indented(item, inner, write)
            separator = "," + inner
        write(newline + "}")
    elif isinstance(value, list | tuple):
        if not value:
            write("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            write(separator)
            _indented(item, inner, write)
            separator = "," + inner
        write(newline + "]")
    elif isinstance(value, _Shared):
        write(value.text(newline))
    elif value is None or isinstance(value, bool) or not isinstance(value, int):
        write(json.dumps(value, ensure_ascii=False))  # null, true, false, a float
    else:
        write(int.__repr__(value))


def matched_text(domain: DomainReport) -> str:
    """`root ISRG Root X1, leaf 'backup'`: where each matching pin sits, for people."""
    if not domain.matched:
        return "-"
    names = {entry.sha256: entry.name for entry in domain.chain}
    return ", ".join(
        f"{match.level.value} {match.label or names.get(match.sha256, match.sha256)}"
        for match in domain.matched
    )


def summary_text(report: VerifyReport) -> str:
    counts = ", ".join(f"{count} {status}" for status, count in report.summary.items())
    noun = "domain" if len(report.domains) == 1 else "domains"
    return f"{len(report.domains)} {noun}: {counts}"


def _style(text: str, status: Status, colour: bool) -> str:

    return paint(text, status.value, colour)


def render_text(report: VerifyReport, *, colour: bool = False, only_problems: bool = False) -> str:
    """The table, each problem's details and the summary. `only_problems` (verify -q)
    leaves out the domains without problems, and is "" when every domain is ok; the
    summary still counts every domain checked."""
    shown = [d for d in report.domains if d.problems or not only_problems]
    if not shown:
        return ""
    header = ("STATUS", "DOMAIN", "MATCHED", "PROBLEMS")
    # certificate names and labels are data: shown escaped, one line each
    rows = [
        (
            d.status.value,
            one_line(d.domain),
            one_line(matched_text(d)),
            ", ".join(p.code for p in d.problems) or "-",
        )
        for d in shown
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    lines = [_row(header, widths)]
    for d, row in zip(shown, rows, strict=True):
        lines.append(_row(row, widths, partial(_style, status=d.status, colour=colour)))
    for d in shown:
        if d.problems:
            lines += ["", *_details(d, colour)]
    lines += ["", summary_text(report)]
    return "\n".join(lines) + "\n"


def _row(
    cells: tuple[str, ...], widths: list[int], paint_status: Callable[[str], str] = str
) -> str:
    padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
    padded[0] = paint_status(padded[0])
    return "  ".join([*padded, *cells[len(widths) :]]).rstrip()


def _details(domain: DomainReport, colour: bool) -> list[str]:
    lines = [one_line(f"{domain.domain} ({domain.address}):")]
    for problem in domain.problems:
        severity = _style(problem.severity.value, _status_of_severity(problem.severity), colour)
        lines.append(f"  {severity} {problem.code}: {one_line(problem.message)}")
    return lines


def _status_of_severity(severity: str) -> Status:
    return {"warning": Status.WARN, "fail": Status.FAIL}.get(severity, Status.ERROR)


_MARK = {
    Status.OK: "✅ ok",
    Status.WARN: "⚠️ warn",
    Status.FAIL: "❌ fail",
    Status.ERROR: "⛔ error",
}


def render_markdown(report: VerifyReport) -> str:
    from pingen.report.markdown import md_code, md_message, md_text

    lines = [
        "### pingen verify",
        "",
        f"{summary_text(report)}",
        "",
        "| status | domain | matched | problems |",
        "|---|---|---|---|",
    ]
    for d in report.domains:
        codes = ", ".join(f"`{p.code}`" for p in d.problems) or "-"
        lines.append(
            f"| {_MARK[d.status]} | {md_code(d.domain, in_table=True)} | "
            f"{md_text(matched_text(d))} | {codes} |"
        )
    for d in report.domains:
        if not d.problems:
            continue
        lines += ["", f"**{md_text(d.domain)}** ({md_text(d.address)})", ""]
        lines += [
            f"- **{p.severity.value}** `{p.code}`: {md_message(p.message)}" for p in d.problems
        ]
    return "\n".join(lines) + "\n"
