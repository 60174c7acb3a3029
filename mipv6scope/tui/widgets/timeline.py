"""NodeTimeline: a terminal Gantt chart of one mobile node.

Rows, top to bottom: the time axis (UTC), one band per care-of address the
node's home agent bound (labelled with the address), one row per
correspondent with its route-optimisation state, the handoffs (``▲N`` with
registration time, lost packets and retransmissions), the packets lost to an
old care-of address, the findings (``!`` warning, ``x`` error, ``i`` info),
then a status line saying what holds at the cursor and a legend.

Every state has its own fill character, so the chart reads without colour:

    █ bound   ░ tunnelled   ▒ RR started   ▚ RR done   ▓ BU sent   ■ RO active   ╳ fallback

A time cursor moves one column with the arrow keys; ``+``/``-`` zoom around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from ipaddress import IPv6Address

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ...charts.options import node_label
from ...charts.window import duration_text, handoff_span, time_of_day
from ...report.model import MobileNode, Report

LABEL_WIDTH = 17
MIN_SPAN_S = 0.01
BOUND = "█"
RO_FILL = {"tunnelled": "░", "rr_started": "▒", "rr_done": "▚", "bu_sent": "▓",
           "ro_active": "■", "fallback": "╳"}
RO_WORDS = {"tunnelled": "tunnelled", "rr_started": "RR started", "rr_done": "RR done",
            "bu_sent": "BU sent", "ro_active": "RO active", "fallback": "fallback"}
LOST_FILL = "╍"
SEVERITY_MARK = {"error": "x", "warning": "!", "info": "i"}
SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}
TICK_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60,
              120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)


def short_address(address: IPv6Address, width: int = LABEL_WIDTH - 1) -> str:
    """The address, or its end after an ellipsis when longer than ``width``."""
    text = str(address)
    return text if len(text) <= width else "…" + text[-(width - 1):]


@dataclass
class _Row:
    """One chart row: its label, characters and style classes per column."""

    label: str
    chars: list[str]
    styles: list[str]

    @classmethod
    def blank(cls, label: str, width: int) -> _Row:
        return cls(label, [" "] * width, [""] * width)

    def paint(self, c0: int, c1: int, char: str, style: str) -> None:
        """Fill columns c0..c1 (inclusive, clipped)."""
        for c in range(max(0, c0), min(len(self.chars) - 1, c1) + 1):
            self.chars[c] = char
            self.styles[c] = style

    def write(self, c: int, text: str, style: str, only_blank: bool = True) -> bool:
        """Write ``text`` from column ``c`` if it fits (on blank cells); True if written."""
        if c < 0 or c + len(text) > len(self.chars):
            return False
        if only_blank and any(ch != " " for ch in self.chars[c:c + len(text)]):
            return False
        for i, ch in enumerate(text):
            self.chars[c + i] = ch
            self.styles[c + i] = style
        return True


class NodeTimeline(Widget, can_focus=True):
    """The Gantt chart of one mobile node over time, with a time cursor."""

    BINDINGS: list[BindingType] = [
        Binding("left,h", "move(-1)", "Earlier"),
        Binding("right,l", "move(1)", "Later"),
        Binding("shift+left", "move(-10)", "10 columns earlier", show=False),
        Binding("shift+right", "move(10)", "10 columns later", show=False),
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom in"),
        Binding("minus", "zoom(2)", "Zoom out"),
        Binding("home", "first", "Start", show=False),
        Binding("end", "last", "End", show=False),
        Binding("0", "reset_zoom", "Whole capture", show=False),
    ]

    COMPONENT_CLASSES = {
        "node-timeline--axis", "node-timeline--label", "node-timeline--cursor",
        "node-timeline--band-0", "node-timeline--band-1", "node-timeline--band-2",
        "node-timeline--band-3", "node-timeline--ro", "node-timeline--ro-active",
        "node-timeline--fallback", "node-timeline--handoff", "node-timeline--lost",
        "node-timeline--warning", "node-timeline--error", "node-timeline--info",
        "node-timeline--status",
    }

    DEFAULT_CSS = """
    NodeTimeline {
        height: auto;
        min-height: 6;
    }
    NodeTimeline > .node-timeline--axis { color: $text-muted; }
    NodeTimeline > .node-timeline--label { text-style: bold; }
    NodeTimeline > .node-timeline--cursor { text-style: reverse; }
    NodeTimeline:focus > .node-timeline--cursor { text-style: reverse bold; }
    NodeTimeline > .node-timeline--band-0 { color: $text-primary; }
    NodeTimeline > .node-timeline--band-1 { color: $text-success; }
    NodeTimeline > .node-timeline--band-2 { color: $text-accent; }
    NodeTimeline > .node-timeline--band-3 { color: $text-secondary; }
    NodeTimeline > .node-timeline--ro { color: $text-muted; }
    NodeTimeline > .node-timeline--ro-active { color: $text-success; }
    NodeTimeline > .node-timeline--fallback { color: $text-warning; }
    NodeTimeline > .node-timeline--handoff { color: $text-accent; text-style: bold; }
    NodeTimeline > .node-timeline--lost { color: $text-warning; }
    NodeTimeline > .node-timeline--warning { color: $text-warning; text-style: bold; }
    NodeTimeline > .node-timeline--error { color: $text-error; text-style: bold; }
    NodeTimeline > .node-timeline--info { color: $text-muted; }
    NodeTimeline > .node-timeline--status { background: $panel; }
    """

    class CursorMoved(Message):
        """The user moved the time cursor to ``ts`` (epoch seconds)."""

        def __init__(self, ts: float) -> None:
            super().__init__()
            self.ts = ts

    def __init__(self, report: Report, node: MobileNode, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.report = report
        self.node = node
        self.full = self._full_span()
        self.view = self.full
        self.cursor_ts = self.full[0]

    # -- data -----------------------------------------------------------------

    def set_node(self, report: Report, node: MobileNode) -> None:
        """Show another node (or a newer report), whole capture, cursor kept if inside."""
        self.report, self.node = report, node
        self.full = self._full_span()
        self.view = self.full
        self.cursor_ts = min(max(self.cursor_ts, self.full[0]), self.full[1])
        self.refresh(layout=True)

    def _full_span(self) -> tuple[float, float]:
        first, last = self.report.capture.first_ts, self.report.capture.last_ts
        if first is None or last is None:
            times = [t for b in self.node.bindings for t in (b.start_ts, b.end_ts) if t is not None]
            first, last = (min(times), max(times)) if times else (0.0, 1.0)
        return first, max(last, first + MIN_SPAN_S)

    def band_addresses(self) -> list[IPv6Address]:
        """The care-of addresses with a home binding, one band each, first bound first."""
        found: dict[IPv6Address, None] = {}
        for b in self.node.bindings:
            if b.kind == "home" and b.start_ts is not None:
                found.setdefault(b.care_of, None)
        return list(found)

    # -- geometry --------------------------------------------------------------

    @property
    def plot_width(self) -> int:
        """Columns of the time axis."""
        return max(10, self.size.width - LABEL_WIDTH)

    @property
    def seconds_per_column(self) -> float:
        """The time one column covers at the current zoom."""
        return (self.view[1] - self.view[0]) / self.plot_width

    def column_of(self, ts: float) -> int:
        """The column (0-based, in the plot) holding ``ts``; may lie outside the plot."""
        return math.floor((ts - self.view[0]) / self.seconds_per_column + 1e-6)

    def time_of(self, column: int) -> float:
        """The start time of plot column ``column``."""
        return self.view[0] + column * self.seconds_per_column

    # -- cursor and zoom --------------------------------------------------------

    def set_cursor(self, ts: float, notify: bool = False) -> None:
        """Put the cursor at ``ts`` (clamped to the capture) and scroll the view
        to it; with ``notify`` post `CursorMoved` as a user move does."""
        ts = min(max(ts, self.full[0]), self.full[1])
        self.cursor_ts = ts
        span = self.view[1] - self.view[0]
        if not self.view[0] <= ts < self.view[1]:
            start = min(max(self.full[0], ts - span / 2), self.full[1] - span)
            self.view = (start, start + span)
        self.refresh()
        if notify:
            self.post_message(self.CursorMoved(ts))

    def action_move(self, columns: int) -> None:
        """Move the cursor by ``columns`` columns (to the start of that column),
        panning the view by whole columns when the cursor leaves it."""
        dt = self.seconds_per_column
        target = self.column_of(self.cursor_ts) + columns
        span = self.view[1] - self.view[0]
        plot = self.plot_width
        if not 0 <= target < plot:
            shift = (target if target < 0 else target - plot + 1) * dt
            start = min(max(self.full[0], self.view[0] + shift), self.full[1] - span)
            target -= round((start - self.view[0]) / dt)
            self.view = (start, start + span)
        self.set_cursor(self.time_of(target), notify=True)

    def action_zoom(self, factor: float) -> None:
        """Zoom by ``factor`` (0.5 in, 2 out) keeping the cursor's column."""
        span = self.view[1] - self.view[0]
        full = self.full[1] - self.full[0]
        new = min(full, max(MIN_SPAN_S, span * factor))
        start = self.cursor_ts - (self.cursor_ts - self.view[0]) * new / span
        start = min(max(self.full[0], start), self.full[1] - new)
        self.view = (start, start + new)
        self.refresh()

    def action_reset_zoom(self) -> None:
        """Show the whole capture."""
        self.view = self.full
        self.refresh()

    def action_first(self) -> None:
        """Cursor to the start of the capture."""
        self.set_cursor(self.full[0], notify=True)

    def action_last(self) -> None:
        """Cursor to the end of the capture."""
        self.set_cursor(self.full[1], notify=True)

    def on_click(self, event: events.Click) -> None:
        """A click in the plot puts the cursor there."""
        self.focus()
        if event.x >= LABEL_WIDTH:
            self.set_cursor(self.time_of(event.x - LABEL_WIDTH), notify=True)

    # -- drawing ---------------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As many lines as the chart has rows."""
        return (len(self._rows(max(10, width - LABEL_WIDTH))) + 3
                + len(self.legend_lines(width)))

    def _rows(self, width: int) -> list[_Row]:
        """Every chart row below the axis, for a plot ``width`` columns wide."""
        t0, t1 = self.view
        dt = (t1 - t0) / width

        def col(ts: float) -> int:
            return math.floor((ts - t0) / dt + 1e-6)

        rows: list[_Row] = []
        end_default = self.full[1]
        for i, care_of in enumerate(self.band_addresses()):
            row = _Row.blank(short_address(care_of), width)
            for b in self.node.bindings:
                if b.kind == "home" and b.care_of == care_of and b.start_ts is not None:
                    end = b.end_ts if b.end_ts is not None else end_default
                    row.paint(col(b.start_ts), max(col(b.start_ts), col(end) - 1 if end > b.start_ts
                                                   else col(end)), BOUND, f"band-{i % 4}")
            rows.append(row)
        if not rows:
            rows.append(_Row.blank("HA (none)", width))
        names = self.report.node_names()
        for ro in self.node.route_optimization:
            label = "CN " + (names.get(ro.correspondent) or short_address(ro.correspondent, 10))
            row = _Row.blank(label, width)
            steps = sorted(ro.transitions, key=lambda t: t.ts)
            for k, tr in enumerate(steps):
                end = steps[k + 1].ts if k + 1 < len(steps) else end_default
                style = {"ro_active": "ro-active", "fallback": "fallback"}.get(tr.state, "ro")
                row.paint(col(tr.ts), max(col(tr.ts), col(end) - 1), RO_FILL.get(tr.state, "?"),
                          style)
            rows.append(row)
        moves = _Row.blank("moves", width)
        lost = _Row.blank("lost", width)
        any_lost = False
        for n, h in enumerate(self.node.handoffs, 1):
            span = handoff_span(h)
            if span is None:
                continue
            c = col(h.movement_ts if h.movement_ts is not None else span[0])
            text = f"▲{n}"
            if not moves.write(c, text, "handoff"):
                moves.paint(c, c, "▲", "handoff")
                continue
            extra = []
            if h.registration_ms is not None:
                extra.append(duration_text(h.registration_ms / 1000).replace(" ", ""))
            if h.lost_to_old_care_of:
                extra.append(f"{h.lost_to_old_care_of} lost")
            if h.bu_retransmissions:
                extra.append(f"{h.bu_retransmissions} retx")
            if extra:
                moves.write(c + len(text), " " + ", ".join(extra), "handoff")
            if h.lost_to_old_care_of:
                any_lost = True
                lo = h.movement_ts if h.movement_ts is not None else span[0]
                hi = h.first_data_ts or h.ba_ts or span[1]
                lost.paint(col(lo), max(col(lo), col(hi)), LOST_FILL, "lost")
                lost.write(max(col(lo), col(hi)) + 2, f"{h.lost_to_old_care_of} lost", "lost")
        rows.append(moves)
        if any_lost:
            rows.append(lost)
        findings = _Row.blank("findings", width)
        mine = set(self.node.home_addresses or (self.node.home_address,))
        ranked: dict[int, str] = {}
        for f in sorted((f for f in self.report.findings if f.node in mine), key=lambda f: f.ts):
            c = col(f.ts)
            if not 0 <= c < width:
                continue
            previous = ranked.get(c)
            if previous is None or SEVERITY_RANK.get(f.severity, 0) > SEVERITY_RANK.get(previous, 0):
                ranked[c] = f.severity
                findings.paint(c, c, SEVERITY_MARK.get(f.severity, "?"), f.severity)
        for c, severity in sorted(ranked.items()):
            codes = [f.code for f in self.report.findings
                     if f.node in mine and col(f.ts) == c and f.severity == severity]
            if codes:
                findings.write(c + 2, codes[0], severity)
        rows.append(findings)
        return rows

    def _ticks(self, width: int) -> tuple[list[tuple[int, str]], float]:
        t0, t1 = self.view
        span = t1 - t0
        fine = span < 10
        label_w = 12 if fine else 8
        step = next((s for s in TICK_STEPS if s * width / span >= label_w + 2), TICK_STEPS[-1])
        first = math.ceil(t0 / step) * step
        ticks = []
        t = first
        while t < t1:
            c = math.floor((t - t0) / span * width + 1e-9)
            text = time_of_day(t) if fine else time_of_day(t)[:8]
            ticks.append((c, text))
            t += step
        return ticks, step

    def _node_title(self) -> str:
        """The node's name, or its home address shortened to fit the label column."""
        if self.node.name:
            return node_label(self.node)
        return short_address(self.node.home_address)

    def _strip(self, label: str, chars: list[str], styles: list[str], width: int,
               cursor: int | None) -> Strip:
        base = self.rich_style
        cache: dict[str, Style] = {}

        def style(name: str) -> Style:
            if name not in cache:
                cache[name] = base + self.get_component_rich_style(f"node-timeline--{name}") \
                    if name else base
            return cache[name]

        segs = [Segment(f"{label[:LABEL_WIDTH - 1]:<{LABEL_WIDTH - 1}} ", style("label"))]
        for c, (ch, st) in enumerate(zip(chars, styles, strict=True)):
            if c == cursor:
                segs.append(Segment("│" if ch == " " else ch, style(st) + style("cursor")))
            else:
                segs.append(Segment(ch, style(st)))
        return Strip(segs).crop_extend(0, width, base)

    def render_lines_list(self) -> list[Strip]:
        """The whole chart as strips, top to bottom."""
        width = self.size.width
        plot = self.plot_width
        c_cur = self.column_of(self.cursor_ts)
        cursor = c_cur if 0 <= c_cur < plot else None
        ticks, _step = self._ticks(plot)
        labels = _Row.blank("UTC", plot)
        ruler = _Row.blank(self._node_title(), plot)
        ruler.chars = ["─"] * plot
        ruler.styles = ["axis"] * plot
        for c, text in ticks:
            labels.write(c, text, "axis")
            if 0 <= c < plot:
                ruler.chars[c] = "┬"
        if cursor is not None:
            ruler.chars[cursor] = "▼"
        lines = [self._strip(labels.label, labels.chars, labels.styles, width, None),
                 self._strip(ruler.label, ruler.chars, ruler.styles, width, None)]
        for row in self._rows(plot):
            lines.append(self._strip(row.label, row.chars, row.styles, width, cursor))
        lines.append(self._status_strip(width))
        lines.extend(self._legend_strips(width))
        return lines

    def status_text(self) -> str:
        """What holds at the cursor: time, the home binding, each correspondent's
        route-optimisation state, findings in the cursor's column."""
        ts = self.cursor_ts
        parts = [f"cursor {time_of_day(ts)}",
                 f"span {duration_text(self.view[1] - self.view[0])}"]
        bound = [b for b in self.node.bindings if b.kind == "home" and b.start_ts is not None
                 and b.start_ts <= ts < (b.end_ts if b.end_ts is not None else self.full[1] + 1)]
        parts.append(f"HA: {bound[-1].care_of}" if bound else "HA: no binding")
        for i, ro in enumerate(self.node.route_optimization, 1):
            state = None
            for tr in sorted(ro.transitions, key=lambda t: t.ts):
                if tr.ts <= ts:
                    state = tr.state
            parts.append(f"CN{i}: {RO_WORDS.get(state, state) if state else '-'}")
        mine = set(self.node.home_addresses or (self.node.home_address,))
        near = [f for f in self.report.findings
                if f.node in mine and self.column_of(f.ts) == self.column_of(ts)]
        if near:
            parts.append(" ".join(f"{SEVERITY_MARK.get(f.severity, '?')} {f.code}" for f in near))
        return "  ".join(parts)

    def _status_strip(self, width: int) -> Strip:
        style = self.rich_style + self.get_component_rich_style("node-timeline--status")
        return Strip([Segment(" " + self.status_text(), style)]).crop_extend(0, width, style)

    def legend_lines(self, width: int) -> list[str]:
        """The legend, wrapped to ``width`` cells."""
        parts = [f"{BOUND} bound", "▲ handoff"]
        if self.node.route_optimization:
            parts += [f"{RO_FILL[s]} {RO_WORDS[s]}" for s in RO_FILL]
        parts += [f"{LOST_FILL} lost", "! warning", "x error", "←/→ move", "+/- zoom"]
        lines = [""]
        for part in parts:
            if lines[-1] and len(lines[-1]) + 2 + len(part) + 1 > width:
                lines.append("")
            lines[-1] += ("  " if lines[-1] else "") + part
        return lines

    def _legend_strips(self, width: int) -> list[Strip]:
        style = self.rich_style + self.get_component_rich_style("node-timeline--axis")
        return [Strip([Segment(" " + line, style)]).crop_extend(0, width, style)
                for line in self.legend_lines(width)]

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the chart."""
        key = (self.size, self.view, self.cursor_ts, self.has_focus)
        if getattr(self, "_cache_key", None) != key:
            self._cache_key = key
            self._cache_lines = self.render_lines_list()
        lines = self._cache_lines
        if 0 <= y < len(lines):
            return lines[y]
        return Strip.blank(self.size.width, self.rich_style)

    def on_focus(self) -> None:
        """Redraw the cursor in its focused style."""
        self.refresh()

    def on_blur(self) -> None:
        """Redraw the cursor in its unfocused style."""
        self.refresh()
