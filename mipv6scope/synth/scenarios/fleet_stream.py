"""Streaming packets of the `fleet` scenario for one vantage, in timestamp order.

Each mobile node has three flows (voice towards it, voice from it,
signalling), each a generator that performs one event per ``next()`` and
yields the time of its next event. A heap of next-event times picks the
earliest flow; the packets an event produces go into a small reorder heap
keyed by the time the vantage's probe sees them, and leave it once no pending
event can produce an earlier sighting. Memory is the flows' state plus the
packets in flight: it grows with the number of nodes and the packet rate,
never with the duration or the frame count.

Voice packets come from byte templates: each (flow, care-of address) builds
its IPv6/UDP/RTP bytes once with the project's layers; per packet only the
RTP sequence number and timestamp change, and the UDP checksum is updated
from the template's one's-complement sum (RFC 1624). Tunnelled packets
prepend a prebuilt outer IPv6 header. Every random draw is made whatever the
vantage, so all vantages share one story.

Streamed packets carry only the sighting of the vantage being written
(``Packet.seen_at`` holds that vantage alone, or nothing for "all").
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator
from heapq import heapify, heappop, heappush, heapreplace
from itertools import count
from typing import Any

from ..build import NH_IPV6, ip6, udp_packet
from ..engine import Packet, Sighting
from .fleet_plan import BASE_DELAY, MNPlan

RTP_PT = 0          # PCMU, 20 ms, 160 bytes
VOICE = b"\xff" * 160  # mu-law silence
_MID = struct.Struct("!HBBHI")
_EMPTY: dict[str, Sighting] = {}
HA_FORWARD_S = 0.0001


class Template:
    """A voice packet's bytes around the 10 bytes that change: UDP checksum,
    RTP version/type, sequence number and timestamp."""

    __slots__ = ("pre", "post", "sum0")

    def __init__(self, src: str, dst: str, sport: int, dport: int, ssrc: int,
                 hao: str | None = None, rh2: str | None = None) -> None:
        payload = struct.pack("!BBHII", 0x80, RTP_PT, 0, 0, ssrc) + VOICE
        packet = udp_packet(src, dst, sport, dport, payload, hao, rh2)
        udp = len(packet) - 8 - len(payload)
        csum = int.from_bytes(packet[udp + 6:udp + 8], "big")
        self.pre, self.post = packet[:udp + 6], packet[udp + 16:]
        self.sum0 = ~csum & 0xFFFF  # one's-complement sum with seq = ts = 0

    def make(self, seq: int, ts: int) -> bytes:
        """The packet with this RTP sequence number and timestamp."""
        s = self.sum0 + seq + (ts >> 16) + (ts & 0xFFFF)
        s = (s & 0xFFFF) + (s >> 16)
        s = (s & 0xFFFF) + (s >> 16)
        return self.pre + _MID.pack((~s & 0xFFFF) or 0xFFFF, 0x80, RTP_PT, seq, ts) + self.post


def outer_header(src: str, dst: str, inner_len: int) -> bytes:
    """The 40-byte outer IPv6 header of an IPv6-in-IPv6 tunnel packet."""
    return ip6(src, dst, NH_IPV6, bytes(inner_len))[:40]


class Timeline:
    """A step function of time read with nondecreasing times (a moving pointer)."""

    __slots__ = ("starts", "values", "i")

    def __init__(self, points: list[tuple[float, Any]]) -> None:
        self.starts = [p[0] for p in points]
        self.values = [p[1] for p in points]
        self.i = 0

    def at(self, t: float) -> Any:
        """The value in force at ``t`` (None before the first point)."""
        starts, i = self.starts, self.i
        n = len(starts)
        while i + 1 < n and starts[i + 1] <= t:
            i += 1
        self.i = i
        return self.values[i] if n and starts[i] <= t else None


class World:
    """What the flows share: addresses, MACs, the vantage and the output heap."""

    def __init__(self, vantage: str, ha_nodes: list[tuple[str, str, str]],
                 cn_nodes: list[tuple[str, str, str]], ar_nodes: list[tuple[int, str, str]],
                 end: float, data_rate: float, loss: float, seed: int) -> None:
        self.vantage, self.end, self.data_rate, self.loss, self.seed = vantage, end, data_rate, loss, seed
        self.ha_nodes, self.cn_nodes, self.ar_nodes = ha_nodes, cn_nodes, ar_nodes
        self.out: list[tuple[float, int, Sighting, Packet]] = []
        self.cnt = count()

    def emitter(self) -> Callable[..., None]:
        """emit(vts, vsrc, vdst, data, labels, sts, ssrc, sdst): record the
        vantage's sighting (vts ...) of a packet sent at sts."""
        out, cnt, vantage = self.out, self.cnt, self.vantage

        if vantage == "all":
            def emit(vts: float, vsrc: str, vdst: str, data: bytes, labels: tuple[str, ...],
                     sts: float, ssrc: str, sdst: str) -> None:
                seen = Sighting(vts, vsrc, vdst)
                heappush(out, (vts, next(cnt), seen, Packet(data, seen, _EMPTY, labels)))
        else:
            def emit(vts: float, vsrc: str, vdst: str, data: bytes, labels: tuple[str, ...],
                     sts: float, ssrc: str, sdst: str) -> None:
                seen = Sighting(vts, vsrc, vdst)
                sent = seen if sts == vts and ssrc == vsrc else Sighting(sts, ssrc, sdst)
                heappush(out, (vts, next(cnt), seen, Packet(data, sent, {vantage: seen}, labels)))
        return emit

    def coa(self, plan: MNPlan, pos: int) -> str:
        """The care-of address of a node's visit."""
        return plan.care_of(pos, self.ar_nodes[plan.visits[pos][1]][0])


def merge(world: World, flows: list[Iterator[float]]) -> Iterator[tuple[Sighting, Packet]]:
    """Run the flows' events in time order and yield the sightings in order."""
    heap = []
    for fid, flow in enumerate(flows):
        first = next(flow, None)
        if first is not None:
            heap.append((first, fid, flow))
    heapify(heap)
    out = world.out
    while heap:
        ts, fid, flow = heap[0]
        while out and out[0][0] <= ts:
            item = heappop(out)
            yield item[2], item[3]
        nxt = next(flow, None)
        if nxt is None:
            heappop(heap)
        else:
            heapreplace(heap, (nxt, fid, flow))
    while out:
        item = heappop(out)
        yield item[2], item[3]


def voice_flow(world: World, plan: MNPlan, tally: dict[str, Any], to_mn: bool) -> Iterator[float]:
    """Voice packets between the node and its correspondent in one direction,
    through the tunnel or direct (route optimisation), ``data_rate`` per second."""
    if plan.data_start >= world.end or world.data_rate <= 0:
        return
    rng = random.Random(f"fleet/{world.seed}/{plan.index}/{'down' if to_mn else 'up'}")
    r, loss, end, period = rng.random, world.loss, world.end, 1.0 / world.data_rate
    emit = world.emitter()
    cn_addr, cn_mac, cn_up = world.cn_nodes[plan.cn]
    hoa, mn_mac = plan.home_address, plan.mac
    d_mh, d_mc, d_hc = BASE_DELAY["mn-ha"], BASE_DELAY["mn-cn"], BASE_DELAY["ha-cn"]
    location = Timeline([(ts, pos) for pos, (ts, _ar) in enumerate(plan.visits)])
    ar_mac = [world.ar_nodes[ar][1] for _ts, ar in plan.visits]
    regs = [reg for reg in plan.registrations if reg.accept_ha_ts < float("inf")]
    if to_mn:  # where the HA tunnels (by HA time), where the CN sends directly (by CN time)
        ha_route = Timeline([(reg.accept_ha_ts, reg.pos) for reg in regs])
        cn_route = Timeline([(ep.bu_cn_ts, ep.pos) for ep in plan.episodes])
    else:      # what the node has registered (by its own time)
        ha_route = Timeline([(reg.ba_arrival, reg.pos) for reg in regs if reg.complete])
        cn_route = Timeline([(ep.ba_mn_ts, ep.pos) for ep in plan.episodes])
    port = 40000 + plan.index % 20000
    ssrc = rng.getrandbits(32)
    if to_mn:
        plain = Template(cn_addr, hoa, 5004, port, ssrc)
    else:
        plain = Template(hoa, cn_addr, port, 5004, ssrc)
    tunnels: dict[int, tuple[bytes, str, dict[str, int]]] = {}
    direct: dict[int, Template] = {}
    seq, rts = rng.randrange(0x10000), rng.getrandbits(32)
    # {mn}/first_data/{pos}: the first packet tunnelled to a visit's address after
    # the BA that accepted it, as the vantage sees both (the node's link: the BA's
    # arrival and the packets that arrive; elsewhere: when the home agent sent them)
    first_label: dict[int, float] = {}
    for reg in plan.registrations:
        accepting = next((s for s in reg.sends if not s.bu_lost), None)
        if accepting is None or (world.vantage == "mn" and not reg.complete):
            continue
        ba_seen = reg.ba_arrival if world.vantage == "mn" else accepting.ba_ts
        first_label.setdefault(reg.pos, ba_seen)
    t = plan.data_start + rng.uniform(0.0, period)
    ro_counts = tally["ro"]
    while t < end:
        yield t
        seq = (seq + 1) & 0xFFFF
        rts = (rts + 160) & 0xFFFFFFFF
        here = location.at(t)
        via = cn_route.at(t) if plan.ro else None
        if not to_mn and (ha_route.at(t) != here):
            via = -1  # moved, not yet registered: the node holds its voice
        elif not to_mn and via != here:
            via = None
        if via is not None and via >= 0:  # route optimised
            tmpl = direct.get(via)
            if tmpl is None:
                coa = world.coa(plan, via)
                tmpl = direct[via] = (Template(cn_addr, coa, 5004, port, ssrc, rh2=hoa) if to_mn
                                      else Template(coa, cn_addr, port, 5004, ssrc, hao=hoa))
            data = tmpl.make(seq, rts)
            lost = r() < loss
            ta = t + d_mc * (0.9 + 0.2 * r())
            if to_mn:
                reaches = not lost and location.at(ta) == via
                if world.vantage in ("all", "cn"):
                    emit(t, cn_mac, cn_up, data, (), t, cn_mac, cn_up)
                if reaches and world.vantage == "mn":
                    emit(ta, ar_mac[via], mn_mac, data, (), t, cn_mac, cn_up)
                seen = world.vantage in ("all", "cn") or (reaches and world.vantage == "mn")
            else:
                if world.vantage in ("all", "mn"):
                    emit(t, mn_mac, ar_mac[via], data, (), t, mn_mac, ar_mac[via])
                if not lost and world.vantage == "cn":
                    emit(ta, cn_up, cn_mac, data, (), t, mn_mac, ar_mac[via])
                seen = world.vantage in ("all", "mn") or (not lost and world.vantage == "cn")
            if seen:
                ro_counts["packets_direct"] += 1
        elif via is None:  # through the home agent's tunnel
            inner = plain.make(seq, rts)
            if to_mn:
                _downlink_tunnel(world, plan, emit, inner, t, r, loss, ha_route, location, tunnels,
                                 first_label, tally, (d_hc, d_mh), ar_mac)
            else:
                _uplink_tunnel(world, plan, emit, inner, t, r, loss, here, tunnels, tally,
                               (d_mh, d_hc), ar_mac)
        t += period


def _tunnel_of(world: World, plan: MNPlan, tunnels: dict, pos: int, inner_len: int, to_mn: bool,
               tally: dict[str, Any]) -> tuple[bytes, str, dict[str, int]]:
    entry = tunnels.get(pos)
    if entry is None:
        coa = world.coa(plan, pos)
        ha_addr = world.ha_nodes[plan.ha][0]
        outer = outer_header(ha_addr, coa, inner_len) if to_mn else outer_header(coa, ha_addr, inner_len)
        entry = tunnels[pos] = (outer, coa, tally["tunnels"][coa]["to_mn" if to_mn else "from_mn"])
    return entry


def _downlink_tunnel(world: World, plan: MNPlan, emit: Callable[..., None], inner: bytes, t: float,
                     r: Callable[[], float], loss: float, ha_route: Timeline, location: Timeline,
                     tunnels: dict, first_label: dict[int, float], tally: dict[str, Any],
                     delays: tuple[float, float], ar_mac: list[str]) -> None:
    """CN -> home address (intercepted at the HA), then HA -> care-of address."""
    vantage = world.vantage
    _ha_addr, ha_mac, ha_up = world.ha_nodes[plan.ha]
    _cn_addr, cn_mac, cn_up = world.cn_nodes[plan.cn]
    d_hc, d_mh = delays
    lost_a = r() < loss
    ta = t + d_hc * (0.9 + 0.2 * r())
    lost_b = r() < loss
    tm_delay = d_mh * (0.9 + 0.2 * r())
    if vantage in ("all", "cn"):
        emit(t, cn_mac, cn_up, inner, (), t, cn_mac, cn_up)
    if lost_a:
        return
    if vantage == "ha":
        emit(ta, ha_up, ha_mac, inner, (), t, cn_mac, cn_up)
    tb = ta + HA_FORWARD_S
    pos = ha_route.at(tb)
    if pos is None:
        return
    outer, coa, counts = _tunnel_of(world, plan, tunnels, pos, len(inner), True, tally)
    data = outer + inner
    tm = tb + tm_delay
    there = location.at(tm) == pos
    reaches = there and not lost_b
    labels: tuple[str, ...] = ()
    if not there:
        labels = (f"{plan.name}/lost/{coa}", f"{plan.name}/lost/visit/{pos}")
    elif (reaches or (there and vantage != "mn")) and (tm if vantage == "mn" else tb) >= first_label.get(
            pos, float("inf")):
        del first_label[pos]
        labels = (f"{plan.name}/first_data/{pos}",)
    if vantage in ("all", "ha"):
        emit(tb, ha_mac, ha_up, data, labels, tb, ha_mac, ha_up)
    elif not (reaches and vantage == "mn"):
        return
    else:
        emit(tm, ar_mac[pos], plan.mac, data, labels, tb, ha_mac, ha_up)
    counts["packets"] += 1
    counts["bytes"] += len(data)
    tally["ro"]["packets_tunnelled"] += 1


def _uplink_tunnel(world: World, plan: MNPlan, emit: Callable[..., None], inner: bytes, t: float,
                   r: Callable[[], float], loss: float, pos: int, tunnels: dict,
                   tally: dict[str, Any], delays: tuple[float, float], ar_mac: list[str]) -> None:
    """CoA -> HA (reverse tunnel), then HA -> CN (decapsulated)."""
    vantage = world.vantage
    _ha_addr, ha_mac, ha_up = world.ha_nodes[plan.ha]
    _cn_addr, cn_mac, cn_up = world.cn_nodes[plan.cn]
    d_mh, d_hc = delays
    lost_a = r() < loss
    ta = t + d_mh * (0.9 + 0.2 * r())
    lost_b = r() < loss
    tc_delay = d_hc * (0.9 + 0.2 * r())
    outer, _coa, counts = _tunnel_of(world, plan, tunnels, pos, len(inner), False, tally)
    data = outer + inner
    mac = ar_mac[pos]
    if vantage in ("all", "mn") or (vantage == "ha" and not lost_a):
        if vantage == "ha":
            emit(ta, ha_up, ha_mac, data, (), t, plan.mac, mac)
        else:
            emit(t, plan.mac, mac, data, (), t, plan.mac, mac)
        counts["packets"] += 1
        counts["bytes"] += len(data)
        tally["ro"]["packets_tunnelled"] += 1
    if lost_a:
        return
    tb = ta + HA_FORWARD_S
    if vantage in ("all", "ha"):
        emit(tb, ha_mac, ha_up, inner, (), tb, ha_mac, ha_up)
    elif vantage == "cn" and not lost_b:
        emit(tb + tc_delay, cn_up, cn_mac, inner, (), tb, ha_mac, ha_up)
