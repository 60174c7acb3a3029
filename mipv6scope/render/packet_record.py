"""The jsonl record of one decoded frame (the schema `packets --format jsonl` prints)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..decode.model import DecodedFrame

# Formatting an IPv6 address is costly and a capture has few distinct ones.
_text = lru_cache(maxsize=1 << 16)(str)


def _addr(value: object) -> str | None:
    return None if value is None else _text(value)


def frame_record(frame: DecodedFrame) -> dict[str, Any]:
    """One JSON-ready dict per frame; every key is always present, null where absent."""
    transport = frame.transport
    return {
        "frame": frame.number,
        "ts": frame.ts,
        "caplen": frame.caplen,
        "wirelen": frame.wirelen,
        "linktype": frame.linktype,
        "file": frame.file,
        "status": frame.status,
        "skip_reason": frame.skip_reason,
        "vlan": list(frame.vlan_ids),
        "ip6": [{"src": _text(h.src), "dst": _text(h.dst), "nh": h.nh} for h in frame.ip6],
        "hao": _addr(frame.hao),
        "rh2": _addr(frame.rh2),
        "mh": frame.mh,
        "icmp6": frame.icmp6,
        "esp": frame.esp,
        "ah": frame.ah,
        "transport": None if transport is None else {
            "proto": transport.proto, "sport": transport.sport, "dport": transport.dport,
        },
        "issues": [i.to_dict() for i in frame.issues],
    }
