"""The few IPv6 header fields the decoder does not keep (hop limit, routing
header types, the headers of a packet quoted in an ICMPv6 error), read
straight from a frame's captured bytes, only for filters that use them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from ..capture.link import network_layer

_EXT = frozenset({0, 43, 44, 51, 60})
_MAX_HEADERS = 64
_ICMPV6 = 58


@dataclass(slots=True)
class RawHeaders:
    """Per IPv6 header, outermost first, then those of a quoted packet:
    next header, payload length and hop limit; and every routing header's type."""

    nxt: list[int] = field(default_factory=list)
    plen: list[int] = field(default_factory=list)
    hlim: list[int] = field(default_factory=list)
    routing_types: list[int] = field(default_factory=list)


def read_raw_headers(linktype: int, data: bytes) -> RawHeaders:
    """Walk the IPv6 headers of ``data`` (never raises; stops where bytes end)."""
    out = RawHeaders()
    link = network_layer(linktype, data)
    if link.network != "ipv6":
        return out
    with contextlib.suppress(IndexError):  # every read is bounds-checked; belt and braces
        _walk(data, link.offset, len(data), out, quoted=False)
    return out


def _walk(data: bytes, pos: int, limit: int, out: RawHeaders, quoted: bool) -> None:
    for _ in range(_MAX_HEADERS):
        if limit - pos < 8 or data[pos] >> 4 != 6:
            return
        plen = (data[pos + 4] << 8) | data[pos + 5]
        nh = data[pos + 6]
        out.nxt.append(nh)
        out.plen.append(plen)
        out.hlim.append(data[pos + 7])
        if limit - pos < 40:
            return
        pos += 40
        end = min(limit, pos + plen) if plen else limit
        for _ in range(_MAX_HEADERS):
            if nh not in _EXT or end - pos < 2:
                break
            nxt, hlen = data[pos], data[pos + 1]
            if nh == 43 and end - pos >= 3:
                out.routing_types.append(data[pos + 2])
            if nh == 44:
                if end - pos >= 4 and ((data[pos + 2] << 8 | data[pos + 3]) >> 3):
                    return  # a later fragment: no headers follow
                size = 8
            elif nh == 51:
                size = (hlen + 2) * 4
            else:
                size = (hlen + 1) * 8
            pos += size
            nh = nxt
        if nh == 41:
            limit = end
            continue
        if nh == _ICMPV6 and not quoted and end - pos >= 8 and data[pos] < 128:
            _walk(data, pos + 8, end, out, quoted=True)
        return
