"""DetailNode, one line of the packet details tree, and the helper that adds
field nodes whose bytes were captured."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address


@dataclass(slots=True)
class DetailNode:
    """One line of the details tree.

    ``start``/``length`` is the byte range in the frame's captured bytes (from
    the link header on); ``field`` the Wireshark filter field name where one
    exists; ``value`` the field's value as text, as tshark shows it (PDML
    ``show``), where the node has one.
    """

    label: str
    start: int
    length: int
    children: list[DetailNode] = field(default_factory=list)
    field: str | None = None
    value: str | None = None

    @property
    def end(self) -> int:
        """One past the last byte of the range."""
        return self.start + self.length

    def add(self, label: str, start: int, length: int, field: str | None = None,
            value: str | None = None) -> DetailNode:
        """Append a child; its range is clipped to this node's range."""
        start = min(max(start, self.start), self.end)
        end = min(max(start + max(length, 0), start), self.end)
        child = DetailNode(label, start, end - start, [], field, value)
        self.children.append(child)
        return child

    def walk(self, depth: int = 0) -> Iterator[tuple[int, DetailNode]]:
        """(depth, node) for this node and all below it, depth first."""
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    def find(self, field_name: str) -> list[DetailNode]:
        """Every node below (and including) this one with this field name."""
        return [n for _, n in self.walk() if n.field == field_name]

    def lines(self, indent: str = "    ") -> list[str]:
        """The tree as indented text, like ``tshark -V``."""
        return [indent * depth + node.label for depth, node in self.walk()]


def bit_text(value: int, mask: int, width: int) -> str:
    """Wireshark's bit picture of ``value & mask`` in a ``width``-bit field,
    e.g. ``.1.. ....`` (groups of four, dots for bits outside the mask)."""
    chars = []
    for i in range(width - 1, -1, -1):
        bit = 1 << i
        chars.append(("1" if value & bit else "0") if mask & bit else ".")
        if i and i % 4 == 0:
            chars.append(" ")
    return "".join(chars)


class Fields:
    """Adds field nodes to one layer node, reading values from the frame.

    A field is added only when all its bytes lie inside the layer node (which
    is itself clipped to what was captured); the readers return None then.
    """

    __slots__ = ("data", "node")

    def __init__(self, data: bytes, node: DetailNode) -> None:
        self.data = data
        self.node = node

    def fits(self, pos: int, size: int) -> bool:
        """Whether ``size`` bytes at ``pos`` lie inside the layer node."""
        return self.node.start <= pos and pos + size <= self.node.end

    def uint(self, pos: int, size: int, field: str | None,
             label: str | Callable[[int], str], value: Callable[[int], str] = str,
             parent: DetailNode | None = None) -> int | None:
        """An unsigned big-endian field; ``label`` is a format string with
        ``{}`` for the value, or a function of it."""
        if not self.fits(pos, size):
            return None
        v = int.from_bytes(self.data[pos:pos + size], "big")
        text = label(v) if callable(label) else label.format(v)
        (parent or self.node).add(text, pos, size, field, value(v))
        return v

    def flag(self, pos: int, size: int, mask: int, field: str | None, name: str,
             on: str = "Set", off: str = "Not set", parent: DetailNode | None = None) -> None:
        """One bit of a flags field, Wireshark style: ``1... .... = Name: Set``."""
        if not self.fits(pos, size):
            return
        v = int.from_bytes(self.data[pos:pos + size], "big")
        bit = 1 if v & mask else 0
        text = f"{bit_text(v, mask, size * 8)} = {name}: {on if bit else off}"
        (parent or self.node).add(text, pos, size, field, str(bit))

    def ip6(self, pos: int, field: str | None, label: str,
            parent: DetailNode | None = None) -> str | None:
        """A 16-byte IPv6 address; ``label`` gets ``{}`` replaced by the address."""
        if not self.fits(pos, 16):
            return None
        text = IPv6Address(bytes(self.data[pos:pos + 16])).compressed
        (parent or self.node).add(label.format(text), pos, 16, field, text)
        return text

    def ip4(self, pos: int, field: str | None, label: str) -> str | None:
        """A 4-byte IPv4 address."""
        if not self.fits(pos, 4):
            return None
        text = str(IPv4Address(bytes(self.data[pos:pos + 4])))
        self.node.add(label.format(text), pos, 4, field, text)
        return text

    def raw(self, pos: int, size: int, field: str | None, label: str,
            parent: DetailNode | None = None) -> bytes | None:
        """Bytes shown in hex; ``label`` gets ``{}`` replaced by the hex
        (clipped to what was captured, and skipped when nothing was)."""
        size = min(size, self.node.end - pos)
        if size <= 0 or pos < self.node.start:
            return None
        raw = bytes(self.data[pos:pos + size])
        (parent or self.node).add(label.format(raw.hex()), pos, size, field,
                                  ":".join(f"{b:02x}" for b in raw))
        return raw
