"""Signalling of the `fleet` scenario, one flow per mobile node: the RA that
tells the node it is on a new link, each home registration (BU with HAO, BA
with RH2, optionally in ESP with NULL encryption, retransmissions and losses
as planned), and each route-optimisation episode (HoTI/HoT through the
tunnel, CoTI/CoT direct, BU with Nonce Indices and Binding Authorization
Data to the correspondent, its BA). Built with the project's layers, a few
dozen packets per node, so no template is needed here.

Labels (the truth names them): {mn}/movement/{coa} and {mn}/movement/visit/{pos}
(the RA of visit pos: an address may be visited twice), {mn}/bu/{seq},
{mn}/ba/{seq}, {mn}/ro/{seq}/{hoti|coti|hot|cot|bu|ba}, and
{mn}/attempt/{seq} on every BU of the registration attempt (as the written
vantage groups them, `fleet_plan.attempts`) whose first BU has that number.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator
from typing import Any

from ...decode import icmp6 as icmp
from ...decode import mh
from ...decode import mh_options as opt
from ...decode import nd_options as nd
from ...decode.ext_headers import RH2
from ..build import (
    NH_ESP,
    NH_MH,
    NH_ROUTING,
    addr,
    esp_packet,
    icmp6_packet,
    ip6,
    mac,
    mh_packet,
    tunnel,
)
from .fleet_plan import MNPlan, ROEpisode, attempts
from .fleet_stream import World

ALL_NODES_MAC = "33:33:00:00:00:01"


def _bu(seq: int, units: int, flags: str) -> mh.BU:
    bu = mh.BU(seq=seq, lifetime=units)
    for letter in flags:
        setattr(bu, letter.lower(), 1)
    return bu


def _esp(spi: int, seq: int, body: bytes) -> bytes:
    """ESP NULL sealed part: MH, padding, pad length, next header 135, 12-byte ICV."""
    pad = -(len(body) + 2) % 4
    sealed = body + bytes(range(1, pad + 1)) + bytes([pad, NH_MH])
    return sealed + hashlib.sha1(struct.pack("!II", spi, seq) + sealed).digest()[:12]


def _ra(router_ll: str, router_mac: str, prefix: str) -> bytes:
    ra = icmp.RouterAdvertisement(hop_limit=64, router_lifetime=1800, reachable_time=0, retrans_timer=0)
    pio = nd.PrefixInformation(prefix_len=64, valid_lifetime=86400, preferred_lifetime=14400,
                               prefix=addr(prefix))
    pio.l, pio.a = 1, 1
    ra.options = [nd.SourceLinkLayerAddress(data=mac(router_mac)), nd.MTU(mtu=1500), pio,
                  nd.AdvertisementInterval(interval=1000)]
    return icmp6_packet(router_ll, "ff02::1", icmp.ND_ROUTER_ADVERT, 0, bytes(ra))


def signalling_flow(world: World, plan: MNPlan, tally: dict[str, Any]) -> Iterator[float]:
    """The node's signalling events in time order (yields each event's time first)."""
    actions: list[tuple[float, int, Callable[[], None]]] = []
    emit = world.emitter()
    vantage = world.vantage
    ha_addr, ha_mac, ha_up = world.ha_nodes[plan.ha]
    cn_addr, cn_mac, cn_up = world.cn_nodes[plan.cn]
    hoa, mn_mac, name = plan.home_address, plan.mac, plan.name
    esp_seq = [0, 0]

    def see(vts: float, vsrc: str, vdst: str, data: bytes, labels: tuple[str, ...],
            sts: float, ssrc: str, sdst: str, who: str) -> bool:
        if vantage == who or (vantage == "all" and vts == sts):
            emit(vts, vsrc, vdst, data, labels, sts, ssrc, sdst)
            return True
        return False

    def add(ts: float, fn: Callable[[], None]) -> None:
        actions.append((ts, len(actions), fn))

    for pos, (ts, ar) in enumerate(plan.visits):
        prefix, ar_mac, ar_ll = world.ar_nodes[ar]
        coa = world.coa(plan, pos)

        def ra(ts: float = ts, ar_mac: str = ar_mac, ar_ll: str = ar_ll, coa: str = coa,
               prefix: int = prefix, pos: int = pos) -> None:
            from ipaddress import IPv6Address
            data = _ra(ar_ll, ar_mac, str(IPv6Address(prefix)))
            see(ts, ar_mac, ALL_NODES_MAC, data, (f"{name}/movement/{coa}", f"{name}/movement/visit/{pos}"),
                ts, ar_mac, ALL_NODES_MAC, "mn")
        add(ts, ra)

    for reg in plan.registrations:
        coa = world.coa(plan, reg.pos)
        ar_mac = world.ar_nodes[plan.visits[reg.pos][1]][1]
        first_of = {id(send): chain[0].seq for chain in attempts(reg, vantage) for send in chain}
        for send in reg.sends:
            def bu(send: Any = send, coa: str = coa, ar_mac: str = ar_mac, units: int = reg.requested_units,
                   first: int = first_of[id(send)]) -> None:
                message = _bu(send.seq, units, "AH")
                if plan.esp:
                    esp_seq[0] += 1
                    spi = 0x1000 + 2 * plan.index
                    body = mh.build_mh(message, [], addr(hoa), addr(ha_addr))
                    data = esp_packet(coa, ha_addr, spi, esp_seq[0], _esp(spi, esp_seq[0], body), hao=hoa)
                else:
                    data = mh_packet(coa, ha_addr, message, hao=hoa)
                labels = (f"{name}/bu/{send.seq}", f"{name}/attempt/{first}")
                see(send.bu_ts, mn_mac, ar_mac, data, labels, send.bu_ts, mn_mac, ar_mac, "mn")
                if not send.bu_lost:
                    see(send.ha_ts, ha_up, ha_mac, data, labels, send.bu_ts, mn_mac, ar_mac, "ha")
            add(send.bu_ts, bu)
            if send.bu_lost:
                continue

            def ba(send: Any = send, coa: str = coa, ar_mac: str = ar_mac, units: int = reg.granted_units) -> None:
                message = mh.BA(status=0, seq=send.seq, lifetime=units)
                if plan.esp:
                    esp_seq[1] += 1
                    spi = 0x1001 + 2 * plan.index
                    body = mh.build_mh(message, [], addr(ha_addr), addr(hoa))
                    payload = struct.pack("!II", spi, esp_seq[1]) + _esp(spi, esp_seq[1], body)
                    data = ip6(ha_addr, coa, NH_ROUTING, bytes(RH2(nxt=NH_ESP, addr=addr(hoa))) + payload)
                else:
                    data = mh_packet(ha_addr, coa, message, rh2=hoa)
                labels = (f"{name}/ba/{send.seq}",)
                see(send.ba_ts, ha_mac, ha_up, data, labels, send.ba_ts, ha_mac, ha_up, "ha")
                if not send.ba_lost:
                    see(send.ba_arrival, ar_mac, mn_mac, data, labels, send.ba_ts, ha_mac, ha_up, "mn")
            add(send.ba_ts, ba)

    for ep in plan.episodes:
        _episode_actions(world, plan, ep, see, add, tally)

    actions.sort(key=lambda a: (a[0], a[1]))
    for ts, _n, fn in actions:
        yield ts
        fn()
    del cn_addr, cn_mac, cn_up


def _episode_actions(world: World, plan: MNPlan, ep: ROEpisode, see: Callable[..., bool],
                     add: Callable[[float, Callable[[], None]], None], tally: dict[str, Any]) -> None:
    """Queue the eight packets (ten legs) of one route-optimisation episode."""
    ha_addr, ha_mac, ha_up = world.ha_nodes[plan.ha]
    cn_addr, cn_mac, cn_up = world.cn_nodes[plan.cn]
    hoa, mn_mac = plan.home_address, plan.mac
    coa = world.coa(plan, ep.pos)
    ar_mac = world.ar_nodes[plan.visits[ep.pos][1]][1]
    tunnels = tally["tunnels"][coa]
    base = f"{plan.name}/ro/{ep.seq}"
    home_cookie, careof_cookie, home_nonce, careof_nonce = ep.cookies
    hc, cc = home_cookie.to_bytes(8, "big"), careof_cookie.to_bytes(8, "big")
    hoti = mh_packet(hoa, cn_addr, mh.HoTI(home_init_cookie=hc))
    hot = mh_packet(cn_addr, hoa, mh.HoT(home_nonce_index=home_nonce, home_init_cookie=hc,
                                         home_keygen_token=hashlib.sha1(hc).digest()[:8]))
    hoti_ha_in = ep.hoti_ha_ts - 0.0008

    def count(direction: str, data: bytes) -> None:
        tunnels[direction]["packets"] += 1
        tunnels[direction]["bytes"] += len(data)

    def hoti_legs() -> None:
        data = tunnel(coa, ha_addr, hoti)
        lab = (f"{base}/hoti",)
        if see(ep.hoti_ts, mn_mac, ar_mac, data, lab, ep.hoti_ts, mn_mac, ar_mac, "mn") | \
                see(hoti_ha_in, ha_up, ha_mac, data, lab, ep.hoti_ts, mn_mac, ar_mac, "ha"):
            count("from_mn", data)

    def hoti_fwd() -> None:
        lab = (f"{base}/hoti",)
        see(ep.hoti_ha_ts, ha_mac, ha_up, hoti, lab, ep.hoti_ha_ts, ha_mac, ha_up, "ha")
        see(ep.hoti_cn_ts, cn_up, cn_mac, hoti, lab, ep.hoti_ha_ts, ha_mac, ha_up, "cn")

    def coti() -> None:
        data = mh_packet(coa, cn_addr, mh.CoTI(careof_init_cookie=cc))
        lab = (f"{base}/coti",)
        see(ep.coti_ts, mn_mac, ar_mac, data, lab, ep.coti_ts, mn_mac, ar_mac, "mn")
        see(ep.coti_cn_ts, cn_up, cn_mac, data, lab, ep.coti_ts, mn_mac, ar_mac, "cn")

    def hot_legs() -> None:
        lab = (f"{base}/hot",)
        see(ep.hot_ts, cn_mac, cn_up, hot, lab, ep.hot_ts, cn_mac, cn_up, "cn")
        see(ep.hot_ha_ts - 0.0008, ha_up, ha_mac, hot, lab, ep.hot_ts, cn_mac, cn_up, "ha")

    def hot_tunnel() -> None:
        data = tunnel(ha_addr, coa, hot)
        lab = (f"{base}/hot",)
        if see(ep.hot_ha_ts, ha_mac, ha_up, data, lab, ep.hot_ha_ts, ha_mac, ha_up, "ha") | \
                see(ep.hot_mn_ts, ar_mac, mn_mac, data, lab, ep.hot_ha_ts, ha_mac, ha_up, "mn"):
            count("to_mn", data)

    def cot() -> None:
        data = mh_packet(cn_addr, coa, mh.CoT(careof_nonce_index=careof_nonce, careof_init_cookie=cc,
                                              careof_keygen_token=hashlib.sha1(cc).digest()[:8]))
        lab = (f"{base}/cot",)
        see(ep.cot_ts, cn_mac, cn_up, data, lab, ep.cot_ts, cn_mac, cn_up, "cn")
        see(ep.cot_mn_ts, ar_mac, mn_mac, data, lab, ep.cot_ts, cn_mac, cn_up, "mn")

    def bu_cn() -> None:
        options = [opt.NonceIndices(home_nonce_index=home_nonce, careof_nonce_index=careof_nonce),
                   opt.BindingAuthData(data=hashlib.sha1(hc + cc).digest()[:12])]
        data = mh_packet(coa, cn_addr, _bu(ep.seq, 105, "A"), options, hao=hoa)
        lab = (f"{base}/bu",)
        see(ep.bu_ts, mn_mac, ar_mac, data, lab, ep.bu_ts, mn_mac, ar_mac, "mn")
        see(ep.bu_cn_ts, cn_up, cn_mac, data, lab, ep.bu_ts, mn_mac, ar_mac, "cn")

    def ba_cn() -> None:
        options = [opt.BindingAuthData(data=hashlib.sha1(cc + hc).digest()[:12])]
        data = mh_packet(cn_addr, coa, mh.BA(status=0, seq=ep.seq, lifetime=105), options, rh2=hoa)
        lab = (f"{base}/ba",)
        see(ep.ba_ts, cn_mac, cn_up, data, lab, ep.ba_ts, cn_mac, cn_up, "cn")
        see(ep.ba_mn_ts, ar_mac, mn_mac, data, lab, ep.ba_ts, cn_mac, cn_up, "mn")

    for ts, fn in ((ep.hoti_ts, hoti_legs), (ep.hoti_ha_ts, hoti_fwd), (ep.coti_ts, coti),
                   (ep.hot_ts, hot_legs), (ep.hot_ha_ts, hot_tunnel), (ep.cot_ts, cot),
                   (ep.bu_ts, bu_cn), (ep.ba_ts, ba_cn)):
        add(ts, fn)
