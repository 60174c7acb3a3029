"""The per-concern views (`bindings`, `tunnels`, `ro`, `handoffs`, `findings`)
as rows and as text, from a Report only: nothing here decodes or analyses.

For each view ``*_rows(report)`` yields plain JSON-ready dicts (addresses as
text, times as epoch seconds), ``*_COLUMNS`` names their keys in order (the
csv header) and ``render_*(report)`` gives the aligned text table with
readable UTC times. `VIEWS` maps a view name to (rows, columns, render).

The rows keep names and messages as they are (json); the text shows every
cell `safe_text.visible` and a name shortened to `safe_text.NAME_SHOWN`
characters (`_named`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from ipaddress import IPv6Address
from statistics import median
from typing import TYPE_CHECKING, Any

from ..report.model import Report
from ..safe_text import shown_name, visible_lines
from .tabular import Column, clock, day, plain, text_table

if TYPE_CHECKING:
    from ..analysis.cache import CacheEntry, CacheSnapshot

Row = dict[str, Any]
SEVERITY_ORDER = ("error", "warning", "info")  # worst first


def _addr(value: IPv6Address | None) -> str | None:
    return str(value) if value is not None else None


def _names(report: Report) -> dict[IPv6Address, str]:
    return report.node_names()


def _named(name: str | None, address: Any) -> str:
    """``name (address)`` when the node has a name (made visible and
    shortened), else the address."""
    return f"{shown_name(name)} ({address})" if name else plain(address)


def _node_show(row: Row) -> str:
    return _named(row.get("node_name"), row.get("node"))


def _with_node(rows: list[Row]) -> list[Row]:
    """Rows with a text-only ``who`` column (name and address)."""
    return [{**r, "who": _node_show(r)} for r in rows]


def _with_peer(rows: list[Row]) -> list[Row]:
    """Rows with a text-only ``peer_shown`` column (name and address)."""
    return [{**r, "peer_shown": _named(r.get("peer_name"), r.get("peer"))} for r in rows]


def _caption(report: Report, what: str, n: int) -> str:
    first = report.capture.first_ts
    return f"{n} {what}" + (f" (times UTC, {day(first)})" if first is not None else "") + "\n"


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"


def _seconds(start: float, end: float | None) -> float:
    """The length of an interval (0 when it has no end)."""
    return 0.0 if end is None else end - start


# -- bindings -------------------------------------------------------------------------------

BINDING_COLUMNS = ("node", "node_name", "home_address", "peer", "peer_name", "kind", "care_of", "start_ts",
                   "end_ts", "start_frame", "seq", "requested_lifetime_s", "granted_lifetime_s", "ended_by",
                   "clipped")
REGISTRATION_COLUMNS = ("node", "node_name", "home_address", "peer", "peer_name", "care_of", "seq", "bu_frames",
                        "ba_frame", "first_bu_ts", "ba_ts", "status", "status_name", "retransmissions",
                        "latency_ms", "requested_lifetime_s", "granted_lifetime_s")


def binding_rows(report: Report) -> Iterator[Row]:
    """One row per binding interval in force (a rejected registration is not
    one: see `registration_rows`), per node in report order, each node's
    bindings in the report's order. ``node`` is the node's primary home
    address, ``home_address`` the one the row is about; ``clipped`` says
    ``--from``/``--to`` cut the interval to its window."""
    names = report.names
    for node in report.mobile_nodes:
        for b in node.bindings:
            yield {"node": str(node.home_address), "node_name": node.name,
                   "home_address": str(b.home_address or node.home_address), "peer": str(b.peer),
                   "peer_name": names.get(b.peer), "kind": b.kind, "care_of": str(b.care_of), "start_ts": b.start_ts, "end_ts": b.end_ts,
                   "start_frame": b.start_frame, "seq": b.seq,
                   "requested_lifetime_s": b.requested_lifetime_s,
                   "granted_lifetime_s": b.granted_lifetime_s, "ended_by": b.ended_by,
                   "clipped": b.clipped}


def registration_rows(report: Report) -> Iterator[Row]:
    """One row per registration attempt (its chain of BUs and the BA that
    answered, if any; rejected and unanswered ones included); ``home_address``
    is the home address that registered."""
    names = report.names
    for node in report.mobile_nodes:
        for r in node.registrations:
            yield {"node": str(node.home_address), "node_name": node.name,
                   "home_address": str(r.home_address or node.home_address), "peer": str(r.peer),
                   "peer_name": names.get(r.peer), "care_of": str(r.care_of), "seq": r.seq, "bu_frames": list(r.bu_frames),
                   "ba_frame": r.ba_frame, "first_bu_ts": r.first_bu_ts, "ba_ts": r.ba_ts,
                   "status": r.status, "status_name": r.status_name,
                   "retransmissions": r.retransmissions, "latency_ms": r.latency_ms,
                   "requested_lifetime_s": r.requested_lifetime_s,
                   "granted_lifetime_s": r.granted_lifetime_s}


def render_bindings(report: Report, registrations: bool = False) -> str:
    """Bindings (and optionally registrations) as text tables."""
    rows = [{**r, "ended_shown": r["ended_by"] + (" (clipped)" if r["clipped"] else "")}
            for r in _with_peer(_with_node(list(binding_rows(report))))]
    out = [_caption(report, "bindings", len(rows))]
    out.append(text_table(rows, [
        Column("who", "node"), Column("home_address", "home address"), Column("peer_shown", "peer"),
        Column("kind"), Column("care_of", "care-of"),
        Column("start_ts", "start", clock), Column("end_ts", "end", clock),
        Column("start_frame", "frame", right=True), Column("seq", right=True),
        Column("requested_lifetime_s", "req s", right=True),
        Column("granted_lifetime_s", "granted s", right=True), Column("ended_shown", "ended by")]))
    if registrations:
        regs = _with_peer(_with_node(list(registration_rows(report))))
        out.append("\n" + _caption(report, "registrations", len(regs)))
        out.append(text_table(regs, [
            Column("who", "node"), Column("home_address", "home address"), Column("peer_shown", "peer"),
            Column("care_of", "care-of"), Column("seq", right=True),
            Column("first_bu_ts", "first BU", clock), Column("ba_ts", "BA", clock),
            Column("retransmissions", "rexmit", right=True), Column("latency_ms", "latency ms", _ms, True),
            Column("status", right=True), Column("status_name", "status name"),
            Column("granted_lifetime_s", "granted s", right=True)]))
    return visible_lines("".join(out))


# -- tunnels --------------------------------------------------------------------------------

TUNNEL_COLUMNS = ("home_agent", "home_agent_name", "care_of", "home_address", "node_name", "start_ts", "end_ts",
                  "to_mn_packets", "to_mn_bytes", "from_mn_packets", "from_mn_bytes",
                  "outside_binding_packets", "outside_binding_frames", "inner_flows")


def tunnel_rows(report: Report) -> Iterator[Row]:
    """One row per (HA, CoA, HoA) tunnel interval."""
    names = _names(report)
    for t in report.tunnels:
        yield {"home_agent": str(t.home_agent), "home_agent_name": names.get(t.home_agent),
               "care_of": str(t.care_of),
               "home_address": str(t.home_address), "node_name": names.get(t.home_address),
               "start_ts": t.start_ts, "end_ts": t.end_ts,
               "to_mn_packets": t.to_mn.packets, "to_mn_bytes": t.to_mn.bytes,
               "from_mn_packets": t.from_mn.packets, "from_mn_bytes": t.from_mn.bytes,
               "outside_binding_packets": t.outside_binding.packets,
               "outside_binding_frames": list(t.outside_binding.frames),
               "inner_flows": len(t.inner_flows)}


def render_tunnels(report: Report) -> str:
    """Tunnels as a text table."""
    rows = [{**r, "node": r["home_address"], "home_agent_shown": _named(r["home_agent_name"], r["home_agent"])}
            for r in tunnel_rows(report)]
    return visible_lines(_caption(report, "tunnels", len(rows)) + text_table(_with_node(rows), [
        Column("home_agent_shown", "home agent"), Column("care_of", "care-of"), Column("who", "home address"),
        Column("start_ts", "start", clock), Column("end_ts", "end", clock),
        Column("to_mn_packets", "to MN pkts", right=True), Column("to_mn_bytes", "bytes", right=True),
        Column("from_mn_packets", "from MN pkts", right=True), Column("from_mn_bytes", "bytes", right=True),
        Column("outside_binding_packets", "outside binding", right=True),
        Column("inner_flows", "flows", right=True)]))


# -- route optimisation ------------------------------------------------------------------------

RO_COLUMNS = ("node", "node_name", "home_address", "correspondent", "correspondent_name", "state", "transitions",
              "active_intervals", "rr_latency_ms", "packets_direct", "packets_tunnelled", "active_s")


def ro_rows(report: Report) -> Iterator[Row]:
    """One row per (home address, CN): last state, every transition, active
    intervals, RR latency, data per path and ``active_s``, the seconds RO was
    active (an ``open`` interval, still active at the capture's end, counts up
    to that end). In csv a transition is ``ts|frame|state|reason`` and an
    interval ``start_ts|end_ts|ended_by|open|clipped``, joined with ``;``."""
    names = report.names
    for node in report.mobile_nodes:
        for ro in node.route_optimization:
            yield {"node": str(node.home_address), "node_name": node.name,
                   "home_address": str(ro.home_address or node.home_address),
                   "correspondent": str(ro.correspondent),
                   "correspondent_name": names.get(ro.correspondent),
                   "state": ro.transitions[-1].state if ro.transitions else None,
                   "transitions": [{"ts": t.ts, "frame": t.frame, "state": t.state, "reason": t.reason}
                                   for t in ro.transitions],
                   "active_intervals": [{"start_ts": i.start_ts, "end_ts": i.end_ts,
                                         "ended_by": i.ended_by, "open": i.open, "clipped": i.clipped}
                                        for i in ro.active_intervals],
                   "rr_latency_ms": ro.rr_latency_ms, "packets_direct": ro.packets_direct,
                   "packets_tunnelled": ro.packets_tunnelled,
                   "active_s": round(sum(_seconds(i.start_ts, i.end_ts) for i in ro.active_intervals), 6)}


def render_ro(report: Report) -> str:
    """Route optimisation: a table of pairs, then each pair's transitions."""
    rows = _with_node(list(ro_rows(report)))
    for r in rows:
        r["n_transitions"] = len(r["transitions"])
        r["correspondent_shown"] = _named(r["correspondent_name"], r["correspondent"])
        r["active_shown"] = f"{r['active_s']:.3f}" + (
            " (open)" if any(i["open"] for i in r["active_intervals"]) else "")
    out = [_caption(report, "route optimisation pairs", len(rows)), text_table(rows, [
        Column("who", "node"), Column("home_address", "home address"),
        Column("correspondent_shown", "correspondent"), Column("state", "state now"),
        Column("n_transitions", "transitions", right=True),
        Column("active_shown", "RO active s", right=True),
        Column("rr_latency_ms", "RR ms", _ms, True), Column("packets_direct", "direct", right=True),
        Column("packets_tunnelled", "tunnelled", right=True)])]
    for r in rows:
        out.append(f"\n{_named(r['node_name'], r['home_address'])} <-> {r['correspondent_shown']}:\n")
        out.append(text_table(r["transitions"], [
            Column("ts", "time", clock), Column("frame", right=True), Column("state"), Column("reason")],
            indent="  "))
    return visible_lines("".join(out))


# -- handoffs ---------------------------------------------------------------------------------

HANDOFF_COLUMNS = ("node", "node_name", "home_address", "from_care_of", "to_care_of", "movement_ts", "bu_ts", "ba_ts",
                   "first_data_ts", "registration_ms", "disruption_ms", "bu_retransmissions",
                   "lost_to_old_care_of", "possibly_lost_to_old_care_of", "outcome", "status",
                   "status_name", "disruption_bounded_by_idle")


def handoff_rows(report: Report) -> Iterator[Row]:
    """One row per handoff, per node in report order."""
    for node in report.mobile_nodes:
        for h in node.handoffs:
            yield {"node": str(node.home_address), "node_name": node.name,
                   "home_address": str(getattr(h, "home_address", None) or node.home_address),
                   "from_care_of": str(h.from_care_of), "to_care_of": str(h.to_care_of),
                   "movement_ts": h.movement_ts, "bu_ts": h.bu_ts, "ba_ts": h.ba_ts,
                   "first_data_ts": h.first_data_ts, "registration_ms": h.registration_ms,
                   "disruption_ms": h.disruption_ms, "bu_retransmissions": h.bu_retransmissions,
                   "lost_to_old_care_of": h.lost_to_old_care_of,
                   "possibly_lost_to_old_care_of": h.possibly_lost_to_old_care_of,
                   "outcome": h.outcome, "status": h.status, "status_name": h.status_name,
                   "disruption_bounded_by_idle": h.disruption_bounded_by_idle}


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (``pct`` in 0-100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def handoff_stats(values: list[float]) -> dict[str, float | int | None]:
    """count, median, p95 and max of ``values`` (None when there are none)."""
    return {"count": len(values), "median": median(values) if values else None,
            "p95": percentile(values, 95), "max": max(values) if values else None}


def _outcome(row: Row) -> str:
    """"completed", or how the attempt failed (a rejection with its status)."""
    if row["outcome"] == "rejected" and row["status"] is not None:
        return f"rejected {row['status']} {row['status_name'] or ''}".rstrip()
    return str(row["outcome"])


def _disruption(value: float | None, row: Row) -> str:
    """The disruption in ms, marked "*" when measured around idle traffic."""
    return _ms(value) + ("*" if row.get("disruption_bounded_by_idle") and value is not None else "")


def render_handoffs(report: Report) -> str:
    """Handoffs as a table (failed attempts with their reason), then
    count/median/p95/max per mobile node over the completed ones."""
    rows = _with_node(list(handoff_rows(report)))
    for row in rows:
        row["outcome_shown"] = _outcome(row)
        row["disruption_shown"] = _disruption(row["disruption_ms"], row)
    out = [_caption(report, "handoffs", len(rows)), text_table(rows, [
        Column("who", "node"), Column("home_address", "home address"), Column("from_care_of", "from"), Column("to_care_of", "to"),
        Column("movement_ts", "movement", clock), Column("bu_ts", "BU", clock), Column("ba_ts", "BA", clock),
        Column("first_data_ts", "first data", clock), Column("registration_ms", "reg ms", _ms, True),
        Column("disruption_shown", "disrupt ms", right=True), Column("bu_retransmissions", "rexmit", right=True),
        Column("lost_to_old_care_of", "lost", right=True),
        Column("possibly_lost_to_old_care_of", "maybe lost", right=True),
        Column("outcome_shown", "outcome")])]
    if any(r["disruption_bounded_by_idle"] and r["disruption_ms"] is not None for r in rows):
        out.append("* idle on both sides: first packet from the new address to the accepting BA\n")
    stats = []
    for node in report.mobile_nodes:
        if not node.handoffs:
            continue
        done = [h for h in node.handoffs if h.outcome == "completed"]
        for label, values in (
                ("registration ms", [h.registration_ms for h in done if h.registration_ms is not None]),
                ("disruption ms", [h.disruption_ms for h in done if h.disruption_ms is not None])):
            s = handoff_stats(values)
            stats.append({"who": shown_name(node.name) or str(node.home_address), "what": label,
                          "handoffs": len(node.handoffs), "failed": len(node.handoffs) - len(done), **s})
    if stats:
        out.append("\nPer mobile node (statistics over completed handoffs):\n")
        out.append(text_table(stats, [
            Column("who", "node"), Column("what"), Column("handoffs", right=True),
            Column("failed", right=True),
            Column("count", "measured", right=True), Column("median", show=_ms, right=True),
            Column("p95", show=_ms, right=True), Column("max", show=_ms, right=True)], indent="  "))
    return visible_lines("".join(out))


# -- findings ---------------------------------------------------------------------------------

FINDING_COLUMNS = ("code", "severity", "node", "frames", "ts", "message", "rfc")


def finding_rows(report: Report, severity: str | None = None) -> Iterator[Row]:
    """Findings sorted by ts (then code); with ``severity`` only that severity or worse."""
    keep = SEVERITY_ORDER[:SEVERITY_ORDER.index(severity) + 1] if severity else None
    for f in sorted(report.findings, key=lambda f: (f.ts, f.code)):
        if keep is not None and f.severity not in keep:
            continue
        yield {"code": f.code, "severity": f.severity, "node": _addr(f.node), "frames": list(f.frames),
               "ts": f.ts, "message": f.message, "rfc": f.rfc}


def _frames(frames: list[int]) -> str:
    return ",".join(str(n) for n in frames[:5]) + ("..." if len(frames) > 5 else "") if frames else "-"


def render_findings(report: Report, severity: str | None = None) -> str:
    """Findings as a text table."""
    names = {str(a): n for a, n in _names(report).items()}
    rows = [{**r, "who": _named(names.get(r["node"]), r["node"])} for r in finding_rows(report, severity)]
    return visible_lines(_caption(report, "findings", len(rows)) + text_table(rows, [
        Column("ts", "time", clock), Column("severity"), Column("code"), Column("who", "node"),
        Column("frames", show=_frames), Column("rfc"), Column("message")]))


# -- binding caches at an instant ----------------------------------------------------------------

CACHE_COLUMNS = ("table", "owner", "peer", "kind", "home_address", "care_of", "flags", "seq",
                 "lifetime_requested_s", "lifetime_granted_s", "lifetime_remaining_s", "state",
                 "resend_count", "since_ts", "since_frame", "rr_state", "home_nonce_index",
                 "careof_nonce_index")


def cache_rows(entries: list[CacheEntry]) -> Iterator[Row]:
    """One row per cache or list entry."""
    for entry in entries:
        yield entry.to_dict()


def _remaining(row: Row) -> str:
    granted = row["lifetime_granted_s"]
    left = row["lifetime_remaining_s"]
    return f"{left:.1f}/" + (str(granted) if granted is not None else f"({row['lifetime_requested_s']})")


def render_cache(snapshot: CacheSnapshot, entries: list[CacheEntry],
                 names: Mapping[IPv6Address, str] | None = None) -> str:
    """UMIP-console-like text: each binding cache, then each binding update list;
    ``names`` (address -> name, as read from ``--names``) name the nodes."""
    names = names or {}
    at = f"{day(snapshot.at_ts)} {clock(snapshot.at_ts)} UTC"
    if snapshot.at_frame is not None:
        at += f" (frame {snapshot.at_frame})"
    out = [f"At {at}" + (" - after the end of the capture" if snapshot.reached_end else "") + "\n"]
    rows = list(cache_rows(entries))
    sections = [("binding_cache", "Binding cache of", [
        Column("home_address", "HoA"), Column("care_of", "CoA"), Column("flags"), Column("seq", right=True),
        Column("lifetime_remaining_s", "lifetime left/granted", right=True),
        Column("state"), Column("since_ts", "since", clock), Column("since_frame", "frame", right=True),
        Column("home_nonce_index", "HNI", right=True), Column("careof_nonce_index", "CNI", right=True)]),
        ("binding_update_list", "Binding update list of", [
        Column("peer", "to"), Column("kind"), Column("care_of", "CoA"), Column("flags"),
        Column("seq", right=True), Column("lifetime_remaining_s", "lifetime left/granted", right=True),
        Column("state"), Column("resend_count", "resends", right=True), Column("since_ts", "since", clock),
        Column("rr_state", "RR state"), Column("home_nonce_index", "HNI", right=True),
        Column("careof_nonce_index", "CNI", right=True)])]
    for table, title, columns in sections:
        owners = list(dict.fromkeys(r["owner"] for r in rows if r["table"] == table))
        if not owners:
            out.append(f"\n{title.split(' of')[0]}s: empty\n")
        for owner in owners:
            mine = [{**r, "lifetime_remaining_s": _remaining(r),
                     "home_address": _named(names.get(IPv6Address(r["home_address"])), r["home_address"]),
                     "peer": _named(names.get(IPv6Address(r["peer"])), r["peer"])}
                    for r in rows if r["table"] == table and r["owner"] == owner]
            who = _named(names.get(IPv6Address(owner)), owner)
            out.append(f"\n{title} {who}:\n" + text_table(mine, columns, indent="  "))
    return visible_lines("".join(out))


VIEWS: dict[str, tuple[Callable[..., Iterator[Row]], tuple[str, ...], Callable[..., str]]] = {
    "bindings": (binding_rows, BINDING_COLUMNS, render_bindings),
    "registrations": (registration_rows, REGISTRATION_COLUMNS, render_bindings),
    "tunnels": (tunnel_rows, TUNNEL_COLUMNS, render_tunnels),
    "ro": (ro_rows, RO_COLUMNS, render_ro),
    "handoffs": (handoff_rows, HANDOFF_COLUMNS, render_handoffs),
    "findings": (finding_rows, FINDING_COLUMNS, render_findings),
}
