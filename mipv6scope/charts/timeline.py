"""The binding timeline (``--kind timeline``): a Gantt of every selected
mobile node across the capture (or ``--from/--to``).

One row per node, sorted by first activity (its earliest binding,
registration, handoff, route-optimisation transition or tunnel; report
order breaks ties, nodes with no time last). Row ``i`` sits at y = i
(numeric, reversed so the first node is on top; the tick labels are the
node labels) and holds, top to bottom:

- handoff markers (a triangle at the accepting BA, a red cross at the BU of
  a handoff no BA accepted), hover with the handoff's numbers;
- the home bindings: one bar per binding with a home agent, coloured by
  care-of address: per care-of /64 prefix when the selection uses at most
  ``len(CARE_OF_PALETTE)`` prefixes, else by the address's rank in the
  node's own care-of epochs (1st, 2nd, ... 8th and later); "at home" (from
  the start, or a handoff back home, to the next handoff leaving home) in
  grey; finding markers (diamonds coloured by severity) on this bar;
- route optimisation: a thin bar per state as `ro` names it, each state
  lasting from its transition to the next (the last to the end of the
  window); a node with several correspondents splits this band in lanes.

Scale: the figure has ONE trace per category (colour class, RO state,
marker kind), whatever the number of nodes: horizontal `go.Bar` with
``base`` = start (UTC date) and ``x`` = duration in ms on a date axis, hover
from ``customdata`` + one ``hovertemplate`` per trace, times rounded to the
millisecond. Many nodes: the figure is ``ROW_PX`` a row up to
``VISIBLE_ROWS`` rows tall and its y range shows the first ``VISIBLE_ROWS``
rows; the rest are reached by panning (``dragmode="pan"``) or zooming out
(double-click restores the first view). Correspondent bindings are drawn
as route-optimisation states, not as binding bars.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from ipaddress import IPv6Address, IPv6Network
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ..report.model import Binding, Finding, Handoff, MobileNode, Report
from .options import ChartOptions, node_label, select_nodes
from .style import (
    CARE_OF_PALETTE,
    FONT,
    HOME_COLOUR,
    RO_OTHER_COLOUR,
    RO_STATE_COLOURS,
    RO_STATES,
    SEVERITIES,
    SEVERITY_COLOURS,
    chart_title,
    clock,
    time_window,
    utc,
)

ROW_PX = 22
VISIBLE_ROWS = 40
NO_NODE_ROW = "(findings of no node)"
# bars and markers inside a row (row i spans i-0.5 .. i+0.5, down is +)
HANDOFF_Y = -0.36
BINDING_Y, BINDING_H = -0.08, 0.40
RO_TOP, RO_H = 0.16, 0.26
# the most traces a timeline can have: care-of classes, at home, RO states and
# "other", two handoff marker kinds, one per severity and one for other severities
MAX_TRACES = len(CARE_OF_PALETTE) + 1 + len(RO_STATES) + 1 + 2 + len(SEVERITIES) + 1

# bar hover: the row's tick label names the node, so the bars' customdata does not repeat it
_BINDING_HOVER = ("care-of <b>%{customdata[0]}</b><br>home agent %{customdata[1]}"
                  "<br>%{customdata[2]} - %{customdata[3]} UTC<br>seq %{customdata[4]}, "
                  "ended by %{customdata[5]}<extra>binding</extra>")
_HOME_HOVER = "at home<br>%{customdata[0]} - %{customdata[1]} UTC<extra></extra>"
_RO_HOVER = ("route optimisation with %{customdata[0]}: <b>%{fullData.name}</b>"
             "<br>%{customdata[1]} - %{customdata[2]} UTC<br>from frame %{customdata[3]}"
             "%{customdata[4]}<extra></extra>")
_HANDOFF_HOVER = ("<b>%{customdata[0]}</b>: handoff %{customdata[1]} -> %{customdata[2]}"
                  "<br>movement %{customdata[3]}, BU %{customdata[4]}, BA %{customdata[5]}, "
                  "first data %{customdata[6]}<br>registration %{customdata[7]} ms, disruption "
                  "%{customdata[8]} ms<br>BU retransmissions %{customdata[9]}, lost to old care-of "
                  "%{customdata[10]}<extra></extra>")
_FINDING_HOVER = ("<b>%{customdata[0]}</b> (%{customdata[1]})<br>%{customdata[2]}<br>frames "
                  "%{customdata[3]}<br>%{customdata[4]}<extra>%{customdata[5]}</extra>")


@dataclass
class _Bars:
    """The bars of one trace: start (UTC), duration (ms), row position, hover data."""

    base: list[int] = field(default_factory=list)
    length_ms: list[int] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    width: list[float] = field(default_factory=list)
    custom: list[list[Any]] = field(default_factory=list)

    def add(self, start: float, end: float, y: float, width: float, custom: list[Any]) -> None:
        self.base.append(round(start * 1000))
        self.length_ms.append(round(end * 1000) - self.base[-1])
        self.y.append(round(y, 3))
        self.width.append(width)
        self.custom.append(custom)


@dataclass
class _Points:
    """The markers of one trace."""

    x: list[int] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    custom: list[list[Any]] = field(default_factory=list)

    def add(self, ts: float, y: float, custom: list[Any]) -> None:
        self.x.append(round(ts * 1000))
        self.y.append(round(y, 3))
        self.custom.append(custom)


def first_activity(node: MobileNode, tunnel_start: dict[IPv6Address, float]) -> float | None:
    """The earliest time the report gives for ``node``: a binding's start, a
    registration's first BU (rejected and unanswered ones too), a handoff's times, a
    route-optimisation transition, the start of a tunnel to one of its home
    addresses; None when there is none."""
    times: list[float] = []
    times.extend(b.start_ts if b.start_ts is not None else b.end_ts
                 for b in node.bindings if b.start_ts is not None or b.end_ts is not None)
    times.extend(r.first_bu_ts for r in node.registrations)
    times.extend(t for h in node.handoffs for t in (h.movement_ts, h.bu_ts, h.ba_ts, h.first_data_ts)
                 if t is not None)
    times.extend(t.ts for ro in node.route_optimization for t in ro.transitions)
    times.extend(tunnel_start[a] for a in _home_addresses(node) if a in tunnel_start)
    return min(times) if times else None


def timeline_rows(report: Report, options: ChartOptions) -> list[MobileNode]:
    """The selected nodes in the timeline's row order (see `first_activity`)."""
    nodes = select_nodes(report, options)
    tunnel_start: dict[IPv6Address, float] = {}
    for t in report.tunnels:
        tunnel_start[t.home_address] = min(t.start_ts, tunnel_start.get(t.home_address, math.inf))
    keyed = []
    for index, node in enumerate(nodes):
        first = first_activity(node, tunnel_start)
        keyed.append((first is None, first if first is not None else 0.0, index, node))
    return [node for *_key, node in sorted(keyed, key=lambda k: k[:3])]


def _home_addresses(node: MobileNode) -> tuple[IPv6Address, ...]:
    return node.home_addresses or (node.home_address,)


def _clip(start: float, end: float, window: tuple[float, float]) -> tuple[float, float] | None:
    lo, hi = max(start, window[0]), min(end, window[1])
    return (lo, hi) if lo <= hi else None


def _home_bindings(node: MobileNode) -> list[Binding]:
    return sorted((b for b in node.bindings if b.kind == "home" and b.start_ts is not None),
                  key=lambda b: b.start_ts or 0.0)


def _prefix(address: IPv6Address) -> IPv6Network:
    return IPv6Network((address, 64), strict=False)


class _CareOfColours:
    """Which colour class a care-of address of a node falls in (see the module docstring)."""

    def __init__(self, nodes: list[MobileNode]) -> None:
        prefixes: dict[IPv6Network, None] = {}
        for node in nodes:
            for b in _home_bindings(node):
                prefixes.setdefault(_prefix(b.care_of))
        self.by_prefix = len(prefixes) <= len(CARE_OF_PALETTE)
        self.prefix_class = {p: i for i, p in enumerate(prefixes)}
        self.names = ([f"care-of in {p}" for p in prefixes] if self.by_prefix else
                      [f"{_ordinal(i + 1)} care-of" for i in range(len(CARE_OF_PALETTE) - 1)]
                      + [f"{_ordinal(len(CARE_OF_PALETTE))} care-of and later"])

    def classes(self, node: MobileNode) -> dict[IPv6Address, int]:
        """care-of address -> colour class for ``node``'s home bindings."""
        out: dict[IPv6Address, int] = {}
        for b in _home_bindings(node):
            if b.care_of not in out:
                out[b.care_of] = (self.prefix_class[_prefix(b.care_of)] if self.by_prefix
                                  else min(len(out), len(CARE_OF_PALETTE) - 1))
        return out


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _at_home(node: MobileNode, first: float, last: float) -> list[tuple[float, float]]:
    """Intervals the node was at home: from the window start to a first handoff
    leaving home, and from each handoff back home to the next handoff (or the end)."""
    homes = set(_home_addresses(node))
    out: list[tuple[float, float]] = []
    since: float | None = None
    for i, h in enumerate(node.handoffs):
        when = handoff_ts(h)
        if when is None:
            continue
        if h.from_care_of in homes and h.to_care_of not in homes:
            start = first if since is None and i == 0 else since
            if start is not None:
                out.append((start, when))
            since = None
        elif h.to_care_of in homes:
            since = when
    if since is not None:
        out.append((since, last))
    return out


def handoff_ts(h: Handoff) -> float | None:
    """Where a handoff's marker goes: its accepting BA, else its BU, else any time it has."""
    for ts in (h.ba_ts, h.bu_ts, h.movement_ts, h.first_data_ts):
        if ts is not None:
            return ts
    return None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _frames(frames: tuple[int, ...]) -> str:
    return ", ".join(str(n) for n in frames[:5]) + (f" ... ({len(frames)})" if len(frames) > 5 else "")


def _ro_segments(node: MobileNode, row: int, window: tuple[float, float],
                 bars: dict[str, _Bars]) -> None:
    pairs = node.route_optimization
    lane_h = RO_H / max(1, len(pairs))
    for j, ro in enumerate(pairs):
        y = row + RO_TOP + (j + 0.5) * lane_h
        ts = [t.ts for t in ro.transitions[1:]] + [window[1]]
        for t, end in zip(ro.transitions, ts, strict=True):
            span = _clip(t.ts, max(t.ts, end), window)
            if span is None:
                continue
            state = t.state if t.state in RO_STATE_COLOURS else "other"
            bars[state].add(*span, y, lane_h * 0.9, [
                str(ro.correspondent), clock(t.ts), clock(end), t.frame, f" ({t.reason})" if t.reason else ""])


def _node_rows(node: MobileNode, row: int, window: tuple[float, float], colours: _CareOfColours,
               care_of: dict[int, _Bars], home: _Bars, ro: dict[str, _Bars],
               handoffs: dict[bool, _Points]) -> None:
    label = node_label(node)
    classes = colours.classes(node)
    y = row + BINDING_Y
    for b in _home_bindings(node):
        start = b.start_ts if b.start_ts is not None else window[0]
        end = b.end_ts if b.end_ts is not None else window[1]
        span = _clip(start, max(start, end), window)
        if span is not None:
            care_of[classes[b.care_of]].add(*span, y, BINDING_H, [
                str(b.care_of), str(b.peer), clock(start), clock(end), b.seq, b.ended_by])
    for start, end in _at_home(node, *window):
        span = _clip(start, end, window)
        if span is not None:
            home.add(*span, y, BINDING_H, [clock(start), clock(end)])
    _ro_segments(node, row, window, ro)
    for h in node.handoffs:
        ts = handoff_ts(h)
        if ts is None or not window[0] <= ts <= window[1]:
            continue
        accepted = h.ba_ts is not None
        handoffs[accepted].add(ts if accepted else (h.bu_ts or ts), row + HANDOFF_Y, [
            label, str(h.from_care_of), str(h.to_care_of), clock(h.movement_ts), clock(h.bu_ts),
            clock(h.ba_ts), clock(h.first_data_ts), _ms(h.registration_ms), _ms(h.disruption_ms),
            h.bu_retransmissions, h.lost_to_old_care_of])


def _finding_points(findings: list[tuple[int, Finding, str]], window: tuple[float, float]
                    ) -> dict[str, _Points]:
    points: dict[str, _Points] = defaultdict(_Points)
    for row, f, label in findings:
        if window[0] <= f.ts <= window[1]:
            severity = f.severity if f.severity in SEVERITY_COLOURS else "other"
            points[severity].add(f.ts, row + BINDING_Y, [
                f.code, f.severity, label, _frames(f.frames), f.message, f.rfc])
    return points


def _bar_trace(bars: _Bars, name: str, colour: str, hover: str, group: str) -> go.Bar:
    widths = set(bars.width)
    return go.Bar(
        orientation="h", base=bars.base, x=np.array(bars.length_ms, dtype=np.int32),
        y=np.array(bars.y, dtype=np.float32),
        width=bars.width[0] if len(widths) == 1 else np.array(bars.width, dtype=np.float32),
        customdata=bars.custom, hovertemplate=hover, name=name, legendgroup=group,
        legendgrouptitle={"text": group}, marker={"color": colour, "line": {"width": 0}},
        textposition="none")


def _marker_trace(points: _Points, name: str, symbol: str, colour: str, hover: str, group: str,
                  size: int = 9) -> go.Scatter:
    return go.Scatter(
        mode="markers", x=points.x, y=np.array(points.y, dtype=np.float32), customdata=points.custom, hovertemplate=hover,
        name=name, legendgroup=group, legendgrouptitle={"text": group},
        marker={"symbol": symbol, "color": colour, "size": size, "line": {"width": 1, "color": "#ffffff"}})


def timeline_figure(report: Report, options: ChartOptions) -> go.Figure:
    """The timeline of the nodes ``options`` selects (see the module
    docstring). Raises `ChartInputError` (via `select_nodes` /
    `style.time_window`) for no node, an unknown ``--mn`` or a window outside
    the capture."""
    nodes = timeline_rows(report, options)
    window = time_window(report, options)
    colours = _CareOfColours(nodes)
    care_of: dict[int, _Bars] = defaultdict(_Bars)
    home = _Bars()
    ro: dict[str, _Bars] = defaultdict(_Bars)
    handoffs: dict[bool, _Points] = defaultdict(_Points)
    row_of: dict[IPv6Address, tuple[int, str]] = {}
    labels: list[str] = []
    for row, node in enumerate(nodes):
        labels.append(node_label(node))
        row_of.update((a, (row, labels[-1])) for a in _home_addresses(node))
        _node_rows(node, row, window, colours, care_of, home, ro, handoffs)
    findings = [(row_of[f.node][0], f, row_of[f.node][1]) for f in report.findings if f.node in row_of]
    if not options.mn and any(f.node is None for f in report.findings):
        labels.append(NO_NODE_ROW)
        findings += [(len(labels) - 1, f, NO_NODE_ROW) for f in report.findings if f.node is None]
    findings.sort(key=lambda k: (k[0], k[1].ts, k[1].code))

    fig = go.Figure()
    bindings_group, ro_group, marks_group = "binding with home agent", "route optimisation", "events"
    if home.base:
        fig.add_trace(_bar_trace(home, "at home", HOME_COLOUR, _HOME_HOVER, bindings_group))
    for k in sorted(care_of):
        fig.add_trace(_bar_trace(care_of[k], colours.names[k], CARE_OF_PALETTE[k], _BINDING_HOVER,
                                 bindings_group))
    for state in (*RO_STATES, "other"):
        if state in ro:
            fig.add_trace(_bar_trace(ro[state], state if state != "other" else "other state",
                                     RO_STATE_COLOURS.get(state, RO_OTHER_COLOUR), _RO_HOVER, ro_group))
    if True in handoffs:
        fig.add_trace(_marker_trace(handoffs[True], "handoff (at BA)", "triangle-down", "#222222",
                                    _HANDOFF_HOVER, marks_group))
    if False in handoffs:
        fig.add_trace(_marker_trace(handoffs[False], "handoff without accepting BA (at BU)", "x",
                                    SEVERITY_COLOURS["error"], _HANDOFF_HOVER, marks_group, 10))
    points = _finding_points(findings, window)
    for severity in (*SEVERITIES, "other"):
        if severity in points:
            fig.add_trace(_marker_trace(points[severity], f"finding: {severity}", "diamond",
                                        SEVERITY_COLOURS.get(severity, RO_OTHER_COLOUR),
                                        _FINDING_HOVER, marks_group, 10))
    _layout(fig, report, options, labels, window)
    return fig


def _layout(fig: go.Figure, report: Report, options: ChartOptions, labels: list[str],
            window: tuple[float, float]) -> None:
    rows = len(labels)
    shown = min(rows, VISIBLE_ROWS)
    groups = {trace.legendgroup for trace in fig.data}
    legend_px = 110 + 19 * len(fig.data) + 24 * len(groups)  # the legend must fit beside the rows
    height = options.height or max(150 + shown * ROW_PX, legend_px)
    title = chart_title(report, options, "Binding timeline")
    more = (f"{rows} rows, the first {shown} shown: drag to pan, scroll or drag on an axis to zoom, "
            "double-click for this view again" if rows > shown else f"{rows} mobile node(s)")
    fig.update_layout(
        title={"text": f"{title}<br><sup>{more}</sup>", "x": 0.01, "xanchor": "left"},
        barmode="overlay", bargap=0, height=height, width=options.width, font=FONT,
        hovermode="closest", dragmode="pan" if rows > shown else "zoom",
        template="plotly_white", margin={"l": 20, "r": 20, "t": 80, "b": 50},
        legend={"groupclick": "toggleitem", "tracegroupgap": 6, "font": {"size": 11}},
        xaxis={"type": "date", "range": [utc(window[0]), utc(window[1])], "title": {"text": "time (UTC)"},
               "showgrid": True, "side": "bottom", "automargin": True},
        yaxis={"tickmode": "array", "tickvals": list(range(rows)), "ticktext": labels,
               "range": [shown - 0.5, -0.5], "autorange": False, "title": {"text": "mobile node"},
               "showgrid": False, "zeroline": False, "automargin": True, "fixedrange": False},
        meta={"kind": "timeline", "rows": rows},
    )
