"""RowView: the Line-API base of the row lists (packet list, ladder).

A virtual list of ``row_count`` rows with a cursor, fixed header lines on top
and footer lines at the bottom. Only the lines on screen are rendered
(`render_row` is called for them); the cursor moves with the arrows, j/k,
PgUp/PgDn, Home/End and the mouse, and is kept on screen.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` padded or cut (ending in an ellipsis) to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if len(text) > width:
        return text[:width - 1] + "…" if width > 1 else text[:1]
    return text.rjust(width) if right else text.ljust(width)


def row_bindings(noun: str) -> list[BindingType]:
    """The cursor keys of a row view whose rows are ``noun``s (as the footer
    and the command palette name them)."""
    return [
        Binding("up,k", "cursor_up", f"Previous {noun}", show=False),
        Binding("down,j", "cursor_down", f"Next {noun}", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", f"First {noun}"),
        Binding("end", "last", f"Last {noun}"),
    ]


class RowView(ScrollView, can_focus=True):
    """A scrolling list of rows with a cursor, rendered line by line.

    Subclasses give `row_count`, `render_row` and, if they have any,
    `render_header`/`render_footer` for ``header_lines``/``footer_lines``
    fixed lines; they react to the cursor in `cursor_moved`.
    """

    BINDINGS: list[BindingType] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    DEFAULT_CSS = """
    RowView {
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    """

    header_lines = 0
    footer_lines = 0

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    # -- for subclasses ---------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many rows the list has."""
        return 0

    def render_row(self, row: int, width: int, selected: bool) -> Strip:
        """The line of row ``row`` (``selected``: the cursor is on it)."""
        return Strip.blank(width)

    def render_header(self, line: int, width: int) -> Strip:
        """Fixed header line ``line``."""
        return Strip.blank(width)

    def render_footer(self, line: int, width: int) -> Strip:
        """Fixed footer line ``line``."""
        return Strip.blank(width)

    def cursor_moved(self, row: int) -> None:
        """Called when the cursor lands on ``row`` (a valid row)."""

    # -- geometry -------------------------------------------------------------

    @property
    def page_rows(self) -> int:
        """How many rows fit between the header and the footer."""
        return max(1, self.scrollable_content_region.height - self.header_lines - self.footer_lines)

    def rows_changed(self) -> None:
        """Call when the rows changed: resizes the virtual space and redraws."""
        self.virtual_size = Size(self.scrollable_content_region.width,
                                 self.row_count + self.header_lines + self.footer_lines)
        if self.row_count and self.cursor >= self.row_count:
            self.cursor = self.row_count - 1
        self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        """Keep the virtual size in step with the widget's width."""
        self.rows_changed()
        self._keep_visible(self.cursor)

    def render_line(self, y: int) -> Strip:
        """Header, row or footer line ``y`` of the visible region."""
        width = self.scrollable_content_region.width
        height = self.scrollable_content_region.height
        if y < self.header_lines:
            return self.render_header(y, width)
        if y >= height - self.footer_lines:
            return self.render_footer(y - (height - self.footer_lines), width)
        row = self.scroll_offset.y + y - self.header_lines
        if not 0 <= row < self.row_count:
            return Strip.blank(width, self.rich_style)
        strip = self.render_row(row, width, row == self.cursor and self.row_count > 0)
        return strip.crop_extend(0, width, self.rich_style)

    # -- cursor ---------------------------------------------------------------

    def _keep_visible(self, row: int) -> None:
        top = round(self.scroll_offset.y)
        page = self.page_rows
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + page:
            self.scroll_to(y=row - page + 1, animate=False, immediate=True)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (clamped) and scroll it into view."""
        if self.row_count == 0:
            return
        row = max(0, min(self.row_count - 1, row))
        self._keep_visible(row)
        self.cursor = row

    def watch_cursor(self, row: int) -> None:
        """Redraw and tell the subclass."""
        self.refresh()
        if 0 <= row < self.row_count:
            self.cursor_moved(row)

    def action_cursor_up(self) -> None:
        """Move the cursor one row up."""
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        """Move the cursor one row down."""
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        """Move the cursor one page up."""
        self.move_cursor(self.cursor - self.page_rows)

    def action_page_down(self) -> None:
        """Move the cursor one page down."""
        self.move_cursor(self.cursor + self.page_rows)

    def action_first(self) -> None:
        """Move the cursor to the first row."""
        self.move_cursor(0)

    def action_last(self) -> None:
        """Move the cursor to the last row."""
        self.move_cursor(self.row_count - 1)

    def on_click(self, event: events.Click) -> None:
        """A click on a row selects it."""
        height = self.scrollable_content_region.height
        if event.y < self.header_lines or event.y >= height - self.footer_lines:
            return
        row = round(self.scroll_offset.y) + event.y - self.header_lines
        if 0 <= row < self.row_count:
            self.focus()
            self.move_cursor(row)


def segments(*parts: tuple[str, Style | None]) -> list[Segment]:
    """Segments from (text, style) pairs, empty texts left out."""
    return [Segment(text, style) for text, style in parts if text]
