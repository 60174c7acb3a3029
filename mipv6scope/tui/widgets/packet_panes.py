"""PacketPanes: Wireshark's three panes, wired together.

The packet list on top; the details tree and the bytes side by side below.
Selecting a frame in the list shows its tree and bytes (read and decoded in a
thread worker: the panes say "decoding" meanwhile, and a newer selection
cancels an older one); highlighting a field in the tree highlights its bytes.
A header line says how many frames are shown of how many, and what the row
markers mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from ...browse import FrameSource
from ...decode.detail import DetailNode
from .. import workers
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
        """A frame was selected in the packet list: its 1-based number (in
        its file), ts and file (0-based)."""

        def __init__(self, number: int, ts: float, file: int = 0) -> None:
            super().__init__()
            self.number = number
            self.ts = ts
            self.file = file

    class FrameFetched(Message):
        """The frame worker read the frame at ``position``: its tree and bytes."""

        def __init__(self, position: int, detail: list[DetailNode], raw: bytes) -> None:
            super().__init__()
            self.position = position
            self.detail = detail
            self.raw = raw

    def __init__(self, source: FrameSource, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.source = source
        self.positions: Sequence[int] | None = None
        self.selected: int | None = None   # the position whose tree and bytes are (to be) shown
        self.shown: int | None = None      # the position whose tree and bytes are shown

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
            self.selected = self.shown = None
            self.detail.border_title = "Detail"
            self.detail.show_detail([])
            self.hex_view.show_bytes(b"")

    def select_frame(self, number: int, file: int = 0) -> bool:
        """Select frame ``number`` (1-based) of ``file`` in the list; False when not shown."""
        return self.packet_list.select_frame(number, file)

    def select_position(self, position: int) -> bool:
        """Select the frame at ``position`` in the list; False when not shown."""
        return self.packet_list.select_position(position)

    def on_packet_list_frame_selected(self, event: PacketList.FrameSelected) -> None:
        """Fetch the selected frame's tree and bytes, and tell the parents."""
        event.stop()
        self.selected = event.position
        where = f" {Path(self.source.paths[event.file]).name}" if self.source.files > 1 else ""
        self.detail.border_title = f"Detail: frame {event.number}{where} (decoding...)"
        self._fetch_frame(event.position)
        self.post_message(self.FrameSelected(event.number, event.ts, event.file))

    @work(thread=True, exclusive=True, group="packet-frame", exit_on_error=False)
    def _fetch_frame(self, position: int) -> None:
        worker = get_current_worker()
        workers.fetch_frame(self.source, position,
                            lambda detail, raw: self.post_message(self.FrameFetched(position, detail, raw)),
                            lambda: worker.is_cancelled or self.selected != position)

    def on_packet_panes_frame_fetched(self, message: FrameFetched) -> None:
        """Show the tree and bytes of the selected frame (a late one is dropped)."""
        message.stop()
        if message.position != self.selected:
            return
        self.shown = message.position
        file, number = self.source.locate(message.position)
        where = f" {Path(self.source.paths[file]).name}" if self.source.files > 1 else ""
        self.detail.border_title = f"Detail: frame {number}{where}"
        self.detail.show_detail(message.detail)
        self.hex_view.show_bytes(message.raw)

    def on_packet_detail_field_selected(self, event: PacketDetail.FieldSelected) -> None:
        """Highlight the selected field's bytes."""
        event.stop()
        self.hex_view.set_highlight(event.start, event.length)
