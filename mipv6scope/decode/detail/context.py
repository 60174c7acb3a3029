"""What the layer builders share while one frame's tree is built."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import DecodedFrame
from .node import DetailNode

# IP protocol numbers as Wireshark names them in "Next Header" lines
IP_PROTO_NAMES = {
    0: "IPv6 Hop-by-Hop Option", 4: "IPIP", 6: "TCP", 17: "UDP", 41: "IPv6",
    43: "Routing Header for IPv6", 44: "Fragment Header for IPv6", 47: "Generic Routing Encapsulation",
    50: "Encap Security Payload", 51: "Authentication Header", 58: "ICMPv6",
    59: "No Next Header for IPv6", 60: "Destination Options for IPv6", 62: "CFTP",
    135: "Mobile IPv6",
}


def proto_name(nh: int) -> str:
    """The protocol's name for a Next Header line, ``Unknown`` if we have none."""
    return IP_PROTO_NAMES.get(nh, "Unknown")


@dataclass
class Context:
    """The frame's bytes, the decoder's view of it, and the nodes each decode
    issue layer attaches to (innermost last).

    ``parent`` receives the top-level layer nodes (the tree's root, or the
    ICMPv6 node while the packet quoted in an error message is shown);
    ``quoted`` is set meanwhile, so that issues keep to the frame's own layers.
    """

    data: bytes
    decoded: DecodedFrame
    parent: DetailNode
    quoted: bool = False
    marks: dict[str, list[DetailNode]] = field(default_factory=dict)

    def mark(self, layer: str, node: DetailNode) -> None:
        """Remember ``node`` as where issues of ``layer`` go."""
        if not self.quoted:
            self.marks.setdefault(layer, []).append(node)

    def layer(self, label: str, start: int, length: int, field: str | None) -> DetailNode:
        """A new top-level layer node."""
        return self.parent.add(label, start, length, field)

    def data_node(self, start: int, stop: int) -> None:
        """What follows that no layer here decodes, as Wireshark's ``data``."""
        stop = min(stop, len(self.data))
        if stop > start:
            node = self.layer(f"Data ({stop - start} bytes)", start, stop - start, "data")
            node.add(f"Data: {bytes(self.data[start:stop]).hex()}", start, stop - start, "data.data")
