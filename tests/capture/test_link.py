"""Link-layer framing, on frames built by scapy."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import (
    ARP,
    LLC,
    SNAP,
    CookedLinux,
    CookedLinuxV2,
    Dot1AD,
    Dot1Q,
    Dot3,
    Ether,
    Loopback,
)

from mipv6scope.capture import LinkResult, network_layer
from mipv6scope.capture.frame import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)

V6 = IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2)
V6_BYTES = bytes(V6)
V4_BYTES = bytes(IP(src="192.0.2.1", dst="192.0.2.2") / UDP())


def check(linktype: int, frame: bytes, network: str, offset: int,
          vlans: tuple[int, ...] = ()) -> LinkResult:
    result = network_layer(linktype, frame)
    assert result == LinkResult(network, offset, vlans, None)
    payload = V6_BYTES if network == "ipv6" else V4_BYTES
    assert frame[offset:] == payload  # the offset really is where the IP header starts
    return result


def null_header(family: int, order: str) -> bytes:
    return struct.pack(order + "I", family)


def test_ethernet_ipv6_and_ipv4() -> None:
    check(LINKTYPE_ETHERNET, bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / V6), "ipv6", 14)
    check(LINKTYPE_ETHERNET, bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(V4_BYTES)), "ipv4", 14)


def test_double_tagged_vlan() -> None:
    frame = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / Dot1Q(vlan=100) / Dot1Q(vlan=200) / V6)
    check(LINKTYPE_ETHERNET, frame, "ipv6", 22, (100, 200))


def test_qinq_and_9100_tags_with_priority_bits() -> None:
    inner = bytes(Dot1Q(prio=5, vlan=4094) / V6)
    tag_9100 = struct.pack("!HH", (3 << 13) | 7, 0x8100)
    frame = bytes(Ether(type=0x88A8)) + bytes(Dot1AD(vlan=10, type=0x9100))[:4] + tag_9100 + inner
    check(LINKTYPE_ETHERNET, frame, "ipv6", 26, (10, 7, 4094))


def test_vlan_tagged_non_ip_keeps_the_ids() -> None:
    frame = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / Dot1Q(vlan=42) / ARP())
    assert network_layer(LINKTYPE_ETHERNET, frame) == LinkResult(
        "other", 18, (42,), "ethertype 0x0806 (ARP)")


def test_arp() -> None:
    assert network_layer(LINKTYPE_ETHERNET, bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ARP())) == LinkResult(
        "other", 14, (), "ethertype 0x0806 (ARP)")


def test_unknown_ethertype() -> None:
    result = network_layer(LINKTYPE_ETHERNET, bytes(Ether(type=0x1234) / b"xx"))
    assert (result.network, result.reason) == ("other", "ethertype 0x1234")


def test_ieee_802_3_llc_snap_carrying_ipv6() -> None:
    frame = bytes(Dot3() / LLC() / SNAP(code=0x86DD) / V6)
    check(LINKTYPE_ETHERNET, frame, "ipv6", 22)


def test_ieee_802_3_plain_llc_is_other() -> None:
    result = network_layer(LINKTYPE_ETHERNET, bytes(Dot3() / LLC(dsap=0x42, ssap=0x42) / b"st"))
    assert result == LinkResult("other", 14, (), "802.3 LLC frame (DSAP 0x42)")


@pytest.mark.parametrize("frame", [
    b"",
    bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / V6)[:13],
    bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / Dot1Q(vlan=5) / V6)[:17],
    bytes(Dot3() / LLC() / SNAP(code=0x86DD) / V6)[:20],
])
def test_truncated_ethernet_header(frame: bytes) -> None:
    result = network_layer(LINKTYPE_ETHERNET, frame)
    assert (result.network, result.reason) == ("other", "link header truncated")


def test_linux_cooked() -> None:
    check(LINKTYPE_LINUX_SLL, bytes(CookedLinux() / V6), "ipv6", 16)
    check(LINKTYPE_LINUX_SLL, bytes(CookedLinux(proto=0x0800) / IP(V4_BYTES)), "ipv4", 16)
    check(LINKTYPE_LINUX_SLL, bytes(CookedLinux(proto=0x8100) / Dot1Q(vlan=9) / V6), "ipv6", 20,
          (9,))
    assert network_layer(LINKTYPE_LINUX_SLL, bytes(CookedLinux() / V6)[:15]).reason == (
        "link header truncated")


def test_linux_cooked_v2() -> None:
    frame = bytes(CookedLinuxV2() / V6)
    assert frame[:2] == b"\x86\xdd"
    check(LINKTYPE_LINUX_SLL2, frame, "ipv6", 20)
    arp = network_layer(LINKTYPE_LINUX_SLL2, bytes(CookedLinuxV2(proto=0x0806) / ARP()))
    assert arp == LinkResult("other", 20, (), "ethertype 0x0806 (ARP)")
    assert network_layer(LINKTYPE_LINUX_SLL2, frame[:19]).reason == "link header truncated"


def test_raw_ip_by_version_nibble() -> None:
    check(LINKTYPE_RAW, V6_BYTES, "ipv6", 0)
    check(LINKTYPE_RAW, V4_BYTES, "ipv4", 0)
    assert network_layer(LINKTYPE_RAW, b"\x50" + bytes(19)) == LinkResult(
        "other", 0, (), "raw IP version 5")
    assert network_layer(LINKTYPE_RAW, b"").network == "other"


def test_ipv4_and_ipv6_link_types() -> None:
    check(LINKTYPE_IPV6, V6_BYTES, "ipv6", 0)
    check(LINKTYPE_IPV4, V4_BYTES, "ipv4", 0)


@pytest.mark.parametrize("family", [24, 28, 30, 10])
@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("linktype", [LINKTYPE_NULL, LINKTYPE_LOOP])
def test_null_and_loop_ipv6_families(family: int, order: str, linktype: int) -> None:
    check(linktype, null_header(family, order) + V6_BYTES, "ipv6", 4)


def test_null_scapy_loopback_and_ipv4() -> None:
    check(LINKTYPE_NULL, bytes(Loopback(type=24) / V6), "ipv6", 4)
    check(LINKTYPE_NULL, null_header(2, "<") + V4_BYTES, "ipv4", 4)
    check(LINKTYPE_LOOP, null_header(2, ">") + V4_BYTES, "ipv4", 4)


def test_null_unknown_family_and_truncated() -> None:
    assert network_layer(LINKTYPE_NULL, null_header(7, "<") + V6_BYTES) == LinkResult(
        "other", 4, (), "null/loopback family 7")
    assert network_layer(LINKTYPE_LOOP, b"\x00\x00\x00").reason == "link header truncated"


def test_unsupported_link_type() -> None:
    assert network_layer(147, V6_BYTES) == LinkResult("other", 0, (), "unsupported link type 147")
