"""Which frames a display filter can match at all, from its ``mn`` tests.

A filter that requires ``mn == NODE`` (alone, and-ed with more, or in every
branch of an ``or``) matches only frames that carry one of the node's home
or care-of addresses, and the decoder takes every address it reports from
the frame's own bytes. So a pass matching such a filter needs to decode only
the frames whose bytes hold one of those addresses (`bytes.find`, at C
speed), as `browse.FrameSource.positions_matching` does for the TUI; the
result is the same as decoding every frame.
"""

from __future__ import annotations

from ..browse import node_address_bytes
from ..filter import FilterContext
from ..filter.parse import And, FieldTest, Literal, Node, Not, Or, parse

NODE_FIELD = "mn"


def required_nodes(tree: Node) -> frozenset[str] | None:
    """The ``mn`` values (names or home addresses) one of which every matching
    frame is owned by; None when the expression does not require one."""
    if isinstance(tree, FieldTest):
        if tree.field != NODE_FIELD or tree.op not in ("==", "===", "in"):
            return None
        if not tree.values or not all(isinstance(v, Literal) for v in tree.values):
            return None  # a range of nodes: no prefilter
        return frozenset(v.text for v in tree.values if isinstance(v, Literal))
    if isinstance(tree, And):
        found = [r for r in (required_nodes(item) for item in tree.items) if r is not None]
        return min(found, key=len) if found else None
    if isinstance(tree, Or):
        branches = [required_nodes(item) for item in tree.items]
        if any(b is None for b in branches):
            return None
        return frozenset().union(*(b for b in branches if b is not None))
    assert isinstance(tree, Not)
    return None


def candidate_addresses(text: str, context: FilterContext) -> list[bytes] | None:
    """The packed addresses a frame must hold for the filter ``text`` to
    match it (see the module docstring), or None: every frame is a candidate."""
    nodes = required_nodes(parse(text))
    if nodes is None:
        return None
    return sorted({a for node in nodes for a in node_address_bytes(context, node)})
