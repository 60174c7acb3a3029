"""The TUI's widgets, one per module: the packet panes (list, details, bytes),
a node's timeline and its ladder. Each takes its data as attributes and
reports with messages; none decodes or analyses anything itself."""

from .hex_view import HexView
from .ladder import Ladder
from .packet_detail import PacketDetail
from .packet_list import PacketList
from .packet_panes import PacketPanes
from .timeline import NodeTimeline

__all__ = ["HexView", "Ladder", "NodeTimeline", "PacketDetail", "PacketList", "PacketPanes"]
