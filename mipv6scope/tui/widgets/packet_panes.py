"""PacketPanes: Wireshark's three panes, wired together.

The packet list on top; the details tree and the bytes side by side below.
Selecting a frame in the list shows its tree and bytes; highlighting a field
in the tree highlights its bytes. A header line says how many frames are
shown of how many, and what the row markers mean.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from ...browse import FrameSource
from .hex_view import HexView
from .packet_detail import PacketDetail
from .packet_list import PacketList

LEGEND = "S=signalling T=tunnelled R=RO L=lost !=malformed"


class PacketPanes(Widget):
    """Packet list, details tree and hex dump over one FrameSource."""

    BINDINGS: list[BindingType] = [
        Binding("tab", "app.focus_next", "Next pane", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous pane", show=False),
    ]

    DEFAULT_CSS = """
    PacketPanes {
        layout: vertical;
        height: 1fr;
    }
    PacketPanes > #packets-header {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    PacketPanes > PacketList {
        height: 1fr;
        border: round $foreground 30%;
        border-title-align: left;
    }
    PacketPanes > #packets-lower {
        height: 1fr;
    }
    PacketPanes PacketDetail, PacketPanes HexView {
        width: 1fr;
        height: 1fr;
        border: round $foreground 30%;
    }
    PacketPanes PacketList:focus, PacketPanes PacketDetail:focus, PacketPanes HexView:focus {
        border: round $accent;
    }
    """

    class FrameSelected(Message):
        """A frame was selected in the packet list: its 1-based number and ts."""

        def __init__(self, number: int, ts: float) -> None:
            super().__init__()
            self.number = number
            self.ts = ts

    def __init__(self, source: FrameSource, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.source = source
        self.positions: Sequence[int] | None = None

    def compose(self) -> ComposeResult:
        """Header, list, then detail and bytes side by side."""
        yield Static(self._header_text(), id="packets-header", markup=False)
        packet_list = PacketList(self.source)
        packet_list.border_title = "Packets"
        yield packet_list
        with Horizontal(id="packets-lower"):
            detail = PacketDetail()
            detail.border_title = "Detail"
            yield detail
            hex_view = HexView()
            hex_view.border_title = "Bytes"
            yield hex_view

    @property
    def packet_list(self) -> PacketList:
        """The packet list pane."""
        return self.query_one(PacketList)

    @property
    def detail(self) -> PacketDetail:
        """The details tree pane."""
        return self.query_one(PacketDetail)

    @property
    def hex_view(self) -> HexView:
        """The bytes pane."""
        return self.query_one(HexView)

    def _header_text(self) -> str:
        total = len(self.source)
        shown = total if self.positions is None else len(self.positions)
        return f"{shown:,} of {total:,} frames  {LEGEND}"

    def show_positions(self, positions: Sequence[int] | None) -> None:
        """Show only these 0-based frame positions (None: every frame)."""
        self.positions = positions
        self.query_one("#packets-header", Static).update(self._header_text())
        self.packet_list.show_positions(positions)
        if not self.packet_list.row_count:
            self.detail.show_detail([])
            self.hex_view.show_bytes(b"")

    def select_frame(self, number: int) -> bool:
        """Select frame ``number`` (1-based) in the list; False when not shown."""
        return self.packet_list.select_frame(number)

    def on_packet_list_frame_selected(self, event: PacketList.FrameSelected) -> None:
        """Show the selected frame's tree and bytes, and tell the parents."""
        event.stop()
        self.detail.show_detail(self.source.detail(event.position))
        self.hex_view.show_bytes(self.source.raw(event.position))
        self.post_message(self.FrameSelected(event.number, event.ts))

    def on_packet_detail_field_selected(self, event: PacketDetail.FieldSelected) -> None:
        """Highlight the selected field's bytes."""
        event.stop()
        self.hex_view.set_highlight(event.start, event.length)
