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
encoder (the C encoder has no indent). Each dataclass gets an encoder of its
own for each indentation, generated once (`_record_encoder`): one f-string
of its keys, line breaks and field texts, each field's text by a test of the
exact type its annotation declares (a str, an int, an address, None, a
tuple...) and that type's text, else by the text function of the value's
exact type (`_SCALARS`, `_NESTED`); only lists, dicts and nested records
recurse. A node's addresses repeat across its bindings and registrations,
so the last addresses' texts are remembered. tests/report/test_json_text.py holds it to ``json.dumps`` on
every sample capture and on generated reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields
from ipaddress import IPv6Address
from json.encoder import encode_basestring_ascii
from typing import Any

from ..decode.addresses import Address
from .model import Report

_INDENT = "  "
_INFINITY = float("inf")
_FIELD_NAMES: dict[type, tuple[tuple[str, str], ...]] = {}  # class -> (field, its encoded key)


_FLOAT_TEXTS_MAX = 1 << 16
_float_texts: dict[float, str] = {}


def _float_text(value: float) -> str:
    """A float as json.dumps writes it (allow_nan: NaN, Infinity, -Infinity).
    The texts are remembered: a message's time is also its registration's
    and its binding's, and ``repr`` of a float is slow."""
    text = _float_texts.get(value)
    if text is not None:
        return text
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    text = float.__repr__(value)
    if value:  # not 0.0 or -0.0: they are one key but two texts
        if len(_float_texts) >= _FLOAT_TEXTS_MAX:
            _float_texts.clear()
        _float_texts[value] = text
    return text


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


_ADDRESS_TEXTS_MAX = 1 << 14
_address_texts: dict[IPv6Address, str] = {}


def _address_text(value: IPv6Address) -> str:
    """The JSON text of a plain address (remembered: a node's addresses repeat,
    and ``ipaddress`` makes the text slowly)."""
    text = _address_texts.get(value)
    if text is None:
        if len(_address_texts) >= _ADDRESS_TEXTS_MAX:
            _address_texts.clear()
        text = _address_texts[value] = encode_basestring_ascii(str(value))
    return text


def _shared_address_text(value: Address) -> str:
    """The JSON text of a decoder's `Address`: the text it keeps, quoted
    (hex digits, colons and dots: nothing to escape, but in a scope)."""
    if value._scope_id is None:
        return f'"{value._text or str(value)}"'
    return _any_address_text(value)


def _any_address_text(value: IPv6Address) -> str:
    """The JSON text of any address (not remembered)."""
    return encode_basestring_ascii(str(value))


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _null_text(_value: None) -> str:
    return "null"


# The text of a value by its exact type; any other type goes through `_nested`.
_SCALARS: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii, int: int.__repr__, float: _float_text, bool: _bool_text,
    type(None): _null_text, IPv6Address: _address_text, Address: _shared_address_text,
}
# ``text(value, newline)`` by the exact type of a value not in `_SCALARS`
# (lists, dicts, records, subclasses of the plain types), found once a type (`_nested_text_of`)
_NESTED: dict[type, Callable[[Any, str], str]] = {}
_RECORD_ENCODERS: dict[tuple[type, str], Callable[[Any], str]] = {}


def _record_encoder(cls: type, newline: str) -> Callable[[Any], str]:
    """``text(value)``: the text of an instance of the dataclass ``cls`` that
    starts on a line ``newline`` ends: one f-string of the keys and line
    breaks (constants ``k0``, ``k1``...) and each field's text, that of its
    declared type where the value has it (`_field_expression`), else `_text`."""
    encoder = _RECORD_ENCODERS.get((cls, newline))
    if encoder is not None:
        return encoder
    names = _names(cls)
    if not names:
        def encoder(_value: Any) -> str:
            return "{}"
    else:
        inner = newline + _INDENT
        scope: dict[str, Any] = {f"k{i}": ("{" if i == 0 else ",") + inner + key
                                 for i, (_name, key) in enumerate(names)}
        scope["end"] = newline + "}"
        lines = ["def encoder(value):"]
        for i, ((name, _key), hint) in enumerate(zip(names, _hints(cls), strict=True)):
            lines += [f"    x = value.{name}", f"    s{i} = {_field_expression(hint)}"]
        lines.append(f"    return f\"{''.join(f'{{k{i}}}{{s{i}}}' for i in range(len(names)))}{{end}}\"")
        scope |= {"inner": inner, "text": _text, "esc": encode_basestring_ascii, "int_repr": int.__repr__,
                 "floats": _float_texts, "float_text": _float_text, "Address": Address,
                 "address_text": _shared_address_text, "list_text": _list_text,
                 "dict_text": _dict_text}
        exec("\n".join(lines), scope)  # noqa: S102 - generated from the dataclass's field names
        encoder = scope["encoder"]
    _RECORD_ENCODERS[(cls, newline)] = encoder
    return encoder


# A field's declared type -> the test and text of that type's values, tried
# before the general `_text`: the same text, fewer calls for the usual values.
_FAST_PATHS = {
    "None": ("x is None", '"null"'),
    "str": ("type(x) is str", "esc(x)"),
    "int": ("type(x) is int", "int_repr(x)"),
    "float": ("type(x) is float", "(floats.get(x) or float_text(x))"),
    "bool": ("x is True", '"true"'),
    "IPv6Address": ("type(x) is Address", "address_text(x)"),
}


def _field_expression(hint: str) -> str:
    """The text of a field's value ``x``: for each type ``hint`` (a dataclass
    field's annotation text) names, a test of the exact type and its text
    (`_FAST_PATHS`; a tuple's is `_list_text`, a dict's `_dict_text`), and
    `_text` for any other value."""
    expression = "text(x, inner)"
    for part in reversed(hint.split(" | ")):
        if part == "bool":
            expression = f'"false" if x is False else {expression}'
        if part.startswith("tuple["):
            expression = f"list_text(x, inner) if type(x) is tuple else {expression}"
        elif part.startswith("dict["):
            expression = f"dict_text(x, inner) if type(x) is dict else {expression}"
        elif part in _FAST_PATHS:
            test, text = _FAST_PATHS[part]
            expression = f"{text} if {test} else {expression}"
    return expression


def _hints(cls: type) -> list[str]:
    """The annotation text of each field of the dataclass ``cls`` ("" if not text)."""
    return [f.type if isinstance(f.type, str) else "" for f in fields(cls)]


def _names(cls: type) -> tuple[tuple[str, str], ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple((f.name, encode_basestring_ascii(f.name) + ": ")
                                          for f in fields(cls))
    return names


def _text(value: Any, newline: str) -> str:
    """The indent=2 text of ``value``; ``newline`` is a line break and the
    indentation of the line ``value`` starts on."""
    text = _SCALARS.get(type(value))
    if text is not None:
        return text(value)
    return _nested(value, newline)


def _nested(value: Any, newline: str) -> str:
    """`_text` of a value whose type is not in `_SCALARS`."""
    text = _NESTED.get(type(value))
    if text is None:
        text = _NESTED[type(value)] = _nested_text_of(type(value))
    return text(value, newline)


def _nested_text_of(cls: type) -> Callable[[Any, str], str]:
    """The text function of instances of ``cls`` (not in `_SCALARS`), chosen
    as ``to_dict()`` and ``json.dumps`` treat them: subclasses of str, int,
    float and IPv6Address as those, lists and tuples, dataclass records,
    dicts; anything else raises TypeError."""
    if issubclass(cls, str):
        return _subclass_text(encode_basestring_ascii)
    if issubclass(cls, int):  # bool is final: only int subclasses get here
        return _subclass_text(int.__repr__)
    if issubclass(cls, float):
        return _subclass_text(_float_text)
    if issubclass(cls, IPv6Address):  # its own text, not one remembered for an equal address
        return _subclass_text(_any_address_text)
    if issubclass(cls, (list, tuple)):
        return _list_text
    if hasattr(cls, "__dataclass_fields__"):
        return _record_text
    if issubclass(cls, dict):
        return _dict_text
    return _not_serializable


def _subclass_text(text: Callable[[Any], str]) -> Callable[[Any, str], str]:
    def subclass_text(value: Any, _newline: str) -> str:
        return text(value)
    return subclass_text


def _not_serializable(value: Any, _newline: str) -> str:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _list_text(value: list | tuple, newline: str) -> str:
    if not value:
        return "[]"
    inner = newline + _INDENT
    if len(value) == 1:  # most of a node's lists: one care-of address, binding, registration
        return f"[{inner}{_item_text(value[0], inner)}{newline}]"
    return "[" + inner + ("," + inner).join([_item_text(item, inner) for item in value]) + newline + "]"


def _item_text(item: Any, newline: str) -> str:
    """`_text` of a list's element: a scalar's, else a record's encoder when
    one was made for its class and indentation, else `_nested`."""
    text = _SCALARS.get(type(item))
    if text is not None:
        return text(item)
    encoder = _RECORD_ENCODERS.get((type(item), newline))
    return encoder(item) if encoder is not None else _nested(item, newline)


def _record_text(value: Any, newline: str) -> str:
    return _record_encoder(type(value), newline)(value)


def _dict_text(value: dict, newline: str) -> str:
    if not value:
        return "{}"
    inner = newline + _INDENT
    return ("{" + inner
            + ("," + inner).join(_key_text(key) + ": " + _text(item, inner) for key, item in value.items())
            + newline + "}")


def _element_text(cls: type, newline: str) -> Callable[[Any], str]:
    """``text(value)``: `_text` of values of the type ``cls`` starting on a
    line ``newline`` ends, found once (a record's is its encoder)."""
    scalar = _SCALARS.get(cls)
    if scalar is not None:
        return scalar
    if _NESTED.setdefault(cls, _nested_text_of(cls)) is _record_text:
        return _record_encoder(cls, newline)
    return lambda value: _nested(value, newline)


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
            cls = type(value[0])
            text = _element_text(cls, element_line)
            for j, element in enumerate(value):
                if type(element) is not cls:  # the elements of an array are records of one class
                    cls = type(element)
                    text = _element_text(cls, element_line)
                yield ("," if j else "") + element_line + text(element)
            yield key_line + "]"
        else:
            yield _text(value, key_line)
    yield "\n}" if names else "}"
