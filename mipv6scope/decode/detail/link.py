"""The Frame node and the link layers: Ethernet (with VLAN tags), Linux cooked
v1/v2, null/loopback, raw IP."""

from __future__ import annotations

import time

from ...capture.frame import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    Frame,
)
from ...capture.link import ETHERTYPE_NAMES, VLAN_TPIDS, network_layer
from .context import Context
from .node import DetailNode, Fields, bit_text

ENCAP_NAMES = {
    LINKTYPE_NULL: ("NULL/Loopback", 15), LINKTYPE_ETHERNET: ("Ethernet", 1),
    LINKTYPE_RAW: ("Raw IP", 7), LINKTYPE_LOOP: ("OpenBSD loopback", 15),
    LINKTYPE_LINUX_SLL: ("Linux cooked-mode capture v1", 25),
    LINKTYPE_LINUX_SLL2: ("Linux cooked-mode capture v2", 210),
    LINKTYPE_IPV4: ("Raw IPv4", 129), LINKTYPE_IPV6: ("Raw IPv6", 130),
}
_ETHERTYPES = {0x86DD: "IPv6", 0x0800: "IPv4", 0x8100: "802.1Q Virtual LAN",
               0x88A8: "802.1ad Provider Bridge (Q-in-Q)", **ETHERTYPE_NAMES}
_SLL_PKTTYPES = {0: "Unicast to us", 1: "Broadcast", 2: "Multicast", 3: "Unicast to another host",
                 4: "Sent by us"}


def time_text(ts: float) -> tuple[str, str]:
    """(Wireshark's arrival time text, epoch seconds with nine decimals)."""
    # the shortest repr reads back the capture's own digits (0.18, not 0.180000067)
    text = repr(float(ts))
    if "e" in text or "n" in text:
        text = f"{ts:.9f}"
    whole, _, frac = text.partition(".")
    frac = (frac + "000000000")[:9]
    epoch = f"{whole}.{frac}"
    try:
        day = time.strftime("%b %d, %Y %H:%M:%S", time.gmtime(int(whole)))
    except (OverflowError, OSError, ValueError):
        day = "(out of range)"
    return f"{day}.{frac} UTC", epoch


def frame_node(frame: Frame, root: DetailNode) -> DetailNode:
    """Wireshark's ``frame`` layer: number, times, lengths, encapsulation."""
    n = len(frame.data)
    node = root.add(f"Frame {frame.number}: {frame.wirelen} bytes on wire ({frame.wirelen * 8} bits), "
                    f"{n} bytes captured ({n * 8} bits)", 0, n, "frame")
    if frame.interface:
        node.add(f"Interface id: {frame.interface}", 0, 0, "frame.interface_id", str(frame.interface))
    name, encap = ENCAP_NAMES.get(frame.linktype, (f"Unknown ({frame.linktype})", -1))
    node.add(f"Encapsulation type: {name} ({encap})", 0, 0, "frame.encap_type", str(encap))
    arrival, epoch = time_text(frame.ts)
    node.add(f"Arrival Time: {arrival}", 0, 0, "frame.time", arrival)
    node.add(f"Epoch Time: {epoch} seconds", 0, 0, "frame.time_epoch", epoch)
    node.add(f"Frame Number: {frame.number}", 0, 0, "frame.number", str(frame.number))
    node.add(f"Frame Length: {frame.wirelen} bytes ({frame.wirelen * 8} bits)", 0, 0, "frame.len",
             str(frame.wirelen))
    node.add(f"Capture Length: {n} bytes ({n * 8} bits)", 0, 0, "frame.cap_len", str(n))
    return node


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _ethertype(v: int) -> str:
    return f"{_ETHERTYPES.get(v, 'Unknown')} (0x{v:04x})"


def _vlan_tags(ctx: Context, pos: int, ethertype: int) -> None:
    data = ctx.data
    while ethertype in VLAN_TPIDS and pos + 4 <= len(data):
        tci = int.from_bytes(data[pos:pos + 2], "big")
        ethertype = int.from_bytes(data[pos + 2:pos + 4], "big")
        node = ctx.layer(f"802.1Q Virtual LAN, PRI: {tci >> 13}, DEI: {(tci >> 12) & 1}, "
                         f"ID: {tci & 0xFFF}", pos, 4, "vlan")
        f = Fields(data, node)
        f.uint(pos, 2, "vlan.priority", lambda v: f"{bit_text(v, 0xE000, 16)} = Priority: {v >> 13}",
               lambda v: str(v >> 13))
        f.flag(pos, 2, 0x1000, "vlan.dei", "DEI", "Eligible", "Ineligible")
        f.uint(pos, 2, "vlan.id", lambda v: f"{bit_text(v, 0x0FFF, 16)} = ID: {v & 0xFFF}",
               lambda v: str(v & 0xFFF))
        f.uint(pos + 2, 2, "vlan.etype", lambda v: f"Type: {_ethertype(v)}", lambda v: f"0x{v:04x}")
        pos += 4


def _ethernet(ctx: Context) -> None:
    data = ctx.data
    if len(data) < 14:
        ctx.layer("Ethernet II [truncated]", 0, len(data), "eth")
        return
    dst, src = _mac(data[0:6]), _mac(data[6:12])
    ethertype = int.from_bytes(data[12:14], "big")
    node = ctx.layer(f"Ethernet II, Src: {src}, Dst: {dst}", 0, 14, "eth")
    node.add(f"Destination: {dst}", 0, 6, "eth.dst", dst)
    node.add(f"Source: {src}", 6, 6, "eth.src", src)
    if ethertype <= 1500:
        node.label = f"IEEE 802.3 Ethernet, Src: {src}, Dst: {dst}"
        node.add(f"Length: {ethertype}", 12, 2, "eth.len", str(ethertype))
        return
    node.add(f"Type: {_ethertype(ethertype)}", 12, 2, "eth.type", f"0x{ethertype:04x}")
    _vlan_tags(ctx, 14, ethertype)


def _sll(ctx: Context) -> None:
    data = ctx.data
    node = ctx.layer("Linux cooked capture v1", 0, 16, "sll")
    f = Fields(data, node)
    f.uint(0, 2, "sll.pkttype", lambda v: f"Packet type: {_SLL_PKTTYPES.get(v, 'Unknown')} ({v})")
    f.uint(2, 2, "sll.hatype", "Link-layer address type: {}")
    halen = f.uint(4, 2, "sll.halen", "Link-layer address length: {}")
    if halen is not None and f.fits(6, 8):
        addr = _mac(data[6:6 + min(halen, 8)])
        node.add(f"Source: {addr}", 6, min(halen, 8), "sll.src.eth" if halen == 6 else "sll.src.other",
                 addr)
    etype = f.uint(14, 2, "sll.etype", lambda v: f"Protocol: {_ethertype(v)}", lambda v: f"0x{v:04x}")
    if etype is not None:
        _vlan_tags(ctx, 16, etype)


def _sll2(ctx: Context) -> None:
    data = ctx.data
    node = ctx.layer("Linux cooked capture v2", 0, 20, "sll")
    f = Fields(data, node)
    etype = f.uint(0, 2, "sll.etype", lambda v: f"Protocol: {_ethertype(v)}", lambda v: f"0x{v:04x}")
    f.uint(2, 2, "sll.reserved", "Reserved: {}")
    f.uint(4, 4, "sll.ifindex", "Interface index: {}")
    f.uint(8, 2, "sll.hatype", "Link-layer address type: {}")
    f.uint(10, 1, "sll.pkttype", lambda v: f"Packet type: {_SLL_PKTTYPES.get(v, 'Unknown')} ({v})")
    halen = f.uint(11, 1, "sll.halen", "Link-layer address length: {}")
    if halen is not None and f.fits(12, 8):
        addr = _mac(data[12:12 + min(halen, 8)])
        node.add(f"Source: {addr}", 12, min(halen, 8), "sll.src.eth" if halen == 6 else "sll.src.other",
                 addr)
    if etype is not None:
        _vlan_tags(ctx, 20, etype)


def _null(ctx: Context) -> None:
    data = ctx.data
    node = ctx.layer("Null/Loopback", 0, 4, "null")
    if len(data) >= 4:
        family = int.from_bytes(data[:4], "little")
        if family > 0xFFFF:
            family = int.from_bytes(data[:4], "big")
        node.add(f"Family: {'IPv6' if family in (10, 24, 28, 30) else 'IP' if family == 2 else 'Unknown'}"
                 f" ({family})", 0, 4, "null.family", str(family))


def link_layers(ctx: Context, linktype: int) -> tuple[str, int, str | None]:
    """Add the link layer nodes; (network, offset of the network header, skip reason)."""
    if linktype == LINKTYPE_ETHERNET:
        _ethernet(ctx)
    elif linktype == LINKTYPE_LINUX_SLL:
        _sll(ctx)
    elif linktype == LINKTYPE_LINUX_SLL2:
        _sll2(ctx)
    elif linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        _null(ctx)
    elif linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6):
        ctx.layer("Raw packet data", 0, len(ctx.data), "raw")
    result = network_layer(linktype, ctx.data)
    return result.network, result.offset, result.reason
