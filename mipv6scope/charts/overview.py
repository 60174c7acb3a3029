"""The capture overview (``--kind overview``): what went on over time, in
four panels sharing one UTC time axis:

1. data, packets/s: tunnelled to the MN, tunnelled from the MN and
   route-optimised (direct), stacked;
2. signalling, messages/s: the report's signalling messages by family
   (`style.FAMILIES`), stacked;
3. handoffs per minute (each at its accepting BA, else its BU, as in the
   timeline);
4. findings per minute, stacked by severity.

Rates use one common grid of `GRID_BINS` equal bins over the capture (or
``--from/--to``). A `TrafficSeries` has its own bin width, so each of its
bins' packets are spread uniformly over the part of the bin inside the
capture and shared among the grid bins it overlaps: a series' total is kept
(to float rounding) whatever the widths. Per-minute bins start on a UTC
minute. With ``--mn`` only the selected nodes' tunnels, route optimisation,
signalling (`Report.signalling_of`) and findings count; without it,
everything in the report, messages and findings of no known node included.
``layout.meta`` holds each series' total.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..report.model import Finding, MobileNode, Report, SignallingMessage, TrafficSeries
from .options import ChartOptions, select_nodes
from .style import (
    FAMILIES,
    FAMILY_COLOURS,
    FONT,
    OTHER_FAMILY,
    SEVERITIES,
    SEVERITY_COLOURS,
    TRAFFIC_COLOURS,
    chart_title,
    family_of,
    time_window,
)
from .timeline import handoff_ts

GRID_BINS = 200
MINUTE_S = 60.0
MAX_MINUTE_BARS = 100_000  # past this many minutes, the handoff/finding bars widen
ROW_TITLES = ("data (packets/s, stacked)", "signalling (messages/s, stacked)", "handoffs per minute",
              "findings per minute (by severity)")


def spread(series: Iterable[TrafficSeries], edges: np.ndarray, capture: tuple[float, float]) -> np.ndarray:
    """Packets per grid bin (``len(edges) - 1`` bins) of all ``series``: each
    series bin's count spread uniformly over its part inside ``capture``
    (a bin of no width there counts where it starts). The last grid bin
    includes its right edge."""
    origin = float(edges[0])
    grid = edges - origin
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for s in series:
        c = np.asarray(s.counts, dtype=np.float64)
        keep = c > 0
        if not keep.any():
            continue
        lo = s.start_ts + s.width_s * np.arange(len(c), dtype=np.float64)
        starts.append(np.clip(lo[keep], *capture) - origin)
        ends.append(np.clip(lo[keep] + s.width_s, *capture) - origin)
        counts.append(c[keep])
    if not counts:
        return np.zeros(len(edges) - 1)
    lo_all, hi_all, c_all = np.concatenate(starts), np.concatenate(ends), np.concatenate(counts)
    span = hi_all - lo_all
    point = span <= 0
    cumulative = np.zeros(len(grid))
    if point.any():  # mass at one instant: in the bin where it lies
        order = np.argsort(lo_all[point], kind="stable")
        at, mass = lo_all[point][order], np.cumsum(c_all[point][order])
        index = np.searchsorted(at, grid, side="left")
        index[-1] = np.searchsorted(at, grid[-1], side="right")
        cumulative += np.where(index > 0, mass[np.maximum(index - 1, 0)], 0.0)
    if (~point).any():  # uniform over [lo, hi): the sum of ramps, integrated at the grid edges
        lo, hi, c = lo_all[~point], hi_all[~point], c_all[~point]
        slope = c / (hi - lo)
        xs = np.concatenate([lo, hi])
        ds = np.concatenate([slope, -slope])
        order = np.argsort(xs, kind="stable")
        xs, ds = xs[order], ds[order]
        slopes = np.cumsum(ds)[:-1]  # slope right of each breakpoint
        at_breaks = np.concatenate([[0.0], np.cumsum(slopes * np.diff(xs))])
        cumulative += np.interp(grid, xs, at_breaks, left=0.0, right=float(c.sum()))
    return np.diff(cumulative)


def _histogram(times: list[float], edges: np.ndarray) -> np.ndarray:
    """Counts of ``times`` per bin; the last bin includes its right edge, times outside are left out."""
    if not times:
        return np.zeros(len(edges) - 1)
    counts, _ = np.histogram(np.asarray(times, dtype=np.float64), bins=edges)
    return counts.astype(np.float64)


def _selection(report: Report, options: ChartOptions) -> tuple[list[MobileNode], bool]:
    nodes = select_nodes(report, options)
    return nodes, not options.mn


def _signalling(report: Report, nodes: list[MobileNode], everything: bool) -> list[SignallingMessage]:
    if everything:
        return list(report.signalling)
    seen: dict[int, SignallingMessage] = {}
    for node in nodes:
        seen.update((id(m), m) for m in report.signalling_of(node))
    return sorted(seen.values(), key=lambda m: (m.ts, m.file, m.frame))


def _findings(report: Report, nodes: list[MobileNode], everything: bool) -> list[Finding]:
    if everything:
        return list(report.findings)
    mine = {a for n in nodes for a in (n.home_addresses or (n.home_address,))}
    return [f for f in report.findings if f.node in mine]


def _grid(window: tuple[float, float]) -> tuple[np.ndarray, float]:
    span = max(window[1] - window[0], 1e-3)
    width = span / GRID_BINS
    edges = window[0] + width * np.arange(GRID_BINS + 1, dtype=np.float64)
    edges[-1] = window[0] + span
    return edges, width


def _minutes(window: tuple[float, float]) -> tuple[np.ndarray, float]:
    """Bar edges one minute apart over ``window`` and their width (MINUTE_S);
    a window of more than MAX_MINUTE_BARS minutes (a capture whose times run
    to year 586524) gets GRID_BINS wider bars instead of an array it cannot hold."""
    span = window[1] - window[0]
    if not math.isfinite(span) or span / MINUTE_S > MAX_MINUTE_BARS:
        return _grid(window)
    first = math.floor(window[0] / MINUTE_S) * MINUTE_S
    n = max(1, math.ceil((window[1] - first) / MINUTE_S + 1e-9))
    if first + n * MINUTE_S <= window[1]:
        n += 1
    return first + MINUTE_S * np.arange(n + 1, dtype=np.float64), MINUTE_S


def _bars(edges: np.ndarray, step: float, values: np.ndarray, name: str, colour: str, unit: str,
          group: str, counts: np.ndarray | None = None) -> go.Bar:
    """Bars over ``edges`` (epoch s), ``step`` s wide (the exact width the
    rates were divided by); minute bars get a gap between them."""
    centres = np.round((edges[:-1] + edges[1:]) * 500.0)  # ms since the epoch
    minutes = step == MINUTE_S
    hover = f"{name}: %{{y:.3~f}} {unit}" + (" (%{customdata:.1f})" if counts is not None else "")
    return go.Bar(x=centres, y=values, width=step * (900.0 if minutes else 1000.0), name=name,
                  marker={"color": colour, "line": {"width": 0}}, customdata=counts,
                  legendgroup=group, legendgrouptitle={"text": group},
                  hovertemplate=hover + "<extra></extra>")


def overview_figure(report: Report, options: ChartOptions) -> go.Figure:
    """The overview of the selected nodes (see the module docstring). Raises
    `ChartInputError` (via `select_nodes` / `style.time_window`) for no node,
    an unknown ``--mn`` or a window outside the capture."""
    nodes, everything = _selection(report, options)
    window = time_window(report, options)
    first = report.capture.first_ts if report.capture.first_ts is not None else window[0]
    last = report.capture.last_ts if report.capture.last_ts is not None else window[1]
    capture = (first, max(first, last))
    edges, width = _grid(window)
    mine = {a for n in nodes for a in (n.home_addresses or (n.home_address,))}
    tunnels = [t for t in report.tunnels if everything or t.home_address in mine]
    traffic = {
        "tunnelled to MN": [t.to_mn_series for t in tunnels if t.to_mn_series is not None],
        "tunnelled from MN": [t.from_mn_series for t in tunnels if t.from_mn_series is not None],
        "route-optimised (direct)": [ro.direct_series for n in nodes for ro in n.route_optimization
                                     if ro.direct_series is not None],
    }
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=ROW_TITLES, row_heights=[0.34, 0.26, 0.2, 0.2])
    totals: dict[str, float] = {}
    for name, series in traffic.items():
        packets = spread(series, edges, capture)
        totals[name] = float(packets.sum())
        if packets.any():
            fig.add_trace(_bars(edges, width, packets / width, name, TRAFFIC_COLOURS[name], "packets/s", "data",
                                packets),
                          row=1, col=1)
    messages = _signalling(report, nodes, everything)
    for family in (*FAMILIES, OTHER_FAMILY):
        counts = _histogram([m.ts for m in messages if family_of(m.kind) == family], edges)
        totals[family] = float(counts.sum())
        if counts.any():
            fig.add_trace(_bars(edges, width, counts / width, family, FAMILY_COLOURS[family], "messages/s",
                                "signalling", counts),
                          row=2, col=1)
    minutes, step = _minutes(window)
    per_bar = "in the minute" if step == MINUTE_S else "in the bar"
    handoff_times = [ts for n in nodes for h in n.handoffs if (ts := handoff_ts(h)) is not None]
    per_minute = _histogram([t for t in handoff_times if window[0] <= t <= window[1]], minutes)
    totals["handoffs"] = float(per_minute.sum())
    fig.add_trace(_bars(minutes, step, per_minute, "handoffs", "#555555", per_bar, "handoffs"),
                  row=3, col=1)
    findings = _findings(report, nodes, everything)
    for severity in SEVERITIES:
        counts = _histogram([f.ts for f in findings if f.severity == severity
                             and window[0] <= f.ts <= window[1]], minutes)
        totals[f"findings: {severity}"] = float(counts.sum())
        if counts.any():
            fig.add_trace(_bars(minutes, step, counts, severity, SEVERITY_COLOURS[severity],
                                per_bar, "findings"), row=4, col=1)
    _layout(fig, report, options, window, totals, dropped=report.signalling_dropped if everything else 0)
    return fig


def _layout(fig: go.Figure, report: Report, options: ChartOptions, window: tuple[float, float],
            totals: dict[str, float], dropped: int) -> None:
    fig.update_xaxes(type="date", range=[round(window[0] * 1000), round(window[1] * 1000)], showgrid=True)
    fig.update_xaxes(title_text="time (UTC)", row=4, col=1)
    for row, title in enumerate(("packets/s", "messages/s", "handoffs", "findings"), start=1):
        fig.update_yaxes(title_text=title, rangemode="tozero", row=row, col=1)
    title = chart_title(report, options, "Overview")
    note = (f"<br><sup>{GRID_BINS} bins of {(window[1] - window[0]) / GRID_BINS:.3g} s; "
            f"{dropped} more signalling messages were not kept by the analysis</sup>" if dropped else
            f"<br><sup>{GRID_BINS} bins of {(window[1] - window[0]) / GRID_BINS:.3g} s</sup>")
    fig.update_layout(
        title={"text": title + note, "x": 0.01, "xanchor": "left"}, barmode="stack", bargap=0,
        template="plotly_white", font=FONT, height=options.height or 820, width=options.width,
        hovermode="x unified", margin={"l": 70, "r": 20, "t": 90, "b": 60},
        legend={"font": {"size": 11}, "traceorder": "grouped", "tracegroupgap": 12},
        meta={"kind": "overview", "bin_s": (window[1] - window[0]) / GRID_BINS,
              "totals": {k: round(v, 6) for k, v in totals.items()}},
    )
