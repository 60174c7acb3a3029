"""PacketList: Wireshark's packet list over a FrameSource, virtual to millions of rows.

Columns No., Time, Source, Destination, Proto, Info carry the text
``mipv6scope packets`` prints for the frame; rows are coloured by kind and a
one-character marker says the kind too (colour is never the only carrier):

    S signalling   T tunnelled   R route-optimised   L lost   ! malformed   - skipped

The list shows every frame of the source, or only the positions given (a
node's frames, a filter's result). With several files, No. is ``FILE:N``
(file 1, 2, ... and the frame number in that file, as the report numbers it).

The UI thread never reads the capture: a row not yet decoded is drawn at once
as a placeholder (its number and time, which the frame index holds, then
``…``), and a thread worker reads and decodes the rows on screen and posts
them back; a newer request (the user scrolled on) cancels the one before.
Decoded rows are kept in a bounded LRU cache.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Sequence

from rich.style import Style
from textual import work
from textual.binding import BindingType
from textual.message import Message
from textual.strip import Strip
from textual.worker import get_current_worker

from ...browse import FrameSource
from .. import workers
from .row_view import RowView, fit, row_bindings, segments

MARKERS = {"signalling": "S", "tunnelled": "T", "route_optimised": "R", "lost": "L",
           "malformed": "!", "skipped": "-", "data": " ", "pending": "…"}
ROW_CACHE = 2048
PROTO_WIDTH = 6
NUMBER_WIDTH = 7
PENDING = "…"

# (kind, (No., Time, Source, Destination, Proto, Info))
RowCells = tuple[str, tuple[str, ...]]


def frame_label(source: FrameSource, position: int) -> str:
    """The No. column of the frame at ``position``: ``N``, or ``FILE:N`` with several files."""
    file, number = source.locate(position)
    return f"{file + 1}:{number}" if source.files > 1 else str(number)


def row_cells(source: FrameSource, position: int) -> RowCells:
    """The kind and the column texts of the frame at ``position`` (reads and
    decodes it: for the row worker, never the UI thread)."""
    row = source.row(position)
    return source.kind(position), (frame_label(source, position), f"{row.time:.6f}", row.source,
                                   row.destination, row.protocol, row.info)


def placeholder_cells(source: FrameSource, position: int) -> RowCells:
    """A row not decoded yet: its number and time (from the frame index) and ``…``."""
    file, _number = source.locate(position)
    time = source.ts(position) - source.file_first_ts[file]
    return "pending", (frame_label(source, position), f"{time:.6f}", PENDING, PENDING, PENDING, PENDING)


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
        "packet-list--malformed", "packet-list--skipped", "packet-list--pending",
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
    PacketList > .packet-list--pending { color: $text-muted; }
    """

    header_lines = 1

    class FrameSelected(Message):
        """The cursor moved to a frame: its position, file (0-based), 1-based
        number in that file, and ts."""

        def __init__(self, position: int, number: int, ts: float, file: int = 0) -> None:
            super().__init__()
            self.position = position
            self.number = number
            self.ts = ts
            self.file = file

    class RowsFetched(Message):
        """The row worker decoded these rows (position -> cells) for ``generation``."""

        def __init__(self, generation: int, cells: dict[int, RowCells]) -> None:
            super().__init__()
            self.generation = generation
            self.cells = cells

    def __init__(self, source: FrameSource | None = None,
                 positions: Sequence[int] | None = None, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.source = source
        self.positions: Sequence[int] | None = positions
        self._cells: OrderedDict[int, RowCells] = OrderedDict()
        self._time_width = 10
        self._number_width = NUMBER_WIDTH
        self._generation = 0   # bumped when cached cells go stale (new source, lost frames)
        self._fetch_due = False
        self._requested: list[int] = []  # the positions of the latest row request
        self.requests = 0      # row requests started (for tests and the benchmark)

    # -- data ----------------------------------------------------------------

    def on_mount(self) -> None:
        """Size the list for its source."""
        self.set_source(self.source, self.positions)

    def set_source(self, source: FrameSource | None,
                   positions: Sequence[int] | None = None) -> None:
        """Show ``source`` (all frames, or ``positions``) from its first row."""
        self.source = source
        self.positions = positions
        self._forget_cells()
        self._time_width = 10
        self._number_width = NUMBER_WIDTH
        if source is not None and len(source):
            self._time_width = max(10, len(f"{source.time_span():.6f}"))
            if source.files > 1:
                longest = max(len(i) for i in source.indexes)
                self._number_width = max(NUMBER_WIDTH, len(f"{source.files}:{longest}"))
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
        self._forget_cells()
        self.refresh()

    def _forget_cells(self) -> None:
        self._cells.clear()
        self._generation += 1
        self._requested = []

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
    def current_position(self) -> int | None:
        """The position of the selected frame, None when the list is empty."""
        if not self.row_count:
            return None
        return self.position_at(min(self.cursor, self.row_count - 1))

    @property
    def current_frame(self) -> int | None:
        """The 1-based number (in its file) of the selected frame, None when the list is empty."""
        position = self.current_position
        if position is None or self.source is None:
            return None
        return self.source.locate(position)[1]

    def select_frame(self, number: int, file: int = 0) -> bool:
        """Move the cursor to frame ``number`` (1-based) of ``file`` and scroll
        it into view; False (cursor unchanged) when the list does not show it."""
        if self.source is None:
            return False
        try:
            position = self.source.position_of(number, file)
        except IndexError:
            return False
        return self.select_position(position)

    def select_position(self, position: int) -> bool:
        """Move the cursor to the frame at ``position``; False when not shown."""
        row = self.row_of(position)
        if row is None:
            return False
        self.move_cursor(row)
        return True

    def cursor_moved(self, row: int) -> None:
        """Tell the parents which frame is selected."""
        if self.source is None:
            return
        position = self.position_at(row)
        file, number = self.source.locate(position)
        self.post_message(self.FrameSelected(position, number, self.source.ts(position), file))

    # -- fetching rows (a thread worker) ----------------------------------------------

    def visible_positions(self) -> list[int]:
        """The frame positions of the rows on screen."""
        top = round(self.scroll_offset.y)
        return [self.position_at(row)
                for row in range(max(0, top), min(self.row_count, top + self.page_rows))]

    @property
    def pending(self) -> int:
        """How many rows on screen are still placeholders."""
        return sum(1 for p in self.visible_positions() if p not in self._cells)

    def _want_rows(self) -> None:
        """A placeholder was drawn: ask for the rows on screen, once the
        drawing is done."""
        if not self._fetch_due:
            self._fetch_due = True
            self.call_later(self._request_rows)

    def _request_rows(self) -> None:
        self._fetch_due = False
        if self.source is None:
            return
        missing = [p for p in self.visible_positions() if p not in self._cells]
        if not missing or missing == self._requested:
            return  # nothing to do, or that very request is running
        self._requested = missing
        self.requests += 1
        self._fetch_rows(self.source, missing, self._generation)

    @work(thread=True, exclusive=True, group="packet-rows", exit_on_error=False)
    def _fetch_rows(self, source: FrameSource, positions: list[int], generation: int) -> None:
        worker = get_current_worker()
        workers.fetch_rows(positions, lambda p: row_cells(source, p),
                           lambda got: self.post_message(self.RowsFetched(generation, got)),
                           lambda: worker.is_cancelled)

    def on_packet_list_rows_fetched(self, message: RowsFetched) -> None:
        """Decoded rows: into the cache, and redrawn."""
        message.stop()
        if message.generation != self._generation:
            return
        cache = self._cells
        for position, cells in message.cells.items():
            cache[position] = cells
            cache.move_to_end(position)
        while len(cache) > ROW_CACHE:
            cache.popitem(last=False)
        self.refresh()

    # -- drawing ---------------------------------------------------------------

    def _row_cells(self, position: int) -> RowCells:
        hit = self._cells.get(position)
        if hit is not None:
            self._cells.move_to_end(position)
            return hit
        assert self.source is not None
        self._want_rows()
        return placeholder_cells(self.source, position)

    def _widths(self, width: int) -> tuple[int, int, int]:
        """(time, address, info) column widths for a line of ``width`` cells."""
        fixed = 3 + self._number_width + 1 + self._time_width + 1 + 1 + PROTO_WIDTH + 1
        avail = max(0, width - fixed)
        address = min(39, max(12, avail * 2 // 7 if avail >= 60 else avail // 4))
        info = max(8, avail - 2 * address - 1)
        return self._time_width, address, info

    def _line(self, cells: Sequence[str], width: int) -> str:
        time_w, addr_w, info_w = self._widths(width)
        number, time, src, dst, proto, info = cells
        return (f"{fit(number, self._number_width, True)} {fit(time, time_w, True)} "
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
