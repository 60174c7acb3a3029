"""Parse a display filter expression into a small syntax tree (no field
checks yet: `evaluate.compile_filter` resolves names and literals)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from dataclasses import field as dc_field

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from .errors import FilterError
from .grammar import GRAMMAR

# What each comparison operator spelling means.
OPERATORS = {"==": "==", "eq": "==", "!=": "!=", "ne": "!=", "===": "===", "all_eq": "===",
             "!==": "!==", "any_ne": "!==", "<": "<", "lt": "<", "<=": "<=", "le": "<=",
             ">": ">", "gt": ">", ">=": ">=", "ge": ">="}


@dataclass(frozen=True, slots=True)
class Literal:
    """A value as written: ``text`` without quotes, ``quoted`` for "...",
    and its place in the expression."""

    text: str
    quoted: bool
    pos: int = dc_field(compare=False)
    end: int = dc_field(compare=False)


@dataclass(frozen=True, slots=True)
class Range:
    """``lo..hi`` inside ``in {...}``."""

    lo: Literal
    hi: Literal


@dataclass(frozen=True, slots=True)
class FieldTest:
    """One field test: ``op`` is "exists", a comparison ("==", "!=", "===",
    "!==", "<", "<=", ">", ">="), "in", "contains" or "matches"."""

    field: str
    field_pos: int = dc_field(compare=False)
    op: str = "exists"
    values: tuple[Literal | Range, ...] = ()


@dataclass(frozen=True, slots=True)
class Not:
    """Negation."""

    item: Node


@dataclass(frozen=True, slots=True)
class And:
    """Conjunction of two or more items."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Disjunction of two or more items."""

    items: tuple[Node, ...]


Node = FieldTest | Not | And | Or


def _literal(token: Token) -> Literal:
    text = str(token)
    start = token.start_pos or 0
    if token.type == "STRING":
        body = text[1:-1]
        try:
            body = body.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            raise FilterError(f"bad escape in string {text}", start, len(text)) from None
        return Literal(body, True, start, start + len(text))
    return Literal(text, False, start, start + len(text))


def _set_item(item: Token | Tree) -> Literal | Range:
    if isinstance(item, Tree):  # range: value RANGE value
        lo, _dots, hi = item.children
        return Range(_literal(lo), _literal(hi))
    if item.type == "WORD" and ".." in item:
        lo_text, hi_text = str(item).split("..", 1)
        start = item.start_pos or 0
        mid = start + len(lo_text) + 2
        return Range(Literal(lo_text, False, start, start + len(lo_text)),
                     Literal(hi_text, False, mid, mid + len(hi_text)))
    return _literal(item)


class _ToAst(Transformer):
    def exists(self, children: list) -> FieldTest:
        (field,) = children
        return FieldTest(str(field), field.start_pos or 0, "exists")

    def compare(self, children: list) -> FieldTest:
        field, op_tree, value = children
        op = OPERATORS[str(op_tree.children[0])]
        return FieldTest(str(field), field.start_pos or 0, op, (_literal(value),))

    def member(self, children: list) -> FieldTest:
        field, items = children
        return FieldTest(str(field), field.start_pos or 0, "in",
                    tuple(_set_item(i) for i in items.children))

    def contains(self, children: list) -> FieldTest:
        field, value = children
        return FieldTest(str(field), field.start_pos or 0, "contains", (_literal(value),))

    def matches(self, children: list) -> FieldTest:
        field, value = children
        return FieldTest(str(field), field.start_pos or 0, "matches", (_literal(value),))

    def not_(self, children: list) -> Not:
        return Not(children[-1])

    def and_(self, children: list) -> And:
        left, right = children[0], children[-1]
        items = left.items if isinstance(left, And) else (left,)
        return And((*items, right))

    def or_(self, children: list) -> Or:
        left, right = children[0], children[-1]
        items = left.items if isinstance(left, Or) else (left,)
        return Or((*items, right))


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


_EXPECTED_NAMES = {"WORD": "a field or value", "STRING": 'a "string"', "LPAR": '"("',
                   "RPAR": '")"', "LBRACE": '"{"', "RBRACE": '"}"', "COMMA": '","',
                   "RANGE": '".."'}


def _describe_expected(expected: set[str], parser: Lark) -> str:
    names = []
    for name in sorted(expected):
        if name in _EXPECTED_NAMES:
            names.append(_EXPECTED_NAMES[name])
            continue
        term = next((t for t in parser.terminals if t.name == name), None)
        text = getattr(term.pattern, "value", None) if term is not None else None
        names.append(f'"{text}"' if text else name.lower())
    names = sorted(set(names))
    if len(names) > 6:
        return "expected a field test, an operator, a value or a parenthesis"
    return "expected " + (" or ".join(names) if len(names) < 3
                          else ", ".join(names[:-1]) + " or " + names[-1])


def parse(text: str) -> Node:
    """Parse ``text``; raise FilterError (message, position) when it is not a
    well-formed expression."""
    parser = _parser()
    if not text.strip():
        raise FilterError("empty filter expression", len(text))
    try:
        tree = parser.parse(text)
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        raise FilterError(f'"{char}" was unexpected in this context', pos) from None
    except UnexpectedEOF as exc:
        raise FilterError(f"the expression ends too soon; {_describe_expected(set(exc.expected), parser)}",
                          len(text)) from None
    except UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            raise FilterError("the expression ends too soon; "
                              f"{_describe_expected(set(exc.expected), parser)}", len(text)) from None
        pos = token.start_pos or 0
        raise FilterError(f'"{token}" was unexpected in this context; '
                          f"{_describe_expected(set(exc.expected), parser)}",
                          pos, len(str(token))) from None
    except LarkError as exc:  # pragma: no cover - any other parser complaint
        raise FilterError(f"cannot parse the expression: {str(exc).splitlines()[0]}", 0) from None
    try:
        return _ToAst().transform(tree)
    except Exception as exc:  # lark wraps transformer errors in VisitError
        inner = getattr(exc, "orig_exc", exc)
        if isinstance(inner, FilterError):
            raise inner from None
        raise
