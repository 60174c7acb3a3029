"""The report's JSON text, made a piece at a time.

`json_chunks(report)` yields the exact text of
``json.dumps(report.to_dict(), indent=2)``, but never holds the whole dict:
the top-level keys are written one by one and each element of a top-level
array (a mobile node, a tunnel, a finding, a signalling message) is encoded
and dropped before the next. For a report of 100,000 nodes the dict copy and
its text were most of `report --format json`'s peak memory.

The records are encoded straight from the report's dataclasses, the way
``to_dict()`` turns them into values (addresses as text, tuples as lists) and
``json.dumps(..., indent=2)`` writes those values: the standard library's
string escaping (``encode_basestring_ascii``), float and integer texts, its
"NaN"/"Infinity", separators and indentation. That is 2-3 times faster than
building the dict and running the standard library's pure-Python indenting
encoder (the C encoder has no indent). tests/report/test_json_text.py holds
it to ``json.dumps`` on every sample capture and on generated reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from ipaddress import IPv6Address
from json.encoder import encode_basestring_ascii
from typing import Any

from .model import Report

_INDENT = "  "
_INFINITY = float("inf")
_FIELD_NAMES: dict[type, tuple[tuple[str, str], ...]] = {}  # class -> (field, its encoded key)


def _float_text(value: float) -> str:
    """A float as json.dumps writes it (allow_nan: NaN, Infinity, -Infinity)."""
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key_text(key: Any) -> str:
    """A dict key as json.dumps writes it (a string; addresses as text first, as ``to_dict()``)."""
    if isinstance(key, str):
        return encode_basestring_ascii(key)
    if isinstance(key, IPv6Address):
        return encode_basestring_ascii(str(key))
    if isinstance(key, float):
        return '"' + _float_text(key) + '"'
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return '"' + int.__repr__(key) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _names(cls: type) -> tuple[tuple[str, str], ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple((f.name, encode_basestring_ascii(f.name) + ": ")
                                          for f in fields(cls))
    return names


def _encode(value: Any, out: list[str], newline: str) -> None:
    """Append the indent=2 text of ``value`` to ``out``; ``newline`` is a line
    break and the indentation of the line ``value`` starts on."""
    if isinstance(value, str):
        out.append(encode_basestring_ascii(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float_text(value))
    elif isinstance(value, IPv6Address):
        out.append(encode_basestring_ascii(str(value)))
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + _INDENT
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _encode(item, out, inner)
            separator = "," + inner
        out.append(newline + "]")
    elif hasattr(type(value), "__dataclass_fields__"):
        names = _names(type(value))
        if not names:
            out.append("{}")
            return
        inner = newline + _INDENT
        separator = "{" + inner
        for name, key in names:
            out.append(separator + key)
            _encode(getattr(value, name), out, inner)
            separator = "," + inner
        out.append(newline + "}")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + _INDENT
        separator = "{" + inner
        for key, item in value.items():
            out.append(separator + _key_text(key) + ": ")
            _encode(item, out, inner)
            separator = "," + inner
        out.append(newline + "}")
    else:
        raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _text(value: Any, newline: str) -> str:
    out: list[str] = []
    _encode(value, out, newline)
    return "".join(out)


def json_chunks(report: Report) -> Iterator[str]:
    """``json.dumps(report.to_dict(), indent=2)``, in pieces (see the module docstring)."""
    names = _names(Report)
    key_line, element_line = "\n" + _INDENT, "\n" + _INDENT * 2
    yield "{"
    for i, (name, key) in enumerate(names):
        yield ("," if i else "") + key_line + key
        value = getattr(report, name)
        if isinstance(value, tuple) and value:
            yield "["
            for j, element in enumerate(value):
                yield ("," if j else "") + element_line + _text(element, element_line)
            yield key_line + "]"
        else:
            yield _text(value, key_line)
    yield "\n}" if names else "}"
