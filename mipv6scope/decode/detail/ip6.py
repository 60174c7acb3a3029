"""IPv6 headers at every tunnel level, their extension headers (Hop-by-Hop,
Destination Options with the Home Address option, Routing, Fragment), AH,
ESP (with the NULL-encryption reading), and the upper layers they lead to.

The walk follows the same rules as ``frame_decoder._walk_ipv6`` (payload
length, a header read past it when the frame holds it, at most 64 headers),
so the tree shows the headers the decoder read, with their byte ranges.
"""

from __future__ import annotations

from ipaddress import IPv6Address

from .context import Context, proto_name
from .esp_decrypted import add_decrypted_esp, add_esp_trailer
from .icmp6 import add_icmp6
from .mobility import add_mobility_header
from .node import DetailNode, Fields, bit_text

MAX_HEADERS = 64
HAO_TYPE = 201
_OPT_NAMES = {0: "Pad1", 1: "PadN", 5: "Router Alert", 0xC2: "Jumbo Payload", HAO_TYPE: "Home Address"}
_ROUTING_TYPES = {0: "Source Route", 2: "Type 2 Routing", 3: "RPL Source Route", 4: "Segment Routing"}


def add_ipv6(ctx: Context, pos: int, limit: int, snap_cut: bool) -> None:
    """IPv6 headers from ``pos``, each tunnel level a layer, up to ``limit``."""
    data = ctx.data
    seen = 0
    while True:
        if limit - pos < 40:
            if limit > pos:
                node = ctx.layer(f"Internet Protocol Version 6 [{limit - pos} of 40 header bytes]",
                                 pos, limit - pos, "ipv6")
                ctx.mark("ip6", node)
            return
        version = data[pos] >> 4
        plen = int.from_bytes(data[pos + 4:pos + 6], "big")
        nh = data[pos + 6]
        src = IPv6Address(bytes(data[pos + 8:pos + 24])).compressed
        dst = IPv6Address(bytes(data[pos + 24:pos + 40])).compressed
        end = min(pos + 40 + plen if plen else limit, limit)
        ip = ctx.layer(f"Internet Protocol Version 6, Src: {src}, Dst: {dst}", pos, end - pos, "ipv6")
        ctx.mark("ip6", ip)
        _fixed_header(Fields(data, ip), pos, version)
        if version != 6:
            ip.length = 40
            return
        p = pos + 40
        while True:
            seen += 1
            if seen > MAX_HEADERS:
                return
            nxt = _extension(ctx, ip, p, end, limit, nh)
            if nxt is None:
                break
            p, nh = nxt
        # the item ends with its extension headers, also one cut short inside it
        ip.length = max([p, *(child.end for child in ip.children)]) - pos
        if nh != 41:
            _upper(ctx, p, end, limit, nh, snap_cut)
            return
        pos, limit = p, end


def _fixed_header(f: Fields, pos: int, version: int) -> None:
    f.node.add(f"{bit_text(version, 0xF, 4)} .... = Version: {version}", pos, 1, "ipv6.version",
               str(version))
    f.uint(pos, 4, "ipv6.tclass",
           lambda v: f"{bit_text(v, 0x0FF00000, 32)} = Traffic Class: 0x{(v >> 20) & 0xFF:02x}",
           lambda v: f"0x{(v >> 20) & 0xFF:08x}")
    f.uint(pos + 1, 3, "ipv6.flow",
           lambda v: f"{bit_text(v, 0x0FFFFF, 24)} = Flow Label: 0x{v & 0xFFFFF:05x}",
           lambda v: f"0x{v & 0xFFFFF:06x}")
    f.uint(pos + 4, 2, "ipv6.plen", "Payload Length: {}")
    f.uint(pos + 6, 1, "ipv6.nxt", lambda v: f"Next Header: {proto_name(v)} ({v})")
    f.uint(pos + 7, 1, "ipv6.hlim", "Hop Limit: {}")
    f.ip6(pos + 8, "ipv6.src", "Source Address: {}")
    f.ip6(pos + 24, "ipv6.dst", "Destination Address: {}")


def _extension(ctx: Context, ip: DetailNode, p: int, end: int, limit: int,
               nh: int) -> tuple[int, int] | None:
    """Add the extension header ``nh`` at ``p``; (next position, next header),
    or None when the chain stops at it (an upper layer, or damage)."""
    data = ctx.data
    if nh in (0, 60, 43):
        if end - p < 2:
            return None
        next_nh, hlen = data[p], data[p + 1]
        size = (hlen + 1) * 8
        stop = min(p + size, limit)
        ip.length = max(ip.length, stop - ip.start)
        if nh == 43:
            _routing(ctx, ip, p, stop, next_nh, hlen)
        else:
            _options_header(ctx, ip, p, stop, nh, next_nh, hlen)
        if p + size > end:
            return None
        return p + size, next_nh
    if nh == 44:
        if end - p < 8:
            return None
        node = ip.add("Fragment Header for IPv6", p, 8, "ipv6.fraghdr")
        ctx.mark("fragment", node)
        f = Fields(data, node)
        f.uint(p, 1, "ipv6.fraghdr.nxt", lambda v: f"Next header: {proto_name(v)} ({v})")
        f.uint(p + 1, 1, "ipv6.fraghdr.reserved_octet", "Reserved octet: 0x{:02x}",
               lambda v: f"0x{v:02x}")
        offset = f.uint(p + 2, 2, "ipv6.fraghdr.offset",
                        lambda v: f"{bit_text(v, 0xFFF8, 16)} = Offset: {v >> 3} ({(v >> 3) * 8} bytes)",
                        lambda v: str(v >> 3))
        f.uint(p + 2, 2, "ipv6.fraghdr.reserved_bits",
               lambda v: f"{bit_text(v, 0x0006, 16)} = Reserved bits: {(v >> 1) & 3}",
               lambda v: str((v >> 1) & 3))
        f.flag(p + 2, 2, 0x0001, "ipv6.fraghdr.more", "More Fragments", "Yes", "No")
        f.uint(p + 4, 4, "ipv6.fraghdr.ident", "Identification: 0x{:08x}", lambda v: f"0x{v:08x}")
        if offset and offset >> 3:
            ip.length = p + 8 - ip.start
            ctx.data_node(p + 8, end)
            return None
        return p + 8, data[p]
    return None


def _options_header(ctx: Context, ip: DetailNode, p: int, stop: int, nh: int, next_nh: int,
                    hlen: int) -> None:
    """A Hop-by-Hop or Destination Options header and its options."""
    if nh == 0:
        node, prefix, layer = ip.add("IPv6 Hop-by-Hop Option", p, stop - p, "ipv6.hopopts"), \
            "ipv6.hopopts", "hopopts"
    else:
        node, prefix, layer = ip.add("Destination Options for IPv6", p, stop - p, "ipv6.dstopts"), \
            "ipv6.dstopts", "dstopts"
    ctx.mark(layer, node)
    f = Fields(ctx.data, node)
    f.uint(p, 1, f"{prefix}.nxt", lambda v: f"Next Header: {proto_name(v)} ({v})")
    f.uint(p + 1, 1, f"{prefix}.len", "Length: {}")
    f.uint(p + 1, 1, f"{prefix}.len_oct", lambda v: f"Length: {(v + 1) * 8} bytes",
           lambda v: str((v + 1) * 8))
    _tlv_options(ctx, node, p + 2, stop)


def _tlv_options(ctx: Context, node: DetailNode, q: int, stop: int) -> None:
    data = ctx.data
    while q < stop:
        otype = data[q]
        name = _OPT_NAMES.get(otype, f"Unknown IPv6 Option (0x{otype:02x})")
        if otype == 0:
            opt = node.add("Pad1", q, 1, "ipv6.opt")
            opt.add("Type: Pad1 (0x00)", q, 1, "ipv6.opt.type", "0x00")
            opt.add("Pad1", q, 1, "ipv6.opt.pad1", "")
            q += 1
            continue
        olen = data[q + 1] if q + 1 < stop else None
        size = 2 + olen if olen is not None else 1
        opt = node.add(name, q, size, "ipv6.opt")
        f = Fields(data, opt)
        f.uint(q, 1, "ipv6.opt.type", f"Type: {name} (0x{{:02x}})", lambda v: f"0x{v:02x}")
        if olen is None:
            return
        f.uint(q + 1, 1, "ipv6.opt.length", "Length: {}")
        if otype == HAO_TYPE:
            ctx.mark("hao", opt)
            if olen == 16:
                f.ip6(q + 2, "ipv6.opt.mipv6.home_address", "MIPv6 Home Address: {}")
        elif otype == 1:
            f.raw(q + 2, olen, "ipv6.opt.padn", "PadN: {}")
        elif otype == 5 and olen == 2:
            f.uint(q + 2, 2, "ipv6.opt.router_alert", "Router Alert: {}")
        elif otype == 0xC2 and olen == 4:
            f.uint(q + 2, 4, "ipv6.opt.jumbo", "Payload Length: {}")
        else:
            f.raw(q + 2, olen, None, "Data: {}")
        q += size


def _routing(ctx: Context, ip: DetailNode, p: int, stop: int, next_nh: int, hlen: int) -> None:
    data = ctx.data
    rtype = data[p + 2] if p + 2 < stop else None
    rname = _ROUTING_TYPES.get(rtype, "Unknown") if rtype is not None else "truncated"
    node = ip.add(f"Routing Header for IPv6 ({rname})", p, stop - p, "ipv6.routing")
    ctx.mark("routing", node)
    f = Fields(data, node)
    f.uint(p, 1, "ipv6.routing.nxt", lambda v: f"Next Header: {proto_name(v)} ({v})")
    f.uint(p + 1, 1, "ipv6.routing.len", "Length: {}")
    f.uint(p + 1, 1, "ipv6.routing.len_oct", lambda v: f"Length: {(v + 1) * 8} bytes",
           lambda v: str((v + 1) * 8))
    f.uint(p + 2, 1, "ipv6.routing.type", lambda v: f"Type: {_ROUTING_TYPES.get(v, 'Unknown')} ({v})")
    f.uint(p + 3, 1, "ipv6.routing.segleft", "Segments Left: {}")
    if rtype == 2:
        ctx.mark("rh2", node)
        f.raw(p + 4, 4, "ipv6.routing.mipv6.reserved", "Reserved: {}")
        if hlen >= 2:
            f.ip6(p + 8, "ipv6.routing.mipv6.home_address", "Home Address: {}")
    else:
        f.raw(p + 4, stop - p - 4, None, "Type-Specific Data: {}")


def _upper(ctx: Context, p: int, end: int, limit: int, nh: int, snap_cut: bool) -> None:
    """The layer after the last extension header."""
    if nh == 50:
        _esp(ctx, p, end)
    elif nh == 51:
        _ah(ctx, p, end, limit, snap_cut)
    elif nh in (135, 62):
        add_mobility_header(ctx, p, end)
    elif nh == 58:
        add_icmp6(ctx, p, end, quoted_packet)
    elif nh == 17:
        _udp(ctx, p, end)
    elif nh == 6:
        _tcp(ctx, p, end)
    elif nh != 59:
        ctx.data_node(p, end)


def quoted_packet(ctx: Context, parent: DetailNode, pos: int, end: int) -> None:
    """The packet an ICMPv6 error quotes, as layers under ``parent``."""
    outer, quoted = ctx.parent, ctx.quoted
    ctx.parent, ctx.quoted = parent, True
    try:
        add_ipv6(ctx, pos, end, True)
    finally:
        ctx.parent, ctx.quoted = outer, quoted


def _esp(ctx: Context, p: int, end: int) -> None:
    data = ctx.data
    node = ctx.layer("Encapsulating Security Payload", p, end - p, "esp")
    ctx.mark("esp", node)
    f = Fields(data, node)
    f.uint(p, 4, "esp.spi", lambda v: f"ESP SPI: 0x{v:08x} ({v})", lambda v: f"0x{v:08x}")
    f.uint(p + 4, 4, "esp.sequence", "ESP Sequence: {}")
    esp = ctx.decoded.esp if not ctx.quoted else None
    if esp and esp.get("decrypted") and add_decrypted_esp(ctx, node, p, end):
        return
    if not esp or not esp.get("null") or end > len(data):
        return
    icv, pad, inner = esp["icv_len"], esp["pad_len"], esp["next_header"]
    trailer = end - icv - 2
    node.label += " (NULL encryption)"
    add_esp_trailer(node, f, p + 8, trailer, pad, icv)
    if inner in (135, 62):
        add_mobility_header(ctx, p + 8, trailer - pad)


def _ah(ctx: Context, p: int, end: int, limit: int, snap_cut: bool) -> None:
    data = ctx.data
    if end - p < 12:
        node = ctx.layer("Authentication Header", p, end - p, "ah")
        ctx.mark("ah", node)
        return
    next_nh, alen = data[p], data[p + 1]
    size = (alen + 2) * 4
    node = ctx.layer("Authentication Header", p, min(size, end - p), "ah")
    ctx.mark("ah", node)
    f = Fields(data, node)
    f.uint(p, 1, "ah.next_header", lambda v: f"Next header: {proto_name(v)} ({v})")
    f.uint(p + 1, 1, "ah.length", lambda v: f"Length: {(v + 2) * 4}", lambda v: str((v + 2) * 4))
    f.uint(p + 2, 2, "ah.reserved", "Reserved: {}")
    f.uint(p + 4, 4, "ah.spi", lambda v: f"AH SPI: 0x{v:08x}", lambda v: f"0x{v:08x}")
    f.uint(p + 8, 4, "ah.sequence", "AH Sequence: {}")
    f.raw(p + 12, size - 12, "ah.icv", "AH ICV: {}")
    if p + size <= end:
        if next_nh == 41:
            add_ipv6(ctx, p + size, end, snap_cut)
        else:
            _upper(ctx, p + size, end, limit, next_nh, snap_cut)


def _udp(ctx: Context, p: int, end: int) -> None:
    data = ctx.data
    if end - p < 4:
        ctx.data_node(p, end)
        return
    sport, dport = int.from_bytes(data[p:p + 2], "big"), int.from_bytes(data[p + 2:p + 4], "big")
    node = ctx.layer(f"User Datagram Protocol, Src Port: {sport}, Dst Port: {dport}", p,
                     min(8, end - p), "udp")
    f = Fields(data, node)
    f.uint(p, 2, "udp.srcport", "Source Port: {}")
    f.uint(p + 2, 2, "udp.dstport", "Destination Port: {}")
    f.uint(p + 4, 2, "udp.length", "Length: {}")
    f.uint(p + 6, 2, "udp.checksum", "Checksum: 0x{:04x} [unverified]", lambda v: f"0x{v:04x}")
    ctx.data_node(p + 8, end)


_TCP_FLAGS = (("tcp.flags.cwr", 0x80, "Congestion Window Reduced"), ("tcp.flags.ece", 0x40, "ECN-Echo"),
              ("tcp.flags.urg", 0x20, "Urgent"), ("tcp.flags.ack", 0x10, "Acknowledgment"),
              ("tcp.flags.push", 0x08, "Push"), ("tcp.flags.reset", 0x04, "Reset"),
              ("tcp.flags.syn", 0x02, "Syn"), ("tcp.flags.fin", 0x01, "Fin"))


def _tcp(ctx: Context, p: int, end: int) -> None:
    data = ctx.data
    if end - p < 4:
        ctx.data_node(p, end)
        return
    sport, dport = int.from_bytes(data[p:p + 2], "big"), int.from_bytes(data[p + 2:p + 4], "big")
    hlen = (data[p + 12] >> 4) * 4 if end - p > 12 else 20
    node = ctx.layer(f"Transmission Control Protocol, Src Port: {sport}, Dst Port: {dport}", p,
                     min(max(hlen, 20), end - p), "tcp")
    f = Fields(data, node)
    f.uint(p, 2, "tcp.srcport", "Source Port: {}")
    f.uint(p + 2, 2, "tcp.dstport", "Destination Port: {}")
    f.uint(p + 4, 4, "tcp.seq_raw", "Sequence Number (raw): {}")
    f.uint(p + 8, 4, "tcp.ack_raw", "Acknowledgment number (raw): {}")
    f.uint(p + 12, 1, "tcp.hdr_len", lambda v: f"{bit_text(v, 0xF0, 8)} = Header Length: "
                                               f"{(v >> 4) * 4} bytes ({v >> 4})",
           lambda v: str((v >> 4) * 4))
    flags = node.add("Flags", p + 12, 2, "tcp.flags") if f.fits(p + 12, 2) else None
    if flags is not None:
        bits = int.from_bytes(data[p + 12:p + 14], "big") & 0x0FFF
        flags.label, flags.value = f"Flags: 0x{bits:03x}", f"0x{bits:04x}"
        for name, mask, text in _TCP_FLAGS:
            f.flag(p + 13, 1, mask, name, text, parent=flags)
    f.uint(p + 14, 2, "tcp.window_size_value", "Window: {}")
    f.uint(p + 16, 2, "tcp.checksum", "Checksum: 0x{:04x} [unverified]", lambda v: f"0x{v:04x}")
    f.uint(p + 18, 2, "tcp.urgent_pointer", "Urgent Pointer: {}")
    if hlen > 20:
        f.raw(p + 20, hlen - 20, None, "Options: {}")
    ctx.data_node(p + max(hlen, 20), end)
