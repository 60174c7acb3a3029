"""`mipv6scope stats` as text tables and as records (json/csv), from a
`analysis.stats.CaptureStats` only."""

from __future__ import annotations

from typing import Any

from ..analysis.stats import CaptureStats
from .tabular import Column, clock, plain, text_table

Record = dict[str, Any]

CSV_COLUMNS = ("record", "mh_type", "kind", "name", "status", "count", "node", "peer", "frames",
               "bytes", "first_ts", "last_ts", "kinds", "minute", "start_ts", "signalling",
               "tunnelled")


def stats_document(stats: CaptureStats) -> dict[str, Any]:
    """The json document: one list per table, plus ``signalling_dropped``."""
    return {
        "mh_types": [{"mh_type": t.mh_type, "kind": t.kind, "name": t.name, "count": t.count}
                     for t in stats.mh_types],
        "statuses": [{"kind": s.kind, "status": s.status, "name": s.name, "count": s.count}
                     for s in stats.statuses],
        "conversations": [{"node": str(c.node), "peer": str(c.peer), "frames": c.frames,
                           "bytes": c.bytes, "first_ts": c.first_ts, "last_ts": c.last_ts,
                           "kinds": list(c.kinds)} for c in stats.conversations],
        "per_minute": [{"minute": m.index, "start_ts": m.start_ts, "signalling": m.signalling,
                        "tunnelled": m.tunnelled} for m in stats.minutes],
        "signalling_dropped": stats.signalling_dropped,
    }


_RECORD_OF = {"mh_types": "mh_type", "statuses": "status", "conversations": "conversation",
              "per_minute": "minute"}


def stats_records(stats: CaptureStats) -> list[Record]:
    """Every row of every table as one flat record (csv), ``record`` naming
    its table: mh_type, status, conversation or minute."""
    document = stats_document(stats)
    return [{"record": _RECORD_OF[table], **row} for table in _RECORD_OF for row in document[table]]


def render_stats(stats: CaptureStats) -> str:
    """The four tables as aligned text."""
    document = stats_document(stats)
    parts = [
        ("Mobility Header messages by type", document["mh_types"],
         [Column("mh_type", "Type", right=True), Column("kind", "Kind"), Column("name", "Name"),
          Column("count", "Count", right=True)]),
        ("BA/BE status", document["statuses"],
         [Column("kind", "Kind"), Column("status", "Status", right=True), Column("name", "Name"),
          Column("count", "Count", right=True)]),
        ("Conversations (signalling)", document["conversations"],
         [Column("node", "Node"), Column("peer", "Peer"), Column("frames", "Frames", right=True),
          Column("bytes", "Bytes", right=True), Column("first_ts", "First", clock), Column("last_ts", "Last", clock),
          Column("kinds", "Kinds", plain)]),
        ("Per minute", document["per_minute"],
         [Column("minute", "Minute", right=True), Column("start_ts", "Start", clock),
          Column("signalling", "MH messages", right=True),
          Column("tunnelled", "Tunnelled", right=True)]),
    ]
    out = []
    for title, rows, columns in parts:
        out.append(f"{title}:\n")
        out.append(text_table(rows, columns, indent="  ") or "  (none)\n")
        out.append("\n")
    if stats.signalling_dropped:
        out.append(f"({stats.signalling_dropped} more signalling messages were not kept: "
                   "the counts above leave them out)\n")
    return "".join(out)
