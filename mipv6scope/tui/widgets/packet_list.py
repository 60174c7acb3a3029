"""PacketList: Wireshark's packet list over a FrameSource, virtual to millions of rows.

Columns No., Time, Source, Destination, Proto, Info carry the text
``mipv6scope packets`` prints for the frame; rows are coloured by kind and a
one-character marker says the kind too (colour is never the only carrier):

    S signalling   T tunnelled   R route-optimised   L lost   ! malformed   - skipped

The list shows every frame of the source, or only the positions given (a
node's frames, a filter's result). Only the rows on screen are decoded and
drawn; their cells are kept in a bounded LRU cache.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Sequence

from rich.style import Style
from textual.binding import BindingType
from textual.message import Message
from textual.strip import Strip

from ...browse import FrameSource
from .row_view import RowView, fit, row_bindings, segments

MARKERS = {"signalling": "S", "tunnelled": "T", "route_optimised": "R", "lost": "L",
           "malformed": "!", "skipped": "-", "data": " "}
ROW_CACHE = 2048
PROTO_WIDTH = 6
NUMBER_WIDTH = 7


def fit_address(text: str, width: int) -> str:
    """An address padded to ``width``, or cut from the left (its distinguishing
    end kept) behind an ellipsis."""
    if len(text) > width:
        return "…" + text[len(text) - width + 1:]
    return text.ljust(width)


class PacketList(RowView):
    """The packet list: one row per visible frame, a cursor, kind colours and markers.

    ``source`` is the capture (None: empty until `set_source`); ``positions``
    the 0-based frame positions to show in order (None: all frames).
    """

    BINDINGS: list[BindingType] = row_bindings("packet")

    COMPONENT_CLASSES = {
        "packet-list--header", "packet-list--cursor", "packet-list--signalling",
        "packet-list--tunnelled", "packet-list--route-optimised", "packet-list--lost",
        "packet-list--malformed", "packet-list--skipped",
    }

    DEFAULT_CSS = """
    PacketList {
        height: 1fr;
    }
    PacketList > .packet-list--header { text-style: bold; background: $panel; }
    PacketList > .packet-list--cursor { text-style: reverse bold; }
    PacketList > .packet-list--signalling { color: $text-primary; }
    PacketList > .packet-list--tunnelled { color: $text-success; }
    PacketList > .packet-list--route-optimised { color: $text-secondary; }
    PacketList > .packet-list--lost { color: $text-warning; text-style: bold; }
    PacketList > .packet-list--malformed { color: $text-error; text-style: bold; }
    PacketList > .packet-list--skipped { color: $text-muted; }
    """

    header_lines = 1

    class FrameSelected(Message):
        """The cursor moved to a frame: its position, 1-based number and ts."""

        def __init__(self, position: int, number: int, ts: float) -> None:
            super().__init__()
            self.position = position
            self.number = number
            self.ts = ts

    def __init__(self, source: FrameSource | None = None,
                 positions: Sequence[int] | None = None, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.source = source
        self.positions: Sequence[int] | None = positions
        self._cells: OrderedDict[int, tuple[str, tuple[str, ...]]] = OrderedDict()
        self._time_width = 10

    # -- data ----------------------------------------------------------------

    def on_mount(self) -> None:
        """Size the list for its source."""
        self.set_source(self.source, self.positions)

    def set_source(self, source: FrameSource | None,
                   positions: Sequence[int] | None = None) -> None:
        """Show ``source`` (all frames, or ``positions``) from its first row."""
        self.source = source
        self.positions = positions
        self._cells.clear()
        self._time_width = 10
        if source is not None and len(source):
            span = source.ts(len(source) - 1) - source.first_ts
            self._time_width = max(10, len(f"{span:.6f}"))
        self.rows_changed()
        if self.row_count:
            self.move_cursor(0)

    def show_positions(self, positions: Sequence[int] | None) -> None:
        """Show only these frame positions (None: all), keeping the selected
        frame selected when it is among them."""
        current = self.current_frame
        self.positions = positions
        self.rows_changed()
        if not self.row_count:
            self.refresh()
            return
        if current is None or not self.select_frame(current):
            self.scroll_to(y=0, animate=False, immediate=True)
            self.move_cursor(0)

    def refresh_rows(self) -> None:
        """Forget the cached cells (after the source's lost frames changed)."""
        self._cells.clear()
        self.refresh()

    @property
    def row_count(self) -> int:
        """How many frames the list shows."""
        if self.source is None:
            return 0
        return len(self.source) if self.positions is None else len(self.positions)

    def position_at(self, row: int) -> int:
        """The frame position shown on ``row``."""
        return row if self.positions is None else int(self.positions[row])

    def row_of(self, position: int) -> int | None:
        """The row showing frame position ``position``; None when not shown."""
        if self.source is None or not 0 <= position < len(self.source):
            return None
        if self.positions is None:
            return position
        row = int(bisect.bisect_left(self.positions, position))
        if row < len(self.positions) and int(self.positions[row]) == position:
            return row
        for row, p in enumerate(self.positions):  # unsorted positions
            if int(p) == position:
                return row
        return None

    @property
    def current_frame(self) -> int | None:
        """The 1-based number of the selected frame, None when the list is empty."""
        if not self.row_count:
            return None
        return self.position_at(min(self.cursor, self.row_count - 1)) + 1

    def select_frame(self, number: int) -> bool:
        """Move the cursor to frame ``number`` (1-based) and scroll it into
        view; False (cursor unchanged) when the list does not show it."""
        row = self.row_of(number - 1)
        if row is None:
            return False
        self.move_cursor(row)
        return True

    def cursor_moved(self, row: int) -> None:
        """Tell the parents which frame is selected."""
        if self.source is None:
            return
        position = self.position_at(row)
        self.post_message(self.FrameSelected(position, position + 1, self.source.ts(position)))

    # -- drawing ---------------------------------------------------------------

    def _row_cells(self, position: int) -> tuple[str, tuple[str, ...]]:
        hit = self._cells.get(position)
        if hit is not None:
            self._cells.move_to_end(position)
            return hit
        assert self.source is not None
        row = self.source.row(position)
        kind = self.source.kind(position)
        cells = (kind, (str(row.number), f"{row.time:.6f}", row.source, row.destination,
                        row.protocol, row.info))
        self._cells[position] = cells
        while len(self._cells) > ROW_CACHE:
            self._cells.popitem(last=False)
        return cells

    def _widths(self, width: int) -> tuple[int, int, int]:
        """(time, address, info) column widths for a line of ``width`` cells."""
        fixed = 3 + NUMBER_WIDTH + 1 + self._time_width + 1 + 1 + PROTO_WIDTH + 1
        avail = max(0, width - fixed)
        address = min(39, max(12, avail * 2 // 7 if avail >= 60 else avail // 4))
        info = max(8, avail - 2 * address - 1)
        return self._time_width, address, info

    def _line(self, cells: Sequence[str], width: int) -> str:
        time_w, addr_w, info_w = self._widths(width)
        number, time, src, dst, proto, info = cells
        return (f"{fit(number, NUMBER_WIDTH, True)} {fit(time, time_w, True)} "
                f"{fit_address(src, addr_w)} {fit_address(dst, addr_w)} {fit(proto, PROTO_WIDTH)} "
                f"{fit(info, info_w)}")

    def render_header(self, line: int, width: int) -> Strip:
        """The column titles."""
        style = self.get_component_rich_style("packet-list--header")
        text = "   " + self._line(("No.", "Time", "Source", "Destination", "Proto", "Info"), width)
        return Strip(segments((text, style))).crop_extend(0, width, style)

    def render_row(self, row: int, width: int, selected: bool) -> Strip:
        """One frame's row: cursor pointer, kind marker, then the columns."""
        kind, cells = self._row_cells(self.position_at(row))
        style = Style()
        if kind not in ("data",):
            style = self.get_component_rich_style(f"packet-list--{kind.replace('_', '-')}")
        if selected:
            style += self.get_component_rich_style("packet-list--cursor")
        base = self.rich_style + style
        text = ("▶" if selected else " ") + MARKERS.get(kind, "?") + " " + self._line(cells, width)
        return Strip(segments((text, base))).crop_extend(0, width, base)
