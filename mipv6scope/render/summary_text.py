"""The `summary` view: capture counts, nodes by role, one story line per mobile
node and the top findings, rendered from a Report only (nothing is decoded).

``summary_records`` gives the same content as plain dicts (one per mobile node)
for the json/jsonl/csv formats; ``render_summary`` gives the text, in which
names are `safe_text.visible` and shortened, every line is made visible, and a
time that cannot be a date shows as raw seconds.
"""

from __future__ import annotations

from collections import Counter
from statistics import median
from typing import Any

from ..report.model import MobileNode, Report
from ..safe_text import raw_seconds, shown_name, utc_moment, visible
from .node_rank import NodeSelection, select_nodes

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
TOP_FINDINGS = 10
HANDOFFS_SHOWN = 10  # handoff lines per mobile node (the `handoffs` view lists them all)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    moment = utc_moment(ts)
    if moment is None:
        return raw_seconds(ts)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _ro_active_share(node: MobileNode, span: float | None) -> tuple[int, float | None]:
    """(distinct correspondents with RO ever active, the largest share of the
    capture one of them was active). A correspondent counts once however many
    of the node's home addresses it optimised; its active time is the union of
    their intervals (an open one runs to the capture's end)."""
    spans: dict[Any, list[tuple[float, float]]] = {}
    for ro in node.route_optimization:
        for iv in ro.active_intervals:
            end = iv.end_ts if iv.end_ts is not None else iv.start_ts
            spans.setdefault(ro.correspondent, []).append((iv.start_ts, end))
    if not spans or not span:
        return len(spans), None
    best = max(_covered(intervals) for intervals in spans.values())
    return len(spans), min(1.0, best / span)


def _covered(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of (start, end) intervals."""
    total, reach = 0.0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def node_record(node: MobileNode, report: Report) -> dict[str, Any]:
    """The summary figures of one mobile node."""
    cap = report.capture
    span = (cap.last_ts - cap.first_ts) if cap.first_ts is not None and cap.last_ts is not None else None
    done = [h for h in node.handoffs if h.outcome == "completed"]
    regs = [h.registration_ms for h in done if h.registration_ms is not None]
    failed = Counter(h.outcome if h.outcome != "rejected" or h.status is None
                     else f"rejected {h.status}" for h in node.handoffs if h.outcome != "completed")
    ro_cns, ro_share = _ro_active_share(node, span)
    mine = set(node.home_addresses or (node.home_address,))
    findings = [f for f in report.findings if f.node in mine]
    return {
        "home_address": str(node.home_address),
        "name": node.name,
        "home_agent": str(node.home_agent) if node.home_agent is not None else None,
        "care_of_addresses": len(node.care_of_addresses),
        "handoffs": len(node.handoffs),
        "median_registration_ms": round(median(regs), 1) if regs else None,
        "lost_to_old_care_of": sum(h.lost_to_old_care_of for h in node.handoffs),
        "possibly_lost_to_old_care_of": sum(h.possibly_lost_to_old_care_of for h in node.handoffs),
        "failed_handoffs": sum(failed.values()),
        "failed_reasons": ", ".join(f"{n} {why}" for why, n in sorted(failed.items())) or None,
        "ro_correspondents": ro_cns,
        "ro_active_share": round(ro_share, 3) if ro_share is not None else None,
        "findings": len(findings),
        **signalling_counts(node, report),
    }


# -- per-node signalling lists ----------------------------------------------------------------

# summary record key -> the `SignallingMessage.kind` it counts
SIGNALLING_KEYS = {
    "bu": "BU", "ba": "BA", "be": "BE", "brr": "BRR",
    "dhaad_requests": "DHAAD request", "dhaad_replies": "DHAAD reply",
    "mps": "MPS", "mpa": "MPA",
}
# the summary's signalling line: (label, request key, answer key, answer label)
_SIGNALLING_PAIRS = (
    ("BU", "bu", "ba", "BA"),
    ("DHAAD request", "dhaad_requests", "dhaad_replies", "reply"),
    ("MPS", "mps", "mpa", "MPA"),
    ("BRR", "brr", None, None),
    ("BE", "be", None, None),
)


def signalling_counts(node: MobileNode, report: Report) -> dict[str, int]:
    """How many of each registration and discovery message concern ``node``
    (``report.signalling``, as the ladders draw it): BU, BA, BE, BRR, DHAAD
    request/reply (RFC 6275 6.5, 6.6), Mobile Prefix Solicitation/Advertisement
    (6.7, 6.8). Lower bounds when ``report.signalling_dropped`` is not 0."""
    kinds = Counter(m.kind for m in report.signalling_of(node))
    return {key: kinds[kind] for key, kind in SIGNALLING_KEYS.items()}


def signalling_line(record: dict[str, Any]) -> str:
    """E.g. "5 BU / 5 BA, 1 DHAAD request / 1 reply, 1 MPS / 1 MPA, 1 BRR"; ""
    when the node sent or received none of them."""
    parts = []
    for label, asked, answered, answer_label in _SIGNALLING_PAIRS:
        n, m = record.get(asked, 0), record.get(answered, 0) if answered else 0
        if n or m:
            parts.append(f"{n} {label}" + (f" / {m} {answer_label}" if answered else ""))
    return ", ".join(parts)


def summary_records(report: Report) -> list[dict[str, Any]]:
    """One record per mobile node, in the report's order."""
    return [node_record(node, report) for node in report.mobile_nodes]


def story_line(record: dict[str, Any]) -> str:
    """E.g. "3 handoffs, median registration 41 ms, 12 packets lost to old CoA,
    RO with 1 CN active 84% of the time"."""
    parts = [_plural(record["handoffs"], "handoff")]
    if record.get("failed_handoffs"):
        parts[0] += f" ({record['failed_handoffs']} failed: {record['failed_reasons']})"
    if record["median_registration_ms"] is not None:
        parts.append(f"median registration {record['median_registration_ms']:.0f} ms")
    if record["lost_to_old_care_of"]:
        parts.append(f"{_plural(record['lost_to_old_care_of'], 'packet')} lost to old CoA")
    if record.get("possibly_lost_to_old_care_of"):
        parts.append(f"{record['possibly_lost_to_old_care_of']} possibly lost")
    if record["ro_correspondents"]:
        text = f"RO with {record['ro_correspondents']} CN"
        if record["ro_active_share"] is not None:
            text += f" active {record['ro_active_share'] * 100:.0f}% of the time"
        parts.append(text)
    if record["findings"]:
        parts.append(_plural(record["findings"], "finding"))
    return ", ".join(parts)


def _ms_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def handoff_lines(node: MobileNode, shown: int = HANDOFFS_SHOWN) -> list[str]:
    """One line per handoff (the first ``shown``): addresses, outcome, lost and
    possibly lost packets, registration and disruption."""
    out = []
    for h in node.handoffs[:shown]:
        outcome = h.outcome
        if h.outcome == "rejected" and h.status is not None:
            outcome = f"rejected {h.status} {h.status_name or ''}".rstrip()
        disruption = _ms_text(h.disruption_ms) + (" (idle: BU to BA)" if h.disruption_bounded_by_idle
                                                   and h.disruption_ms is not None else "")
        out.append(f"    {h.from_care_of} -> {h.to_care_of}: {outcome}, "
                   f"registration {_ms_text(h.registration_ms)}, disruption {disruption}, "
                   f"lost {h.lost_to_old_care_of}, possibly lost {h.possibly_lost_to_old_care_of}")
    if len(node.handoffs) > shown:
        out.append(f"    ... {len(node.handoffs) - shown} more (see `mipv6scope handoffs`)")
    return out


def total_line(report: Report) -> str:
    """Handoffs over every node: how many, how many failed, lost and possibly lost."""
    handoffs = [h for n in report.mobile_nodes for h in n.handoffs]
    failed = sum(1 for h in handoffs if h.outcome != "completed")
    return (f"  total: {_plural(len(handoffs), 'handoff')} ({failed} failed), "
            f"{sum(h.lost_to_old_care_of for h in handoffs)} lost to old CoA, "
            f"{sum(h.possibly_lost_to_old_care_of for h in handoffs)} possibly lost")


def render_summary(report: Report, top: int = TOP_FINDINGS, nodes: NodeSelection | None = None) -> str:
    """The whole summary as text (ends with a newline): the mobile nodes
    ``nodes`` selects (by default the `node_rank.DEFAULT_TOP` with the most
    findings), with a line saying how many more there are."""
    cap = report.capture
    lines = [
        f"Capture: {', '.join(cap.files)}",
        f"  vantage: {getattr(cap, 'vantage', 'unknown')}: {getattr(cap, 'vantage_reason', '')}",
        f"  {cap.frames} frames: {cap.decoded} decoded, {cap.malformed} malformed, "
        f"{cap.skipped} skipped" + (" (PARTIAL: reading was interrupted)" if cap.partial else ""),
        f"  from {_when(cap.first_ts)} to {_when(cap.last_ts)}",
    ]
    if cap.skip_reasons:
        lines.append("  skipped: " + ", ".join(f"{r}: {n}" for r, n in
                                                Counter(cap.skip_reasons).most_common()))
    if cap.esp_no_key:
        lines.append(f"  encrypted, no key: {cap.esp_no_key} ESP frames (their SAs can be given "
                     "with --esp-sa)")
    lines.extend(f"  capture issue: {issue}" for issue in cap.capture_issues)
    lines.append("")
    lines.append("Nodes:")
    lines.append(f"  mobile nodes:   {len(report.mobile_nodes)}")
    for label, addresses in (("home agents", report.home_agents),
                             ("correspondents", report.correspondents),
                             ("access routers", report.access_routers)):
        shown = ", ".join(f"{a} ({shown_name(report.names[a])})" if a in report.names else str(a)
                          for a in addresses[:5])
        more = f" (+{len(addresses) - 5} more)" if len(addresses) > 5 else ""
        lines.append(f"  {label + ':':15} {len(addresses)}" + (f"  {shown}{more}" if shown else ""))
    if report.mobile_nodes:
        if nodes is None:
            nodes = select_nodes(summary_records(report))
        lines.append("")
        lines.append("Mobile nodes:" if not nodes.more else
                     f"Mobile nodes (top {len(nodes.records)} by {nodes.sort}):")
        by_address = {str(node.home_address): node for node in report.mobile_nodes}
        for record in nodes.records:
            who = record["home_address"] + (f" ({shown_name(record['name'])})" if record["name"] else "")
            lines.append(f"  {who}: {story_line(record)}")
            signalling = signalling_line(record)
            if signalling:
                lines.append(f"    signalling: {signalling}")
            lines.extend(handoff_lines(by_address[record["home_address"]]))
        if nodes.more:
            lines.append(f"  ... {nodes.more} more mobile node{'' if nodes.more == 1 else 's'} "
                         "(--top N or --all to list them, --sort to rank them otherwise)")
        lines.append(total_line(report))
    lines.append("")
    if report.findings:
        ranked = sorted(report.findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.ts))
        names = report.node_names()
        by_code = Counter(f.code for f in report.findings)
        kinds = len(by_code)
        lines.append(f"Findings: {len(report.findings)} ({kinds} kind{'' if kinds == 1 else 's'})")
        for f in ranked[:top]:
            frames = ",".join(str(n) for n in f.frames[:5]) + ("..." if len(f.frames) > 5 else "")
            name = names.get(f.node) if f.node is not None else None
            node = "" if f.node is None else f" {shown_name(name)} ({f.node})" if name else f" {f.node}"
            lines.append(f"  {f.severity:7} {f.code}{node} frames {frames}: {f.message}"
                         + (f" [{f.rfc}]" if f.rfc else ""))
        if len(ranked) > top:
            lines.append(f"  ... {len(ranked) - top} more (see `mipv6scope report`)")
    else:
        lines.append("Findings: none")
    # each line whole through `visible`: a newline a file name or message brought shows as \x0a
    return "\n".join(visible(line) for line in lines) + "\n"
