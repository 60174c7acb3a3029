"""pcapng blocks built by hand with struct from the pcapng specification
(draft-ietf-opsawg-pcapng): for the reader's tests and for captures the
tests need in layouts our writer never makes (several sections, both byte
orders, interfaces defined between packets, SPB and the obsolete PB)."""

from __future__ import annotations

import struct


def pad4(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def block(btype: int, body: bytes, order: str = "<", length: int | None = None,
          trailer: int | None = None) -> bytes:
    body = pad4(body)
    total = 12 + len(body)
    return (struct.pack(order + "II", btype, total if length is None else length) + body
            + struct.pack(order + "I", total if trailer is None else trailer))


def options(opts: list[tuple[int, bytes]], order: str = "<") -> bytes:
    if not opts:
        return b""
    out = b"".join(struct.pack(order + "HH", code, len(v)) + pad4(v) for code, v in opts)
    return out + struct.pack(order + "HH", 0, 0)


def shb(order: str = "<", major: int = 1) -> bytes:
    return block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1), order)


def idb(linktype: int, snaplen: int = 0, opts: list[tuple[int, bytes]] | None = None,
        order: str = "<") -> bytes:
    return block(1, struct.pack(order + "HHI", linktype, 0, snaplen) + options(opts or [], order),
                 order)


def epb(iface: int, units: int, data: bytes, wirelen: int | None = None, order: str = "<",
        opts: list[tuple[int, bytes]] | None = None) -> bytes:
    head = struct.pack(order + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(data),
                       len(data) if wirelen is None else wirelen)
    return block(6, head + pad4(data) + options(opts or [], order), order)


def spb(data: bytes, wirelen: int, order: str = "<") -> bytes:
    return block(3, struct.pack(order + "I", wirelen) + data, order)


def old_pb(iface: int, units: int, data: bytes, order: str = "<") -> bytes:
    head = struct.pack(order + "HHIIII", iface, 7, units >> 32, units & 0xFFFFFFFF, len(data),
                       len(data))
    return block(2, head + data, order)




def isb(iface: int, order: str = "<") -> bytes:
    """An Interface Statistics Block (type 5, no options): a block readers skip."""
    return block(5, struct.pack(order + "III", iface, 0, 0), order)


def sections_pcapng(frames: list[tuple[float, bytes]]) -> bytes:
    """``frames`` (time, Ethernet bytes) in two sections of every packet block
    kind. Section 1, little-endian: interface 0 (microseconds) then, after a
    third of the frames and an ISB, interface 1 (nanoseconds); frames alternate
    between them, every seventh as an obsolete PB, one as an SPB (no time).
    Section 2, big-endian: one interface with 2^-20 s units and an if_tsoffset
    of one second, a tenth of the frames before its IDB is repeated."""
    third, half = len(frames) // 3, len(frames) // 2
    out = [shb("<"), idb(1)]
    for i, (ts, data) in enumerate(frames[:half]):
        if i == third:
            out += [isb(0), idb(1, opts=[(9, b"\x09")])]
        if i < third:
            out.append(epb(0, round(ts * 1e6), data))
        elif i == third + 1:
            out.append(spb(data, len(data)))
        elif i % 7 == 0:
            out.append(old_pb(1, round(ts * 1e9), data))
        else:
            out.append(epb(i % 2, round(ts * (1e9 if i % 2 else 1e6)), data))
    out += [shb(">"), idb(1, opts=[(9, b"\x94"), (14, struct.pack(">q", 1))], order=">")]
    for ts, data in frames[half:]:
        out.append(epb(0, round((ts - 1) * (1 << 20)), data, order=">"))
    return b"".join(out)
