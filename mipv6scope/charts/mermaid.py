"""The sequence chart as a Mermaid ``sequenceDiagram`` (``-o chart.mmd``), for
Markdown reports: the same node, window, lanes and messages as the Plotly
chart (`sequence_data.sequence_layout`).

One ``participant`` line per lane in lane order (ids ``MN``, ``AR1``,
``HA1``, ``CN1``, ``X1``; the description carries role, name and address),
then one arrow line per drawn message in time order: ``->>`` (``-->>`` for a
BU retransmission), ``-x`` (``--x``) for a BU nobody answered; a message
that crossed the home agent's tunnel keeps its one line, its label says
"(via HA tunnel)"; a rejection or error starts with ⚠. ``Note over`` lines
give each handoff's numbers, each idle stretch and each run of aggregated
messages (thinning).

Capture-derived text (names from ``--names``, Info text) cannot add a line
or a participant: newlines and the characters Mermaid reads as syntax in a
text (``;``, ``#``, and ``<`` that would open HTML) are replaced, and any
other control or bidi character is shown escaped (`safe_text.visible`).
"""

from __future__ import annotations

from ..report.model import Report
from ..safe_text import visible
from .lanes import lane_description
from .options import ChartOptions
from .sequence_data import Arrow, SequenceLayout, sequence_layout
from .window import duration_text, time_of_day

_REPLACE = {";": ",", "#": "no.", "<": "‹", "\r": " ", "\n": " ", "\t": " ",
            "\u2028": " ", "\u2029": " ", "%%": "% %"}


def mermaid_text(text: str) -> str:
    """``text`` made safe for a Mermaid participant description, message or
    note: one line, none of the characters Mermaid takes as syntax there;
    other control and bidi characters written out (``\\x1b``, `visible`)."""
    for old, new in _REPLACE.items():
        text = text.replace(old, new)
    text = visible(text)
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split()) or "-"


def _arrow_line(layout: SequenceLayout, arrow: Arrow) -> str:
    lanes = layout.lanes.lanes
    src, dst = lanes[arrow.path[0]].alias, lanes[arrow.path[-1]].alias
    dotted = "-" if arrow.retransmission else ""
    head = "x" if arrow.unanswered else ">>"
    m = arrow.message
    frame = f"frame {m.frame}" + (f" file {m.file + 1}" if layout.multi_file else "")
    label = ("⚠ " if arrow.failure else "") + arrow.label
    return f"    {src}-{dotted}{head}{dst}: {mermaid_text(f'{label} · {time_of_day(m.ts)} · {frame}')}"


def _span(layout: SequenceLayout) -> str:
    lanes = layout.lanes.lanes
    return lanes[0].alias if len(lanes) == 1 else f"{lanes[0].alias},{lanes[-1].alias}"


def sequence_mermaid(report: Report, options: ChartOptions) -> str:
    """The Mermaid ``sequenceDiagram`` of the sequence chart's node and
    window (see the module docstring); ends with a newline. Raises
    `ChartInputError` as `sequence.sequence_figure` does."""
    layout = sequence_layout(report, options)
    return layout_mermaid(layout)


def layout_mermaid(layout: SequenceLayout) -> str:
    """The Mermaid text of a computed `SequenceLayout`."""
    lines = ["sequenceDiagram", f"    title {mermaid_text(layout.title)}"]
    for lane in layout.lanes.lanes:
        lines.append(f"    participant {lane.alias} as "
                     f"{mermaid_text(lane_description(lane, layout.node))}")
    over = _span(layout)
    for note in layout.notes:
        lines.append(f"    Note over {over}: {mermaid_text('⚠ ' + note)}")
    events: list[tuple[float, int, int, str]] = []
    for i, arrow in enumerate(layout.arrows):
        events.append((arrow.message.ts, 1, i, _arrow_line(layout, arrow)))
    for b in layout.brackets:
        events.append((b.end, 2, b.number, f"    Note over {over}: {mermaid_text(b.text)}"))
    for i, (a, b) in enumerate(layout.breaks):
        text = f"≈ {duration_text(b - a)} idle ({time_of_day(a)} – {time_of_day(b)})"
        events.append((a, 3, i, f"    Note over {over}: {mermaid_text(text)}"))
    for i, (start, end, count, kinds) in enumerate(_aggregate_runs(layout)):
        text = (f"{count:,} messages aggregated, not drawn one by one ({kinds}) "
                f"{time_of_day(start)} – {time_of_day(end)}")
        events.append((start, 0, i, f"    Note over {over}: {mermaid_text(text)}"))
    lines += [line for *_key, line in sorted(events)]
    return "\n".join(lines) + "\n"


def _aggregate_runs(layout: SequenceLayout) -> list[tuple[float, float, int, str]]:
    """The aggregate bins merged where no drawn message lies between them:
    (start, end, messages, "BU n, BA m")."""
    drawn = sorted(a.message.ts for a in layout.arrows)
    runs: list[tuple[float, float, dict[str, int]]] = []
    for b in layout.aggregates:
        if runs and not any(runs[-1][1] <= t < b.start for t in drawn):
            start, _end, kinds = runs[-1]
            for k, n in b.kinds:
                kinds[k] = kinds.get(k, 0) + n
            runs[-1] = (start, b.end, kinds)
        else:
            runs.append((b.start, b.end, dict(b.kinds)))
    out = []
    for start, end, kinds in runs:
        ordered = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        out.append((start, end, sum(kinds.values()), ", ".join(f"{k} {n:,}" for k, n in ordered)))
    return out
