"""Data in GitHub Markdown (pull request bodies, job summaries, comments) made inert.

A label, a path or a certificate name comes from a pull request or a server: it must
not open HTML (`<img onerror>`, `<details>`), mention people or teams (`@user`), link
issues (`#1`), become a link (`https://…`, `www.…`), reverse the text around it
(U+202E) or end a table cell or a code span early.
"""

from __future__ import annotations

import re
import sys

from pingen.textsafe import one_line

# Inline Markdown that could change how a line reads: each gets a backslash. (A `.`,
# `-` or `+` means something only at the start of a line, and our lines never start
# with data.)
_MD_SPECIAL = frozenset("\\`*_[]!|~")

# A zero-width space after `@` and `#` keeps GitHub from reading a mention or an issue
# reference; dependabot does the same for its pull request bodies
# (dependabot/dependabot-core@05c98de7cafaa61734a92b60fcec83665ba72abc:common/lib/
# dependabot/pull_request_creator/message_builder/link_and_mention_sanitizer.rb#L220).
_ZERO_WIDTH_SPACE = "&#8203;"
_HTML = {
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
    '"': "&quot;",
    "'": "&#39;",
    "@": "@" + _ZERO_WIDTH_SPACE,
    "#": "#" + _ZERO_WIDTH_SPACE,
}
# GitHub's autolinks: `scheme://…` and `www.…` (GFM spec, "Autolinks (extension)").
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)")


def md_text(text: str) -> str:
    """Data as Markdown text: one line, HTML-escaped, no Markdown, mention, issue
    reference, autolink or control character left live."""
    flat = one_line(re.sub(r"\s+", " ", text))
    escaped = "".join(_HTML.get(c) or (f"\\{c}" if c in _MD_SPECIAL else c) for c in flat)
    return _AUTOLINK.sub(_ZERO_WIDTH_SPACE, escaped)


def md_message(text: str) -> str:
    """One of our messages: its `code spans` kept, everything else made inert."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick (from a label): no code spans
        return md_text(text)
    return "".join(md_code(part) if i % 2 else md_text(part) for i, part in enumerate(parts))


def md_code(text: str, *, in_table: bool = False) -> str:
    """Data in a code span: a fence longer than its longest run of backticks, so no
    backtick inside can end it, and control characters shown escaped. `in_table`: a
    `|` would end the table cell even inside a code span (GFM), so it is escaped."""
    flat = one_line(" ".join(text.split()))
    if in_table:
        flat = flat.replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", flat)), default=0)
    fence = "`" * (longest + 1)
    # A space on each side (CommonMark strips one) lets the span start or end with `.
    return f"{fence} {flat} {fence}" if longest else f"{fence}{flat}{fence}"


def regenerated_files(porcelain: bytes) -> str:
    """The Action's list of the files a build changed, from `git status --porcelain=v1
    -z` (each entry `XY path`, NUL-ended, names unquoted); "" when there are none."""
    entries = [entry for entry in porcelain.split(b"\0") if len(entry) > 3]
    if not entries:
        return ""
    paths = [entry[3:].decode("utf-8", "surrogateescape") for entry in entries]
    return (
        "\n".join(["", "#### Regenerated files", "", *(f"- {md_code(path)}" for path in paths)])
        + "\n"
    )


def main(argv: list[str]) -> int:
    """`python -m pingen.report.markdown regenerated-files` (the Action's update step)."""

    if argv != ["regenerated-files"]:
        print(
            "usage: python -m pingen.report.markdown regenerated-files < porcelain", file=sys.stderr
        )
        return 2
    sys.stdout.write(regenerated_files(sys.stdin.buffer.read()))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
