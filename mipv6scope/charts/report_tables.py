"""HTML tables of the report page, built from the text views' row builders.

Every table here holds the rows and columns of a CLI view (`render.views_text`:
``bindings``, ``registrations``, ``handoffs``, ``ro``, ``tunnels``,
``findings``; `render.summary_text` for the summary): the rows come from the
same ``*_rows`` functions, so the page and ``--format csv`` cannot disagree.
A cell shows a readable value (UTC time of day, ms with one decimal, frame
lists with commas); when that differs from the csv cell, the csv text is kept
in the cell's ``data-v`` attribute.

Every string goes through `esc`: control characters (C0, DEL, C1), bidi
overrides and isolates, line separators and lone surrogates are shown as
``\\xNN`` / ``\\uNNNN`` (`safe_text.visible`, re-exported here as
``visible``), then the text is HTML-escaped (quotes included).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv6Address
from typing import Any

from ..render import views_text as vt
from ..render.tabular import clock, csv_cell
from ..safe_text import visible

Row = dict[str, Any]

FRAMES_SHOWN = 20  # frame numbers shown in a cell; the rest are in data-v
TALL_ROWS = 25     # a table with more rows scrolls in a box of its own


def esc(value: Any) -> str:
    """Any value as safe HTML text: `visible`, then ``html.escape(quote=True)``."""
    return html.escape(visible(str(value)), quote=True)


def node_anchor(address: IPv6Address | str) -> str:
    """The id of a mobile node's section: ``node-`` + its home address with
    ``:`` as ``-`` (``node-2001-db8-1--100``)."""
    text = str(address).lower()
    return "node-" + "".join(c if c in "0123456789abcdef" else "-" if c == ":" else "_"
                             for c in text)


# -- cells -------------------------------------------------------------------------------

def _plain(value: Any) -> str:
    return "-" if value is None or value == [] else str(value)


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"


def _share(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _frames(value: Any) -> str:
    if not value:
        return "-"
    shown = ", ".join(str(n) for n in value[:FRAMES_SHOWN])
    more = len(value) - FRAMES_SHOWN
    return shown + (f" \u2026 (+{more} more)" if more > 0 else "")


def _transitions(value: Any) -> list[str]:
    return [f"{clock(t['ts'])} #{t['frame']} {t['state']}"
            + (f" ({t['reason']})" if t["reason"] else "") for t in value] or ["-"]


def _intervals(value: Any) -> list[str]:
    return [f"{clock(i['start_ts'])}\u2013"
            f"{clock(i['end_ts']) if i['end_ts'] is not None else '(open)'} {i['ended_by']}"
            + (" (open)" if i.get("open") and i["end_ts"] is not None else "")
            + (" (clipped)" if i.get("clipped") else "")
            for i in value] or ["-"]


@dataclass(frozen=True)
class Col:
    """One HTML column: the row key, its heading, how a cell shows (text, or
    lines), right-aligned numbers, wrapping text."""

    key: str
    heading: str
    show: Callable[[Any], str | list[str]] = _plain
    num: bool = False
    wrap: bool = False


_SHOWS: dict[str, Callable[[Any], str | list[str]]] = {
    "ts": clock, "ms": _ms, "frames": _frames, "share": _share,
    "transitions": _transitions, "intervals": _intervals}


def _c(key: str, heading: str, kind: str = "") -> Col:
    return Col(key, heading, _SHOWS.get(kind, _plain), num=kind in ("num", "ms", "share"),
               wrap=kind in ("frames", "text"))


_ALL = {c.key: c for c in (
    _c("node", "node"), _c("node_name", "node name"), _c("peer", "peer"),
    _c("peer_name", "peer name"), _c("kind", "kind"), _c("care_of", "care-of"),
    _c("start_ts", "start", "ts"), _c("end_ts", "end", "ts"), _c("start_frame", "frame", "num"),
    _c("seq", "seq", "num"), _c("requested_lifetime_s", "requested s", "num"),
    _c("granted_lifetime_s", "granted s", "num"), _c("ended_by", "ended by"), _c("clipped", "clipped"),
    _c("active_s", "RO active s", "num"),
    _c("bu_frames", "BU frames", "frames"), _c("ba_frame", "BA frame", "num"),
    _c("first_bu_ts", "first BU", "ts"), _c("ba_ts", "BA", "ts"), _c("status", "status", "num"),
    _c("status_name", "status name"), _c("retransmissions", "rexmit", "num"),
    _c("latency_ms", "latency ms", "ms"),
    _c("home_agent", "home agent"), _c("home_agent_name", "home agent name"),
    _c("home_address", "home address"),
    _c("to_mn_packets", "to MN pkts", "num"), _c("to_mn_bytes", "to MN bytes", "num"),
    _c("from_mn_packets", "from MN pkts", "num"), _c("from_mn_bytes", "from MN bytes", "num"),
    _c("outside_binding_packets", "outside binding pkts", "num"),
    _c("outside_binding_frames", "outside binding frames", "frames"),
    _c("inner_flows", "inner flows", "num"),
    _c("correspondent", "correspondent"), _c("correspondent_name", "correspondent name"),
    _c("state", "state now"), _c("transitions", "transitions", "transitions"),
    _c("active_intervals", "RO active", "intervals"), _c("rr_latency_ms", "RR ms", "ms"),
    _c("packets_direct", "direct pkts", "num"), _c("packets_tunnelled", "tunnelled pkts", "num"),
    _c("from_care_of", "from care-of"), _c("to_care_of", "to care-of"),
    _c("movement_ts", "movement", "ts"), _c("bu_ts", "BU", "ts"),
    _c("first_data_ts", "first data", "ts"), _c("registration_ms", "registration ms", "ms"),
    _c("disruption_ms", "disruption ms", "ms"), _c("bu_retransmissions", "BU rexmit", "num"),
    _c("lost_to_old_care_of", "lost to old CoA", "num"),
    _c("possibly_lost_to_old_care_of", "possibly lost", "num"), _c("outcome", "outcome"),
    _c("disruption_bounded_by_idle", "disruption idle-bounded"),
    _c("code", "code"), _c("severity", "severity"), _c("frames", "frames", "frames"),
    _c("ts", "time", "ts"), _c("message", "message", "text"), _c("rfc", "RFC"),
    # summary records
    _c("name", "name"), _c("care_of_addresses", "care-of addresses", "num"),
    _c("handoffs", "handoffs", "num"), _c("median_registration_ms", "median registration ms", "ms"),
    _c("ro_correspondents", "RO correspondents", "num"),
    _c("ro_active_share", "RO active", "share"), _c("findings", "findings", "num"),
    _c("failed_handoffs", "failed handoffs", "num"), _c("failed_reasons", "failed how"),
)}

# The columns a node's section shows: the CLI view's columns without the
# node's own address and name (the section says them once, in its heading).
NODE_KEYS = ("node", "node_name")
VIEW_COLUMNS: dict[str, tuple[str, ...]] = {
    "bindings": vt.BINDING_COLUMNS,
    "registrations": vt.REGISTRATION_COLUMNS,
    "handoffs": vt.HANDOFF_COLUMNS,
    "ro": vt.RO_COLUMNS,
    "tunnels": vt.TUNNEL_COLUMNS,
    "findings": vt.FINDING_COLUMNS,
}
NODE_VIEW_DROPS: dict[str, tuple[str, ...]] = {
    "bindings": NODE_KEYS, "registrations": NODE_KEYS, "handoffs": NODE_KEYS,
    "ro": NODE_KEYS, "tunnels": ("node_name",), "findings": (),
}


def view_columns(view: str, in_node: bool = False) -> list[Col]:
    """The HTML columns of CLI view ``view``, in the csv's order; with
    ``in_node`` without the columns a node's section states in its heading."""
    drop = NODE_VIEW_DROPS[view] if in_node else ()
    return [_ALL[key] for key in VIEW_COLUMNS[view] if key not in drop]


def columns_for(keys: Iterable[str]) -> list[Col]:
    """The HTML columns for ``keys`` (each a key some view or record has)."""
    return [_ALL[key] for key in keys]


def csv_text(value: Any) -> str:
    """A value as the csv view writes it in one cell."""
    return str(csv_cell(value))


def cell(col: Col, value: Any, link: Callable[[Any], str | None] | None = None) -> str:
    """One ``<td>``: the shown text, the csv text in ``data-v`` when it differs,
    an ``<a href>`` when ``link`` gives one, ``class="n"`` for numbers."""
    shown = col.show(value)
    lines = shown if isinstance(shown, list) else [shown]
    raw = csv_text(value)
    attrs = ' class="n"' if col.num else ' class="w"' if col.wrap else ""
    if [raw] != lines:
        attrs += f' data-v="{esc(raw)}"'
    body = "<br>".join(esc(line) for line in lines)
    if col.key == "severity" and isinstance(value, str):
        body = f'<span class="sev sev-{esc(value)}">{body}</span>'
    target = link(value) if link is not None else None
    if target:
        body = f'<a href="#{esc(target)}">{body}</a>'
    return f"<td{attrs}>{body}</td>"


def table(rows: Iterable[Row], columns: Sequence[Col], css_class: str,
          links: dict[str, Callable[[Any], str | None]] | None = None,
          attrs: str = "") -> tuple[str, int]:
    """(the rows as one ``<table class=css_class>`` in a scrolling box, the row
    count); a table of more than `TALL_ROWS` rows gets a box of bounded height."""
    links = links or {}
    head = "".join(f'<th class="n">{esc(c.heading)}</th>' if c.num else f"<th>{esc(c.heading)}</th>"
                   for c in columns)
    body = []
    for row in rows:
        body.append("<tr>" + "".join(cell(c, row.get(c.key), links.get(c.key)) for c in columns)
                    + "</tr>")
    box = "scroll tall" if len(body) > TALL_ROWS else "scroll"
    return (f'<div class="{box}"><table class="{css_class}"{attrs}><thead><tr>{head}</tr></thead>'
            f"<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>\n", len(body))


def handoff_stats_rows(handoffs: Sequence[Row]) -> list[Row]:
    """Count, median, p95 and max of registration and disruption ms over one
    node's completed handoff rows, and how many failed (as the text `handoffs`
    view ends with)."""
    out = []
    done = [r for r in handoffs if r.get("outcome", "completed") == "completed"]
    for label, key in (("registration ms", "registration_ms"), ("disruption ms", "disruption_ms")):
        values = [r[key] for r in done if r[key] is not None]
        out.append({"what": label, "handoffs": len(handoffs), "failed": len(handoffs) - len(done),
                    **vt.handoff_stats(values)})
    return out


STATS_COLUMNS = [Col("what", "per node"), Col("handoffs", "handoffs", num=True),
                 Col("failed", "failed", num=True),
                 Col("count", "measured", num=True), Col("median", "median", _ms, True),
                 Col("p95", "p95", _ms, True), Col("max", "max", _ms, True)]
