"""The Mobility Header (RFC 6275 6.1): common fields, each message's fields,
and every mobility option with its fields, under Wireshark's field names."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..mh import MESSAGE_DATA_END, MH_COMMON_LEN
from ..names import (
    ACCESS_TECHNOLOGY_NAMES,
    BA_STATUS_NAMES,
    BE_STATUS_NAMES,
    HANDOFF_INDICATOR_NAMES,
    IPV4_ACK_STATUS_NAMES,
    MH_OPTION_NAMES,
    MH_TYPE_NAMES,
    MN_ID_SUBTYPE_NAMES,
    name_or_unknown,
)
from .context import Context, proto_name
from .node import Fields, bit_text

# (field, mask, name) of the BU flags (16 bits) and the BA flags (8 bits)
_BU_FLAGS = (("mip6.bu.a_flag", 0x8000, "Acknowledge (A) flag"),
             ("mip6.bu.h_flag", 0x4000, "Home Registration (H) flag"),
             ("mip6.bu.l_flag", 0x2000, "Link-Local Compatibility (L) flag"),
             ("mip6.bu.k_flag", 0x1000, "Key Management Compatibility (K) flag"),
             ("mip6.bu.m_flag", 0x0800, "MAP Registration Compatibility (M) flag"),
             ("mip6.nemo.bu.r_flag", 0x0400, "Mobile Router (R) flag"),
             ("mip6.bu.p_flag", 0x0200, "Proxy Registration (P) flag"),
             ("mip6.bu.f_flag", 0x0100, "Forcing UDP encapsulation (F) flag"),
             ("mip6.bu.t_flag", 0x0080, "TLV-header format (T) flag"),
             ("mip6.bu.b_flag", 0x0040, "Bulk-Binding-Update flag (B)"))
_BA_FLAGS = (("mip6.ba.k_flag", 0x80, "Key Management Compatibility (K) flag"),
             ("mip6.nemo.ba.r_flag", 0x40, "Mobile Router (R) flag"),
             ("mip6.ba.p_flag", 0x20, "Proxy Registration (P) flag"),
             ("mip6.ba.t_flag", 0x10, "TLV-header format (T) flag"),
             ("mip6.ba.b_flag", 0x08, "Bulk-Binding-Update flag (B)"))

# Wireshark's abbreviations of the mobility options it decodes (mip6.options.<abbrev>)
_OPTION_ABBREV = {0: "pad1", 1: "padn", 2: "bra", 3: "acoa", 4: "ni", 5: "bad", 6: "mnp", 8: "mnid",
                  22: "hnp", 23: "hi", 24: "att", 25: "mnlli", 26: "lla", 27: "ts", 29: "ipv4ha",
                  30: "ipv4aa", 32: "ipv4coa", 33: "grek"}


def _named(table: dict[int, str], what: str) -> Callable[[int], str]:
    return lambda v: f"{what}: {name_or_unknown(table, v)} ({v})"


def _lifetime(v: int) -> str:
    return f"Lifetime: {v} ({v * 4} seconds)"


def _hex(width: int) -> Callable[[int], str]:
    return lambda v: f"0x{v:0{width}x}"


def add_mobility_header(ctx: Context, pos: int, stop: int) -> None:
    """The Mobility Header at ``pos``; ``stop`` ends the IPv6 payload (or the
    ESP payload read as NULL encryption)."""
    data = ctx.data
    stop = min(stop, len(data))
    if stop <= pos:
        return
    length = (data[pos + 1] + 1) * 8 if stop - pos >= 2 else stop - pos
    node = ctx.layer("Mobile IPv6", pos, min(length, stop - pos), "mipv6")
    ctx.mark("mh", node)
    f = Fields(data, node)
    f.uint(pos, 1, "mip6.proto", lambda v: f"Payload protocol: {proto_name(v)} ({v})")
    f.uint(pos + 1, 1, "mip6.hlen", lambda v: f"Header length: {v} ({(v + 1) * 8} bytes)")
    mtype = f.uint(pos + 2, 1, "mip6.mhtype", _named(MH_TYPE_NAMES, "Mobility Header Type"))
    f.uint(pos + 3, 1, "mip6.reserved", "Reserved: 0x{:02x}", _hex(2))
    f.uint(pos + 4, 2, "mip6.csum", lambda v: f"Checksum: 0x{v:04x} {_checksum_verdict(ctx)}",
           _hex(4))
    if mtype is None:
        return
    name = name_or_unknown(MH_TYPE_NAMES, mtype)
    node.label = f"Mobile IPv6 ({name})"
    data_end = MESSAGE_DATA_END.get(mtype)
    if data_end is None:
        f.raw(pos + MH_COMMON_LEN, length - MH_COMMON_LEN, None, "Message Data: {}")
        return
    msg = node.add(name, pos + MH_COMMON_LEN, data_end - MH_COMMON_LEN)
    _MESSAGES[mtype](Fields(data, msg), pos)
    if node.end > pos + data_end:
        opts = node.add("Mobility Options", pos + data_end, node.end - pos - data_end)
        ctx.mark("mh_option", opts)
        _options(Fields(data, opts), pos + data_end, opts.end)


def _checksum_verdict(ctx: Context) -> str:
    mh = ctx.decoded.mh if not ctx.quoted else None
    if not mh or mh.get("checksum_ok") is None:
        return "[unverified]"
    if mh["checksum_ok"]:
        return f"[correct, {mh['checksum_form']} form]"
    if mh.get("checksum_form") == "on-wire":  # RFC 6275 6.1.1: the home address belongs there
        return "[incorrect: verifies only over the care-of address]"
    return "[incorrect]"


def _brr(f: Fields, p: int) -> None:
    f.uint(p + 6, 2, None, "Reserved: {}")


def _init(cookie_field: str, cookie_name: str) -> Callable[[Fields, int], None]:
    def fields(f: Fields, p: int) -> None:
        f.uint(p + 6, 2, None, "Reserved: {}")
        f.uint(p + 8, 8, cookie_field, f"{cookie_name}: 0x{{:016x}}", _hex(16))
    return fields


def _test(prefix: str, what: str) -> Callable[[Fields, int], None]:
    def fields(f: Fields, p: int) -> None:
        f.uint(p + 6, 2, f"mip6.{prefix}.nindex", f"{what} Nonce Index: {{}}")
        f.uint(p + 8, 8, f"mip6.{prefix}.cookie", f"{what} Init Cookie: 0x{{:016x}}", _hex(16))
        f.uint(p + 16, 8, f"mip6.{prefix}.token", f"{what} Keygen Token: 0x{{:016x}}", _hex(16))
    return fields


def _bu(f: Fields, p: int) -> None:
    f.uint(p + 6, 2, "mip6.bu.seqnr", "Sequence number: {}")
    for field, mask, name in _BU_FLAGS:
        f.flag(p + 8, 2, mask, field, name)
    f.uint(p + 10, 2, "mip6.bu.lifetime", _lifetime)


def _ba(f: Fields, p: int) -> None:
    f.uint(p + 6, 1, "mip6.ba.status", _named(BA_STATUS_NAMES, "Status"))
    for field, mask, name in _BA_FLAGS:
        f.flag(p + 7, 1, mask, field, name)
    f.uint(p + 8, 2, "mip6.ba.seqnr", "Sequence number: {}")
    f.uint(p + 10, 2, "mip6.ba.lifetime", _lifetime)


def _be(f: Fields, p: int) -> None:
    f.uint(p + 6, 1, "mip6.be.status", _named(BE_STATUS_NAMES, "Status"))
    f.uint(p + 7, 1, None, "Reserved: {}")
    f.ip6(p + 8, "mip6.be.haddr", "Home Address: {}")


_MESSAGES: dict[int, Callable[[Fields, int], None]] = {
    0: _brr, 1: _init("mip6.hoti.cookie", "Home Init Cookie"),
    2: _init("mip6.coti.cookie", "Care-of Init Cookie"), 3: _test("hot", "Home"),
    4: _test("cot", "Care-of"), 5: _bu, 6: _ba, 7: _be,
}


def _options(f: Fields, q: int, stop: int) -> None:
    data = f.data
    parent = f.node
    while q < stop:
        otype = data[q]
        abbrev = _OPTION_ABBREV.get(otype)
        name = name_or_unknown(MH_OPTION_NAMES, otype)
        if otype == 0:
            parent.add("MIPv6 Option - Pad1", q, 1, "mip6.options.pad1")
            q += 1
            continue
        olen = data[q + 1] if q + 1 < stop else None
        size = 2 + olen if olen is not None else 1
        field = f"mip6.options.{abbrev}" if abbrev else None
        opt = parent.add(f"MIPv6 Option - {name}" if abbrev else f"Unknown (0x{otype:02x})", q, size,
                         field)
        o = Fields(data, opt)
        o.uint(q, 1, None if abbrev else "mip6.mobility_opt",
               lambda v, name=name: f"Mobility Option: {name}"
               + ("" if name.startswith("Unknown") else f" ({v})"))
        if olen is None:
            return
        o.uint(q + 1, 1, "mip6.mobility_opt.len", "Length: {}")
        if q + size <= stop:
            _option_fields(o, otype, q, olen)
        q += size


def _timestamp(v: int) -> str:
    secs, frac = v >> 16, (v & 0xFFFF) / 65536
    try:
        day = time.strftime("%b %d, %Y %H:%M:%S", time.gmtime(secs))
    except (OverflowError, OSError, ValueError):
        return f"Timestamp: 0x{v:016x}"
    return f"Timestamp: {day}.{round(frac * 1e9):09d} UTC"


def _identifier(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.hex()
    return text if text.isprintable() else raw.hex()


def _option_fields(o: Fields, otype: int, q: int, olen: int) -> None:
    """The fields of one option whose bytes all lie in the header."""
    data = o.data
    if otype == 1:
        o.raw(q + 2, olen, "mip6.padn", "PadN: {}")
    elif otype == 2 and olen == 2:
        o.uint(q + 2, 2, "mip6.bra.interval", lambda v: f"Refresh interval: {v} ({v * 4} seconds)")
    elif otype == 3 and olen == 16:
        o.ip6(q + 2, "mip6.acoa.acoa", "Alternate care-of address: {}")
    elif otype == 4 and olen == 4:
        o.uint(q + 2, 2, "mip6.ni.hni", "Home nonce index: {}")
        o.uint(q + 4, 2, "mip6.ni.cni", "Care-of nonce index: {}")
    elif otype == 5:
        o.raw(q + 2, olen, "mip6.bad.auth", "Authenticator: {}")
    elif otype in (6, 22) and olen == 18:
        what = "Mobile Network Prefix" if otype == 6 else "Home Network Prefix"
        o.uint(q + 2, 1, None, "Reserved: {}")
        o.uint(q + 3, 1, "mip6.nemo.mnp.pfl", f"{what} Length: {{}}")
        o.ip6(q + 4, "mip6.nemo.mnp.mnp", f"{what}: {{}}")
    elif otype == 8 and olen >= 1:
        o.uint(q + 2, 1, "mip6.mnid.subtype", _named(MN_ID_SUBTYPE_NAMES, "Subtype"))
        if olen > 1:
            ident = _identifier(bytes(data[q + 3:q + 2 + olen]))
            o.node.add(f"Identifier: {ident}", q + 3, olen - 1, "mip6.mnid.identifier", ident)
    elif otype in (23, 24) and olen == 2:
        table, what, field = ((HANDOFF_INDICATOR_NAMES, "Handoff Indicator", "mip6.hi") if otype == 23
                              else (ACCESS_TECHNOLOGY_NAMES, "Access Technology Type", "mip6.att"))
        o.uint(q + 2, 1, f"{field}.reserved", "Reserved: {}")
        o.uint(q + 3, 1, field, _named(table, what))
    elif otype == 25 and olen >= 2:
        o.uint(q + 2, 2, "mip6.mnlli.reserved", "Reserved: {}")
        o.raw(q + 4, olen - 2, "mip6.mnlli.lli", "Link-layer Identifier: {}")
    elif otype == 26 and olen == 16:
        o.ip6(q + 2, "mip6.lila_lla", "Link-local Address: {}")
    elif otype == 27 and olen == 8:
        o.uint(q + 2, 8, "mip6.timestamp_tmp", _timestamp, lambda v: _timestamp(v)[11:])
    elif otype == 29 and olen == 6:
        o.uint(q + 2, 1, "mip6.ipv4ha.preflen",
               lambda v: f"{bit_text(v, 0xFC, 8)} = Prefix-len: {v >> 2}", lambda v: str(v >> 2))
        o.flag(q + 2, 2, 0x0200, "mip6.ipv4ha.p_flag", "mobile network prefix (P) flag")
        o.ip4(q + 4, "mip6.ipv4ha.ha", "IPv4 Home Address: {}")
    elif otype == 30 and olen == 6:
        o.uint(q + 2, 1, "mip6.ipv4aa.sts", _named(IPV4_ACK_STATUS_NAMES, "Status"))
        o.uint(q + 3, 1, None, lambda v: f"{bit_text(v, 0xFC, 8)} = Prefix-len: {v >> 2}",
               lambda v: str(v >> 2))
        o.ip4(q + 4, None, "IPv4 Home Address: {}")
    elif otype == 32 and olen == 6:
        o.uint(q + 2, 2, "mip6.ipv4coa.reserved", "Reserved: {}")
        o.ip4(q + 4, "mip6.ipv4coa.addr", "IPv4 Care-of address: {}")
    elif otype == 33 and olen in (2, 6):
        o.uint(q + 2, 2, "mip6.ipv4dra.reserved", "Reserved: {}")
        if olen == 6:
            o.uint(q + 4, 4, "mip6.gre_key", "GRE Key: {}")
    elif olen:
        o.raw(q + 2, olen, None, "Data: {}")

