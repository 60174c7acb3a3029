"""Handoff statistics (``--kind handoffs``): registration time, disruption
time and packets lost to the old care-of address per handoff, across the
selected nodes.

Top row: one ECDF per metric (a step line through every handoff's value,
reaching 1.0 at the largest); bottom row: one box plot per metric with every
handoff as a point. One point per handoff, hover with its node, BU frame and
BU time (``customdata`` = [node, BU frame, BU time, to care-of]). The values
are the report's own (`Handoff.registration_ms`, ``disruption_ms``,
``lost_to_old_care_of``), unrounded. A handoff that did not complete
(``outcome`` rejected, no_answer or superseded; no ``registration_ms``) is
plotted in no panel and counted, with how it failed, in an annotation;
a handoff with no measured disruption (no first data from the new address)
is missing from the disruption panels only. ``layout.meta`` gives the counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..report.model import Handoff, MobileNode, Report
from .options import ChartOptions, node_label, select_nodes
from .style import FONT, chart_title, clock

# (Handoff attribute, panel title, axis title, colour)
METRICS = (
    ("registration_ms", "registration time", "BU to accepting BA (ms)", "#1f5fbf"),
    ("disruption_ms", "disruption time", "last packet on the old path<br>to first on the new (ms)",
     "#e6550d"),
    ("lost_to_old_care_of", "packets lost", "tunnelled to the old care-of<br>after the move (packets)",
     "#8e6bbf"),
)
MANY = 200  # more points than this: smaller markers
_HOVER = ("<b>%{customdata[0]}</b><br>%{fullData.name}: %{VALUE}<br>BU frame %{customdata[1]} at "
          "%{customdata[2]} UTC<br>to %{customdata[3]}<extra></extra>")


@dataclass(frozen=True)
class HandoffPoint:
    """One handoff as the chart plots it."""

    node: str
    bu_frame: int | None
    bu_ts: float | None
    handoff: Handoff


def bu_frame(node: MobileNode, handoff: Handoff) -> int | None:
    """The frame of the handoff's first BU: the registration whose first BU
    has the handoff's BU time (None when the report has none)."""
    if handoff.bu_frames:
        return handoff.bu_frames[0]
    if handoff.bu_ts is None:
        return None
    for registration in node.registrations:
        if registration.first_bu_ts == handoff.bu_ts and registration.bu_frames:
            return registration.bu_frames[0]
    return None


def handoff_points(report: Report, options: ChartOptions) -> tuple[list[HandoffPoint], list[HandoffPoint]]:
    """(accepted, failed) handoffs of the selected nodes in report order:
    failed ones did not complete (``outcome``) or have no ``registration_ms``
    (no accepting BA)."""
    accepted: list[HandoffPoint] = []
    failed: list[HandoffPoint] = []
    for node in select_nodes(report, options):
        for h in node.handoffs:
            point = HandoffPoint(node_label(node), bu_frame(node, h), h.bu_ts, h)
            done = h.outcome == "completed" and h.registration_ms is not None
            (accepted if done else failed).append(point)
    return accepted, failed


def _values(points: list[HandoffPoint], attribute: str) -> list[tuple[float, HandoffPoint]]:
    """(value, point) for the points that have the metric, sorted by value then BU time."""
    pairs = [(getattr(p.handoff, attribute), p) for p in points]
    kept = [(v, p) for v, p in pairs if v is not None]
    return sorted(kept, key=lambda vp: (vp[0], vp[1].bu_ts or 0.0, vp[1].node))


def _custom(points: list[HandoffPoint]) -> list[list[object]]:
    return [[p.node, p.bu_frame if p.bu_frame is not None else "-", clock(p.bu_ts),
             str(p.handoff.to_care_of)] for p in points]


def _ecdf(values: list[tuple[float, HandoffPoint]], name: str, colour: str, value_axis: str
          ) -> go.Scatter:
    n = len(values)
    return go.Scatter(
        x=[v for v, _p in values], y=[(i + 1) / n for i in range(n)], mode="lines+markers",
        line={"shape": "hv", "color": colour, "width": 2},
        marker={"size": 6 if n <= MANY else 3, "color": colour},
        name=name, legendgroup=name, customdata=_custom([p for _v, p in values]),
        hovertemplate=_HOVER.replace("%{VALUE}", "%{x} " + value_axis + "<br>ECDF %{y:.3f}"))


def _box(values: list[tuple[float, HandoffPoint]], name: str, colour: str, value_axis: str) -> go.Box:
    return go.Box(
        y=[v for v, _p in values], name=name, legendgroup=name, showlegend=False,
        boxpoints="all", jitter=0.5, pointpos=-1.8, marker={"color": colour, "size": 5 if len(values) <= MANY else 3,
                                                         "opacity": 0.7},
        line={"color": colour}, customdata=_custom([p for _v, p in values]),
        hovertemplate=_HOVER.replace("%{VALUE}", "%{y} " + value_axis))


def _wrapped(notes: list[str], width: int = 80) -> str:
    """``notes`` joined by "; ", with a line break wherever a line would pass
    ``width`` characters (a static export is 700 pixels wide by default)."""
    lines: list[str] = []
    for note in notes:
        if lines and len(lines[-1]) + 2 + len(note) <= width:
            lines[-1] += "; " + note
        else:
            lines.append(note)
    return "<br>".join(lines)


def handoff_stats_figure(report: Report, options: ChartOptions) -> go.Figure:
    """ECDFs and box plots of the selected nodes' handoffs (see the module
    docstring). Raises `ChartInputError` (via `select_nodes`) for no node or
    an unknown ``--mn``."""
    accepted, failed = handoff_points(report, options)
    fig = make_subplots(rows=2, cols=3, subplot_titles=[m[1] for m in METRICS] * 2,
                        vertical_spacing=0.2, horizontal_spacing=0.07, row_heights=[0.55, 0.45])
    counts: dict[str, int] = {}
    for col, (attribute, title, axis, colour) in enumerate(METRICS, start=1):
        values = _values(accepted, attribute)
        counts[attribute] = len(values)
        unit = "packets" if attribute == "lost_to_old_care_of" else "ms"
        if values:
            fig.add_trace(_ecdf(values, title, colour, unit), row=1, col=col)
            fig.add_trace(_box(values, title, colour, unit), row=2, col=col)
        fig.update_xaxes(title_text=axis, row=1, col=col, rangemode="tozero")
        fig.update_yaxes(title_text="share of handoffs (ECDF)" if col == 1 else None, range=[0, 1.05],
                         row=1, col=col)
        fig.update_yaxes(title_text=axis, row=2, col=col, rangemode="tozero")
        fig.update_xaxes(showticklabels=False, row=2, col=col)
    notes = [f"{len(accepted) + len(failed)} handoffs of {len(select_nodes(report, options))} mobile "
             f"node(s), {len(accepted)} plotted"]
    if failed:
        notes.append(f"{len(failed)} handoff{'s' if len(failed) != 1 else ''} without an accepting BA, "
                     "not plotted")
        how = Counter(p.handoff.outcome for p in failed if p.handoff.outcome != "completed")
        if how:
            notes.append("failed: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(how.items())))
    unmeasured = len(accepted) - counts["disruption_ms"]
    if unmeasured:
        notes.append(f"{unmeasured} without a measured disruption (no first data at the new care-of)")
    if not accepted:
        notes.append("nothing to plot")
    fig.add_annotation(text=_wrapped(notes), xref="paper", yref="paper", x=0, y=-0.08,
                       xanchor="left", yanchor="top", align="left", showarrow=False, font={"size": 12})
    fig.update_layout(
        title={"text": chart_title(report, options, "Handoffs"), "x": 0.01, "xanchor": "left"},
        template="plotly_white", font=FONT, height=options.height or 720, width=options.width,
        hovermode="closest", margin={"l": 70, "r": 20, "t": 80, "b": 110},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.08, "yanchor": "bottom"},
        meta={"kind": "handoffs", "handoffs": len(accepted) + len(failed), "plotted": len(accepted),
              "failed": len(failed), "measured": counts},
    )
    return fig
