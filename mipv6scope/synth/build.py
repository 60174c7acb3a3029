"""Build whole packets (IPv6 header chains, tunnels, link layers) from the
project's own dpkt layers. Every function returns bytes."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from functools import lru_cache
from ipaddress import IPv6Address

from ..capture.frame import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)
from ..decode.checksum import upper_layer_checksum
from ..decode.ext_headers import RH2, build_dest_opts_with_hao
from ..decode.icmp6 import build_icmp6
from ..decode.mh import build_mh
from ..decode.mh_options import MobilityOption

ETH_IPV6 = 0x86DD
NH_UDP, NH_TCP, NH_IPV6, NH_ROUTING, NH_ESP, NH_ICMPV6, NH_NONE, NH_DSTOPTS, NH_MH = (
    17, 6, 41, 43, 50, 58, 59, 60, 135)


def addr(text: str) -> bytes:
    """16 bytes of an IPv6 address written as text."""
    return IPv6Address(text).packed


def ip6(src: str, dst: str, nh: int, payload: bytes, hlim: int = 64, flow: int = 0) -> bytes:
    """An IPv6 header followed by ``payload`` (which starts with header ``nh``)."""
    return struct.pack("!IHBB16s16s", (6 << 28) | flow, len(payload), nh, hlim,
                       addr(src), addr(dst)) + payload


def _chain(nh: int, upper: bytes, hao: str | None, rh2: str | None) -> tuple[int, bytes]:
    """Prepend RH2 and a HAO destination-options header (RFC 8200 order:
    routing header, then destination options) to an upper-layer payload."""
    if hao is not None:
        upper = build_dest_opts_with_hao(nh, addr(hao)) + upper
        nh = NH_DSTOPTS
    if rh2 is not None:
        upper = bytes(RH2(nxt=nh, addr=addr(rh2))) + upper
        nh = NH_ROUTING
    return nh, upper


def mh_packet(src: str, dst: str, message: object, options: Iterable[MobilityOption] = (),
              hao: str | None = None, rh2: str | None = None, hlim: int = 64) -> bytes:
    """An IPv6 packet carrying a Mobility Header, with optional HAO and RH2.

    The MH checksum uses the addresses the upper layer sees (the HAO's home
    address as source, the RH2's home address as destination), RFC 6275 6.1.1.
    """
    upper_src = addr(hao) if hao is not None else addr(src)
    upper_dst = addr(rh2) if rh2 is not None else addr(dst)
    mh = build_mh(message, list(options), upper_src, upper_dst)
    nh, payload = _chain(NH_MH, mh, hao, rh2)
    return ip6(src, dst, nh, payload, hlim)


def icmp6_packet(src: str, dst: str, icmp_type: int, code: int, body: bytes,
                 hao: str | None = None, rh2: str | None = None, hlim: int = 255) -> bytes:
    """An IPv6 packet carrying an ICMPv6 message with a correct checksum."""
    upper_src = addr(hao) if hao is not None else addr(src)
    upper_dst = addr(rh2) if rh2 is not None else addr(dst)
    msg = build_icmp6(icmp_type, code, body, upper_src, upper_dst)
    nh, payload = _chain(NH_ICMPV6, msg, hao, rh2)
    return ip6(src, dst, nh, payload, hlim)


def udp_packet(src: str, dst: str, sport: int, dport: int, data: bytes,
               hao: str | None = None, rh2: str | None = None) -> bytes:
    """An IPv6/UDP packet with a correct checksum (HAO/RH2 applied to it)."""
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    upper_src = addr(hao) if hao is not None else addr(src)
    upper_dst = addr(rh2) if rh2 is not None else addr(dst)
    csum = upper_layer_checksum(upper_src, upper_dst, NH_UDP, seg, 6) or 0xFFFF
    seg = seg[:6] + struct.pack("!H", csum) + seg[8:]
    nh, payload = _chain(NH_UDP, seg, hao, rh2)
    return ip6(src, dst, nh, payload)


def tcp_packet(src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int,
               data: bytes = b"") -> bytes:
    """An IPv6/TCP segment (20-byte header) with a correct checksum."""
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
    csum = upper_layer_checksum(addr(src), addr(dst), NH_TCP, seg, 16)
    seg = seg[:16] + struct.pack("!H", csum) + seg[18:]
    return ip6(src, dst, NH_TCP, seg)


def esp_packet(src: str, dst: str, spi: int, seq: int, sealed: bytes, hao: str | None = None) -> bytes:
    """ESP in transport mode: the HAO's destination options come before ESP
    (RFC 6275 6.3); ``sealed`` stands for the encrypted payload and trailer."""
    nh, payload = _chain(NH_ESP, struct.pack("!II", spi, seq) + sealed, hao, None)
    return ip6(src, dst, nh, payload)


def tunnel(outer_src: str, outer_dst: str, inner: bytes, hlim: int = 64) -> bytes:
    """IPv6-in-IPv6 encapsulation of a whole inner packet (RFC 2473)."""
    return ip6(outer_src, outer_dst, NH_IPV6, inner, hlim)


@lru_cache(maxsize=1 << 16)
def mac(text: str) -> bytes:
    """Six bytes from 'aa:bb:cc:dd:ee:ff' (cached: link_frame calls it twice a frame)."""
    return bytes(int(part, 16) for part in text.split(":"))


def link_frame(linktype: int, packet: bytes, src_mac: str = "02:00:00:00:00:01",
               dst_mac: str = "02:00:00:00:00:02", vlan_ids: Sequence[int] = (),
               ethertype: int = ETH_IPV6) -> bytes:
    """Wrap a network-layer packet in the given link layer."""
    if linktype == LINKTYPE_ETHERNET:
        tags = b""
        for i, vid in enumerate(vlan_ids):
            tpid = 0x88A8 if i == 0 and len(vlan_ids) > 1 else 0x8100
            tags += struct.pack("!HH", tpid, vid & 0x0FFF)
        return mac(dst_mac) + mac(src_mac) + tags + struct.pack("!H", ethertype) + packet
    if linktype == LINKTYPE_LINUX_SLL:
        return struct.pack("!HHH8sH", 0, 1, 6, mac(src_mac) + b"\x00\x00", ethertype) + packet
    if linktype == LINKTYPE_LINUX_SLL2:
        return struct.pack("!HHIHBB8s", ethertype, 0, 2, 1, 0, 6, mac(src_mac) + b"\x00\x00") + packet
    if linktype == LINKTYPE_NULL:
        return struct.pack("<I", 24) + packet
    if linktype == LINKTYPE_RAW:
        return packet
    raise ValueError(f"cannot build link type {linktype}")
