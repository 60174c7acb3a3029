"""The report's JSON text, made a piece at a time.

`json_chunks(report)` yields the exact text of
``json.dumps(report.to_dict(), indent=2)``, but never holds the whole dict:
the top-level keys are written one by one and each element of a top-level
array (a mobile node, a tunnel, a finding, a signalling message) is turned
into its dict, encoded and dropped before the next. For a report of 100,000
nodes the dict copy and its text were most of `report --format json`'s peak
memory.

The text is the standard library's: each piece is ``json.dumps(piece,
indent=2)`` re-indented to its depth (a JSON string never holds a raw
newline, so indenting every line of a piece is exact).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

from .model import Report, _jsonable

_KEY_INDENT = "\n  "
_ELEMENT_INDENT = "\n    "


def _encode(value: Any, indent: str) -> str:
    """``value`` (JSON-ready) as indent=2 text whose lines after the first start with ``indent``."""
    return json.dumps(value, indent=2).replace("\n", indent)


def json_chunks(report: Report) -> Iterator[str]:
    """``json.dumps(report.to_dict(), indent=2)``, in pieces (see the module docstring)."""
    names = [f.name for f in fields(report)]
    yield "{"
    for i, name in enumerate(names):
        yield ("," if i else "") + _KEY_INDENT + json.dumps(name) + ": "
        value = getattr(report, name)
        if isinstance(value, tuple) and value:
            yield "["
            for j, element in enumerate(value):
                yield ("," if j else "") + _ELEMENT_INDENT + _encode(_jsonable(element), _ELEMENT_INDENT)
            yield _KEY_INDENT + "]"
        else:
            yield _encode(_jsonable(value), _KEY_INDENT)
    yield "\n}" if names else "}"
