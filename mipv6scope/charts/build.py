"""One entry point for every chart kind: ``build_figure(report, options)``.

Each kind's builder is a pure function of the report (see `options`); this
module only picks it by ``options.kind``.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go

from ..report.model import Report
from ..safe_text import safe_report
from .handoff_stats import handoff_stats_figure
from .mermaid import sequence_mermaid
from .options import KINDS, ChartInputError, ChartOptions
from .overview import overview_figure
from .sequence import sequence_figure
from .timeline import timeline_figure

BUILDERS: dict[str, Callable[[Report, ChartOptions], go.Figure]] = {
    "sequence": sequence_figure,
    "timeline": timeline_figure,
    "handoffs": handoff_stats_figure,
    "overview": overview_figure,
}


def build_figure(report: Report, options: ChartOptions) -> go.Figure:
    """The Plotly figure of ``options.kind`` for ``report``, capture- and
    user-derived text shown escaped (`safe_text.safe_report`);
    `ChartInputError` when the report cannot give it."""
    builder = BUILDERS.get(options.kind)
    if builder is None:
        raise ChartInputError(f"unknown chart kind {options.kind!r} (one of {', '.join(KINDS)})")
    # names, messages and labels with control and bidi characters shown escaped
    return builder(safe_report(report), options)


def build_mermaid(report: Report, options: ChartOptions) -> str:
    """The Mermaid text of a chart: only the sequence kind has one."""
    if options.kind != "sequence":
        raise ChartInputError(f"Mermaid output draws the sequence chart only, not --kind {options.kind}")
    return sequence_mermaid(report, options)
