"""The layout of a node's handoff ladder, before any drawing: which messages
become arrows (and in which style), the care-of epochs, the data strips, the
handoff brackets, the idle breaks and the time -> row mapping. The Plotly
figure (`sequence`) and the Mermaid text (`mermaid`) both draw this.

Rows: the vertical unit is a row, the room one arrow and its label need.
`TimeScale` maps a time to a row position piecewise-linearly: every drawn
message gets at least one row after the previous mark, quiet stretches run
at one scale (seconds per row), and idle stretches (no message and no
handoff for longer than `IDLE_MIN_S` and `IDLE_MIN_SHARE` of the window)
shrink to `BREAK_ROWS` with a break mark. The mapping is monotonic, so the
axis ticks still show true times.

Thinning: a window with more than `MAX_ARROWS` messages keeps as arrows the
failures, BU retransmissions and unanswered BUs, the messages inside a
handoff, and the first and last ones; the others are counted per time bin
(`AggregateBin`) and said in a note, never dropped silently.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from ..report.model import MobileNode, Report, SignallingMessage
from .lanes import LaneMap, node_addresses, node_lanes
from .options import ChartOptions, node_label, select_nodes
from .window import chart_window, duration_text, handoff_span, time_of_day, utc_date

MAX_ARROWS = 2_000
AGGREGATE_BINS = 60
IDLE_MIN_S = 5.0
IDLE_MIN_SHARE = 0.10
BREAK_ROWS = 1.6
BRACKET_TEXT_ROWS = 1.4  # room under a handoff for its numbers

FAMILIES = {"BU": "registration", "BA": "registration", "BRR": "registration", "BE": "failure",
            "HoTI": "rr", "CoTI": "rr", "HoT": "rr", "CoT": "rr",
            "DHAAD request": "discovery", "DHAAD reply": "discovery", "MPS": "discovery",
            "MPA": "discovery", "RA": "nd", "NA": "nd", "NS": "nd"}


@dataclass(frozen=True)
class Arrow:
    """One signalling message as an arrow: the lanes it passes, its row, its
    style key (family, ``-retx`` dashed, ``unanswered`` ends in a cross)."""

    message: SignallingMessage
    path: tuple[int, ...]
    y: float
    style: str
    label: str
    retransmission: int = 0  # 1 for the first retransmission of a BU, ...
    unanswered: bool = False
    failure: bool = False


@dataclass(frozen=True)
class Epoch:
    """Where the node was: a care-of address (or ``None`` at home) from ``start`` to ``end``."""

    care_of: str | None
    start: float
    end: float
    color_index: int


@dataclass(frozen=True)
class StripBin:
    """Packets of one data strip in one time bin, drawn between two lanes."""

    kind: str  # tunnel_to_mn | tunnel_from_mn | direct | lost
    from_lane: int
    to_lane: int
    start: float
    end: float
    packets: int
    note: str  # hover line: which tunnel or correspondent
    care_of: str = ""  # the tunnel's care-of address (its epoch's colour)
    color_index: int = 0


@dataclass(frozen=True)
class Bracket:
    """One handoff in the window: its 1-based number, span and numbers text."""

    number: int
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class AggregateBin:
    """Messages counted, not drawn, in one time bin (thinning)."""

    start: float
    end: float
    kinds: tuple[tuple[str, int], ...]

    @property
    def count(self) -> int:
        """How many messages the bin stands for."""
        return sum(n for _k, n in self.kinds)


@dataclass(frozen=True)
class TimeScale:
    """A monotonic piecewise-linear time -> row map through ``knots`` (t, y)."""

    knots: tuple[tuple[float, float], ...]

    def y(self, t: float) -> float:
        """The row position of time ``t`` (clamped to the first and last knot)."""
        return _interp(t, [k[0] for k in self.knots], [k[1] for k in self.knots])

    def t(self, y: float) -> float:
        """The time at row position ``y`` (the inverse of `y`)."""
        return _interp(y, [k[1] for k in self.knots], [k[0] for k in self.knots])

    @property
    def rows(self) -> float:
        """The height of the whole window in rows."""
        return self.knots[-1][1]


def _interp(v: float, xs: list[float], ys: list[float]) -> float:
    if v <= xs[0]:
        return ys[0]
    if v >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_right(xs, v) - 1
    x0, x1 = xs[i], xs[i + 1]
    if x1 == x0:
        return ys[i + 1]
    return ys[i] + (ys[i + 1] - ys[i]) * (v - x0) / (x1 - x0)


@dataclass(frozen=True)
class SequenceLayout:
    """Everything the sequence chart and its Mermaid twin draw."""

    node: MobileNode
    window: tuple[float, float]
    handoff: int | None
    lanes: LaneMap
    arrows: tuple[Arrow, ...]
    epochs: tuple[Epoch, ...]
    strips: tuple[StripBin, ...]
    brackets: tuple[Bracket, ...]
    breaks: tuple[tuple[float, float], ...]  # idle (start, end) compressed
    aggregates: tuple[AggregateBin, ...]
    scale: TimeScale
    title: str
    notes: tuple[str, ...] = field(default=())
    multi_file: bool = False

    @property
    def aggregated(self) -> int:
        """How many messages of the window are counted, not drawn."""
        return sum(b.count for b in self.aggregates)


def _registration_index(node: MobileNode) -> dict[int, tuple[int, float, bool]]:
    """BU frame -> (retransmission number, seconds after the first BU, unanswered)."""
    index: dict[int, tuple[int, float, bool]] = {}
    for reg in node.registrations:
        for i, frame in enumerate(reg.bu_frames):
            index.setdefault(frame, (i, reg.first_bu_ts, reg.ba_frame is None))
    return index


def _arrow(m: SignallingMessage, lanes: LaneMap, y: float, regs: dict[int, tuple[int, float, bool]],
           ) -> Arrow:
    path = lanes.path(m)
    family = FAMILIES.get(m.kind, "other")
    failure = m.kind == "BE" or (m.kind == "BA" and m.status is not None and m.status >= 128)
    retx, unanswered, label = 0, False, m.label
    if m.kind == "BU" and m.frame in regs:
        retx, first_ts, unanswered = regs[m.frame]
        if retx:
            label += f" (retx {retx}, +{m.ts - first_ts:.1f} s)"
        if unanswered:
            label += " — no answer"
    if len(path) == 3:
        label += " (via HA tunnel)"
    if failure:
        style = "failure"
    elif unanswered:
        style = "unanswered-retx" if retx else "unanswered"
    else:
        style = family + ("-retx" if retx else "")
    return Arrow(m, path, y, style, label, retx, unanswered, failure)


def _epochs(node: MobileNode, window: tuple[float, float], last_ts: float) -> list[Epoch]:
    homes = set(node.home_addresses or (node.home_address,))
    colours = {a: i for i, a in enumerate(node_addresses(node))}
    spans: list[list] = []  # [care_of, start, end, ended_by]
    for b in sorted((b for b in node.bindings if b.kind == "home" and b.start_ts is not None),
                    key=lambda b: (b.start_ts, str(b.care_of))):
        end = b.end_ts if b.end_ts is not None else last_ts
        if spans and spans[-1][0] == b.care_of and b.start_ts <= spans[-1][2] + 1e-6:
            spans[-1][2], spans[-1][3] = max(spans[-1][2], end), b.ended_by
            continue
        if spans:
            spans[-1][2] = min(spans[-1][2], b.start_ts)
        spans.append([b.care_of, b.start_ts, end, b.ended_by])
    home: list[tuple[float, float]] = []
    if spans and node.handoffs and node.handoffs[0].from_care_of in homes:
        home.append((window[0], spans[0][1]))
    for i, (_c, _s, end, ended_by) in enumerate(spans):
        if ended_by == "deregistration":
            home.append((end, spans[i + 1][1] if i + 1 < len(spans) else last_ts))
    out = [Epoch(str(c), s, e, colours.get(c, 0)) for c, s, e, _b in spans]
    out += [Epoch(None, s, e, -1) for s, e in home]
    clipped = [Epoch(e.care_of, max(e.start, window[0]), min(e.end, window[1]), e.color_index)
               for e in out if e.end > window[0] and e.start < window[1]]
    return sorted(clipped, key=lambda e: (e.start, e.end))


def _series_bins(series, window: tuple[float, float]) -> list[tuple[float, float, int]]:
    if series is None:
        return []
    return [(max(ts, window[0]), min(ts + series.width_s, window[1]), n) for ts, n in series.bins()
            if ts + series.width_s > window[0] and ts < window[1]]


def _strips(report: Report, node: MobileNode, lanes: LaneMap, window: tuple[float, float],
            brackets: list[tuple[int, float, float]]) -> list[StripBin]:
    homes = set(node.home_addresses or (node.home_address,))
    colours = {a: i for i, a in enumerate(node_addresses(node))}
    out: list[StripBin] = []
    for t in report.tunnels:
        ha = lanes.lane_of(t.home_agent)
        if t.home_address not in homes or ha is None:
            continue
        note = f"tunnel {t.home_agent} ⇄ {t.care_of}"
        colour = colours.get(t.care_of, 0)
        for kind, series in (("tunnel_to_mn", t.to_mn_series), ("tunnel_from_mn", t.from_mn_series)):
            out += [StripBin(kind, 0, ha, a, b, n, note, str(t.care_of), colour)
                    for a, b, n in _series_bins(series, window)]
        for number, start, ba_ts in brackets:
            h = node.handoffs[number - 1]
            if h.from_care_of != t.care_of or h.from_care_of == h.to_care_of:
                continue
            lost = f"to the old care-of {t.care_of} during handoff {number} " \
                   f"(the handoff counts {h.lost_to_old_care_of} lost)"
            out += [StripBin("lost", 0, ha, max(a, start), min(b, ba_ts), n, lost)
                    for a, b, n in _series_bins(t.to_mn_series, window) if b > start and a < ba_ts]
    for ro in node.route_optimization:
        cn = lanes.lane_of(ro.correspondent)
        if cn is not None:
            out += [StripBin("direct", 0, cn, a, b, n, f"route-optimised with {ro.correspondent}")
                    for a, b, n in _series_bins(ro.direct_series, window)]
    return out


def _number(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value} {unit}"


def _brackets(node: MobileNode, window: tuple[float, float]) -> list[Bracket]:
    out = []
    for number, h in enumerate(node.handoffs, 1):
        span = handoff_span(h)
        if span is None or span[1] < window[0] or span[0] > window[1]:
            continue
        hint = h.movement_ts if h.movement_ts is not None else h.bu_ts
        hint_word = "hint" if h.movement_ts is not None else "BU"
        to_ba = "n/a" if hint is None or h.ba_ts is None else f"{h.ba_ts - hint:.2f} s"
        text = (f"handoff {number}: {hint_word} -> BA {to_ba} · registration "
                f"{_number(h.registration_ms, 'ms')} · disruption {_number(h.disruption_ms, 'ms')}"
                f"{' (idle: BU to BA)' if h.disruption_bounded_by_idle else ''}"
                f" · {h.lost_to_old_care_of} lost · {h.bu_retransmissions} retransmissions")
        if h.possibly_lost_to_old_care_of:
            text += f" · {h.possibly_lost_to_old_care_of} possibly lost"
        if h.outcome != "completed":
            text += f" · {h.outcome}" + (f" {h.status} {h.status_name or ''}".rstrip()
                                         if h.status is not None else "")
        out.append(Bracket(number, max(span[0], window[0]), min(span[1], window[1]), text))
    return out


def _thin(messages: list[SignallingMessage], regs: dict[int, tuple[int, float, bool]],
          spans: list[tuple[float, float]]) -> tuple[list[SignallingMessage], list[SignallingMessage]]:
    """(drawn, aggregated): see the module docstring."""
    if len(messages) <= MAX_ARROWS:
        return messages, []

    def important(m: SignallingMessage) -> bool:
        reg = regs.get(m.frame) if m.kind == "BU" else None
        return (m.kind in ("BE", "RA") or (m.kind == "BA" and (m.status or 0) >= 128)
                or (reg is not None and (reg[0] > 0 or reg[2]))
                or any(a <= m.ts <= b for a, b in spans))

    keep = [i for i, m in enumerate(messages) if important(m)][: MAX_ARROWS // 2]
    kept = set(keep)
    rest = [i for i in range(len(messages)) if i not in kept]
    edge = (MAX_ARROWS - len(keep)) // 2
    kept.update(rest[:edge])
    kept.update(rest[len(rest) - edge:])
    drawn = [m for i, m in enumerate(messages) if i in kept]
    return drawn, [m for i, m in enumerate(messages) if i not in kept]


def _aggregate(messages: list[SignallingMessage]) -> list[AggregateBin]:
    if not messages:
        return []
    first, last = messages[0].ts, messages[-1].ts
    width = max((last - first) / AGGREGATE_BINS, 1e-3)
    bins: dict[int, Counter[str]] = {}
    for m in messages:
        bins.setdefault(min(int((m.ts - first) / width), AGGREGATE_BINS - 1), Counter())[m.kind] += 1
    return [AggregateBin(first + i * width, first + (i + 1) * width,
                         tuple(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))))
            for i, c in sorted(bins.items())]


def _idle(times: list[float], spans: list[tuple[float, float]],
          window: tuple[float, float]) -> list[tuple[float, float]]:
    threshold = max(IDLE_MIN_S, IDLE_MIN_SHARE * (window[1] - window[0]))
    marks = sorted({window[0], window[1], *times, *(t for s in spans for t in s)})
    return [(a, b) for a, b in zip(marks, marks[1:], strict=False)
            if b - a > threshold and not any(s <= a and e >= b for s, e in spans)]


def _scale(window: tuple[float, float], drawn_times: list[float], brackets: list[Bracket],
           breaks: list[tuple[float, float]]) -> TimeScale:
    ends = {b.end for b in brackets}
    message_times = set(drawn_times)
    marks = sorted({window[0], window[1], *drawn_times, *(t for b in brackets for t in (b.start, b.end)),
                    *(t for g in breaks for t in g)})
    idle = set(breaks)
    busy_s = sum(b - a for a, b in zip(marks, marks[1:], strict=False) if (a, b) not in idle)
    per_row = max(busy_s, 1e-3) / max(12.0, float(len(message_times)))
    knots = [(marks[0], 0.0)]
    for a, b in zip(marks, marks[1:], strict=False):
        if (a, b) in idle:
            rows = BREAK_ROWS
        else:
            rows = max(1.0 if b in message_times else 0.5, (b - a) / per_row)
        rows += BRACKET_TEXT_ROWS if a in ends else 0.0
        knots.append((b, knots[-1][1] + rows))
    if len(knots) == 1:
        knots.append((marks[0] + 1e-3, 1.0))
    return TimeScale(tuple(knots))


def sequence_layout(report: Report, options: ChartOptions) -> SequenceLayout:
    """The layout of ``options``' node's ladder (the first selected node when
    ``--mn`` names several, said in the notes) in its window (`chart_window`).
    Raises `ChartInputError` like `select_nodes` and `chart_window`."""
    nodes = select_nodes(report, options)
    node = nodes[0]
    window = chart_window(report, node, options)
    last_ts = report.capture.last_ts if report.capture.last_ts is not None else window[1]
    messages = [m for m in report.signalling_of(node) if window[0] <= m.ts <= window[1]]
    regs = _registration_index(node)
    brackets = _brackets(node, window)
    spans = [(b.start, b.end) for b in brackets]
    drawn, rest = _thin(messages, regs, spans)
    lanes = node_lanes(report, node, drawn + rest, window)
    breaks = _idle([m.ts for m in messages], spans, window)
    scale = _scale(window, [m.ts for m in drawn], brackets, breaks)
    arrows = tuple(_arrow(m, lanes, scale.y(m.ts), regs) for m in drawn)
    ba_of = {b.number: node.handoffs[b.number - 1].ba_ts for b in brackets}
    lost_spans = [(b.number, b.start, ba_of[b.number]) for b in brackets if ba_of[b.number] is not None]
    aggregates = _aggregate(rest)
    notes = []
    if len(nodes) > 1:
        notes.append(f"{len(nodes)} mobile nodes selected: this chart shows the first, "
                     f"{node_label(node)} (choose one with --mn)")
    if rest:
        notes.append(f"{len(messages):,} signalling messages in this window: {len(drawn):,} drawn as "
                     f"arrows, {len(rest):,} aggregated into the grey bands (counts on hover)")
    if report.signalling_dropped:
        notes.append(f"the analysis kept {len(report.signalling):,} signalling messages and counted "
                     f"{report.signalling_dropped:,} more it did not keep: they are not drawn")
    if options.title:
        title = options.title
    elif options.handoff is not None:
        title = f"{node_label(node)} — handoff {options.handoff}"
    else:
        title = (f"{node_label(node)} — signalling {utc_date(window[0])} "
                 f"{time_of_day(window[0])} – {time_of_day(window[1])} UTC "
                 f"({duration_text(window[1] - window[0])})")
    return SequenceLayout(
        node=node, window=window, handoff=options.handoff, lanes=lanes, arrows=arrows,
        epochs=tuple(_epochs(node, window, last_ts)),
        strips=tuple(_strips(report, node, lanes, window, lost_spans)),
        brackets=tuple(brackets), breaks=tuple(breaks), aggregates=tuple(aggregates),
        scale=scale, title=title, notes=tuple(notes),
        multi_file=len(report.capture.files) > 1)
