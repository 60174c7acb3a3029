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
    """(correspondents with RO ever active, share of the capture it was active)."""
    active = [ro for ro in node.route_optimization if ro.active_intervals]
    if not active or not span:
        return len(active), None
    best = 0.0
    for ro in active:
        total = sum((iv.end_ts if iv.end_ts is not None else iv.start_ts) - iv.start_ts
                    for iv in ro.active_intervals)
        best = max(best, total / span)
    return len(active), min(1.0, best)


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
    }


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


def render_summary(report: Report, top: int = TOP_FINDINGS) -> str:
    """The whole summary as text (ends with a newline)."""
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
        lines.append("")
        lines.append("Mobile nodes:")
        for node, record in zip(report.mobile_nodes, summary_records(report), strict=True):
            who = record["home_address"] + (f" ({shown_name(record['name'])})" if record["name"] else "")
            lines.append(f"  {who}: {story_line(record)}")
            lines.extend(handoff_lines(node))
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
