"""Turn one fully decoded frame (`decode.model.DecodedFrame`) into events.

The slow path of the engine: frames the fast path (`analysis.classify`) cannot
take go through `decode_frame` and then here. One frame gives at most one
message or data event, then a `TunnelledPacket` when it crossed an
IPv6-in-IPv6 tunnel and is not a DataPacket, then a `FrameIssues` when the
decoder reported anything. Missing fields (a message cut short) never raise: a message whose
identifying fields were not captured gives only its `FrameIssues`.

A malformed frame (an error-severity decode issue: a bad or care-of MH
checksum, a Home Address option that cannot be read, an option overrunning
its message, ...) gives only its `FrameIssues`: a conforming receiver discards
it (RFC 6275 9.2 for the Mobility Header, RFC 8200 4 for extension headers),
so it feeds no state machine, and it is exactly what the capture's
``malformed`` count counts. Warnings (a TCP/UDP checksum, snap-length
truncation, an unknown MH Type) keep the frame's event.
"""

from __future__ import annotations

from ipaddress import IPv6Address
from typing import Any

from .. import events as ev
from ..decode.issues import MAX_PREFIX_LENGTH
from ..decode.model import MALFORMED, DecodedFrame, IP6Header

NH_ESP = 50
NH_ICMPV6 = 58
NH_MH_DRAFT = 62
NH_MH = 135
MH_PROTOCOLS = frozenset((NH_MH, NH_MH_DRAFT))

ICMP_RA = 134
ICMP_NA = 136
ICMP_MOBILITY = frozenset((144, 145, 146, 147))
# Neighbor Discovery that is neither data nor mobility: no event.
ICMP_ND_OTHER = frozenset((133, 135, 137))

OPT_BINDING_REFRESH_ADVICE = 2
OPT_ALTERNATE_COA = 3
OPT_NONCE_INDICES = 4
OPT_MOBILE_NETWORK_PREFIX = 6


def _ip(text: str | None) -> IPv6Address | None:
    """The address of ``text``; None when absent or not an IPv6 address."""
    if text is None:
        return None
    try:
        return IPv6Address(text)
    except ValueError:
        return None


def _ips(texts: Any) -> tuple[IPv6Address, ...]:
    """The valid addresses among ``texts`` (others were flagged by the decoder)."""
    return tuple(a for a in (_ip(t) for t in texts or ()) if a is not None)


def _prefixes(entries: Any) -> tuple[str, ...]:
    """"addr/len" of every prefix entry whose prefix length is 0-128 and whose
    address reads as IPv6: the decoder flags the others on their frame
    (``nd_prefix_length_invalid``, ``mh_prefix_length_invalid``), so the
    analyzers never see a prefix ``ip_network`` would refuse."""
    out = []
    for p in entries or ():
        plen, text = p.get("prefix_len"), p.get("prefix")
        if (isinstance(plen, int) and 0 <= plen <= MAX_PREFIX_LENGTH and text is not None
                and _ip(text) is not None):
            out.append(f"{text}/{plen}")
    return tuple(out)


def _alt_care_of(alt: dict[str, Any] | None, default: IPv6Address) -> IPv6Address:
    """The Alternate Care-of Address option's address, else ``default``."""
    found = _ip(alt.get("address")) if alt else None
    return default if found is None else found


def _option(fields: dict[str, Any], otype: int) -> dict[str, Any] | None:
    for opt in fields.get("options") or ():
        if opt.get("type") == otype:
            return opt
    return None


def _mh_common(decoded: DecodedFrame, hdr: IP6Header) -> dict[str, Any]:
    outer = decoded.ip6[0]
    return {
        "ts": decoded.ts, "frame": decoded.number, "src": hdr.upper_src, "dst": hdr.upper_dst,
        "wire_src": hdr.src, "wire_dst": hdr.dst, "outer_src": outer.src, "outer_dst": outer.dst,
        "tunnelled": len(decoded.ip6) > 1, "esp": decoded.esp is not None, "hao": hdr.hao, "rh2": hdr.rh2,
    }


def _mobility_event(decoded: DecodedFrame, file: int) -> ev.Event | None:
    """The MH message event, or None when its key fields were not captured."""
    fields = decoded.mh
    if fields is None:
        return None
    hdr = decoded.ip6[-1]
    base = _mh_common(decoded, hdr)
    base["file"] = file
    mtype = fields.get("type")
    if mtype == 5:
        if fields.get("seq") is None or fields.get("lifetime_s") is None:
            return None
        alt = _option(fields, OPT_ALTERNATE_COA)
        nonces = _option(fields, OPT_NONCE_INDICES)
        prefixes = _prefixes(o for o in fields.get("options") or ()
                             if o.get("type") == OPT_MOBILE_NETWORK_PREFIX)
        return ev.BindingUpdate(
            **base, seq=fields["seq"], flags=frozenset(fields.get("flags") or ()),
            lifetime_s=fields["lifetime_s"], home_address=hdr.upper_src,
            care_of=_alt_care_of(alt, hdr.src),
            home_nonce_index=nonces.get("home_nonce_index") if nonces else None,
            careof_nonce_index=nonces.get("careof_nonce_index") if nonces else None,
            mobile_network_prefixes=prefixes)
    if mtype == 6:
        if fields.get("seq") is None or fields.get("status") is None:
            return None
        advice = _option(fields, OPT_BINDING_REFRESH_ADVICE)
        return ev.BindingAck(
            **base, seq=fields["seq"], status=fields["status"],
            status_name=fields.get("status_name") or str(fields["status"]),
            flags=frozenset(fields.get("flags") or ()), lifetime_s=fields.get("lifetime_s") or 0,
            refresh_s=advice.get("refresh_s") if advice else None, home_address=hdr.upper_dst)
    if mtype == 7:
        if fields.get("status") is None:
            return None
        home = _ip(fields.get("home_address"))
        return ev.BindingError(**base, status=fields["status"],
                               status_name=fields.get("status_name") or str(fields["status"]),
                               home_address=home if home is not None else hdr.upper_dst)
    if mtype == 0:
        return ev.BindingRefreshRequest(**base)
    if mtype in (1, 2):
        if fields.get("cookie") is None:
            return None
        return ev.TestInit(**base, home=mtype == 1, cookie=fields["cookie"])
    if mtype in (3, 4):
        index = fields.get("home_nonce_index" if mtype == 3 else "careof_nonce_index")
        if fields.get("cookie") is None or index is None or fields.get("keygen_token") is None:
            return None
        return ev.Test(**base, home=mtype == 3, cookie=fields["cookie"], nonce_index=index,
                       keygen_token=fields["keygen_token"])
    return ev.OtherMobilityMessage(**base, mh_type=mtype, name=fields.get("name") or str(mtype))


def _src_mac(icmp: dict[str, Any]) -> bytes | None:
    for opt in icmp.get("options") or ():
        if opt.get("type") == 1 and opt.get("address"):
            try:
                return bytes.fromhex(str(opt["address"]).replace(":", ""))
            except ValueError:
                return None
    return None


def _icmp_event(decoded: DecodedFrame, file: int) -> ev.Event | None:
    """RA, NA or ICMPv6 mobility event; a DataPacket for other ICMPv6 (echo,
    errors); None for the rest of Neighbor Discovery."""
    icmp = decoded.icmp6
    if icmp is None:
        return None
    itype = icmp.get("type")
    hdr = decoded.ip6[-1]
    if itype == ICMP_RA:
        prefixes = [p for p in icmp.get("prefixes") or () if _prefixes((p,))]
        return ev.RouterAdvertisement(
            decoded.ts, decoded.number, file, hdr.src, bool(icmp.get("home_agent")),
            _prefixes(prefixes),
            _ips(p["prefix"] for p in prefixes if "R" in (p.get("flags") or ())),
            _src_mac(icmp))
    if itype == ICMP_NA:
        if icmp.get("target") is None:
            return None
        target = _ip(icmp["target"])
        if target is None:
            return None
        return ev.NeighborAdvertisement(decoded.ts, decoded.number, file, hdr.upper_src,
                                        hdr.upper_dst, target,
                                        frozenset(icmp.get("flags") or ()))
    if itype in ICMP_MOBILITY:
        return ev.IcmpMobility(
            decoded.ts, decoded.number, file, itype, icmp.get("identifier"), hdr.upper_src,
            hdr.upper_dst, hdr.hao, _ips(icmp.get("home_agents")),
            _prefixes(icmp.get("prefixes")))
    if itype in ICMP_ND_OTHER:
        return None
    return _data_event(decoded, file)


def _data_event(decoded: DecodedFrame, file: int) -> ev.DataPacket | None:
    transport = decoded.transport
    if transport is None or not decoded.ip6:
        return None
    outer, inner = decoded.ip6[0], decoded.ip6[-1]
    return ev.DataPacket(
        decoded.ts, decoded.number, file, outer.src, outer.dst, inner.upper_src,
        inner.upper_dst, len(decoded.ip6) > 1, decoded.hao, decoded.rh2, transport.proto,
        transport.sport, transport.dport, 40 + outer.payload_len, 40 + inner.payload_len)


def _tunnelled_packet(decoded: DecodedFrame, file: int) -> ev.TunnelledPacket:
    """The `TunnelledPacket` of a tunnelled frame that gave no DataPacket."""
    outer, inner = decoded.ip6[0], decoded.ip6[-1]
    proto = decoded.transport.proto if decoded.transport is not None else inner.nh
    return ev.TunnelledPacket(decoded.ts, decoded.number, file, outer.src, outer.dst, inner.upper_src,
                              inner.upper_dst, proto, 40 + outer.payload_len, 40 + inner.payload_len)


def events_from_decoded(decoded: DecodedFrame, file: int = 0) -> list[ev.Event]:
    """The events of one decoded frame (``file`` is its capture's index)."""
    out: list[ev.Event] = []
    if decoded.ip6 and decoded.status != MALFORMED:
        proto = decoded.transport.proto if decoded.transport is not None else None
        event: ev.Event | None
        if decoded.mh is not None or proto in MH_PROTOCOLS:
            event = _mobility_event(decoded, file)
        elif decoded.icmp6 is not None or proto == NH_ICMPV6:
            event = _icmp_event(decoded, file)
        elif proto == NH_ESP:
            event = None  # opaque (not NULL-readable): may be signalling as much as data
        else:
            event = _data_event(decoded, file)
        if event is not None:
            out.append(event)
        if len(decoded.ip6) > 1 and not isinstance(event, ev.DataPacket):
            out.append(_tunnelled_packet(decoded, file))
    if decoded.issues:
        out.append(ev.FrameIssues(
            decoded.ts, decoded.number, file,
            tuple((i.code, i.layer, i.detail) for i in decoded.issues),
            decoded.src, decoded.dst))
    return out

