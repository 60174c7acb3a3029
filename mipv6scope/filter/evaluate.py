"""Compile a display filter into Python closures and evaluate it on frames.

Multi-valued fields (``ipv6.addr`` over tunnel levels, ``udp.port``, ``mn``)
follow tshark 4.0: ``==``, ``<`` ..., ``in``, ``contains`` and ``matches`` are
true when ANY value satisfies them; ``!=`` when ALL values differ; ``===``
when all are equal and ``!==`` when any differs. A test on an absent field is
false, whatever the operator (so ``!=`` is not the negation of ``==``: use
``!(a == b)`` for that, as in Wireshark).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from ipaddress import IPv6Address, IPv6Network, ip_network
from typing import Any

from ..decode.model import DecodedFrame
from .context import FilterContext, NodeRef
from .errors import FilterError
from .extract import Env
from .fields import (
    ADDRESS,
    BOOLEAN,
    FLOAT,
    INTEGER,
    NODE,
    PROTOCOL,
    STRING,
    FieldSpec,
    lookup,
    nearest,
)
from .parse import And, FieldTest, Literal, Node, Not, Or, Range, parse

Predicate = Callable[[DecodedFrame, Env], bool]
ValueTest = Callable[[Any], bool]
_TYPE_NAMES = {ADDRESS: "IPv6 address", INTEGER: "integer", BOOLEAN: "boolean", FLOAT: "time",
               STRING: "string", NODE: "mobile node", PROTOCOL: "protocol"}
_ORDERING = ("<", "<=", ">", ">=")


class CompiledFilter:
    """A display filter ready to run: ``matches(frame, context)`` per frame.

    ``needs_analysis`` is true when the expression uses an analysis field
    (`mn`, `coa`, `ha`, `cn`, `lost`, `retransmission`, `handoff`, `issue`):
    build a `FilterContext` from the analysis report and pass it. ``needs_bytes``
    is true when a field is read from the frame's captured bytes
    (``ipv6.hlim``, ``ipv6.routing.type``, ``ipv6.nxt``, ``ipv6.plen``): pass
    ``data`` then (without it those fields fall back to what the decoder kept,
    and ``ipv6.hlim`` is absent).
    """

    __slots__ = ("_node_literals", "_predicate", "fields", "needs_analysis", "needs_bytes", "text")

    def __init__(self, text: str, predicate: Predicate, fields: tuple[str, ...],
                 node_literals: tuple[tuple[Literal, ...], ...]) -> None:
        self.text = text
        self._predicate = predicate
        self.fields = fields
        specs = [lookup(f) for f in fields]
        self.needs_analysis = any(s is not None and s.needs_analysis for s in specs)
        self.needs_bytes = any(s is not None and s.uses_bytes for s in specs)
        self._node_literals = node_literals

    def matches(self, decoded: DecodedFrame, context: FilterContext | None = None, *,
                data: bytes | None = None, first_ts: float | None = None) -> bool:
        """Does ``decoded`` pass the filter? ``context`` serves the analysis
        fields, ``data`` (the frame's captured bytes) the raw ones, and
        ``first_ts`` is the time origin of ``frame.time_relative`` (default:
        the context's first frame)."""
        return self._predicate(decoded, Env(context, data, first_ts))

    def check_nodes(self, context: FilterContext) -> None:
        """Raise FilterError when an ``mn`` test names no node of ``context``
        (for ``in {...}``: none of its values does), naming the closest known
        names and home addresses."""
        known = context.known_nodes()
        for group in self._node_literals:
            tests = [_node_value_test(lit, "==") for lit in group]
            if any(test(node) for test in tests for node in context.nodes):
                continue
            lit = group[0]
            close = difflib.get_close_matches(lit.text, known, n=3, cutoff=0.5)
            if close:
                hint = f"; closest: {', '.join(close)}"
            elif known:
                hint = f"; known: {', '.join(known[:5])}" + (", ..." if len(known) > 5 else "")
            else:
                hint = "; the capture has no mobile node"
            names = " or ".join(f'"{x.text}"' for x in group)
            raise FilterError(f"no mobile node is called {names}{hint}",
                              lit.pos, group[-1].end - lit.pos)


def compile_filter(text: str) -> CompiledFilter:
    """Parse and compile ``text``. A blank expression keeps every frame.
    Raises FilterError (message, position) for a bad expression."""
    if not text.strip():
        return CompiledFilter(text, lambda _f, _e: True, (), ())
    tree = parse(text)
    used: list[str] = []
    node_literals: list[tuple[Literal, ...]] = []
    predicate = _compile(tree, used, node_literals)
    return CompiledFilter(text, predicate, tuple(used), tuple(node_literals))


def _compile(node: Node, used: list[str], node_literals: list[tuple[Literal, ...]]) -> Predicate:
    if isinstance(node, Or):
        parts = tuple(_compile(i, used, node_literals) for i in node.items)
        return lambda f, e: any(p(f, e) for p in parts)
    if isinstance(node, And):
        parts = tuple(_compile(i, used, node_literals) for i in node.items)
        return lambda f, e: all(p(f, e) for p in parts)
    if isinstance(node, Not):
        inner = _compile(node.item, used, node_literals)
        return lambda f, e: not inner(f, e)
    return _compile_test(node, used, node_literals)


def _field(test: FieldTest) -> FieldSpec:
    spec = lookup(test.field)
    if spec is None:
        close = nearest(test.field)
        hint = ""
        if close:
            listed = close[0] if len(close) == 1 else ", ".join(close[:-1]) + " or " + close[-1]
            hint = f"; did you mean {listed}?"
        raise FilterError(f'"{test.field}" is neither a field nor a protocol name{hint}',
                          test.field_pos, len(test.field))
    return spec


def _compile_test(test: FieldTest, used: list[str], node_literals: list[tuple[Literal, ...]]) -> Predicate:
    spec = _field(test)
    if spec.name not in used:
        used.append(spec.name)
    get = spec.getter
    op = test.op
    if op == "exists":
        return lambda f, e: bool(get(f, e))
    if spec.type == PROTOCOL:
        raise FilterError(f'"{spec.name}" is a protocol or frame kind: test it alone, '
                          f'without "{op}"', test.field_pos, len(spec.name))
    if spec.type == NODE and op in ("==", "!=", "===", "!==", "in"):
        node_literals.append(tuple(v for v in test.values if isinstance(v, Literal)))
    if op in ("contains", "matches") and spec.type not in (STRING, NODE):
        raise FilterError(f"{spec.name} (type={_TYPE_NAMES[spec.type]}) cannot participate in "
                          f"{op} comparison", test.field_pos, len(spec.name))
    if op in _ORDERING and spec.type == NODE:
        raise FilterError(f"{spec.name} (type={_TYPE_NAMES[spec.type]}) cannot be ordered with {op}",
                          test.field_pos, len(spec.name))
    if op == "in":
        tests = tuple(_range_test(spec, v) if isinstance(v, Range) else _value_test(spec, v, "==")
                      for v in test.values)
        return lambda f, e: any(t(v) for v in get(f, e) for t in tests)
    (literal,) = test.values
    assert isinstance(literal, Literal)
    if op == "!=":
        eq = _value_test(spec, literal, "==")
        return lambda f, e: _all_not(get(f, e), eq)
    if op == "===":
        eq = _value_test(spec, literal, "==")
        return lambda f, e: _all(get(f, e), eq)
    if op == "!==":
        eq = _value_test(spec, literal, "==")
        return lambda f, e: any(not eq(v) for v in get(f, e))
    check = _value_test(spec, literal, op)
    return lambda f, e: any(check(v) for v in get(f, e))


def _all(values: tuple, test: ValueTest) -> bool:
    return bool(values) and all(test(v) for v in values)


def _all_not(values: tuple, test: ValueTest) -> bool:
    return bool(values) and not any(test(v) for v in values)


def _fail(spec: FieldSpec, lit: Literal, what: str) -> FilterError:
    return FilterError(f'"{lit.text}" is not {what} (for {spec.name})', lit.pos,
                       max(1, lit.end - lit.pos))


def _compare(op: str, target: Any) -> ValueTest:
    if op == "==":
        return lambda v: v == target
    if op == "<":
        return lambda v: v < target
    if op == "<=":
        return lambda v: v <= target
    if op == ">":
        return lambda v: v > target
    return lambda v: v >= target


def _value_test(spec: FieldSpec, lit: Literal, op: str) -> ValueTest:
    """A test of one field value against ``lit`` with ``op`` (==, <, <=, >, >=,
    contains, matches)."""
    kind = spec.type
    if op == "matches":
        try:
            rx = re.compile(lit.text)
        except re.error as exc:
            raise FilterError(f"bad regular expression: {exc}", lit.pos,
                              max(1, lit.end - lit.pos)) from None
        return lambda v: rx.search(_text(v)) is not None
    if op == "contains":
        needle = lit.text
        return lambda v: needle in _text(v)
    if kind == NODE:
        return _node_value_test(lit, op)
    if kind == ADDRESS:
        return _address_test(spec, lit, op)
    if kind in (INTEGER, BOOLEAN):
        return _compare(op, _integer(spec, lit))
    if kind == FLOAT:
        try:
            return _compare(op, float(lit.text))
        except ValueError:
            raise _fail(spec, lit, "a number of seconds") from None
    return _compare(op, lit.text)


def _text(value: Any) -> str:
    if isinstance(value, NodeRef):
        return " ".join([value.name or "", *map(str, value.home_addresses)])
    return str(value)


def _node_value_test(lit: Literal, op: str) -> ValueTest:
    text = lit.text
    try:
        address: IPv6Address | None = IPv6Address(text)
    except ValueError:
        address = None

    def test(node: NodeRef | None) -> bool:
        if node is None:
            return False
        return node.name == text or (address is not None and address in node.home_addresses)
    return test


def _address_test(spec: FieldSpec, lit: Literal, op: str) -> ValueTest:
    text = lit.text
    if "/" in text:
        try:
            net: IPv6Network = ip_network(text, strict=False)  # type: ignore[assignment]
        except ValueError:
            raise _fail(spec, lit, "an IPv6 prefix") from None
        if not isinstance(net, IPv6Network):
            raise _fail(spec, lit, "an IPv6 prefix")
        if op != "==":
            raise FilterError(f"a prefix compares with == or != only (for {spec.name})",
                              lit.pos, max(1, lit.end - lit.pos))
        return lambda v: v in net
    try:
        address = IPv6Address(text)
    except ValueError:
        raise _fail(spec, lit, "an IPv6 address or prefix") from None
    return _compare(op, address)


def _integer(spec: FieldSpec, lit: Literal) -> int:
    text = lit.text.strip().lower()
    if spec.type == BOOLEAN and text in ("true", "false"):
        return 1 if text == "true" else 0
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    try:
        if digits.startswith("0x"):
            value = int(digits[2:], 16)
        elif digits.startswith("0b"):
            value = int(digits[2:], 2)
        elif len(digits) > 1 and digits.startswith("0"):
            value = int(digits[1:], 8)  # tshark reads a leading 0 as octal
        else:
            value = int(digits, 10)
    except ValueError:
        what = "0 or 1" if spec.type == BOOLEAN else "an integer"
        raise _fail(spec, lit, what) from None
    return sign * value


def _range_test(spec: FieldSpec, rng: Range) -> ValueTest:
    if spec.type not in (INTEGER, BOOLEAN, FLOAT):
        raise FilterError(f"a range needs a numeric field ({spec.name} is "
                          f"{_TYPE_NAMES[spec.type]})", rng.lo.pos, rng.hi.end - rng.lo.pos)
    lo_test = _value_test(spec, rng.lo, ">=")
    hi_test = _value_test(spec, rng.hi, "<=")
    return lambda v: lo_test(v) and hi_test(v)
