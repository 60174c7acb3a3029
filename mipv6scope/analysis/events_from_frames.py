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

from functools import lru_cache
from ipaddress import IPv6Address
from typing import Any

from .. import events as ev
from ..decode.issues import MAX_PREFIX_LENGTH
from ..decode.model import MALFORMED, DecodedFrame

NH_ESP = 50
NH_ICMPV6 = 58
NH_MH_DRAFT = 62
NH_MH = 135
MH_PROTOCOLS = frozenset((NH_MH, NH_MH_DRAFT))

ICMP_RS = 133
ICMP_RA = 134
ICMP_NS = 135
ICMP_NA = 136
ICMP_MOBILITY = frozenset((144, 145, 146, 147))
ICMP_ND_OTHER = frozenset((137,))  # Redirect: neither data nor mobility, no event

OPT_BINDING_REFRESH_ADVICE = 2
OPT_ALTERNATE_COA = 3
OPT_NONCE_INDICES = 4
OPT_MOBILE_NETWORK_PREFIX = 6


@lru_cache(maxsize=1 << 12)
def _ip(text: str | None) -> IPv6Address | None:
    """The address of ``text``; None when absent or not an IPv6 address.
    Remembered (bounded): routers repeat their RAs' prefixes, and parsing the
    text costs several microseconds."""
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


_FLAG_SETS: dict[tuple[str, ...], frozenset[str]] = {}  # a message's flag letters -> their set


def _flag_set(flags: Any) -> frozenset[str]:
    """``frozenset(flags)``, one shared set per distinct list of letters."""
    key = tuple(flags or ())
    found = _FLAG_SETS.get(key)
    if found is None:
        if len(_FLAG_SETS) >= 1024:
            _FLAG_SETS.clear()
        found = _FLAG_SETS[key] = frozenset(key)
    return found


def _options_by_type(fields: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The first option of each type (the Mobile Network Prefixes: every one, see `_prefixes`)."""
    found: dict[int, dict[str, Any]] = {}
    for opt in fields.get("options") or ():
        found.setdefault(opt.get("type"), opt)
    return found


def _mobility_event(decoded: DecodedFrame, file: int) -> ev.Event | None:
    """The MH message event, or None when its key fields were not captured."""
    fields = decoded.mh
    if fields is None:
        return None
    hdr, outer = decoded.ip6[-1], decoded.ip6[0]
    src, dst = hdr.upper_src, hdr.upper_dst
    # the MobilityMessage fields, in order
    base = (decoded.ts, decoded.number, file, src, dst, hdr.src, hdr.dst, outer.src, outer.dst,
            len(decoded.ip6) > 1, decoded.esp is not None, hdr.hao, hdr.rh2)
    mtype = fields.get("type")
    if mtype == 5:
        seq, lifetime = fields.get("seq"), fields.get("lifetime_s")
        if seq is None or lifetime is None:
            return None
        options = _options_by_type(fields)
        alt, nonces = options.get(OPT_ALTERNATE_COA), options.get(OPT_NONCE_INDICES)
        prefixes = (_prefixes(o for o in fields["options"] if o.get("type") == OPT_MOBILE_NETWORK_PREFIX)
                    if OPT_MOBILE_NETWORK_PREFIX in options else ())
        return ev.BindingUpdate(
            *base, seq, _flag_set(fields.get("flags")), lifetime, src, _alt_care_of(alt, hdr.src),
            nonces.get("home_nonce_index") if nonces else None,
            nonces.get("careof_nonce_index") if nonces else None, prefixes)
    if mtype == 6:
        seq, status = fields.get("seq"), fields.get("status")
        if seq is None or status is None:
            return None
        advice = _options_by_type(fields).get(OPT_BINDING_REFRESH_ADVICE)
        return ev.BindingAck(
            *base, seq, status, fields.get("status_name") or str(status),
            _flag_set(fields.get("flags")), fields.get("lifetime_s") or 0,
            advice.get("refresh_s") if advice else None, dst)
    if mtype == 7:
        if fields.get("status") is None:
            return None
        home = _ip(fields.get("home_address"))
        return ev.BindingError(*base, fields["status"], fields.get("status_name") or str(fields["status"]),
                               home if home is not None else dst)
    if mtype == 0:
        return ev.BindingRefreshRequest(*base)
    if mtype in (1, 2):
        if fields.get("cookie") is None:
            return None
        return ev.TestInit(*base, mtype == 1, fields["cookie"])
    if mtype in (3, 4):
        index = fields.get("home_nonce_index" if mtype == 3 else "careof_nonce_index")
        if fields.get("cookie") is None or index is None or fields.get("keygen_token") is None:
            return None
        return ev.Test(*base, mtype == 3, fields["cookie"], index, fields["keygen_token"])
    return ev.OtherMobilityMessage(*base, mtype, fields.get("name") or str(mtype))


def _src_mac(icmp: dict[str, Any]) -> bytes | None:
    for opt in icmp.get("options") or ():
        if opt.get("type") == 1 and opt.get("address"):
            try:
                return bytes.fromhex(str(opt["address"]).replace(":", ""))
            except ValueError:
                return None
    return None


def _icmp_event(decoded: DecodedFrame, file: int) -> ev.Event | None:
    """RA, NA, NS or ICMPv6 mobility event; a DataPacket for other ICMPv6 (echo,
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
    if itype == ICMP_RS:
        return ev.RouterSolicitation(decoded.ts, decoded.number, file, hdr.upper_src, hdr.upper_dst,
                                     len(decoded.ip6) == 1 and decoded.hao is None)
    if itype in (ICMP_NA, ICMP_NS):
        target = _ip(icmp["target"]) if icmp.get("target") is not None else None
        if target is None:
            return None
        plain = len(decoded.ip6) == 1 and decoded.hao is None
        if itype == ICMP_NS:
            return ev.NeighborSolicitation(decoded.ts, decoded.number, file, hdr.upper_src, hdr.upper_dst,
                                           target, plain)
        return ev.NeighborAdvertisement(decoded.ts, decoded.number, file, hdr.upper_src,
                                        hdr.upper_dst, target,
                                        frozenset(icmp.get("flags") or ()), plain)
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

