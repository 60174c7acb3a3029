"""Per-field value getters: each takes a DecodedFrame and the evaluation
environment and returns the field's values in the frame (empty when absent).

Wireshark fields follow tshark's protocol tree: one value per occurrence, every
tunnel level included, and the IPv6 header of a packet quoted by an ICMPv6
error counts (its addresses, and its MH type).
"""

from __future__ import annotations

import contextlib
from ipaddress import IPv6Address
from typing import Any

from ..decode.model import DecodedFrame
from .context import FilterContext, NodeRef
from .raw import RawHeaders, read_raw_headers

Values = tuple[Any, ...]
_NONE: Values = ()
_TRUE: Values = (True,)
_UDP, _TCP, _ESP = 17, 6, 50


class Env:
    """What one evaluation may need beyond the frame: the analysis context, the
    frame's captured bytes (for the raw fields) and the time origin."""

    __slots__ = ("context", "data", "first_ts", "_raw")

    def __init__(self, context: FilterContext | None, data: bytes | None,
                 first_ts: float | None) -> None:
        self.context = context
        self.data = data
        self.first_ts = first_ts
        self._raw: RawHeaders | None = None

    def raw(self, frame: DecodedFrame) -> RawHeaders | None:
        """The frame's raw header fields, read once; None without the bytes."""
        if self.data is None:
            return None
        if self._raw is None:
            self._raw = read_raw_headers(frame.linktype, self.data)
        return self._raw


def _invoking(frame: DecodedFrame) -> dict[str, Any] | None:
    icmp = frame.icmp6
    return icmp.get("invoking") if icmp is not None else None


def _quoted_addresses(frame: DecodedFrame, key: str) -> list[IPv6Address]:
    inv = _invoking(frame)
    if inv and inv.get(key):
        return [IPv6Address(inv[key])]
    return []


# --- ipv6 -----------------------------------------------------------------------------------

def ipv6_src(frame: DecodedFrame, env: Env) -> Values:
    """Source of every IPv6 header (tunnel levels, then a quoted packet)."""
    return (*(h.src for h in frame.ip6), *_quoted_addresses(frame, "src"))


def ipv6_dst(frame: DecodedFrame, env: Env) -> Values:
    """Destination of every IPv6 header."""
    return (*(h.dst for h in frame.ip6), *_quoted_addresses(frame, "dst"))


def ipv6_addr(frame: DecodedFrame, env: Env) -> Values:
    """Source and destination of every IPv6 header."""
    return ipv6_src(frame, env) + ipv6_dst(frame, env)


def ipv6_nxt(frame: DecodedFrame, env: Env) -> Values:
    """Next Header of every IPv6 header."""
    raw = env.raw(frame)
    if raw is not None:
        return tuple(raw.nxt)
    return tuple(h.nh for h in frame.ip6)


def ipv6_plen(frame: DecodedFrame, env: Env) -> Values:
    """Payload Length of every IPv6 header."""
    raw = env.raw(frame)
    if raw is not None:
        return tuple(raw.plen)
    return tuple(h.payload_len for h in frame.ip6)


def ipv6_hlim(frame: DecodedFrame, env: Env) -> Values:
    """Hop Limit of every IPv6 header (needs the frame's bytes)."""
    raw = env.raw(frame)
    return tuple(raw.hlim) if raw is not None else _NONE


def ipv6_hao(frame: DecodedFrame, env: Env) -> Values:
    """The Home Address option of every header chain."""
    return tuple(h.hao for h in frame.ip6 if h.hao is not None)


def ipv6_rh2(frame: DecodedFrame, env: Env) -> Values:
    """The type 2 routing header's home address of every header chain."""
    return tuple(h.rh2 for h in frame.ip6 if h.rh2 is not None)


def ipv6_routing_type(frame: DecodedFrame, env: Env) -> Values:
    """The Routing Type of every routing header."""
    raw = env.raw(frame)
    if raw is not None:
        return tuple(raw.routing_types)
    return tuple(2 for h in frame.ip6 if h.rh2 is not None)


def is_ipv6(frame: DecodedFrame, env: Env) -> Values:
    """Protocol test: an IPv6 header."""
    return _TRUE if frame.ip6 else _NONE


# --- mobility header --------------------------------------------------------------------------

def is_mipv6(frame: DecodedFrame, env: Env) -> Values:
    """Protocol test: a Mobility Header (also one quoted by an ICMPv6 error)."""
    if frame.mh is not None:
        return _TRUE
    inv = _invoking(frame)
    return _TRUE if inv and inv.get("mh_type") is not None else _NONE


def mh_type(frame: DecodedFrame, env: Env) -> Values:
    """The MH Type (of a quoted MH too)."""
    out = []
    if frame.mh is not None and frame.mh.get("type") is not None:
        out.append(frame.mh["type"])
    inv = _invoking(frame)
    if inv and inv.get("mh_type") is not None:
        out.append(inv["mh_type"])
    return tuple(out)


def mh_key(mh_type_: int, key: str):
    """A getter for one key of the MH dict of one MH type."""
    def get(frame: DecodedFrame, env: Env) -> Values:
        mh = frame.mh
        if mh is None or mh.get("type") != mh_type_:
            return _NONE
        value = mh.get(key)
        if value is None:
            return _NONE
        return (IPv6Address(value),) if key == "home_address" else (value,)
    get.__doc__ = f"MH type {mh_type_}: {key}"
    return get


def mh_flag(mh_type_: int, letter: str):
    """A getter for one flag of a BU/BA (0 or 1, present when the message is)."""
    def get(frame: DecodedFrame, env: Env) -> Values:
        mh = frame.mh
        if mh is None or mh.get("type") != mh_type_ or mh.get("flags") is None:
            return _NONE
        return (1 if letter in mh["flags"] else 0,)
    get.__doc__ = f"MH type {mh_type_}: flag {letter}"
    return get


def mh_checksum(frame: DecodedFrame, env: Env) -> Values:
    """The MH Checksum field."""
    mh = frame.mh
    if mh is None or mh.get("checksum") is None:
        return _NONE
    return (mh["checksum"],)


# --- icmpv6, ipsec, transport -----------------------------------------------------------------

def is_icmpv6(frame: DecodedFrame, env: Env) -> Values:
    """Protocol test: ICMPv6."""
    return _TRUE if frame.icmp6 is not None else _NONE


def layer_key(layer: str, key: str):
    """A getter for one key of the frame's ``layer`` dict (``icmp6``, ``esp``)."""
    def get(frame: DecodedFrame, env: Env) -> Values:
        values = getattr(frame, layer)
        if values is None or values.get(key) is None:
            return _NONE
        return (values[key],)
    get.__doc__ = f"{layer} {key}"
    return get


def _has_issue(frame: DecodedFrame, code: str) -> bool:
    return any(i.code == code for i in frame.issues)


def is_esp(frame: DecodedFrame, env: Env) -> Values:
    """Protocol test: ESP (a header cut short counts, as in tshark)."""
    return _TRUE if frame.esp is not None or _has_issue(frame, "esp_too_short") else _NONE


def is_ah(frame: DecodedFrame, env: Env) -> Values:
    """Protocol test: AH (a header cut short counts, as in tshark)."""
    return _TRUE if frame.ah is not None or _has_issue(frame, "ah_too_short") else _NONE


def transport_is(proto: int):
    """Protocol test for one transport protocol."""
    def get(frame: DecodedFrame, env: Env) -> Values:
        t = frame.transport
        return _TRUE if t is not None and t.proto == proto and t.sport is not None else _NONE
    return get


def port(proto: int, which: str):
    """A getter for the source ("src"), destination ("dst") or both ports of ``proto``."""
    def get(frame: DecodedFrame, env: Env) -> Values:
        t = frame.transport
        if t is None or t.proto != proto or t.sport is None:
            return _NONE
        if which == "src":
            return (t.sport,)
        if which == "dst":
            return (t.dport,)
        return (t.sport, t.dport)
    return get


# --- frame ----------------------------------------------------------------------------------

def is_frame(frame: DecodedFrame, env: Env) -> Values:
    """Protocol test: every frame."""
    return _TRUE


def frame_number(frame: DecodedFrame, env: Env) -> Values:
    """The 1-based frame number in its file."""
    return (frame.number,)


def frame_time_relative(frame: DecodedFrame, env: Env) -> Values:
    """Seconds since the first frame (of the file, or of the analysed captures)."""
    origin = env.first_ts
    if origin is None and env.context is not None:
        origin = env.context.first_ts
    return (frame.ts - origin,) if origin is not None else _NONE


def frame_time_epoch(frame: DecodedFrame, env: Env) -> Values:
    """Epoch seconds."""
    return (frame.ts,)


def frame_len(frame: DecodedFrame, env: Env) -> Values:
    """Length on the wire."""
    return (frame.wirelen,)


def frame_cap_len(frame: DecodedFrame, env: Env) -> Values:
    """Length captured."""
    return (frame.caplen,)


# --- ours: no analysis needed -----------------------------------------------------------------

def is_tunnel(frame: DecodedFrame, env: Env) -> Values:
    """IPv6-in-IPv6: more than one IPv6 header."""
    return _TRUE if len(frame.ip6) > 1 else _NONE


def is_ro(frame: DecodedFrame, env: Env) -> Values:
    """Route-optimised data: a HAO or RH2 on a frame without a Mobility Header."""
    if frame.mh is not None:
        return _NONE
    return _TRUE if any(h.hao is not None or h.rh2 is not None for h in frame.ip6) else _NONE


# --- ours: from the analysis ------------------------------------------------------------------

def frame_addresses(frame: DecodedFrame) -> list[IPv6Address]:
    """Every IPv6 address of the frame: each level's source and destination,
    HAO, RH2, and the home address a Binding Error names."""
    out: list[IPv6Address] = []
    for h in frame.ip6:
        out.append(h.src)
        out.append(h.dst)
        if h.hao is not None:
            out.append(h.hao)
        if h.rh2 is not None:
            out.append(h.rh2)
    mh = frame.mh
    if mh is not None and mh.get("home_address"):
        with contextlib.suppress(ValueError):
            out.append(IPv6Address(mh["home_address"]))
    return out


def mobile_nodes(frame: DecodedFrame, env: Env) -> tuple[NodeRef, ...]:
    """The mobile nodes any of whose home or care-of addresses the frame carries."""
    ctx = env.context
    if ctx is None:
        return ()
    return ctx.nodes_of(frame_addresses(frame))


def addresses_in(role: str):
    """A getter for the frame's addresses that have ``role`` in the report."""
    def get(frame: DecodedFrame, env: Env) -> Values:
        ctx = env.context
        if ctx is None:
            return _NONE
        pool = getattr(ctx, role)
        seen: list[IPv6Address] = []
        for address in frame_addresses(frame):
            if address in pool and address not in seen:
                seen.append(address)
        return tuple(seen)
    return get


def is_lost(frame: DecodedFrame, env: Env) -> Values:
    """A frame the report counts as lost to the old care-of address."""
    ctx = env.context
    return _TRUE if ctx is not None and frame.number in ctx.lost_frames else _NONE


def is_retransmission(frame: DecodedFrame, env: Env) -> Values:
    """A BU after the first of its registration."""
    ctx = env.context
    return _TRUE if ctx is not None and frame.number in ctx.retransmission_frames else _NONE


def handoff_numbers(frame: DecodedFrame, env: Env) -> Values:
    """The numbers N of the handoff windows the frame falls in: those of the
    frame's own mobile nodes, or, for a frame of no node, of any node."""
    ctx = env.context
    if ctx is None:
        return _NONE
    nodes = ctx.nodes_of(frame_addresses(frame))
    windows = ([w for n in nodes for w in ctx.handoffs_by_node.get(n.index, ())]
               if nodes else ctx.all_handoffs)
    ts = frame.ts
    found: list[int] = []
    for w in windows:
        if w.start_ts <= ts <= w.end_ts and w.number not in found:
            found.append(w.number)
    return tuple(found)


def issue_codes(frame: DecodedFrame, env: Env) -> Values:
    """Decode issue codes of the frame, then the codes of findings that list it."""
    codes = [i.code for i in frame.issues]
    ctx = env.context
    if ctx is not None:
        for code in sorted(ctx.codes_by_frame.get(frame.number, ())):
            if code not in codes:
                codes.append(code)
    return tuple(codes)
