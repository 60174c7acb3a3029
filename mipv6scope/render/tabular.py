"""Rows out: aligned text tables and streamed json / jsonl / csv.

Every view turns the Report into rows (plain dicts whose keys are the view's
columns) and hands them here. Nothing in this module decodes or analyses.

* ``write_rows(rows, columns, fmt, stream)`` streams rows from any iterable:
  json as one array written element by element, jsonl one object a line, csv
  a header (always, even for no rows) then one line per row via `csv`.
  Values inside a csv cell that are lists are joined with ``;`` (a dict inside
  such a list as its values joined with ``|``), so a cell stays one field.
* ``text_table(rows, columns)`` is the aligned text: a header, a rule, one
  line per row; times through `clock`, numbers right-aligned. Every cell is
  `safe_text.visible` (no control or bidi character reaches the terminal).
* ``csv_cell(value)`` is the one function every csv writer passes a cell
  through: lists and dicts flattened, text `visible` and, when it begins
  with ``=``, ``+``, ``-``, ``@``, tab or CR, prefixed with ``'`` (OWASP
  CSV injection); real numbers (int, float) stay numbers, negative ones too.
* Times that cannot be a date (negative, past year 9999, nan/inf) show as
  raw seconds (``clock``, ``day``), never an exception.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from ..safe_text import format_utc, visible

RECORD_FORMATS = ("json", "jsonl", "csv")


@dataclass(frozen=True)
class Column:
    """One column of a view: the row key, its text heading, how text shows it."""

    key: str
    heading: str | None = None
    show: Callable[[Any], str] | None = None
    right: bool = False

    @property
    def title(self) -> str:
        """The text heading (the key when none was given)."""
        return self.heading if self.heading is not None else self.key


def clock(ts: float | None) -> str:
    """Epoch seconds as UTC time of day with milliseconds; '-' for None."""
    if ts is None:
        return "-"
    return format_utc(ts, "%H:%M:%S.%f", trim=3)


def day(ts: float | None) -> str:
    """The UTC date of ``ts`` (YYYY-MM-DD), or '-' (raw seconds when no date can show it)."""
    if ts is None:
        return "-"
    return format_utc(ts, "%Y-%m-%d")


def plain(value: Any) -> str:
    """A cell as text: '-' for None, lists joined with ',' and floats trimmed."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) < 1e9 else f"{value:.6f}"
    if isinstance(value, (list, tuple)):
        return ",".join(plain(v) for v in value) if value else "-"
    return str(value)


def text_table(rows: Iterable[dict[str, Any]], columns: Sequence[Column], indent: str = "") -> str:
    """The rows as an aligned table (header, rule, rows); '' for no rows."""
    cells = [[visible((c.show or plain)(row.get(c.key))) for c in columns] for row in rows]
    if not cells:
        return ""
    widths = [max(len(c.title), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if c.right else v.ljust(w) for v, w, c in zip(values, widths, columns, strict=True)]
        return (indent + "  ".join(parts)).rstrip()

    out = [line([c.title for c in columns]), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out) + "\n"


CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: a spreadsheet may run such a cell


def _flat(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "|".join("" if v is None else str(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return ";".join(str(_flat(v)) for v in value)
    return value


def csv_cell(value: Any) -> Any:
    """A value for one csv field: None -> empty, lists joined with ``;`` (a
    dict's values with ``|``), text `visible` and prefixed with ``'`` when it
    begins with ``=``, ``+``, ``-``, ``@``, tab or CR; an int or float stays a
    number (``-5`` too), a bool stays a bool."""
    if isinstance(value, (bool, int, float)):
        return value
    flat = _flat(value)
    if not isinstance(flat, str):
        flat = str(flat)
    text = visible(flat)
    if flat.startswith(CSV_TRIGGERS) or text.startswith(CSV_TRIGGERS):
        return "'" + text
    return text


def csv_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record with every value through `csv_cell` (for ``csv.DictWriter``)."""
    return {key: csv_cell(value) for key, value in record.items()}


def write_rows(rows: Iterable[dict[str, Any]], columns: Sequence[str], fmt: str, stream: IO[str]) -> int:
    """Stream ``rows`` to ``stream`` as json, jsonl or csv; returns the row count."""
    n = 0
    if fmt == "json":
        stream.write("[")
        for row in rows:
            stream.write(("," if n else "") + "\n  " + json.dumps(row))
            n += 1
        stream.write("\n]\n" if n else "]\n")
    elif fmt == "jsonl":
        for row in rows:
            stream.write(json.dumps(row, separators=(",", ":")) + "\n")
            n += 1
    elif fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
            n += 1
    else:
        raise ValueError(f"not a record format: {fmt}")
    return n
