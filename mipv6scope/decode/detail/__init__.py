"""The packet details of one frame, as Wireshark's details and bytes panes
show them: a tree of `DetailNode` (label, byte range, filter field name) built
from the decoder's output and the frame's bytes, and the hex dump.

No UI here: the TUI and ``packets -V``/``-x`` render these.
"""

from .hexdump import HexLine, hex_dump, hex_lines
from .node import DetailNode
from .tree import build_detail

__all__ = ["DetailNode", "HexLine", "build_detail", "hex_dump", "hex_lines"]
