"""The field table as text: for `packets --list-fields` / `--help`, and the
Markdown list pasted in the README (a test keeps the two equal)."""

from __future__ import annotations

from .fields import ANALYSIS, FIELD_TABLE, OURS, WIRESHARK, FieldSpec

_SECTIONS = ((WIRESHARK, "Wireshark's fields (tshark 4.0 names and meanings)"),
             (OURS, "mipv6scope's, from the frame"),
             (ANALYSIS, "mipv6scope's, from the analysis (the command runs it first)"))

SYNTAX = (
    "Operators: == != === !== < <= > >= (eq ne all_eq any_ne lt le gt ge), "
    "in {a, b, lo..hi}, contains, matches (~); and/&&, or/||, not/!, parentheses; "
    "not binds tighter than and, and tighter than or. A field alone tests that it is present. "
    "On fields with several values (tunnel levels): == is true if any value matches, "
    "!= if all differ."
)


def _group(origin: str) -> list[FieldSpec]:
    return [f for f in FIELD_TABLE if f.origin == origin]


def field_table_text() -> str:
    """The fields as aligned plain text: name, type, description."""
    width = max(len(f.name) for f in FIELD_TABLE) + 2
    lines: list[str] = []
    for origin, title in _SECTIONS:
        lines.append(f"{title}:")
        for f in _group(origin):
            lines.append(f"  {f.name:<{width}}{f.type:<10}{f.description}")
        lines.append("")
    lines.append(SYNTAX)
    return "\n".join(lines)


def readme_field_list() -> str:
    """The fields as the README's Markdown table (one row per field)."""
    lines = ["| field | type | meaning |", "|---|---|---|"]
    for origin, title in _SECTIONS:
        lines.append(f"| **{title}** | | |")
        for f in _group(origin):
            lines.append(f"| `{f.name}` | {f.type} | {f.description.replace('|', '&#124;')} |")
    return "\n".join(lines)
