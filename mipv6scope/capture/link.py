"""Find the network-layer header inside a frame's link-layer framing."""

from __future__ import annotations

from typing import NamedTuple

from .frame import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)


class LinkResult(NamedTuple):
    """Where the IP header starts. ``network`` is "ipv6", "ipv4" or "other";
    ``reason`` says why for "other"; ``vlan_ids`` are outermost first."""

    network: str
    offset: int
    vlan_ids: tuple[int, ...]
    reason: str | None


ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
VLAN_TPIDS = frozenset((0x8100, 0x88A8, 0x9100, 0x9200))
ETHERTYPE_NAMES = {
    0x0806: "ARP", 0x8035: "RARP", 0x809B: "AppleTalk", 0x8137: "IPX", 0x8808: "Ethernet flow control",
    0x8809: "slow protocols (LACP)", 0x8847: "MPLS", 0x8848: "MPLS multicast",
    0x8863: "PPPoE discovery", 0x8864: "PPPoE session", 0x888E: "EAPOL", 0x88CC: "LLDP",
    0x88E5: "MACsec", 0x88F7: "PTP", 0x8906: "FCoE", 0x9000: "loopback",
}
# BSD AF_INET6 differs per OS: 24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin; 10 is Linux
NULL_FAMILIES_IPV6 = frozenset((24, 28, 30, 10))
NULL_FAMILY_IPV4 = 2

# Where the network layer starts per link type when the link header has its
# usual length (Ethernet without a VLAN tag)
USUAL_NETWORK_OFFSET = {LINKTYPE_ETHERNET: 14, LINKTYPE_RAW: 0, LINKTYPE_IPV6: 0, LINKTYPE_NULL: 4,
                        LINKTYPE_LOOP: 4, LINKTYPE_LINUX_SLL: 16, LINKTYPE_LINUX_SLL2: 20}

_ETH_IPV6 = LinkResult("ipv6", USUAL_NETWORK_OFFSET[LINKTYPE_ETHERNET], (), None)
_ETH_IPV4 = LinkResult("ipv4", USUAL_NETWORK_OFFSET[LINKTYPE_ETHERNET], (), None)
_RAW_IPV6 = LinkResult("ipv6", USUAL_NETWORK_OFFSET[LINKTYPE_RAW], (), None)
_RAW_IPV4 = LinkResult("ipv4", USUAL_NETWORK_OFFSET[LINKTYPE_RAW], (), None)
_NULL_IPV6 = LinkResult("ipv6", USUAL_NETWORK_OFFSET[LINKTYPE_NULL], (), None)
_NULL_IPV4 = LinkResult("ipv4", USUAL_NETWORK_OFFSET[LINKTYPE_NULL], (), None)
_SLL_IPV6 = LinkResult("ipv6", USUAL_NETWORK_OFFSET[LINKTYPE_LINUX_SLL], (), None)
_SLL2_IPV6 = LinkResult("ipv6", USUAL_NETWORK_OFFSET[LINKTYPE_LINUX_SLL2], (), None)
_TRUNCATED = LinkResult("other", 0, (), "link header truncated")


def _ethertype_name(ethertype: int) -> str:
    name = ETHERTYPE_NAMES.get(ethertype)
    return f"ethertype 0x{ethertype:04x} ({name})" if name else f"ethertype 0x{ethertype:04x}"


def _llc(data: bytes, offset: int, vlans: tuple[int, ...]) -> LinkResult:
    """802.3 length-field frame: only LLC/SNAP with an IP ethertype is IP."""
    if len(data) < offset + 3:
        return LinkResult("other", offset, vlans, "link header truncated")
    if data[offset] == 0xAA and data[offset + 1] == 0xAA and data[offset + 2] == 0x03:
        if len(data) < offset + 8:
            return LinkResult("other", offset, vlans, "link header truncated")
        ethertype = (data[offset + 6] << 8) | data[offset + 7]
        if ethertype == ETHERTYPE_IPV6:
            return LinkResult("ipv6", offset + 8, vlans, None)
        if ethertype == ETHERTYPE_IPV4:
            return LinkResult("ipv4", offset + 8, vlans, None)
        return LinkResult("other", offset + 8, vlans, "LLC/SNAP " + _ethertype_name(ethertype))
    return LinkResult("other", offset, vlans, f"802.3 LLC frame (DSAP 0x{data[offset]:02x})")


def _after_ethertype(data: bytes, ethertype: int, offset: int) -> LinkResult:
    """Walk VLAN tags starting at ``offset`` (``ethertype`` was read just before it)."""
    vlans: list[int] = []
    while ethertype in VLAN_TPIDS:
        if len(data) < offset + 4:
            return LinkResult("other", offset, tuple(vlans), "link header truncated")
        vlans.append(((data[offset] << 8) | data[offset + 1]) & 0x0FFF)
        ethertype = (data[offset + 2] << 8) | data[offset + 3]
        offset += 4
    tags = tuple(vlans)
    if ethertype == ETHERTYPE_IPV6:
        return LinkResult("ipv6", offset, tags, None)
    if ethertype == ETHERTYPE_IPV4:
        return LinkResult("ipv4", offset, tags, None)
    return LinkResult("other", offset, tags, _ethertype_name(ethertype))


def _null_family(data: bytes) -> LinkResult:
    if len(data) < 4:
        return _TRUNCATED
    # the family is in the capturing host's byte order; a small value in the
    # wrong order shows up in the top bytes
    family = int.from_bytes(data[:4], "little")
    if family > 0xFFFF:
        family = int.from_bytes(data[:4], "big")
    if family in NULL_FAMILIES_IPV6:
        return _NULL_IPV6
    if family == NULL_FAMILY_IPV4:
        return _NULL_IPV4
    return LinkResult("other", 4, (), f"null/loopback family {family}")


def network_layer(linktype: int, data: bytes) -> LinkResult:
    """Locate the IP header in ``data`` framed as ``linktype``."""
    if linktype == LINKTYPE_ETHERNET:
        if len(data) < 14:
            return _TRUNCATED
        ethertype = (data[12] << 8) | data[13]
        if ethertype == ETHERTYPE_IPV6:
            return _ETH_IPV6
        if ethertype == ETHERTYPE_IPV4:
            return _ETH_IPV4
        if ethertype <= 1500:
            return _llc(data, 14, ())
        if ethertype < 0x0600:
            return LinkResult("other", 14, (), f"invalid ethertype/length 0x{ethertype:04x}")
        return _after_ethertype(data, ethertype, 14)
    if linktype == LINKTYPE_RAW:
        if not data:
            return _TRUNCATED
        version = data[0] >> 4
        if version == 6:
            return _RAW_IPV6
        if version == 4:
            return _RAW_IPV4
        return LinkResult("other", 0, (), f"raw IP version {version}")
    if linktype == LINKTYPE_LINUX_SLL:
        if len(data) < 16:
            return _TRUNCATED
        protocol = (data[14] << 8) | data[15]
        if protocol == ETHERTYPE_IPV6:
            return _SLL_IPV6
        return _sll_other(data, protocol, 16)
    if linktype == LINKTYPE_LINUX_SLL2:
        if len(data) < 20:
            return _TRUNCATED
        protocol = (data[0] << 8) | data[1]
        if protocol == ETHERTYPE_IPV6:
            return _SLL2_IPV6
        return _sll_other(data, protocol, 20)
    if linktype == LINKTYPE_IPV6:
        return _RAW_IPV6
    if linktype == LINKTYPE_IPV4:
        return _RAW_IPV4
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        # LOOP is specified as network byte order; accepting either costs nothing
        return _null_family(data)
    return LinkResult("other", 0, (), f"unsupported link type {linktype}")


def _sll_other(data: bytes, protocol: int, offset: int) -> LinkResult:
    if protocol < 0x0600:
        # Linux uses small values for non-Ethernet-II payloads (802.2 LLC, CAN, ...)
        return LinkResult("other", offset, (), f"Linux cooked protocol 0x{protocol:04x}")
    return _after_ethertype(data, protocol, offset)
