"""The one table of display filter fields: it drives the parser (which names
exist and what values they compare with), the help text and the README list.

Wireshark's names, types and meanings are tshark 4.0's (`tshark -G fields`,
`tshark -G protocols`); the analysis fields are mipv6scope's own.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import extract as x

# Field types: what a field's values are and which literals compare with them.
ADDRESS = "address"    # IPv6 address; compares with an address or a prefix (addr/len)
INTEGER = "integer"    # decimal, 0x hex or 0 octal
BOOLEAN = "boolean"    # a flag: 0/1 (true/false also read)
FLOAT = "float"        # seconds
STRING = "string"      # text: == exact, contains, matches
NODE = "node"          # a mobile node: its --names name or one of its home addresses
PROTOCOL = "protocol"  # existence test only (a protocol, or one of our frame kinds)

WIRESHARK = "wireshark"
OURS = "mipv6scope"
ANALYSIS = "analysis"

Getter = Callable[[Any, "x.Env"], tuple]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One filter field: its name, value type, one-line meaning, where the
    name comes from (wireshark, mipv6scope, analysis) and how to read it."""

    name: str
    type: str
    description: str
    origin: str
    getter: Getter
    uses_bytes: bool = False  # read from the frame's bytes when the caller passes them

    @property
    def needs_analysis(self) -> bool:
        """True when the field's values come from the analysis (a FilterContext)."""
        return self.origin == ANALYSIS


def _w(name: str, type_: str, description: str, getter: Getter,
       uses_bytes: bool = False) -> FieldSpec:
    return FieldSpec(name, type_, description, WIRESHARK, getter, uses_bytes)


FIELD_TABLE: tuple[FieldSpec, ...] = (
    # protocols, as tshark names them
    _w("frame", PROTOCOL, "every frame", x.is_frame),
    _w("ipv6", PROTOCOL, "an IPv6 header", x.is_ipv6),
    _w("mipv6", PROTOCOL, "a Mobility Header (also one quoted in an ICMPv6 error)", x.is_mipv6),
    _w("icmpv6", PROTOCOL, "an ICMPv6 message", x.is_icmpv6),
    _w("esp", PROTOCOL, "an ESP header", x.is_esp),
    _w("ah", PROTOCOL, "an AH header", x.is_ah),
    _w("udp", PROTOCOL, "a UDP header", x.transport_is(17)),
    _w("tcp", PROTOCOL, "a TCP header", x.transport_is(6)),
    # frame
    _w("frame.number", INTEGER, "frame number, 1-based in its file", x.frame_number),
    _w("frame.time_relative", FLOAT, "seconds since the first frame of the file", x.frame_time_relative),
    _w("frame.time_epoch", FLOAT, "epoch seconds", x.frame_time_epoch),
    _w("frame.len", INTEGER, "frame length on the wire", x.frame_len),
    _w("frame.cap_len", INTEGER, "frame length captured", x.frame_cap_len),
    # ipv6 (every tunnel level, and the packet an ICMPv6 error quotes)
    _w("ipv6.src", ADDRESS, "source address of any IPv6 header", x.ipv6_src),
    _w("ipv6.dst", ADDRESS, "destination address of any IPv6 header", x.ipv6_dst),
    _w("ipv6.addr", ADDRESS, "source or destination address of any IPv6 header", x.ipv6_addr),
    _w("ipv6.nxt", INTEGER, "Next Header of any IPv6 header", x.ipv6_nxt, True),
    _w("ipv6.plen", INTEGER, "Payload Length of any IPv6 header", x.ipv6_plen, True),
    _w("ipv6.hlim", INTEGER, "Hop Limit of any IPv6 header", x.ipv6_hlim, True),
    _w("ipv6.opt.mipv6.home_address", ADDRESS, "Home Address destination option (HAO)", x.ipv6_hao),
    _w("ipv6.routing.type", INTEGER, "Routing Type of any routing header", x.ipv6_routing_type, True),
    _w("ipv6.routing.mipv6.home_address", ADDRESS, "home address of a type 2 routing header (RH2)",
       x.ipv6_rh2),
    # mobility header
    _w("mip6.mhtype", INTEGER, "Mobility Header type (5 BU, 6 BA, 7 BE, 0 BRR, 1-4 HoTI CoTI HoT CoT)",
       x.mh_type),
    _w("mip6.csum", INTEGER, "Mobility Header checksum field", x.mh_checksum),
    _w("mip6.bu.seqnr", INTEGER, "Binding Update sequence number", x.mh_key(5, "seq")),
    _w("mip6.bu.a_flag", BOOLEAN, "Binding Update Acknowledge (A) flag", x.mh_flag(5, "A")),
    _w("mip6.bu.h_flag", BOOLEAN, "Binding Update Home Registration (H) flag", x.mh_flag(5, "H")),
    _w("mip6.bu.l_flag", BOOLEAN, "Binding Update Link-Local Compatibility (L) flag",
       x.mh_flag(5, "L")),
    _w("mip6.bu.k_flag", BOOLEAN, "Binding Update Key Management Compatibility (K) flag",
       x.mh_flag(5, "K")),
    _w("mip6.bu.lifetime", INTEGER, "Binding Update lifetime, in 4-second units",
       x.mh_key(5, "lifetime_units")),
    _w("mip6.ba.status", INTEGER, "Binding Acknowledgement status (0-127 accepted)",
       x.mh_key(6, "status")),
    _w("mip6.ba.seqnr", INTEGER, "Binding Acknowledgement sequence number", x.mh_key(6, "seq")),
    _w("mip6.ba.lifetime", INTEGER, "Binding Acknowledgement lifetime, in 4-second units",
       x.mh_key(6, "lifetime_units")),
    _w("mip6.be.status", INTEGER, "Binding Error status (1 unknown HAO, 2 unknown MH type)",
       x.mh_key(7, "status")),
    _w("mip6.be.haddr", ADDRESS, "Binding Error home address", x.mh_key(7, "home_address")),
    # icmpv6, ipsec, transport
    _w("icmpv6.type", INTEGER, "ICMPv6 type", x.layer_key("icmp6", "type")),
    _w("icmpv6.code", INTEGER, "ICMPv6 code", x.layer_key("icmp6", "code")),
    _w("esp.spi", INTEGER, "ESP Security Parameters Index", x.layer_key("esp", "spi")),
    _w("esp.sequence", INTEGER, "ESP sequence number", x.layer_key("esp", "seq")),
    _w("udp.srcport", INTEGER, "UDP source port", x.port(17, "src")),
    _w("udp.dstport", INTEGER, "UDP destination port", x.port(17, "dst")),
    _w("udp.port", INTEGER, "UDP source or destination port", x.port(17, "any")),
    _w("tcp.srcport", INTEGER, "TCP source port", x.port(6, "src")),
    _w("tcp.dstport", INTEGER, "TCP destination port", x.port(6, "dst")),
    _w("tcp.port", INTEGER, "TCP source or destination port", x.port(6, "any")),
    # ours, from the frame alone
    FieldSpec("tunnel", PROTOCOL, "IPv6-in-IPv6: more than one IPv6 header", OURS, x.is_tunnel),
    FieldSpec("ro", PROTOCOL, "route-optimised data: a HAO or RH2 on a frame without a Mobility "
              "Header", OURS, x.is_ro),
    # ours, from the analysis
    FieldSpec("mn", NODE, "the mobile nodes whose home or care-of addresses the frame carries "
              "(any level, HAO, RH2, BE home address); mn == NAME|HOA", ANALYSIS, x.mobile_nodes),
    FieldSpec("coa", ADDRESS, "the frame's addresses that are a node's care-of address",
              ANALYSIS, x.addresses_in("care_of_addresses")),
    FieldSpec("ha", ADDRESS, "the frame's addresses that are home agents; alone: the frame "
              "involves a home agent", ANALYSIS, x.addresses_in("home_agents")),
    FieldSpec("cn", ADDRESS, "the frame's addresses that are correspondent nodes",
              ANALYSIS, x.addresses_in("correspondents")),
    FieldSpec("lost", PROTOCOL, "a packet lost to the old care-of address (the "
              "lost_to_old_care_of findings' frames)", ANALYSIS, x.is_lost),
    FieldSpec("retransmission", PROTOCOL, "a BU after the first of its registration "
              "(bu_frames[1:])", ANALYSIS, x.is_retransmission),
    FieldSpec("handoff", INTEGER, "N when the frame lies between the earliest and latest time "
              "of its node's Nth handoff (a frame of no node: any node's)", ANALYSIS,
              x.handoff_numbers),
    FieldSpec("issue", STRING, "the frame's decode issue codes and the codes of the findings "
              "that list it; issue == bad_mh_checksum", ANALYSIS, x.issue_codes),
)

FIELDS: dict[str, FieldSpec] = {f.name: f for f in FIELD_TABLE}


def lookup(name: str) -> FieldSpec | None:
    """The field called ``name`` (case-sensitive, as tshark), or None."""
    return FIELDS.get(name)


def nearest(name: str, n: int = 3) -> list[str]:
    """Up to ``n`` known field names closest to ``name``."""
    close = difflib.get_close_matches(name, FIELDS, n=n, cutoff=0.5)
    if not close:
        tail = name.rsplit(".", 1)[-1]
        close = [f for f in FIELDS if f.endswith("." + tail) or f.startswith(name)][:n]
    return close
