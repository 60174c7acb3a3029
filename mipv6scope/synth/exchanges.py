"""Message-level steps every scenario uses, on top of `world.World`: router
advertisements, DHAAD, home registration (optionally in ESP with NULL
encryption), deregistration from the home link, Mobile Prefix Discovery, and
voice/TCP data through the home agent's tunnel. Each step emits its packets
with the right sightings and truth labels and returns the times it used.

Label scheme (the truth file's placeholders name these labels; ``mn`` is the
mobile node's name, addresses are written as in the packets):

    ra/{router}                          every RA a router sends
    {mn}/movement/{coa}                  the RA that tells the node it is on a new
                                         link ({coa} is the home address when home)
    {mn}/rs                              the node's Router Solicitations
    {mn}/dhaad/{id}/request, .../reply   DHAAD request and reply
    {mn}/bu/{seq}, {mn}/ba/{seq}         Binding Update / Acknowledgement with that
                                         sequence number (retransmissions share the BU label)
    {mn}/mps/{id}, {mn}/mpa/{id}         Mobile Prefix Solicitation / Advertisement
    {mn}/home/ns, {mn}/home/na,          returning home: NS for the HA, its NA, and
    {mn}/home/na_o                       the node's unsolicited NA with O to all-nodes
    tunnel/{ha}/{coa}/{hoa}/to_mn        packets the HA tunnels to that care-of address
    tunnel/{ha}/{coa}/{hoa}/from_mn      packets reverse-tunnelled from it
    tunnel/{ha}/{coa}/{hoa}/outside_binding   tunnelled while no binding held
    {mn}/data_to_mn/{coa}                data that reached the node at {coa} (the
                                         home address when home)
    {mn}/data_from_mn/{coa}              data the node sent from {coa}
    {mn}/lost/{coa}                      data the HA sent to {coa} after the node left it
    {mn}/lost                            the same, whatever the address
    flow/{mn}/{cn}/voice, flow/{mn}/{cn}/tcp   every packet of a flow, both directions

Node helpers build a home agent, access routers and correspondents with MACs
and EUI-64 link-local addresses, so scenarios share one addressing plan.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from ipaddress import IPv6Address

from ..decode import icmp6 as icmp
from ..decode import mh
from ..decode import nd_options as nd
from ..decode.ext_headers import RH2
from ..decode.mh_options import BindingRefreshAdvice, MobilityOption
from .build import (
    NH_ESP,
    NH_MH,
    NH_ROUTING,
    addr,
    esp_packet,
    icmp6_packet,
    ip6,
    mac,
    mh_packet,
    tcp_packet,
    tunnel,
    udp_packet,
)
from .engine import Sighting
from .samples import ba_message, bu_message, na_packet, prefix_info, voice_payload
from .world import MobileNode, Node, World, mac_for

ALL_NODES, ALL_ROUTERS = "ff02::1", "ff02::2"
ALL_NODES_MAC = "33:33:00:00:00:01"
ESP_ICV_KEY = b"mipv6scope-esp-null-icv"  # fixed: the ICV only has to look right
HA_PROCESSING_S = 0.0008  # the home agent's time to handle a message


# -- nodes -------------------------------------------------------------------------

def link_local_for(mac_text: str) -> str:
    """The EUI-64 link-local address of a MAC (universal/local bit flipped)."""
    b = bytearray(mac(mac_text))
    b[0] ^= 0x02
    iid = bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])
    return str(IPv6Address(b"\xfe\x80" + bytes(6) + iid))


def make_router(name: str, index: int, prefix: str, role: str = "ar") -> Node:
    """An access router (role "ar") or home agent (role "ha") at ``prefix``::1."""
    node_mac = mac_for(index, 0xA0 if role == "ar" else 0xA1)
    return Node(name, role, prefix.rstrip(":") + "::1", node_mac, link_local_for(node_mac),
                mac_for(index, 0xFE), prefix)


def make_correspondent(name: str, index: int, address: str) -> Node:
    """A correspondent node behind its own router."""
    node_mac = mac_for(index, 0xC0)
    return Node(name, "cn", address, node_mac, link_local_for(node_mac), mac_for(index, 0xFD))


def make_mobile_node(name: str, index: int, home_agent: Node, interface_id: str) -> MobileNode:
    """A mobile node at home on ``home_agent``'s prefix with that interface id (e.g. "::100")."""
    node_mac = mac_for(index, 0x10)
    hoa = home_agent.prefix.rstrip(":") + interface_id
    return MobileNode(name, hoa, node_mac, link_local_for(node_mac), home_agent, interface_id)


def move(mn: MobileNode, router: Node | None) -> str:
    """Put the node on ``router``'s link (None or its home agent: home); returns the
    address it now uses (the new care-of address, or the home address)."""
    if router is None or router is mn.home_agent:
        mn.access_router, mn.care_of = None, None
        return mn.home_address
    mn.access_router, mn.care_of = router, mn.care_of_on(router)
    return mn.care_of


def anycast_for(prefix: str) -> str:
    """The home-agents anycast address of a /64 home prefix (RFC 2526)."""
    return str(IPv6Address(int(IPv6Address(prefix)) | 0xFDFF_FFFF_FFFF_FFFE))


def solicited_node(address: str) -> tuple[str, str]:
    """(solicited-node multicast address, its MAC) for an address."""
    low = IPv6Address(address).packed[-3:]
    group = str(IPv6Address(b"\xff\x02" + bytes(9) + b"\x01\xff" + low))
    return group, "33:33:ff:" + ":".join(f"{x:02x}" for x in low)


# -- neighbour discovery -------------------------------------------------------------

def router_advertisement(world: World, router: Node, ts: float, mn: MobileNode | None,
                         interval_ms: int = 1000, labels: tuple[str, ...] = ()) -> str:
    """One RA from ``router`` on its link. A home agent's RA has the H flag, a
    Prefix Information option with R (its own address in the prefix field) and
    a Home Agent Information option. Returns the label "ra/{router}"."""
    ra = icmp.RouterAdvertisement(hop_limit=64, router_lifetime=1800, reachable_time=0,
                                  retrans_timer=0)
    is_ha = router.role == "ha"
    ra.h = int(is_ha)
    pio = prefix_info(router.address, "LAR") if is_ha else prefix_info(router.prefix)
    options: list = [nd.SourceLinkLayerAddress(data=mac(router.mac)), nd.MTU(mtu=1500), pio,
                     nd.AdvertisementInterval(interval=interval_ms)]
    if is_ha:
        options.append(nd.HomeAgentInformation(preference=10, lifetime=1800))
    ra.options = options
    packet = icmp6_packet(router.link_local, ALL_NODES, icmp.ND_ROUTER_ADVERT, 0, bytes(ra))
    label = f"ra/{router.name}"
    world.on_link(ts, router, packet, mn, (label, *labels))
    return label


def periodic_ras(world: World, router: Node, start: float, end: float, mn: MobileNode | None,
                 min_s: float = 1.0, max_s: float = 3.0) -> list[float]:
    """RAs from ``router`` every ``min_s``-``max_s`` seconds (uniform jitter) in
    [start, end). The node's link is judged per RA from ``mn``'s state when called,
    so call it per stay; returns the RA times."""
    times, t = [], start
    while t < end:
        times.append(round(t, 6))
        router_advertisement(world, router, round(t, 6), mn, int((min_s + max_s) * 500))
        t += world.rng.uniform(min_s, max_s)
    return times


def attach(world: World, mn: MobileNode, router: Node | None, ts: float,
           movement_label: bool = True) -> float:
    """The node arrives on ``router``'s link (None: home) at ``ts``: `move`, a Router
    Solicitation from its link-local address, and the router's RA after up to
    0.5 s (MAX_RA_DELAY_TIME), labelled "{mn}/movement/{address}" (the new
    care-of address, or the home address when home). Returns the RA's time."""
    address = move(mn, router)
    rs = icmp.RouterSolicitation()
    rs.options = [nd.SourceLinkLayerAddress(data=mac(mn.mac))]
    world.from_mn_on_link(ts, mn, icmp6_packet(mn.link_local, ALL_ROUTERS, icmp.ND_ROUTER_SOLICIT, 0,
                                               bytes(rs)), "33:33:00:00:00:02", (f"{mn.name}/rs",))
    ra_ts = round(ts + world.rng.uniform(0.01, 0.5), 6)
    extra = (f"{mn.name}/movement/{address}",) if movement_label else ()
    router_advertisement(world, router or mn.home_agent, ra_ts, mn, labels=extra)
    return ra_ts


# -- DHAAD and Mobile Prefix Discovery --------------------------------------------------

def dhaad(world: World, mn: MobileNode, ts: float) -> tuple[float, float]:
    """DHAAD request from the care-of address to the home-agents anycast address,
    and the home agent's reply listing itself. Returns (request ts, reply arrival)."""
    ha, coa = mn.home_agent, mn.care_of or mn.home_address
    ident = world.counter(f"{mn.name}/dhaad")
    request = icmp6_packet(coa, anycast_for(ha.prefix), icmp.MIP6_HAAD_REQUEST, 0,
                           bytes(icmp.HAADRequest(identifier=ident)), hlim=64)
    at_ha = world.mn_to_ha(ts, mn, request, (f"{mn.name}/dhaad/{ident}/request",))
    reply = icmp.HAADReply(identifier=ident)
    reply.addresses = [addr(ha.address)]
    answer = icmp6_packet(ha.address, coa, icmp.MIP6_HAAD_REPLY, 0, bytes(reply), hlim=64)
    back = world.ha_to_mn(at_ha + HA_PROCESSING_S, mn, answer, (f"{mn.name}/dhaad/{ident}/reply",))
    return ts, back


def prefix_discovery(world: World, mn: MobileNode, ts: float) -> tuple[float, float]:
    """Mobile Prefix Solicitation (HAO) and Advertisement (RH2) with the home
    prefix. Returns (solicitation ts, advertisement arrival)."""
    ha, coa, hoa = mn.home_agent, mn.care_of, mn.home_address
    assert coa is not None, "Mobile Prefix Discovery is sent from a care-of address"
    ident = world.counter(f"{mn.name}/mpd")
    mps = icmp6_packet(coa, ha.address, icmp.MIP6_PREFIX_SOLICIT, 0,
                       bytes(icmp.MobilePrefixSolicitation(identifier=ident)), hao=hoa, hlim=64)
    at_ha = world.mn_to_ha(ts, mn, mps, (f"{mn.name}/mps/{ident}",))
    adv = icmp.MobilePrefixAdvertisement(identifier=ident)
    adv.options = [prefix_info(ha.prefix)]
    mpa = icmp6_packet(ha.address, coa, icmp.MIP6_PREFIX_ADVERT, 0, bytes(adv), rh2=hoa, hlim=64)
    back = world.ha_to_mn(at_ha + HA_PROCESSING_S, mn, mpa, (f"{mn.name}/mpa/{ident}",))
    return ts, back


# -- binding updates and acknowledgements --------------------------------------------------

def esp_null(world: World, spi: int, inner_mh: bytes) -> tuple[int, bytes]:
    """(ESP sequence, sealed part) for an MH in ESP transport mode with NULL
    encryption: the MH, padding 1 2 .. to a 4-octet boundary, Pad Length, Next
    Header 135, and a 12-byte ICV (HMAC-SHA1-96 over header and payload)."""
    seq = world.counter(f"esp/{spi:08x}")
    pad_len = -(len(inner_mh) + 2) % 4
    body = inner_mh + bytes(range(1, pad_len + 1)) + bytes([pad_len, NH_MH])
    icv = hmac.new(ESP_ICV_KEY, struct.pack("!II", spi, seq) + body, hashlib.sha1).digest()[:12]
    return seq, body + icv


def binding_update(world: World, mn: MobileNode, ts: float, seq: int, lifetime_units: int,
                   esp: bool = False, labels: tuple[str, ...] = (), flags: str = "AH") -> float:
    """A home Binding Update from the current care-of address (HAO = home address),
    or from the home address without HAO when the node is home. With ``esp`` the
    MH travels in ESP (NULL) after the HAO. Labelled "{mn}/bu/{seq}"; returns the
    arrival time at the home agent."""
    ha, hoa = mn.home_agent, mn.home_address
    src = mn.care_of or hoa
    hao = hoa if mn.care_of else None
    message = bu_message(seq, lifetime_units, flags)
    if esp:
        body = mh.build_mh(message, [], addr(hoa), addr(ha.address))
        esp_seq, sealed = esp_null(world, spi_for(mn, to_ha=True), body)
        packet = esp_packet(src, ha.address, spi_for(mn, to_ha=True), esp_seq, sealed, hao=hao)
    else:
        packet = mh_packet(src, ha.address, message, hao=hao)
    return world.mn_to_ha(ts, mn, packet, (f"{mn.name}/bu/{seq}", *labels))


def binding_ack(world: World, mn: MobileNode, ts: float, seq: int, lifetime_units: int,
                status: int = 0, esp: bool = False, labels: tuple[str, ...] = (),
                refresh_units: int | None = None, reaches_mn: bool = True) -> float:
    """The home agent's Binding Acknowledgement to the current care-of address
    with an RH2 (home address), or plainly to the home address when home. With
    ``esp`` the MH is in ESP (NULL) after the RH2. Labelled "{mn}/ba/{seq}";
    returns the arrival time at the node."""
    ha, hoa = mn.home_agent, mn.home_address
    dst = mn.care_of or hoa
    rh2 = hoa if mn.care_of else None
    options: list[MobilityOption] = []
    if refresh_units is not None:
        options.append(BindingRefreshAdvice(refresh_interval=refresh_units))
    message = ba_message(seq, lifetime_units, status)
    if esp:
        body = mh.build_mh(message, options, addr(ha.address), addr(hoa))
        spi = spi_for(mn, to_ha=False)
        esp_seq, sealed = esp_null(world, spi, body)
        payload = struct.pack("!II", spi, esp_seq) + sealed
        if rh2 is not None:
            packet = ip6(ha.address, dst, NH_ROUTING, bytes(RH2(nxt=NH_ESP, addr=addr(rh2))) + payload)
        else:
            packet = ip6(ha.address, dst, NH_ESP, payload)
    else:
        packet = mh_packet(ha.address, dst, message, options, rh2=rh2)
    return world.ha_to_mn(ts, mn, packet, (f"{mn.name}/ba/{seq}", *labels), reaches_mn)


def spi_for(mn: MobileNode, to_ha: bool) -> int:
    """The SPI of the node's security association towards (or from) its home agent."""
    index = int(mac(mn.mac)[-2:].hex(), 16)
    return 0x1000 + 2 * index + (0 if to_ha else 1)


@dataclass(frozen=True)
class Registration:
    """What `register` did: the sequence number, lifetimes, addresses and times."""

    seq: int
    care_of: str
    requested_units: int
    granted_units: int
    status: int
    bu_ts: float       # BU sent by the node
    bu_at_ha: float    # BU received by the home agent (its binding changes here)
    ba_ts: float       # BA sent by the home agent
    ba_at_mn: float    # BA received by the node
    bu_label: str
    ba_label: str


def register(world: World, mn: MobileNode, ts: float, lifetime_units: int, *,
             esp: bool = False, granted_units: int | None = None, status: int = 0,
             labels: tuple[str, ...] = ()) -> Registration:
    """Home registration from the node's current care-of address: BU (A H, HAO)
    at ``ts``, BA (RH2) from the home agent after the MN-HA delay. ``labels``
    are added to both packets."""
    seq = mn.next_seq()
    care_of = mn.care_of or mn.home_address
    at_ha = binding_update(world, mn, ts, seq, lifetime_units, esp, labels)
    granted = lifetime_units if granted_units is None else granted_units
    ba_ts = round(at_ha + HA_PROCESSING_S, 6)
    at_mn = binding_ack(world, mn, ba_ts, seq, granted if status < 128 else 0, status, esp, labels)
    return Registration(seq, care_of, lifetime_units, granted, status, ts, at_ha, ba_ts, at_mn,
                        f"{mn.name}/bu/{seq}", f"{mn.name}/ba/{seq}")


def deregister_at_home(world: World, mn: MobileNode, ts: float, esp: bool = False) -> Registration:
    """Returning home (RFC 6275 11.5.5): NS with the unspecified source for the home
    agent's address, the home agent's NA to all-nodes, BU lifetime 0 from the
    home address (no HAO), BA, then the node's unsolicited NA with O for its home
    address. The node must already be home (`move(mn, None)`)."""
    ha = mn.home_agent
    group, group_mac = solicited_node(ha.address)
    ns = icmp.NeighborSolicitation(target=addr(ha.address))
    world.from_mn_on_link(ts, mn, icmp6_packet("::", group, icmp.ND_NEIGHBOR_SOLICIT, 0, bytes(ns)),
                          group_mac, (f"{mn.name}/home/ns",))
    na_ts = round(ts + world.delay("link") + HA_PROCESSING_S, 6)
    world.on_link(na_ts, ha, na_packet(ha.address, "RO", ha.link_local, ALL_NODES, ha.mac), mn,
                  (f"{mn.name}/home/na",))
    bu_ts = round(na_ts + world.delay("link") + 0.002, 6)
    reg = register(world, mn, bu_ts, 0, esp=esp)
    o_ts = round(reg.ba_at_mn + 0.001, 6)
    world.from_mn_on_link(o_ts, mn, na_packet(mn.home_address, "O", mn.home_address, ALL_NODES, mn.mac),
                          ALL_NODES_MAC, (f"{mn.name}/home/na_o",))
    return reg


# -- data through the tunnel -------------------------------------------------------------

def tunnel_label(mn: MobileNode, care_of: str, direction: str) -> str:
    """The tunnel counter label: direction "to_mn", "from_mn" or "outside_binding"."""
    return f"tunnel/{mn.home_agent.address}/{care_of}/{mn.home_address}/{direction}"


def deliver_to_mn(world: World, mn: MobileNode, cn: Node, ts: float, inner: bytes,
                  via: str | None, reaches_mn: bool = True, labels: tuple[str, ...] = ()) -> float:
    """A CN -> home address packet sent at ``ts``: intercepted at the home agent and
    tunnelled to ``via`` (the care-of address its binding holds), or, with ``via``
    None, forwarded plainly onto the home link. ``reaches_mn`` False: the node has
    left that address, only the home agent's probe sees the tunnelled copy
    (labelled lost). Returns the arrival time at the node (or where it would be)."""
    ha = mn.home_agent
    if via is None:
        arrive = ts + world.delay("ha-cn")
        seen = {"cn": Sighting(ts, cn.mac, cn.upstream_mac), "ha": Sighting(arrive, ha.mac, mn.mac)}
        where = mn.home_address
        tags = (f"{mn.name}/data_to_mn/{where}",) if reaches_mn else (f"{mn.name}/lost/{where}",
                                                                    f"{mn.name}/lost")
        if reaches_mn:
            seen["mn"] = Sighting(round(arrive + world.delay("link"), 6), ha.mac, mn.mac)
        # The "all" probe records a delivered packet on the home link, so its time
        # follows the home agent's binding change like a tunnelled one's would.
        world.emit(inner, seen.get("mn", seen["cn"]), seen, (*tags, *labels))
        return arrive
    at_ha = world.cn_to_ha(ts, ha, cn, inner, labels)
    tags = (tunnel_label(mn, via, "to_mn"),
            *((f"{mn.name}/data_to_mn/{via}",) if reaches_mn else (f"{mn.name}/lost/{via}", f"{mn.name}/lost")))
    return world.ha_to_mn(round(at_ha + 0.0002, 6), mn, tunnel(ha.address, via, inner),
                          (*tags, *labels), reaches_mn)


def send_from_mn(world: World, mn: MobileNode, cn: Node, ts: float, inner: bytes,
                 labels: tuple[str, ...] = ()) -> float:
    """A home address -> CN packet: reverse-tunnelled from the current care-of
    address to the home agent, which forwards it plainly; or, when home, sent
    plainly on the home link. Returns the arrival time at the CN."""
    ha = mn.home_agent
    if mn.care_of is None:
        sent = Sighting(ts, mn.mac, ha.mac)
        arrive = ts + world.delay("link") + world.delay("ha-cn")
        seen = {"mn": sent, "ha": sent, "cn": Sighting(round(arrive, 6), cn.upstream_mac, cn.mac)}
        world.emit(inner, sent, seen, (f"{mn.name}/data_from_mn/{mn.home_address}", *labels))
        return arrive
    coa = mn.care_of
    at_ha = world.mn_to_ha(ts, mn, tunnel(coa, ha.address, inner),
                           (tunnel_label(mn, coa, "from_mn"), f"{mn.name}/data_from_mn/{coa}", *labels))
    return world.ha_to_cn(round(at_ha + 0.0002, 6), ha, cn, inner, labels)


@dataclass
class VoiceFlow:
    """An RTP-like voice call between a node's home address and a correspondent:
    one 172-byte UDP payload every 20 ms each way, sequence +1 and timestamp +160."""

    mn: MobileNode
    cn: Node
    port: int = 5004
    seq_to_mn: int = 0
    seq_from_mn: int = 0

    @property
    def label(self) -> str:
        """The flow's label."""
        return f"flow/{self.mn.name}/{self.cn.name}/voice"

    def to_mn(self, world: World, ts: float, via: str | None, reaches_mn: bool = True) -> float:
        """The next voice packet CN -> node (see `deliver_to_mn`)."""
        self.seq_to_mn += 1
        inner = udp_packet(self.cn.address, self.mn.home_address, self.port, self.port,
                           voice_payload(self.seq_to_mn))
        return deliver_to_mn(world, self.mn, self.cn, ts, inner, via, reaches_mn, (self.label,))

    def from_mn(self, world: World, ts: float) -> float:
        """The next voice packet node -> CN (see `send_from_mn`)."""
        self.seq_from_mn += 1
        inner = udp_packet(self.mn.home_address, self.cn.address, self.port, self.port,
                           voice_payload(self.seq_from_mn))
        return send_from_mn(world, self.mn, self.cn, ts, inner, (self.label,))


@dataclass
class TcpFlow:
    """A TCP connection from the node (client) to a correspondent (server) whose
    sequence and acknowledgement numbers advance with the bytes sent."""

    mn: MobileNode
    cn: Node
    mn_port: int = 40000
    cn_port: int = 80
    mn_seq: int = 1_000_000
    cn_seq: int = 5_000_000

    @property
    def label(self) -> str:
        """The flow's label."""
        return f"flow/{self.mn.name}/{self.cn.name}/tcp"

    def to_mn(self, world: World, ts: float, via: str | None, size: int = 1200,
              reaches_mn: bool = True) -> float:
        """A data segment of ``size`` bytes CN -> node (PSH ACK)."""
        inner = tcp_packet(self.cn.address, self.mn.home_address, self.cn_port, self.mn_port,
                           self.cn_seq, self.mn_seq, 0x18, bytes(size))
        self.cn_seq = (self.cn_seq + size) & 0xFFFFFFFF
        return deliver_to_mn(world, self.mn, self.cn, ts, inner, via, reaches_mn, (self.label,))

    def from_mn(self, world: World, ts: float, size: int = 0, ack: int | None = None) -> float:
        """A segment node -> CN: a request of ``size`` bytes, or a pure ACK (size 0),
        acknowledging ``ack`` (default: everything the CN has sent)."""
        ack = self.cn_seq if ack is None else ack
        inner = tcp_packet(self.mn.home_address, self.cn.address, self.mn_port, self.cn_port,
                           self.mn_seq, ack, 0x18 if size else 0x10, bytes(size))
        self.mn_seq = (self.mn_seq + size) & 0xFFFFFFFF
        return send_from_mn(world, self.mn, self.cn, ts, inner, (self.label,))
