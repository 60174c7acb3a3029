"""A minimal DecodedFrame -> mobility events conversion for the analysis tests,
used until (or instead of) the engine's events_from_frames: enough to feed the
bindings and handoff analyzers from a sample capture (BU, BA, BE, RA, data)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from ipaddress import IPv6Address
from pathlib import Path

from mipv6scope import events as ev
from mipv6scope.analysis.base import Analyzer, dispatch_table
from mipv6scope.decode.model import DECODED, DecodedFrame
from mipv6scope.decode.stream import DecodeStream

NH_IPV6 = 41
NH_MH = 135
NH_ICMP6 = 58


def _mobility_common(f: DecodedFrame) -> dict:
    inner = f.ip6[-1]
    return dict(ts=f.ts, frame=f.number, file=0, src=f.src, dst=f.dst,
                wire_src=inner.src, wire_dst=inner.dst, outer_src=f.outer_src,
                outer_dst=f.outer_dst, tunnelled=len(f.ip6) > 1, esp=f.esp is not None,
                hao=f.hao, rh2=f.rh2)


def _option(mh: dict, type_: int) -> dict | None:
    for opt in mh.get("options", []):
        if opt.get("type") == type_:
            return opt
    return None


def frame_events(f: DecodedFrame) -> Iterator[ev.Event]:
    """The events of one decoded frame (only the kinds these tests need)."""
    if f.status != DECODED or not f.ip6:
        return
    if f.mh is not None:
        mh, common = f.mh, _mobility_common(f)
        if mh["type"] == 5:
            alt = _option(mh, 3)
            care_of = IPv6Address(alt["address"]) if alt and "address" in alt else f.ip6[-1].src
            nonce = _option(mh, 4) or {}
            yield ev.BindingUpdate(**common, seq=mh["seq"], flags=frozenset(mh["flags"]),
                                   lifetime_s=mh["lifetime_s"], home_address=f.src, care_of=care_of,
                                   home_nonce_index=nonce.get("home_nonce_index"),
                                   careof_nonce_index=nonce.get("careof_nonce_index"),
                                   mobile_network_prefixes=())
        elif mh["type"] == 6:
            bra = _option(mh, 2)
            yield ev.BindingAck(**common, seq=mh["seq"], status=mh["status"],
                                status_name=mh["status_name"], flags=frozenset(mh["flags"]),
                                lifetime_s=mh["lifetime_s"],
                                refresh_s=bra.get("refresh_s") if bra else None,
                                home_address=f.dst)
        elif mh["type"] == 7:
            yield ev.BindingError(**common, status=mh["status"], status_name=mh.get("status_name", ""),
                                  home_address=IPv6Address(mh["home_address"]))
        return
    if f.icmp6 is not None and f.icmp6.get("type") == 134 and len(f.ip6) == 1:
        prefixes = tuple(f"{p['prefix']}/{p['prefix_len']}" for p in f.icmp6.get("prefixes", []))
        routers = tuple(IPv6Address(p["prefix"]) for p in f.icmp6.get("prefixes", [])
                        if "R" in p.get("flags", []))
        yield ev.RouterAdvertisement(f.ts, f.number, 0, f.src, bool(f.icmp6.get("home_agent")),
                                     prefixes, routers, None)
        return
    if f.icmp6 is not None or f.transport is None or f.esp is not None:
        return
    if f.transport.proto in (NH_MH, NH_ICMP6):
        return
    outer, inner = f.ip6[0], f.ip6[-1]
    yield ev.DataPacket(f.ts, f.number, 0, outer.src, outer.dst, f.src, f.dst, len(f.ip6) > 1,
                        f.hao, f.rh2, f.transport.proto, f.transport.sport, f.transport.dport,
                        outer.payload_len + 40, inner.payload_len + 40)


def capture_events(path: str | Path) -> Iterator[ev.Event]:
    """Every event of one capture, in frame order."""
    for frame in DecodeStream([path]):
        yield from frame_events(frame)


def run(analyzers: list[Analyzer], events: Iterable[ev.Event], end_ts: float | None = None) -> None:
    """Dispatch ``events`` to ``analyzers`` in order, then finish them."""
    table = dispatch_table(analyzers)
    last = None
    for event in events:
        for handler in table.get(type(event), ()):
            handler(event)
        last = event.ts
    for analyzer in analyzers:
        analyzer.finish(end_ts if end_ts is not None else last)
