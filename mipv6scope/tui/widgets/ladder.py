"""Ladder: one mobile node's signalling as a text sequence diagram.

One row per message of ``report.signalling_of(node)``: its time (UTC), an
arrow between the lanes it passes and its label. The lanes are the chart's
(`charts.lanes.node_lanes`: the node, access routers, home agents,
correspondents, other addresses), and the arrow styles the chart's
(`charts.sequence_data`), drawn with characters so they read without colour:

    ──▶ / ◀──   a message            ╌╌▶   a BU retransmission
    ──✕         a BU never answered  ◆     relayed through the home agent's tunnel
    [rejected]  a BA refusing the BU  [binding error]  a Binding Error

The header names the lanes; the footer gives the selected message's frame,
addresses and Info line. Moving the cursor posts `MessageSelected`.
"""

from __future__ import annotations

from rich.style import Style
from textual.binding import BindingType
from textual.message import Message
from textual.strip import Strip

from ...charts.lanes import LaneMap, lane_description, node_lanes
from ...charts.sequence_data import FAMILIES, Arrow, _arrow, _registration_index
from ...charts.window import time_of_day
from ...report.model import MobileNode, Report, SignallingMessage
from .row_view import RowView, fit, row_bindings, segments

TIME_WIDTH = 12
LEFT = 2 + TIME_WIDTH + 1  # pointer, time, space
MIN_LABEL = 24
FAMILY_CLASS = {"registration": "registration", "rr": "rr", "discovery": "discovery",
                "nd": "nd", "failure": "failure"}


class Ladder(RowView):
    """The node's signalling, one message a row, arrows between lanes."""

    BINDINGS: list[BindingType] = row_bindings("message")

    COMPONENT_CLASSES = {
        "ladder--header", "ladder--footer", "ladder--lane", "ladder--cursor", "ladder--time",
        "ladder--registration", "ladder--rr", "ladder--discovery", "ladder--nd",
        "ladder--failure", "ladder--unanswered",
    }

    DEFAULT_CSS = """
    Ladder { height: 1fr; }
    Ladder > .ladder--header { text-style: bold; background: $panel; }
    Ladder > .ladder--footer { background: $panel; }
    Ladder > .ladder--lane { color: $text-muted; }
    Ladder > .ladder--time { color: $text-muted; }
    Ladder > .ladder--cursor { text-style: reverse bold; }
    Ladder > .ladder--registration { color: $text-primary; }
    Ladder > .ladder--rr { color: $text-success; }
    Ladder > .ladder--discovery { color: $text-secondary; }
    Ladder > .ladder--nd { color: $text-muted; }
    Ladder > .ladder--failure { color: $text-error; text-style: bold; }
    Ladder > .ladder--unanswered { color: $text-warning; text-style: bold; }
    """

    header_lines = 1
    footer_lines = 1

    class MessageSelected(Message):
        """The cursor moved to a message: its frame (1-based), file index and ts."""

        def __init__(self, frame: int, file: int, ts: float) -> None:
            super().__init__()
            self.frame = frame
            self.file = file
            self.ts = ts

    def __init__(self, report: Report, node: MobileNode, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.report = report
        self.node = node
        self.messages: list[SignallingMessage] = []
        self.arrows: list[Arrow] = []
        self.lanes: LaneMap | None = None
        self._build()

    def _build(self) -> None:
        self.messages = self.report.signalling_of(self.node)
        self.lanes = node_lanes(self.report, self.node, self.messages)
        regs = _registration_index(self.node)
        self.arrows = [_arrow(m, self.lanes, float(i), regs) for i, m in enumerate(self.messages)]
        self.tooltip = "\n".join(f"{lane.alias}: {lane_description(lane, self.node)}"
                                 for lane in self.lanes.lanes)

    def set_node(self, report: Report, node: MobileNode) -> None:
        """Show another node's ladder, cursor on its first message."""
        self.report, self.node = report, node
        self._build()
        self.rows_changed()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.move_cursor(0)

    def on_mount(self) -> None:
        """Start on the first message."""
        self.rows_changed()
        if self.messages:
            self.cursor = 0

    @property
    def row_count(self) -> int:
        """One row per message."""
        return len(self.messages)

    def select_frame(self, frame: int, file: int | None = None) -> bool:
        """Put the cursor on the message of ``frame`` (of ``file``, if given)."""
        for row, m in enumerate(self.messages):
            if m.frame == frame and (file is None or m.file == file):
                self.move_cursor(row)
                return True
        return False

    def cursor_moved(self, row: int) -> None:
        """Tell the parents which message (frame) is selected."""
        m = self.messages[row]
        self.post_message(self.MessageSelected(m.frame, m.file, m.ts))

    # -- drawing ---------------------------------------------------------------

    def _lane_x(self, width: int) -> list[int]:
        """The column of each lane's line within the lanes area."""
        n = len(self.lanes.lanes) if self.lanes else 0
        if not n:
            return []
        gap = max(5, min(12, (width - LEFT - MIN_LABEL) // n))
        return [gap // 2 + i * gap for i in range(n)]

    def _style(self, name: str) -> Style:
        return self.rich_style + self.get_component_rich_style(f"ladder--{name}")

    def render_header(self, line: int, width: int) -> Strip:
        """Lane names over their lines."""
        xs = self._lane_x(width)
        chars = [" "] * (xs[-1] + 6 if xs else 0)
        for lane, x in zip(self.lanes.lanes if self.lanes else (), xs, strict=False):
            alias = lane.alias
            start = max(0, x - len(alias) // 2)
            chars[start:start + len(alias)] = list(alias)
        text = fit("  time (UTC)", LEFT) + "".join(chars).rstrip() + "  message"
        style = self._style("header")
        return Strip(segments((text, style))).crop_extend(0, width, style)

    def render_footer(self, line: int, width: int) -> Strip:
        """The selected message's frame, addresses and Info line."""
        style = self._style("footer")
        if not self.messages:
            text = " no signalling for this node"
        else:
            m = self.messages[min(self.cursor, len(self.messages) - 1)]
            text = f" frame {m.frame}  {m.src} → {m.dst}  {m.info}"
        return Strip(segments((text, style))).crop_extend(0, width, style)

    def arrow_text(self, arrow: Arrow, width: int) -> str:
        """The lanes area of one row: lane lines and the arrow, as plain text."""
        xs = self._lane_x(width)
        size = (xs[-1] + 2) if xs else 0
        chars = [" "] * size
        for x in xs:
            chars[x] = "│"
        path = [xs[i] for i in arrow.path if i < len(xs)]
        if len(path) < 2:
            return "".join(chars)
        a, b = path[0], path[-1]
        line = "╌" if arrow.retransmission else "─"
        if a == b:
            chars[a] = "↺"
            return "".join(chars)
        step = 1 if b > a else -1
        for x in range(a + step, b, step):
            chars[x] = line
        head = "✕" if arrow.unanswered else ("▶" if step > 0 else "◀")
        chars[b - step] = head
        chars[a] = "├" if step > 0 else "┤"
        for via in path[1:-1]:
            chars[via] = "◆"
        return "".join(chars)

    def label_text(self, arrow: Arrow) -> str:
        """The row's label, with a text marker for failures."""
        label = arrow.label
        m = arrow.message
        if arrow.failure:
            label += " [binding error]" if m.kind == "BE" else " [rejected]"
        return label

    def render_row(self, row: int, width: int, selected: bool) -> Strip:
        """Pointer, time, lanes with the arrow, label."""
        arrow = self.arrows[row]
        m = arrow.message
        if arrow.failure:
            kind = "failure"
        elif arrow.unanswered:
            kind = "unanswered"
        else:
            kind = FAMILY_CLASS.get(FAMILIES.get(m.kind, ""), "nd")
        style = self._style(kind)
        lane_style = self._style("lane")
        time_style = self._style("time")
        if selected:
            cursor = self.get_component_rich_style("ladder--cursor")
            style, lane_style, time_style = style + cursor, lane_style + cursor, time_style + cursor
        lanes = self.arrow_text(arrow, width)
        segs = segments(("▶ " if selected else "  ", time_style),
                        (time_of_day(m.ts), time_style), (" ", time_style))
        run, run_style = "", None
        for ch in lanes:  # lane lines dim, the arrow in the message's style
            ch_style = lane_style if ch == "│" else style
            if ch_style is not run_style and run:
                segs += segments((run, run_style))
                run = ""
            run_style = ch_style
            run += ch
        segs += segments((run, run_style), ("  " + self.label_text(arrow), style))
        return Strip(segs).crop_extend(0, width, style if selected else self.rich_style)
