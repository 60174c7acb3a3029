"""The bundled sample captures: one tiny capture per message type and option
family, a home-registration story, and a catalogue of malformed frames.

Every frame is built with the project's own dpkt layers; timestamps are fixed,
so `mipv6scope samples` regenerates the same bytes every time.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..capture.frame import LINKTYPE_ETHERNET
from ..decode import icmp6 as icmp
from ..decode import mh
from ..decode import mh_options as opt
from ..decode import nd_options as nd
from ..decode.ext_headers import RH2, build_dest_opts_with_hao
from ..outfile import write_atomic
from .build import (
    addr,
    esp_packet,
    icmp6_packet,
    ip6,
    link_frame,
    mac,
    mh_packet,
    tcp_packet,
    tunnel,
    udp_packet,
)
from .writer import write_capture

if TYPE_CHECKING:
    from .scenario_samples import ScenarioSample

# The cast of the samples (documentation prefixes, RFC 3849).
HA = "2001:db8:1::1"
HA2 = "2001:db8:1::2"
HA_ANYCAST = "2001:db8:1::fdff:ffff:ffff:fffe"  # RFC 2526 home-agents anycast
HOA = "2001:db8:1::100"
HOME_PREFIX = "2001:db8:1::"
AR2, COA2, PREFIX2 = "2001:db8:2::1", "2001:db8:2::100", "2001:db8:2::"
AR3, COA3, PREFIX3 = "2001:db8:3::1", "2001:db8:3::100", "2001:db8:3::"
CN = "2001:db8:9::9"
ALL_NODES = "ff02::1"
MN_LL, HA_LL, AR2_LL = "fe80::200:ff:fe00:10", "fe80::200:ff:fe00:1", "fe80::200:ff:fe00:2"
MN_MAC, HA_MAC, AR2_MAC, CN_MAC = ("02:00:00:00:00:10", "02:00:00:00:00:01",
                                   "02:00:00:00:00:02", "02:00:00:00:00:09")
T0 = 1_700_000_000.0
SPI_MN_HA, SPI_HA_MN = 0x1000, 0x1001


@dataclass
class Sample:
    """One sample capture: its file name, what it shows, and its frames."""

    name: str
    description: str
    frames: list[tuple[float, bytes, int | None]] = field(default_factory=list)
    linktype: int = LINKTYPE_ETHERNET
    fmt: str = "pcap"

    def add(self, dt: float, packet: bytes, src_mac: str = MN_MAC, dst_mac: str = HA_MAC,
            caplen: int | None = None, ethertype: int = 0x86DD) -> None:
        """Append a packet ``dt`` seconds after T0, wrapped in Ethernet."""
        frame = link_frame(self.linktype, packet, src_mac, dst_mac, ethertype=ethertype)
        self.frames.append((round(T0 + dt, 6), frame, None if caplen is None else caplen + 14))


def _cookie(n: int) -> bytes:
    return bytes(range(n, n + 8))


def bu_message(seq: int, lifetime_units: int, flags: str = "AH") -> mh.BU:
    """A Binding Update message with the given flag letters set (e.g. "AH")."""
    bu = mh.BU(seq=seq, lifetime=lifetime_units)
    for letter in flags:
        setattr(bu, letter.lower(), 1)
    return bu


def ba_message(seq: int, lifetime_units: int, status: int = 0, flags: str = "") -> mh.BA:
    """A Binding Acknowledgement message with a status and flag letters."""
    ba = mh.BA(status=status, seq=seq, lifetime=lifetime_units)
    for letter in flags:
        setattr(ba, letter.lower(), 1)
    return ba


def prefix_info(prefix: str, flags: str = "LA", valid: int = 86400, preferred: int = 14400,
            length: int = 64) -> nd.PrefixInformation:
    """A Prefix Information option; ``flags`` holds the letters L, A, R to set."""
    pio = nd.PrefixInformation(prefix_len=length, valid_lifetime=valid,
                               preferred_lifetime=preferred, prefix=addr(prefix))
    pio.l, pio.a, pio.r = ("L" in flags), ("A" in flags), ("R" in flags)
    return pio


def _ra(router_ll: str, prefix: str, home_agent: bool, router_mac: str) -> bytes:
    ra = icmp.RouterAdvertisement(hop_limit=64, router_lifetime=1800, reachable_time=0,
                                  retrans_timer=0)
    ra.h = int(home_agent)
    options: list = [nd.SourceLinkLayerAddress(data=mac(router_mac)), nd.MTU(mtu=1500),
                     prefix_info(prefix), nd.AdvertisementInterval(interval=1000)]
    if home_agent:
        options[2] = prefix_info(HA if prefix == HOME_PREFIX else prefix, "LAR")
        options.append(nd.HomeAgentInformation(preference=10, lifetime=1800))
    ra.options = options
    return icmp6_packet(router_ll, ALL_NODES, icmp.ND_ROUTER_ADVERT, 0, bytes(ra))


def na_packet(target: str, flags: str, src: str, dst: str, lla: str) -> bytes:
    """A Neighbor Advertisement packet (flag letters R S O) with a target link-layer address."""
    na = icmp.NeighborAdvertisement(target=addr(target))
    na.r, na.s, na.o = ("R" in flags), ("S" in flags), ("O" in flags)
    na.options = [nd.TargetLinkLayerAddress(data=mac(lla))]
    return icmp6_packet(src, dst, icmp.ND_NEIGHBOR_ADVERT, 0, bytes(na))


def voice_payload(seq: int) -> bytes:
    """An RTP-like voice payload: 12-byte header (seq, timestamp seq*160) and 160 bytes."""
    return struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * 160, 0x5EED) + bytes(160)


# -- one capture per message type ------------------------------------------------

def sample_brr() -> Sample:
    s = Sample("mh-brr.pcap", "Binding Refresh Request from the home agent to the home "
               "address, tunnelled to the care-of address (RFC 6275 6.1: no type 2 routing "
               "header on a Mobility Header message but a BA).")
    s.add(0.0, tunnel(HA, COA2, mh_packet(HA, HOA, mh.BRR())), HA_MAC, MN_MAC)
    return s


def sample_hoti() -> Sample:
    s = Sample("mh-hoti.pcap", "Home Test Init: reverse-tunnelled from the care-of address "
               "to the home agent, then forwarded by the home agent to the correspondent.")
    hoti = mh_packet(HOA, CN, mh.HoTI(home_init_cookie=_cookie(1)))
    s.add(0.0, tunnel(COA2, HA, hoti))
    s.add(0.004, hoti, HA_MAC, CN_MAC)
    return s


def sample_coti() -> Sample:
    s = Sample("mh-coti.pcap", "Care-of Test Init sent directly from the care-of address.")
    s.add(0.0, mh_packet(COA2, CN, mh.CoTI(careof_init_cookie=_cookie(9))), MN_MAC, CN_MAC)
    return s


def sample_hot() -> Sample:
    s = Sample("mh-hot.pcap", "Home Test from the correspondent to the home address, then "
               "tunnelled by the home agent to the care-of address.")
    hot = mh_packet(CN, HOA, mh.HoT(home_nonce_index=0x1234, home_init_cookie=_cookie(1),
                                    home_keygen_token=_cookie(0x40)))
    s.add(0.0, hot, CN_MAC, HA_MAC)
    s.add(0.003, tunnel(HA, COA2, hot), HA_MAC, MN_MAC)
    return s


def sample_cot() -> Sample:
    s = Sample("mh-cot.pcap", "Care-of Test from the correspondent straight to the care-of address.")
    s.add(0.0, mh_packet(CN, COA2, mh.CoT(careof_nonce_index=0x5678, careof_init_cookie=_cookie(9),
                                         careof_keygen_token=_cookie(0x60))), CN_MAC, MN_MAC)
    return s


def sample_bu() -> Sample:
    s = Sample("mh-bu.pcap", "Binding Updates: home registration (A H, HAO), with an "
               "Alternate Care-of Address, to a correspondent (Nonce Indices, Binding "
               "Authorization Data), a NEMO mobile router (R, Mobile Network Prefix), a "
               "deregistration from the home link (lifetime 0), and the L K M P F T B flags.")
    s.add(0.0, mh_packet(COA2, HA, bu_message(1000, 105, "AH"), hao=HOA))
    s.add(0.1, mh_packet(COA2, HA, bu_message(1001, 105, "AH"),
                         [opt.AlternateCoA(alternate_coa=addr(COA2))], hao=HOA))
    s.add(0.2, mh_packet(COA2, CN, bu_message(7, 105, "A"),
                         [opt.NonceIndices(home_nonce_index=0x1234, careof_nonce_index=0x5678),
                          opt.BindingAuthData(data=bytes(range(0xA0, 0xAC)))], hao=HOA),
          MN_MAC, CN_MAC)
    s.add(0.3, mh_packet(COA2, HA, bu_message(1002, 105, "AHR"),
                         [opt.MobileNetworkPrefix(prefix_len=48, prefix=addr("2001:db8:100::"))],
                         hao=HOA))
    s.add(0.4, mh_packet(HOA, HA, bu_message(1003, 0, "AH")))
    s.add(0.5, mh_packet(COA2, HA, bu_message(1004, 30, "AHLKMPFTB"), hao=HOA))
    return s


def sample_ba() -> Sample:
    s = Sample("mh-ba.pcap", "Binding Acknowledgements with a type 2 routing header: accepted "
               "with Binding Refresh Advice, accepted with K and R, and the rejections 128, "
               "129, 133, 135 (sequence out of window), 136, 139 and 174.")
    s.add(0.0, mh_packet(HA, COA2, ba_message(1000, 105), [opt.BindingRefreshAdvice(refresh_interval=90)],
                         rh2=HOA), HA_MAC, MN_MAC)
    s.add(0.1, mh_packet(HA, COA2, ba_message(1001, 105, 0, "KR"), rh2=HOA), HA_MAC, MN_MAC)
    for i, status in enumerate((128, 129, 133, 135, 136, 139, 174)):
        s.add(0.2 + i / 10, mh_packet(HA, COA2, ba_message(1002 + i, 0, status), rh2=HOA), HA_MAC, MN_MAC)
    return s


def sample_be() -> Sample:
    s = Sample("mh-be.pcap", "Binding Errors from a correspondent: status 1 (no binding for "
               "the home address option) and 2 (unrecognised MH type).")
    s.add(0.0, mh_packet(CN, COA2, mh.BE(status=1, home_address=addr(HOA))), CN_MAC, MN_MAC)
    s.add(0.1, mh_packet(CN, COA2, mh.BE(status=2, home_address=addr(HOA))), CN_MAC, MN_MAC)
    return s


def sample_other_types() -> Sample:
    s = Sample("mh-other-types.pcap", "Every Mobility Header type after RFC 6275 (8-23: "
               "FMIPv6, experimental, HA switch, heartbeat, revocation, localized routing, "
               "update notification, flow binding, subscription) with a small body, plus an "
               "unassigned type 42.")
    for i, mh_type in enumerate([*range(8, 24), 42]):
        body = struct.pack("!HH", 0x0100 + mh_type, 0) + bytes(6)
        if mh_type == 12:  # Home Agent Switch: # of Addresses 1, then the address
            body = bytes([1, 0]) + addr(HA2)
        s.add(i / 100, mh_packet(COA2, HA, mh.MHGeneric(mh_type=mh_type, data=body), hao=HOA))
    return s


def sample_options_pmipv6() -> Sample:
    s = Sample("mh-options-pmipv6.pcap", "Proxy Mobile IPv6 options on a Proxy Binding "
               "Update and its acknowledgement: MN Identifier, Home Network Prefix, Handoff "
               "Indicator, Access Technology Type, MN Link-layer Identifier, Link-local "
               "Address, Timestamp, GRE Key, and an unassigned option type kept as bytes.")
    options = [opt.MNIdentifier(subtype=1, data=b"mn1@example.net"),
               opt.HomeNetworkPrefix(prefix_len=64, prefix=addr(HOME_PREFIX)),
               opt.HandoffIndicator(hi=1), opt.AccessTechnologyType(att=4),
               opt.MNLinkLayerIdentifier(data=mac(MN_MAC)),
               opt.LinkLocalAddress(address=addr(MN_LL)),
               opt.Timestamp(timestamp=(int(T0) << 16) | 0x8000),
               opt.GREKey(data=struct.pack("!I", 0xBEEF)),
               opt.UnknownOption(type=99, data=b"\x01\x02\x03")]
    s.add(0.0, mh_packet(AR2, HA, bu_message(1, 1000, "AP"), options), AR2_MAC, HA_MAC)
    s.add(0.01, mh_packet(HA, AR2, ba_message(1, 1000, 0, "P"), options[:4]), HA_MAC, AR2_MAC)
    return s


def sample_options_dsmipv6() -> Sample:
    s = Sample("mh-options-dsmipv6.pcap", "Dual-stack Mobile IPv6 options: IPv4 Home Address "
               "request, IPv4 Care-of Address, and the IPv4 Address Acknowledgement.")
    s.add(0.0, mh_packet(COA2, HA, bu_message(2000, 105, "AH"),
                         [opt.IPv4HomeAddress(prefix_len=24, address=bytes([192, 0, 2, 10])),
                          opt.IPv4CareOfAddress(address=bytes([198, 51, 100, 7]))], hao=HOA))
    s.add(0.01, mh_packet(HA, COA2, ba_message(2000, 105),
                          [opt.IPv4AddressAcknowledgement(status=0, prefix_len=24,
                                                          address=bytes([192, 0, 2, 10]))],
                          rh2=HOA), HA_MAC, MN_MAC)
    return s


def sample_icmp6_haad() -> Sample:
    s = Sample("icmp6-haad.pcap", "Dynamic Home Agent Address Discovery: request to the "
               "home-agents anycast address, reply listing two home agents.")
    s.add(0.0, icmp6_packet(COA2, HA_ANYCAST, icmp.MIP6_HAAD_REQUEST, 0,
                            bytes(icmp.HAADRequest(identifier=0x4242)), hlim=64))
    reply = icmp.HAADReply(identifier=0x4242)
    reply.addresses = [addr(HA), addr(HA2)]
    s.add(0.02, icmp6_packet(HA, COA2, icmp.MIP6_HAAD_REPLY, 0, bytes(reply), hlim=64),
          HA_MAC, MN_MAC)
    return s


def sample_icmp6_mpd() -> Sample:
    s = Sample("icmp6-mpd.pcap", "Mobile Prefix Discovery: solicitation from the care-of "
               "address with a HAO, advertisement (M and O set, two prefixes) with an RH2.")
    s.add(0.0, icmp6_packet(COA2, HA, icmp.MIP6_PREFIX_SOLICIT, 0,
                            bytes(icmp.MobilePrefixSolicitation(identifier=7)), hao=HOA, hlim=64))
    adv = icmp.MobilePrefixAdvertisement(identifier=7)
    adv.m, adv.o = 1, 1
    adv.options = [prefix_info(HOME_PREFIX), prefix_info("2001:db8:1:1::", "A", 3600, 1800)]
    s.add(0.02, icmp6_packet(HA, COA2, icmp.MIP6_PREFIX_ADVERT, 0, bytes(adv), rh2=HOA, hlim=64),
          HA_MAC, MN_MAC)
    return s


def sample_icmp6_nd() -> Sample:
    s = Sample("icmp6-nd.pcap", "Neighbour discovery that matters to Mobile IPv6: a home "
               "agent's RA (H flag, Prefix Information with R, Advertisement Interval, Home "
               "Agent Information), an access router's RA, RS, DAD NS, solicited NA (R S O) "
               "and the unsolicited NA with O the node sends when it returns home.")
    s.add(0.0, _ra(HA_LL, HOME_PREFIX, True, HA_MAC), HA_MAC, "33:33:00:00:00:01")
    s.add(0.1, _ra(AR2_LL, PREFIX2, False, AR2_MAC), AR2_MAC, "33:33:00:00:00:01")
    rs = icmp.RouterSolicitation()
    rs.options = [nd.SourceLinkLayerAddress(data=mac(MN_MAC))]
    s.add(0.2, icmp6_packet(MN_LL, "ff02::2", icmp.ND_ROUTER_SOLICIT, 0, bytes(rs)),
          MN_MAC, "33:33:00:00:00:02")
    ns = icmp.NeighborSolicitation(target=addr(COA2))
    s.add(0.3, icmp6_packet("::", "ff02::1:ff00:100", icmp.ND_NEIGHBOR_SOLICIT, 0, bytes(ns)),
          MN_MAC, "33:33:ff:00:01:00")
    s.add(0.4, na_packet(HA, "RSO", HA_LL, MN_LL, HA_MAC), HA_MAC, MN_MAC)
    s.add(0.5, na_packet(HOA, "O", HOA, ALL_NODES, MN_MAC), MN_MAC, "33:33:00:00:00:01")
    return s


def sample_icmp6_errors() -> Sample:
    s = Sample("icmp6-errors.pcap", "ICMPv6 errors quoting Mobile IPv6 packets: destination "
               "unreachable for a Binding Update, parameter problem pointing at an MH type "
               "the correspondent does not know, packet too big for a tunnelled packet, and "
               "time exceeded.")
    bu = mh_packet(COA2, HA, bu_message(1000, 105), hao=HOA)
    s.add(0.0, icmp6_packet(AR2, COA2, 1, 3, bytes(4) + bu, hlim=64), AR2_MAC, MN_MAC)
    unknown = mh_packet(COA2, CN, mh.MHGeneric(mh_type=42, data=bytes(10)))
    s.add(0.1, icmp6_packet(CN, COA2, 4, 0, struct.pack("!I", 42) + unknown, hlim=64),
          CN_MAC, MN_MAC)
    tunnelled = tunnel(HA, COA2, udp_packet(CN, HOA, 5004, 5004, voice_payload(1)))
    s.add(0.2, icmp6_packet(AR2, HA, 2, 0, struct.pack("!I", 1280) + tunnelled[:200], hlim=64),
          AR2_MAC, HA_MAC)
    s.add(0.3, icmp6_packet(AR2, COA2, 3, 0, bytes(4) + bu, hlim=64), AR2_MAC, MN_MAC)
    return s


def sample_ipsec() -> Sample:
    s = Sample("ipsec.pcap", "Home registration protected by IPsec: BU in ESP transport mode "
               "with the HAO before ESP (RFC 6275 6.3), BA in ESP after an RH2, and a BU "
               "protected by AH.")
    s.add(0.0, esp_packet(COA2, HA, SPI_MN_HA, 1, bytes(48), hao=HOA))
    payload = bytes(RH2(nxt=50, addr=addr(HOA))) + struct.pack("!II", SPI_HA_MN, 1) + bytes(40)
    s.add(0.02, ip6(HA, COA2, 43, payload), HA_MAC, MN_MAC)
    mh_bytes = mh.build_mh(bu_message(1005, 105), [], addr(COA2), addr(HA))
    ah = struct.pack("!BBHII", 135, 4, 0, 0x2000, 1) + bytes(12)
    s.add(0.04, ip6(COA2, HA, 51, ah + mh_bytes))
    return s


# -- a home registration and tunnel exchange ----------------------------------------

def sample_home_registration() -> Sample:
    """The main sample: a mobile node away from home registers, talks through the
    tunnel, runs return routability, optimises the route, refreshes, returns home."""
    s = Sample("home-registration.pcap", "A mobile node on a foreign link: RA with a new "
               "prefix, DHAAD, home registration (BU A H + HAO, BA + RH2), bidirectional tunnel "
               "traffic (voice over UDP, TCP), Mobile Prefix Discovery, return routability "
               "(HoTI/HoT through the tunnel, CoTI/CoT direct), Binding Update to the "
               "correspondent, route-optimised data with HAO and RH2, a Binding Refresh "
               "Request and refresh, then the return home: deregistration, BA, NA with O.")
    s.add(0.000, _ra(AR2_LL, PREFIX2, False, AR2_MAC), AR2_MAC, "33:33:00:00:00:01")
    s.add(0.150, icmp6_packet(COA2, HA_ANYCAST, icmp.MIP6_HAAD_REQUEST, 0,
                              bytes(icmp.HAADRequest(identifier=1)), hlim=64), MN_MAC, AR2_MAC)
    reply = icmp.HAADReply(identifier=1)
    reply.addresses = [addr(HA)]
    s.add(0.172, icmp6_packet(HA, COA2, icmp.MIP6_HAAD_REPLY, 0, bytes(reply), hlim=64),
          AR2_MAC, MN_MAC)
    s.add(0.180, mh_packet(COA2, HA, bu_message(100, 105, "AH"), hao=HOA), MN_MAC, AR2_MAC)
    s.add(0.221, mh_packet(HA, COA2, ba_message(100, 105), [opt.BindingRefreshAdvice(refresh_interval=75)],
                           rh2=HOA), AR2_MAC, MN_MAC)
    t = 0.240
    tcp_seq, tcp_ack = 1_000_000, 5_000_000
    for i in range(6):  # voice both ways through the tunnel, one TCP exchange
        s.add(t, tunnel(HA, COA2, udp_packet(CN, HOA, 5004, 5004, voice_payload(i))), AR2_MAC, MN_MAC)
        s.add(t + 0.004, tunnel(COA2, HA, udp_packet(HOA, CN, 5004, 5004, voice_payload(i))),
              MN_MAC, AR2_MAC)
        if i == 2:
            s.add(t + 0.008, tunnel(COA2, HA, tcp_packet(HOA, CN, 40000, 80, tcp_seq, tcp_ack, 0x18,
                                                         b"GET / HTTP/1.1\r\n\r\n")), MN_MAC, AR2_MAC)
            s.add(t + 0.012, tunnel(HA, COA2, tcp_packet(CN, HOA, 80, 40000, tcp_ack, tcp_seq + 18,
                                                         0x10)), AR2_MAC, MN_MAC)
        t += 0.020
    s.add(0.400, icmp6_packet(COA2, HA, icmp.MIP6_PREFIX_SOLICIT, 0,
                              bytes(icmp.MobilePrefixSolicitation(identifier=2)), hao=HOA, hlim=64),
          MN_MAC, AR2_MAC)
    adv = icmp.MobilePrefixAdvertisement(identifier=2)
    adv.options = [prefix_info(HOME_PREFIX)]
    s.add(0.420, icmp6_packet(HA, COA2, icmp.MIP6_PREFIX_ADVERT, 0, bytes(adv), rh2=HOA, hlim=64),
          AR2_MAC, MN_MAC)
    # Return routability with the correspondent.
    hoti = mh_packet(HOA, CN, mh.HoTI(home_init_cookie=_cookie(0x11)))
    s.add(0.500, tunnel(COA2, HA, hoti), MN_MAC, AR2_MAC)
    s.add(0.501, mh_packet(COA2, CN, mh.CoTI(careof_init_cookie=_cookie(0x21))), MN_MAC, AR2_MAC)
    hot = mh_packet(CN, HOA, mh.HoT(home_nonce_index=3, home_init_cookie=_cookie(0x11),
                                    home_keygen_token=_cookie(0x31)))
    s.add(0.540, tunnel(HA, COA2, hot), AR2_MAC, MN_MAC)
    s.add(0.530, mh_packet(CN, COA2, mh.CoT(careof_nonce_index=4, careof_init_cookie=_cookie(0x21),
                                           careof_keygen_token=_cookie(0x41))), AR2_MAC, MN_MAC)
    s.frames.sort(key=lambda f: f[0])
    s.add(0.545, mh_packet(COA2, CN, bu_message(500, 105, "A"),
                           [opt.NonceIndices(home_nonce_index=3, careof_nonce_index=4),
                            opt.BindingAuthData(data=bytes(range(0x51, 0x5D)))], hao=HOA),
          MN_MAC, AR2_MAC)
    s.add(0.570, mh_packet(CN, COA2, ba_message(500, 105), [opt.BindingAuthData(data=bytes(range(0x61, 0x6D)))],
                           rh2=HOA), AR2_MAC, MN_MAC)
    t = 0.580
    for i in range(6, 12):  # route-optimised voice
        s.add(t, udp_packet(COA2, CN, 5004, 5004, voice_payload(i), hao=HOA), MN_MAC, AR2_MAC)
        s.add(t + 0.003, udp_packet(CN, COA2, 5004, 5004, voice_payload(i), rh2=HOA), AR2_MAC, MN_MAC)
        t += 0.020
    # The home agent asks for a refresh; the node refreshes.
    s.add(300.000, tunnel(HA, COA2, mh_packet(HA, HOA, mh.BRR())), AR2_MAC, MN_MAC)
    s.add(300.010, mh_packet(COA2, HA, bu_message(101, 105, "AH"), hao=HOA), MN_MAC, AR2_MAC)
    s.add(300.049, mh_packet(HA, COA2, ba_message(101, 105), rh2=HOA), AR2_MAC, MN_MAC)
    # Back on the home link: RA from the home agent, deregistration, NA with O.
    s.add(360.000, _ra(HA_LL, HOME_PREFIX, True, HA_MAC), HA_MAC, "33:33:00:00:00:01")
    s.add(360.050, mh_packet(HOA, HA, bu_message(102, 0, "AH")), MN_MAC, HA_MAC)
    s.add(360.061, mh_packet(HA, HOA, ba_message(102, 0)), HA_MAC, MN_MAC)
    s.add(360.062, na_packet(HOA, "O", HOA, ALL_NODES, MN_MAC), MN_MAC, "33:33:00:00:00:01")
    return s


# -- malformed frames -----------------------------------------------------------------

def _patched(packet: bytes, offset: int, value: bytes) -> bytes:
    return packet[:offset] + value + packet[offset + len(value):]


def _bu_with_patched_mh(offset: int, value: bytes, options: list | None = None) -> bytes:
    """A home-registration BU (CoA -> HA with HAO) whose MH bytes are patched at
    ``offset`` and then checksummed again, so the patch is its only problem."""
    body = mh.build_mh(bu_message(5, 105), options or [], addr(HOA), addr(HA))
    body = _patched(body, offset, value)
    covered = body[:(body[1] + 1) * 8]  # the checksum covers Header Len's extent
    body = _patched(body, 4, struct.pack("!H", mh.mh_checksum(addr(HOA), addr(HA), covered)))
    return ip6(COA2, HA, 60, build_dest_opts_with_hao(135, addr(HOA)) + body)


def sample_malformed() -> Sample:
    """One frame per decode problem, between valid frames, plus frames that are
    not IPv6 (counted as skipped)."""
    s = Sample("malformed.pcap", "Broken frames, each between valid ones: bad MH checksum, "
               "RH2 with segments left 0 and with two addresses, HAO of length 8, two HAOs, "
               "MH header length below the minimum and past the packet, payload proto 6, "
               "an option that overruns and one of the wrong length, a BU cut by the snap "
               "length, a truncated IPv6 payload, short ESP, short ICMPv6, an ND option of "
               "length 0; plus IPv4 and ARP frames (skipped).")
    good = mh_packet(COA2, HA, bu_message(1, 105), hao=HOA)
    mh_at = 40 + 24  # IPv6 header + destination options with the HAO
    frames: list[tuple[bytes, int | None]] = [
        (good, None),
        (_patched(good, mh_at + 4, b"\xde\xad"), None),                  # bad_mh_checksum
        (_patched(mh_packet(HA, COA2, ba_message(1, 105), rh2=HOA), 43, b"\x00"), None),  # segs left 0
        (ip6(HA, COA2, 43, bytes([135, 4, 2, 1, 0, 0, 0, 0]) + addr(HOA) + addr(CN)
             + mh.build_mh(ba_message(1, 105), [], addr(HA), addr(HOA))), None),  # two addresses
        (_patched(good, 40 + 7, b"\x08"), None),                         # HAO length 8
        (ip6(COA2, CN, 60, bytes([17, 4, 1, 0]) + bytes([201, 16]) + addr(HOA)
             + bytes([201, 16]) + addr(CN) + struct.pack("!HHHH", 1, 2, 8, 0)), None),  # 2 HAOs
        (_bu_with_patched_mh(1, b"\x00"), None),                         # hlen below minimum
        (_patched(good, mh_at + 1, b"\x09"), None),                      # hlen past packet
        (_bu_with_patched_mh(0, b"\x06"), None),                         # payload proto 6
        (_bu_with_patched_mh(12, bytes([77, 40])), None),                # option overrun
        (_bu_with_patched_mh(15, b"\x08", [opt.AlternateCoA(alternate_coa=addr(COA2))]),
         None),                                                          # Alt-CoA length 8
        (mh_packet(COA2, HA, bu_message(4, 105), hao=HOA), 40 + 24 + 8),        # snap-length cut
        (ip6(COA2, HA, 17, struct.pack("!HHHH", 1, 2, 40, 0))[:-4], None),  # payload short
        (ip6(COA2, HA, 50, b"\x00\x00\x10"), None),                      # ESP too short
        (ip6(HA_LL, MN_LL, 58, b"\x88\x00"), None),                      # ICMPv6 too short
        (icmp6_packet(HA_LL, MN_LL, icmp.ND_NEIGHBOR_ADVERT, 0, bytes(4) + addr(HA) + b"\x02\x00"
                      + bytes(6)), None),                                # ND option length 0
    ]
    # The payload-length frame: the header claims more than the frame holds.
    short = frames[12][0]
    frames[12] = (short[:4] + struct.pack("!H", 40) + short[6:], None)
    for i, (packet, caplen) in enumerate(frames):
        s.add(i * 0.01, packet, caplen=caplen)
        if i % 4 == 3:
            s.add(i * 0.01 + 0.005, good)
    ipv4 = bytes.fromhex("4500001c000000004011f8d1c0000201c0000202") + struct.pack("!HHHH", 1, 2, 8, 0)
    s.add(0.5, ipv4, ethertype=0x0800)
    arp = bytes.fromhex("0001080006040001") + mac(MN_MAC) + bytes([192, 0, 2, 1]) + bytes(6) + bytes([192, 0, 2, 2])
    s.add(0.51, arp, dst_mac="ff:ff:ff:ff:ff:ff", ethertype=0x0806)
    return s


SAMPLE_BUILDERS: tuple[Callable[[], Sample], ...] = (
    sample_home_registration, sample_brr, sample_hoti, sample_coti, sample_hot, sample_cot,
    sample_bu, sample_ba, sample_be, sample_other_types, sample_options_pmipv6,
    sample_options_dsmipv6, sample_icmp6_haad, sample_icmp6_mpd, sample_icmp6_nd,
    sample_icmp6_errors, sample_ipsec, sample_malformed,
)


def all_samples() -> list[Sample]:
    """Every sample, built fresh."""
    return [build() for build in SAMPLE_BUILDERS]


def readme_text(samples: list[Sample], scenarios: Sequence[ScenarioSample] = ()) -> str:
    """sample_captures/README.md, listing each file and what it holds."""
    lines = ["# Sample captures", "",
             "Written by `mipv6scope samples` from the project's own dpkt layers "
             "(`mipv6scope/synth/samples.py`); running it again gives the same bytes. "
             "Addresses are from 2001:db8::/32: home agent 2001:db8:1::1, home address "
             "2001:db8:1::100, care-of address 2001:db8:2::100, correspondent 2001:db8:9::9.",
             "", "| file | frames | what it holds |", "|---|---|---|"]
    for sample in samples:
        lines.append(f"| `{sample.name}` | {len(sample.frames)} | {sample.description} |")
    if scenarios:
        lines += ["", "## Generated scenarios", "",
                  "Written by the scenario generator (`mipv6scope synth SCENARIO -o FILE --seed 1`, "
                  "small settings), each with `FILE.truth.json`: what an analyzer must find.",
                  "", "| file | frames | what it holds |", "|---|---|---|"]
        for item in scenarios:
            lines.append(f"| `{item.name}` | {item.frames} | {item.description} |")
    lines += ["", "## Charts", "",
              "`scenario-handoff.sequence.mmd` and `scenario-handoff.sequence.png`: the handoff "
              "sequence chart of `scenario-handoff.pcap`, as `mipv6scope chart "
              "scenario-handoff.pcap -o FILE --width 1400 --height 1000` draws it (Mermaid text, "
              "and the PNG the project README shows, rasterised by Chromium through kaleido).",
              "", "## Terminal UI", "",
              "`tui-main.svg`: the main screen of `mipv6scope tui scenario-handoff.pcap` at 120x40 "
              "(the node's timeline, its first Binding Update chosen on the ladder and shown in the "
              "packet panes), Textual's SVG screenshot of the app run headless; `samples --check` "
              "compares the screen it shows, line by line."]
    return "\n".join(lines) + "\n"


def write_samples(out_dir: str | Path) -> list[Path]:
    """Write every sample capture, the scenario captures with their truth files,
    and the README into ``out_dir``; returns the paths. Each file is written
    all or nothing and never through a symlink (`outfile.atomic_path`); the
    samples' own files are replaced (that is what this is for)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    samples = all_samples()
    paths = []
    for sample in samples:
        path = out / sample.name
        write_capture(path, sample.frames, sample.linktype, sample.fmt)
        paths.append(path)
    from .scenario_samples import write_scenario_samples

    scenario_paths, scenarios = write_scenario_samples(out)
    paths += scenario_paths
    readme = out / "README.md"
    write_atomic(readme, readme_text(samples, scenarios).encode("utf-8"))
    paths.append(readme)
    return paths
