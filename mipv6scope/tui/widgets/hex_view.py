"""HexView: the bytes of one frame (Wireshark's bottom pane).

Lines from `decode.detail.hex_lines`: offset, hex, ASCII. The highlighted byte
range (the selected detail field) is drawn in reverse video and underlined,
and a ``»`` in the gutter marks the lines that hold it, so it shows without
colour. Narrower than a 16-byte line, each line is split into 8- or 4-byte lines.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...decode.detail import HexLine, hex_lines

WIDE = 2 + 6 + 47 + 3 + 16  # gutter + offset + hex + gap + ascii
NARROW = 2 + 6 + 23 + 3 + 8


class HexView(ScrollView, can_focus=True):
    """The hex dump of a frame's captured bytes with one byte range highlighted."""

    BINDINGS: list[BindingType] = [
        Binding("up,k", "scroll_up", "Scroll up", show=False),
        Binding("down,j", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
    ]

    COMPONENT_CLASSES = {"hex-view--offset", "hex-view--highlight"}

    DEFAULT_CSS = """
    HexView {
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    HexView > .hex-view--offset { color: $text-muted; }
    HexView > .hex-view--highlight { text-style: reverse bold underline; }
    """

    def __init__(self, data: bytes = b"", *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.data = data
        self.highlight: tuple[int, int] | None = None
        self._lines: list[HexLine] = []
        self._rows: list[tuple[HexLine, int, int]] = []  # (line, first column, columns)

    @property
    def bytes_per_line(self) -> int:
        """16, or 8 or 4 when the widget is too narrow for a 16-byte line."""
        width = self.scrollable_content_region.width
        return 16 if width >= WIDE else 8 if width >= NARROW else 4

    def show_bytes(self, data: bytes, highlight: tuple[int, int] | None = None) -> None:
        """Show ``data`` with ``highlight`` (start, length) marked."""
        self.data = data
        self.highlight = highlight
        self._layout()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.scroll_to_highlight()

    def set_highlight(self, start: int | None, length: int = 0) -> None:
        """Mark ``length`` bytes from ``start`` (None: nothing) and scroll to them."""
        self.highlight = None if start is None else (start, length)
        self._layout()
        self.scroll_to_highlight()

    @property
    def highlighted_offsets(self) -> list[int]:
        """The byte offsets drawn highlighted (for tests and screen readers)."""
        return [line.offset + col for line in self._lines for col in line.highlighted]

    def _layout(self) -> None:
        self._lines = hex_lines(self.data, self.highlight)
        per = self.bytes_per_line
        self._rows = []
        for line in self._lines:
            count = len(line.ascii)
            for first in range(0, count, per):
                self._rows.append((line, first, min(per, count - first)))
        width = self.scrollable_content_region.width
        self.virtual_size = Size(width, len(self._rows))
        self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        """Re-lay the lines for the new width."""
        self._layout()

    def scroll_to_highlight(self) -> None:
        """Bring the first highlighted line into view."""
        if self.highlight is None or not self.highlight[1]:
            return
        start = self.highlight[0]
        for y, (line, first, count) in enumerate(self._rows):
            if line.offset + first <= start < line.offset + first + count:
                top = round(self.scroll_offset.y)
                height = self.scrollable_content_region.height
                if not top <= y < top + height:
                    self.scroll_to(y=max(0, y - 1), animate=False, immediate=True)
                return

    def render_line(self, y: int) -> Strip:
        """One line of the dump: gutter, offset, hex bytes, ASCII."""
        width = self.scrollable_content_region.width
        row = round(self.scroll_offset.y) + y
        base = self.rich_style
        if not 0 <= row < len(self._rows):
            return Strip.blank(width, base)
        line, first, count = self._rows[row]
        per = self.bytes_per_line
        marked = set(line.highlighted)
        mark = base + self.get_component_rich_style("hex-view--highlight")
        offset_style = base + self.get_component_rich_style("hex-view--offset")
        hex_bytes = line.hex.split(" ")
        any_marked = any(first <= c < first + count for c in marked)
        segs = [Segment("» " if any_marked else "  ", base),
                Segment(f"{line.offset + first:04x}  ", offset_style)]
        for i in range(first, first + count):
            if i > first:
                both = i in marked and i - 1 in marked
                segs.append(Segment(" ", mark if both else base))
            segs.append(Segment(hex_bytes[i], mark if i in marked else base))
        pad = (per - count) * 3
        segs.append(Segment(" " * (pad + 3), base))
        for i in range(first, first + count):
            segs.append(Segment(line.ascii[i], mark if i in marked else base))
        return Strip(segs).crop_extend(0, width, base)
