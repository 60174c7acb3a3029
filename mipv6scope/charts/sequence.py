"""The handoff sequence chart (``--kind sequence``): a node's signalling as
a ladder, drawn with Plotly from a `sequence_data.SequenceLayout`.

x is the lane number (titles as the top axis's tick labels), y the row
position of `sequence_data.TimeScale`, reversed so that time runs down, its
ticks labelled with true UTC times. Arrows are one Scatter trace per style
(None-separated segments, an ``arrow`` marker on each head with
``angleref="previous"``, a cross on an unanswered BU), labels one text
trace; bands, brackets and idle breaks are shapes; data strips are filled
rectangles with one invisible hover point per bin.

Each arrow head carries ``customdata`` = [file, frame, ts, kind] and a hover
text with the frame number, time, addresses and the `packets` Info line.
``layout.meta`` holds the lanes (role, address, alias) and the time -> row
knots, for tests and for whoever reads the JSON.
"""

from __future__ import annotations

from html import escape

import plotly.graph_objects as go

from ..report.model import Report
from .options import ChartOptions
from .sequence_data import (
    BRACKET_TEXT_ROWS,
    BREAK_ROWS,
    Arrow,
    SequenceLayout,
    StripBin,
    sequence_layout,
)
from .window import duration_text, time_of_day, utc_date

# style key -> (legend name, colour, dash)
STYLES: dict[str, tuple[str, str, str]] = {
    "registration": ("registration (BU, BA, BRR)", "#1f5fbf", "solid"),
    "registration-retx": ("BU retransmission", "#1f5fbf", "dash"),
    "unanswered": ("BU with no answer (✕)", "#1f5fbf", "solid"),
    "unanswered-retx": ("BU retransmission with no answer", "#1f5fbf", "dash"),
    "failure": ("rejection or error (BA status ≥ 128, BE)", "#d62728", "solid"),
    "rr": ("return routability (HoTI, CoTI, HoT, CoT)", "#2a9d3f", "solid"),
    "rr-retx": ("return routability, repeated", "#2a9d3f", "dash"),
    "discovery": ("discovery (DHAAD, MPS/MPA)", "#7f7f7f", "solid"),
    "nd": ("neighbour discovery (RA, NA)", "#8e44ad", "solid"),
    "other": ("other mobility messages", "#333333", "solid"),
}
EPOCH_COLOURS = ("#4c8be0", "#3fb45a", "#e8a13a", "#b26fd6", "#20b2aa", "#e377c2", "#8c6d31")
HOME_COLOUR = "#9e9e9e"
ROW_PX = 26
MIN_LABEL_ROW_PX = 13
MAX_HEIGHT = 4000
_LANE_PAD = 0.04


def _lane_x(lane: int, *, toward: int | None = None) -> float:
    if toward is None or toward == lane:
        return float(lane)
    return lane + (_LANE_PAD if toward > lane else -_LANE_PAD)


def _hover(layout: SequenceLayout, arrow: Arrow) -> str:
    m = arrow.message
    frame = f"frame {m.frame}" + (f" (file {m.file + 1})" if layout.multi_file else "")
    lines = [f"<b>{escape(m.kind)}</b> · {frame}",
             f"{time_of_day(m.ts)} UTC ({utc_date(m.ts)}) · ts {m.ts:.6f}",
             f"{m.src} → {m.dst}"]
    if m.tunnel is not None:
        lines.append(f"in the tunnel {m.tunnel[0]} → {m.tunnel[1]}")
    lines.append(escape(m.info or m.label))
    if arrow.retransmission:
        lines.append(f"retransmission {arrow.retransmission} of this BU")
    if arrow.unanswered:
        lines.append("no Binding Acknowledgement answered this registration")
    return "<br>".join(lines)


def _arrow_traces(layout: SequenceLayout) -> list[go.Scatter]:
    by_style: dict[str, list[Arrow]] = {}
    for arrow in layout.arrows:
        by_style.setdefault(arrow.style, []).append(arrow)
    traces = []
    for style in STYLES:
        arrows = by_style.get(style)
        if not arrows:
            continue
        name, colour, dash = STYLES[style]
        xs: list[float | None] = []
        ys: list[float | None] = []
        symbols: list[str] = []
        sizes: list[int] = []
        custom: list[list | None] = []
        hover: list[str | None] = []
        for arrow in arrows:
            path = arrow.path
            if path[0] == path[-1]:  # to itself: a short stub to the right
                points = [float(path[0]), path[0] + 0.3]
            else:
                points = [_lane_x(path[0], toward=path[1])]
                points += [float(p) for p in path[1:-1]]
                points.append(_lane_x(path[-1], toward=path[-2]))
            m = arrow.message
            head = "x-thin-open" if arrow.unanswered else "arrow"
            for i, x in enumerate(points):
                last = i == len(points) - 1
                xs.append(x)
                ys.append(arrow.y)
                symbols.append(head if last else "circle")
                sizes.append((13 if arrow.unanswered else 11) if last else (5 if i else 0))
                custom.append([m.file, m.frame, m.ts, m.kind] if last else None)
                hover.append(_hover(layout, arrow) if last else None)
            xs.append(None)
            ys.append(None)
            symbols.append("circle")
            sizes.append(0)
            custom.append(None)
            hover.append(None)
        traces.append(go.Scatter(
            x=xs, y=ys, mode="lines+markers", name=name, legendgroup=style,
            line={"color": colour, "width": 2.4 if style == "failure" else 1.6, "dash": dash},
            marker={"symbol": symbols, "size": sizes, "angleref": "previous", "color": colour,
                    "line": {"color": colour, "width": 2}},
            customdata=custom, hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
            meta={"style": style}))
    return traces


def _label_trace(layout: SequenceLayout) -> go.Scatter:
    xs, ys, texts, colours = [], [], [], []
    for arrow in layout.arrows:
        a, b = arrow.path[0], arrow.path[-1]
        if a == b:
            b = a + 0.3
        elif len(arrow.path) == 3:  # over the leg on the node's side (the tunnel)
            a, b = (a, arrow.path[1]) if a == 0 or b != 0 else (arrow.path[1], b)
        xs.append((a + b) / 2)
        ys.append(arrow.y)
        texts.append(escape(arrow.label))
        colours.append(STYLES[arrow.style][1])
    return go.Scatter(x=xs, y=ys, mode="text", text=texts, textposition="top center",
                      textfont={"size": 11, "color": colours}, hoverinfo="skip",
                      showlegend=False, name="labels")


def _rect(x0: float, x1: float, y0: float, y1: float) -> list[float | None]:
    return [x0, x1, x1, x0, x0, None], [y0, y0, y1, y1, y0, None]


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _strip_style(s: StripBin) -> tuple[str, str, str]:
    """(group key, legend name, fill colour) of a strip bin."""
    if s.kind.startswith("tunnel"):
        colour = EPOCH_COLOURS[s.color_index % len(EPOCH_COLOURS)]
        return (f"tunnel {s.care_of}", f"tunnelled data HA ⇄ CoA {s.care_of} (per bin)",
                _rgba(colour, 0.2))
    if s.kind == "direct":
        return "direct", "route-optimised data CN ⇄ MN (per bin)", "rgba(188, 189, 34, 0.22)"
    return "lost", "to the old care-of address during a handoff", "rgba(214, 39, 40, 0.4)"


_DIRECTIONS = {"tunnel_to_mn": "to the MN", "tunnel_from_mn": "from the MN",
               "direct": "between MN and CN", "lost": "to the old care-of address"}


def _strip_traces(layout: SequenceLayout) -> list[go.Scatter]:
    y = layout.scale.y
    traces: list[go.Scatter] = []
    groups: dict[str, list[StripBin]] = {}
    for s in layout.strips:
        groups.setdefault(_strip_style(s)[0], []).append(s)
    order = sorted(groups, key=lambda g: (g == "lost", g == "direct", g))
    for group in order:
        strips = groups[group]
        _key, name, fill = _strip_style(strips[0])
        xs: list[float | None] = []
        ys: list[float | None] = []
        hx, hy, htext = [], [], []
        for s in strips:
            x0, x1 = sorted((s.from_lane + 0.08, s.to_lane - 0.06))
            y0, y1 = y(s.start), y(s.end)
            if y1 - y0 < 0.06:  # keep a bin visible where the scale squeezes it
                mid = (y0 + y1) / 2
                y0, y1 = mid - 0.03, mid + 0.03
            rx, ry = _rect(x0, x1, y0, y1)
            xs += rx
            ys += ry
            share = 0.25 if s.kind == "tunnel_from_mn" else 0.75
            hx.append(round(x0 + (x1 - x0) * share, 4))
            hy.append(round((y0 + y1) / 2, 4))
            htext.append(f"<b>{s.packets} packets {_DIRECTIONS[s.kind]}</b><br>{escape(s.note)}<br>"
                         f"{time_of_day(s.start)} – {time_of_day(s.end)} UTC")
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=fill,
                                 line={"width": 0}, name=name, legendgroup=f"strip-{group}",
                                 hoverinfo="skip", meta={"strip": group}))
        traces.append(go.Scatter(x=hx, y=hy, mode="markers", marker={"size": 10, "color": "rgba(0,0,0,0)"},
                                 hovertext=htext, hovertemplate="%{hovertext}<extra></extra>",
                                 showlegend=False, legendgroup=f"strip-{group}", name=f"{name} (hover)",
                                 meta={"strip": group, "hover": True}))
    return traces


def _aggregate_traces(layout: SequenceLayout) -> list[go.Scatter]:
    if not layout.aggregates:
        return []
    right = len(layout.lanes.lanes) - 1 + 0.1
    xs: list[float | None] = []
    ys: list[float | None] = []
    hx, hy, htext = [], [], []
    for b in layout.aggregates:
        y0, y1 = layout.scale.y(b.start), layout.scale.y(b.end)
        rx, ry = _rect(-0.1, right, y0, max(y1, y0 + 0.1))
        xs += rx
        ys += ry
        hx.append(right / 2)
        hy.append((y0 + y1) / 2)
        kinds = ", ".join(f"{k} {n:,}" for k, n in b.kinds)
        htext.append(f"<b>{b.count:,} messages aggregated</b><br>{kinds}<br>"
                     f"{time_of_day(b.start)} – {time_of_day(b.end)} UTC")
    return [go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor="rgba(120,120,120,0.18)",
                       line={"width": 0}, name="messages aggregated (not drawn one by one)",
                       hoverinfo="skip", legendgroup="aggregated"),
            go.Scatter(x=hx, y=hy, mode="markers", marker={"size": 12, "color": "rgba(0,0,0,0)"},
                       hovertext=htext, hovertemplate="%{hovertext}<extra></extra>",
                       showlegend=False, legendgroup="aggregated", name="aggregated (hover)")]


def _lane_trace(layout: SequenceLayout) -> go.Scatter:
    """Lane lines, interrupted by the idle breaks."""
    rows = layout.scale.rows
    cuts = [(layout.scale.y(a), layout.scale.y(b)) for a, b in layout.breaks]
    pieces, top = [], -0.6
    for y0, y1 in cuts:
        pieces.append((top, y0 + 0.15))
        top = y1 - 0.15
    pieces.append((top, rows + 0.6))
    xs: list[float | None] = []
    ys: list[float | None] = []
    for lane in layout.lanes.lanes:
        for y0, y1 in pieces:
            xs += [lane.index, lane.index, None]
            ys += [y0, y1, None]
    return go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#555555", "width": 2},
                      hoverinfo="skip", showlegend=False, name="lanes")


def _epoch_shapes(layout: SequenceLayout) -> tuple[list[dict], list[dict]]:
    shapes, notes = [], []
    taken = [(layout.scale.y(b.end), layout.scale.y(b.end) + BRACKET_TEXT_ROWS) for b in layout.brackets]
    for e in layout.epochs:
        colour = HOME_COLOUR if e.care_of is None else EPOCH_COLOURS[e.color_index % len(EPOCH_COLOURS)]
        y0, y1 = layout.scale.y(e.start), layout.scale.y(e.end)
        label_y = next((b for a, b in taken if a - 1.0 <= y0 < b), y0)  # below a handoff's numbers
        shapes.append({"type": "rect", "xref": "x", "yref": "y", "x0": -0.07, "x1": 0.07,
                       "y0": y0, "y1": y1, "fillcolor": colour, "opacity": 0.55,
                       "line": {"width": 0}, "layer": "below", "name": f"epoch {e.care_of or 'home'}"})
        text = "at home" if e.care_of is None else f"CoA {e.care_of}"
        notes.append({"x": -0.09, "y": label_y, "xref": "x", "yref": "y", "text": text,
                      "showarrow": False, "textangle": 90, "xanchor": "right", "yanchor": "top",
                      "font": {"size": 10, "color": colour}, "name": "epoch"})
    return shapes, notes


def _bracket_shapes(layout: SequenceLayout) -> tuple[list[dict], list[dict]]:
    shapes, notes = [], []
    for b in layout.brackets:
        y0, y1 = layout.scale.y(b.start), layout.scale.y(b.end)
        x0, x1 = -0.62, -0.52
        shapes.append({"type": "path", "xref": "x", "yref": "y", "name": f"handoff {b.number}",
                       "path": f"M {x1},{y0:.4f} L {x0},{y0:.4f} L {x0},{y1:.4f} L {x1},{y1:.4f}",
                       "line": {"color": "#d35400", "width": 2}})
        notes.append({"x": x0, "y": y1 + 0.25, "xref": "x", "yref": "y", "text": escape(b.text),
                      "showarrow": False, "xanchor": "left", "yanchor": "top", "align": "left",
                      "font": {"size": 11, "color": "#a04000"}, "bgcolor": "rgba(255,255,255,0.85)",
                      "name": f"handoff {b.number}"})
    return shapes, notes


def _break_shapes(layout: SequenceLayout, n_lanes: int) -> tuple[list[dict], list[dict]]:
    shapes, notes = [], []
    for a, b in layout.breaks:
        y1 = layout.scale.y(b)
        y0 = max(layout.scale.y(a), y1 - BREAK_ROWS)
        mid, amp = (y0 + y1) / 2, min(0.25, (y1 - y0) / 4)
        xs = [-0.95 + i * 0.1 for i in range(int((n_lanes - 1 + 1.3) / 0.1) + 1)]
        zig = " ".join(f"{'M' if i == 0 else 'L'} {x:.2f},{mid + (amp if i % 2 else -amp):.4f}"
                       for i, x in enumerate(xs))
        shapes.append({"type": "rect", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": y0 + 0.1,
                       "y1": y1 - 0.1, "fillcolor": "rgba(0,0,0,0.04)", "line": {"width": 0},
                       "layer": "below", "name": "idle break"})
        shapes.append({"type": "path", "xref": "x", "yref": "y", "path": zig, "name": "idle break",
                       "line": {"color": "#999999", "width": 1}})
        notes.append({"x": (n_lanes - 1) / 2, "y": mid, "xref": "x", "yref": "y",
                      "text": f"≈ {duration_text(b - a)} idle ({time_of_day(a)} – {time_of_day(b)})",
                      "showarrow": False, "bgcolor": "rgba(255,255,255,0.9)",
                      "font": {"size": 11, "color": "#666666"}, "name": "idle break"})
    return shapes, notes


def _ticks(layout: SequenceLayout) -> tuple[list[float], list[str]]:
    scale = layout.scale
    if len(layout.arrows) <= 60:
        marks = [(scale.y(layout.window[0]), layout.window[0])]
        marks += [(a.y, a.message.ts) for a in layout.arrows]
        marks.append((scale.y(layout.window[1]), layout.window[1]))
    else:
        step = scale.rows / 30
        marks = [(i * step, scale.t(i * step)) for i in range(31)]
    vals: list[float] = []
    texts: list[str] = []
    for y, t in marks:
        if vals and y - vals[-1] < 0.9:
            continue
        vals.append(round(y, 4))
        texts.append(time_of_day(t))
    return vals, texts


def _lane_title(layout: SequenceLayout, index: int) -> str:
    lane = layout.lanes.lanes[index]
    lines = [escape(line) for line in lane.title_lines]
    return "<br>".join([f"<b>{lines[0]}</b>", *lines[1:]])


def sequence_figure(report: Report, options: ChartOptions) -> go.Figure:
    """The sequence chart of one mobile node (pure: reads only the report).

    The node is the first that ``options.mn`` selects (all nodes when it
    names none): a ladder stacks badly, so with several nodes the chart
    shows the first and a note under the title says so. The window is
    `window.chart_window`'s. Raises `ChartInputError` (no mobile node,
    ``--mn`` matching nothing, a handoff the node does not have)."""
    layout = sequence_layout(report, options)
    return layout_figure(layout, options)


def layout_figure(layout: SequenceLayout, options: ChartOptions) -> go.Figure:
    """The Plotly figure of a computed `SequenceLayout`."""
    n_lanes = len(layout.lanes.lanes)
    rows = layout.scale.rows
    notes = list(layout.notes)
    height = options.height or int(min(MAX_HEIGHT, max(520, 190 + 18 * len(notes) + ROW_PX * (rows + 1.5))))
    plot_px = height - 190 - 18 * len(notes)
    show_labels = plot_px / max(rows + 1.5, 1) >= MIN_LABEL_ROW_PX
    if not show_labels and layout.arrows:
        notes.append("arrow labels left out at this density: hover an arrow head, "
                     "or narrow the window (--handoff, --from/--to)")
    width = options.width or min(2400, max(1000, 230 * n_lanes + 360))

    fig = go.Figure()
    for trace in (*_strip_traces(layout), *_aggregate_traces(layout), _lane_trace(layout),
                  *_arrow_traces(layout)):
        fig.add_trace(trace)
    if show_labels and layout.arrows:
        fig.add_trace(_label_trace(layout))
    epoch_shapes, epoch_notes = _epoch_shapes(layout)
    bracket_shapes, bracket_notes = _bracket_shapes(layout)
    break_shapes, break_notes = _break_shapes(layout, n_lanes)
    annotations = [*epoch_notes, *bracket_notes, *break_notes]
    if notes:
        annotations.append({"x": 0, "y": 1, "xref": "paper", "yref": "paper", "yshift": 64,
                            "xanchor": "left", "yanchor": "bottom", "align": "left",
                            "showarrow": False, "text": "<br>".join(f"⚠ {escape(n)}" for n in notes),
                            "font": {"size": 12, "color": "#b35900"}, "name": "note"})
    tickvals, ticktext = _ticks(layout)
    fig.update_layout(
        title={"text": escape(layout.title), "x": 0.01, "xanchor": "left", "font": {"size": 16},
               "yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 14}},
        width=width, height=height, template="plotly_white", hovermode="closest",
        margin={"l": 20, "r": 110, "t": 130 + 18 * len(notes), "b": 70},
        shapes=[*epoch_shapes, *bracket_shapes, *break_shapes], annotations=annotations,
        xaxis={"tickvals": list(range(n_lanes)), "ticktext": [_lane_title(layout, i) for i in range(n_lanes)],
               "side": "top", "range": [-1.0, n_lanes - 0.45], "showgrid": False, "zeroline": False,
               "tickfont": {"size": 11}},
        yaxis={"tickvals": tickvals, "ticktext": ticktext, "side": "right",
               "range": [rows + 0.8, -0.8], "showgrid": True, "gridcolor": "#f0f0f0",
               "zeroline": False, "tickfont": {"size": 10, "family": "monospace"}},
        legend={"orientation": "h", "x": 0, "y": -0.01, "yanchor": "top", "font": {"size": 11}},
        meta={"kind": "sequence", "node": str(layout.node.home_address),
              "window": list(layout.window), "handoff": layout.handoff,
              "lanes": [{"role": lane.role, "address": str(lane.address), "alias": lane.alias}
                        for lane in layout.lanes.lanes],
              "time_to_row": [[t, round(y, 6)] for t, y in layout.scale.knots],
              "aggregated": layout.aggregated},
    )
    return fig
