"""What a coloured text view colours: severities, failures and packets lost.

`style_text` takes the plain text a renderer made and returns it as a
`rich.text.Text` with styles on spans; the characters are unchanged, so the
coloured view reads exactly like the plain one. Tables are found by their
rule line (dashes under each column header): a cell is styled by its
column's header (``severity``; ``lost`` and ``maybe lost``; ``ended by``;
``outcome``: a handoff that did not complete; ``status``: a BA status of 128
or more, RFC 6275 6.1.8, or any BE status; ``outside binding``). Lines outside tables: a summary's finding lines (by their
severity word), "N packets lost", "PARTIAL" and capture issues.
"""

from __future__ import annotations

import re

from rich.text import Text

SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}
FAILURE = "bold red"
LOST = "red"
WARN = "yellow"
FAILED_OUTCOMES = frozenset({"rejected", "no_answer", "superseded"})
BA_REJECTED_FROM = 128  # RFC 6275 6.1.8: status values of 128 and above reject the BU

_RULE = re.compile(r"^\s*-+(?:\s+-+)*\s*$")
_DASHES = re.compile(r"-+")
_FINDING_LINE = re.compile(r"^\s+(error|warning|info)\s")
_LOST = re.compile(r"\b[1-9]\d* packets? lost\b[^,]*")
_FAILURE_WORDS = re.compile(r"PARTIAL[^)]*|capture issue:.*|\binterrupted\b")


def _int(cell: str) -> int | None:
    try:
        return int(cell.strip())
    except ValueError:
        return None


def _cell_style(column: str, cell: str, row: dict[str, str]) -> str | None:
    value = cell.strip()
    if column == "severity":
        return SEVERITY_STYLES.get(value)
    if column == "lost":
        return LOST if (_int(value) or 0) > 0 else None
    if column == "maybe lost":
        return WARN if (_int(value) or 0) > 0 else None
    if column == "outcome":
        return FAILURE if value.split(" ", 1)[0] in FAILED_OUTCOMES else None
    if column in ("ended by", "status name") and value.startswith("rejected"):
        return FAILURE
    if column == "status":
        status = _int(value)
        if status is None:
            return None
        kind = row.get("kind", "").strip().upper()
        return FAILURE if kind == "BE" or status >= BA_REJECTED_FROM else None
    if column == "outside binding":
        return WARN if (_int(value) or 0) > 0 else None
    return None


def style_text(text: str) -> Text:
    """``text`` with its severities, failures and losses styled."""
    styled = Text(text)
    lines = text.split("\n")
    offset = 0
    columns: list[tuple[str, int, int]] = []
    for i, line in enumerate(lines):
        if _RULE.match(line) and i > 0 and lines[i - 1].strip():
            header = lines[i - 1]
            columns = [(header[m.start():m.end()].strip().lower(), m.start(), m.end())
                       for m in _DASHES.finditer(line)]
        elif not line.strip():
            columns = []
        elif columns:
            row = {name: line[start:end] for name, start, end in columns}
            for name, start, _end in columns:
                cell = row[name]
                style = _cell_style(name, cell, row)
                if style is not None and cell.strip():
                    first = start + len(cell) - len(cell.lstrip())
                    styled.stylize(style, offset + first, offset + start + len(cell.rstrip()))
        else:
            _style_line(styled, line, offset)
        offset += len(line) + 1
    return styled


def _style_line(styled: Text, line: str, offset: int) -> None:
    finding = _FINDING_LINE.match(line)
    if finding:
        styled.stylize(SEVERITY_STYLES[finding.group(1)], offset + finding.start(1),
                       offset + finding.end(1))
    for match in _LOST.finditer(line):
        styled.stylize(LOST, offset + match.start(), offset + match.end())
    for match in _FAILURE_WORDS.finditer(line):
        styled.stylize(FAILURE, offset + match.start(), offset + match.end())
