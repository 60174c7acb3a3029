"""ICMPv6: the common header, neighbour discovery messages and options, the
Mobile IPv6 messages (DHAAD, MPS/MPA) and the packet an error quotes."""

from __future__ import annotations

from collections.abc import Callable

from ..icmp6 import icmp6_type_name
from ..nd_options import nd_option_name
from .context import Context
from .node import DetailNode, Fields, bit_text

QuotedWalker = Callable[[Context, DetailNode, int, int], None]

_RA_FLAGS = (("icmpv6.nd.ra.flag.m", 0x80, "Managed address configuration"),
             ("icmpv6.nd.ra.flag.o", 0x40, "Other configuration"),
             ("icmpv6.nd.ra.flag.h", 0x20, "Home Agent"),
             ("icmpv6.nd.ra.flag.p", 0x04, "Proxy"))
_NA_FLAGS = (("icmpv6.nd.na.flag.r", 0x80000000, "Router"),
             ("icmpv6.nd.na.flag.s", 0x40000000, "Solicited"),
             ("icmpv6.nd.na.flag.o", 0x20000000, "Override"))
_PREFIX_FLAGS = (("icmpv6.opt.prefix.flag.l", 0x80, "On-link flag(L)"),
                 ("icmpv6.opt.prefix.flag.a", 0x40, "Autonomous address-configuration flag(A)"),
                 ("icmpv6.opt.prefix.flag.r", 0x20, "Router address flag(R)"))
_PRF = {0: "Medium", 1: "High", 2: "Reserved", 3: "Low"}


def add_icmp6(ctx: Context, pos: int, end: int, quoted: QuotedWalker) -> None:
    """The ICMPv6 message from ``pos`` to ``end`` (the IPv6 payload's end)."""
    data = ctx.data
    end = min(end, len(data))
    if end <= pos:
        return
    node = ctx.layer("Internet Control Message Protocol v6", pos, end - pos, "icmpv6")
    ctx.mark("icmp6", node)
    ctx.mark("nd_option", node)
    f = Fields(data, node)
    itype = f.uint(pos, 1, "icmpv6.type", lambda v: f"Type: {icmp6_type_name(v)} ({v})")
    f.uint(pos + 1, 1, "icmpv6.code", "Code: {}")
    f.uint(pos + 2, 2, "icmpv6.checksum", "Checksum: 0x{:04x}", lambda v: f"0x{v:04x}")
    if itype is None:
        return
    p = pos
    if 1 <= itype <= 4:
        what = {2: ("icmpv6.mtu", "MTU: {}"), 4: ("icmpv6.pointer", "Pointer: {}")}
        field, label = what.get(itype, ("icmpv6.reserved", "Reserved: {}"))
        f.uint(p + 4, 4, field, label)
        if end - p > 8:
            quoted(ctx, node, p + 8, end)
    elif itype in (128, 129):
        f.uint(p + 4, 2, "icmpv6.echo.identifier", "Identifier: 0x{:04x}", lambda v: f"0x{v:04x}")
        f.uint(p + 6, 2, "icmpv6.echo.sequence_number", "Sequence: {}")
        f.raw(p + 8, end - p - 8, "data.data", "Data: {}")
    elif itype == 133:
        f.uint(p + 4, 4, "icmpv6.reserved", "Reserved: {}")
        _nd_options(f, p + 8, end)
    elif itype == 134:
        _router_advertisement(f, p)
        _nd_options(f, p + 16, end)
    elif itype == 135:
        f.uint(p + 4, 4, "icmpv6.reserved", "Reserved: {}")
        f.ip6(p + 8, "icmpv6.nd.ns.target_address", "Target Address: {}")
        _nd_options(f, p + 24, end)
    elif itype == 136:
        if f.fits(p + 4, 4):
            flags = node.add("Flags", p + 4, 4, "icmpv6.nd.na.flag")
            v = int.from_bytes(data[p + 4:p + 8], "big")
            flags.label, flags.value = f"Flags: 0x{v:08x}", f"0x{v:08x}"
            for field, mask, name in _NA_FLAGS:
                f.flag(p + 4, 4, mask, field, name, parent=flags)
        f.ip6(p + 8, "icmpv6.nd.na.target_address", "Target Address: {}")
        _nd_options(f, p + 24, end)
    elif itype in (144, 145, 146, 147):
        f.uint(p + 4, 2, "icmpv6.mip6.identifier", lambda v: f"Identifier: {v} (0x{v:04x})")
        if itype == 147:
            if f.fits(p + 6, 2):
                v = int.from_bytes(data[p + 6:p + 8], "big")
                flags = node.add(f"Flags: 0x{v:04x}", p + 6, 2, "icmpv6.mip6.flag", f"0x{v:04x}")
                f.flag(p + 6, 2, 0x8000, "icmpv6.mip6.flag.m", "Managed address configuration",
                       parent=flags)
                f.flag(p + 6, 2, 0x4000, "icmpv6.mip6.flag.o", "Other configuration", parent=flags)
            _nd_options(f, p + 8, end)
        else:
            f.raw(p + 6, 2, "icmpv6.reserved", "Reserved: {}")
        if itype == 145:
            for q in range(p + 8, end - 15, 16):
                f.ip6(q, "icmpv6.mip6.home_agent_address", "Home Agent Address: {}")
    elif end - p > 4:
        f.raw(p + 4, end - p - 4, None, "Message Body: {}")


def _router_advertisement(f: Fields, p: int) -> None:
    f.uint(p + 4, 1, "icmpv6.nd.ra.cur_hop_limit", "Cur hop limit: {}")
    if f.fits(p + 5, 1):
        v = f.data[p + 5]
        flags = f.node.add(f"Flags: 0x{v:02x}, Prf (Default Router Preference): "
                           f"{_PRF[(v >> 3) & 3]}", p + 5, 1, "icmpv6.nd.ra.flag", f"0x{v:02x}")
        for field, mask, name in _RA_FLAGS:
            f.flag(p + 5, 1, mask, field, name, parent=flags)
        flags.add(f"{bit_text(v, 0x18, 8)} = Prf (Default Router Preference): "
                  f"{_PRF[(v >> 3) & 3]} ({(v >> 3) & 3})", p + 5, 1, "icmpv6.nd.ra.flag.prf",
                  str((v >> 3) & 3))
    f.uint(p + 6, 2, "icmpv6.nd.ra.router_lifetime", "Router lifetime (s): {}")
    f.uint(p + 8, 4, "icmpv6.nd.ra.reachable_time", "Reachable time (ms): {}")
    f.uint(p + 12, 4, "icmpv6.nd.ra.retrans_timer", "Retrans timer (ms): {}")


def _nd_options(f: Fields, q: int, end: int) -> None:
    data = f.data
    end = min(end, f.node.end)
    while q + 2 <= end:
        otype, olen = data[q], data[q + 1]
        size = olen * 8 if olen else 2
        name = nd_option_name(otype)
        opt = f.node.add(f"ICMPv6 Option ({name})", q, size, "icmpv6.opt")
        o = Fields(data, opt)
        o.uint(q, 1, "icmpv6.opt.type", f"Type: {name} ({{}})")
        o.uint(q + 1, 1, "icmpv6.opt.length", lambda v: f"Length: {v} ({v * 8} bytes)")
        if not olen:
            return
        if q + size <= end:
            _nd_option_fields(o, otype, q, size)
        q += size


def _nd_option_fields(o: Fields, otype: int, q: int, size: int) -> None:
    data = o.data
    if otype in (1, 2):
        if size == 8:
            mac = ":".join(f"{b:02x}" for b in data[q + 2:q + 8])
            o.node.label = f"ICMPv6 Option ({o.node.label[15:-1]} : {mac})"
            o.node.add(f"Link-layer address: {mac}", q + 2, 6, "icmpv6.opt.linkaddr", mac)
        else:
            o.raw(q + 2, size - 2, "icmpv6.opt.linkaddr", "Link-layer address: {}")
    elif otype == 3 and size == 32:
        o.uint(q + 2, 1, "icmpv6.opt.prefix.length", "Prefix Length: {}")
        v = data[q + 3]
        flags = o.node.add(f"Flag: 0x{v:02x}", q + 3, 1, "icmpv6.opt.prefix.flag", f"0x{v:02x}")
        for field, mask, name in _PREFIX_FLAGS:
            o.flag(q + 3, 1, mask, field, name, parent=flags)
        o.uint(q + 4, 4, "icmpv6.opt.prefix.valid_lifetime", "Valid Lifetime: {}")
        o.uint(q + 8, 4, "icmpv6.opt.prefix.preferred_lifetime", "Preferred Lifetime: {}")
        o.raw(q + 12, 4, "icmpv6.opt.reserved", "Reserved: {}")
        prefix = o.ip6(q + 16, "icmpv6.opt.prefix", "Prefix: {}")
        o.node.label = f"ICMPv6 Option (Prefix information : {prefix}/{data[q + 2]})"
    elif otype in (5, 7, 8) and size == 8:
        o.raw(q + 2, 2, "icmpv6.opt.reserved", "Reserved: {}")
        if otype == 5:
            o.uint(q + 4, 4, "icmpv6.opt.mtu", "MTU: {}")
        elif otype == 7:
            o.uint(q + 4, 4, "icmpv6.opt.advertisement_interval", "Advertisement Interval: {}")
        else:
            o.uint(q + 4, 2, "icmpv6.opt.home_agent_preference", "Home Agent Preference: {}")
            o.uint(q + 6, 2, "icmpv6.opt.home_agent_lifetime", "Home Agent Lifetime: {}")
    elif size > 2:
        o.raw(q + 2, size - 2, None, "Data: {}")
