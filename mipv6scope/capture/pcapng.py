"""Streaming reader for pcapng files: sections, interfaces, EPB, SPB and the obsolete PB."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from .frame import (
    ISSUE_CORRUPT_BLOCK,
    MAX_CAPLEN,
    CaptureError,
    CaptureIssue,
    Frame,
    new_frame,
)
from .pcap import EmptyRun

if TYPE_CHECKING:
    from .reader import ByteSource

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

BT_SHB = 0x0A0D0D0A
BT_IDB = 0x00000001
BT_PB = 0x00000002  # obsolete Packet Block
BT_SPB = 0x00000003
BT_EPB = 0x00000006
_PACKET_BLOCKS = (BT_EPB, BT_SPB, BT_PB)
_MIN_LEN = {BT_IDB: 20, BT_PB: 32, BT_SPB: 16, BT_EPB: 32}
_BLOCK_NAMES = {BT_SHB: "Section Header Block", BT_IDB: "Interface Description Block",
                BT_PB: "Packet Block", BT_SPB: "Simple Packet Block",
                BT_EPB: "Enhanced Packet Block"}

OPT_ENDOFOPT = 0
OPT_IF_TSRESOL = 9
OPT_IF_TSOFFSET = 14

MAX_BLOCK_LEN = 16 << 20
BATCH_FRAMES = 4096  # packets handed on at a time at most (`walk_blocks`)
# (number, ts, caplen, wirelen, start in the batch's buffer, link type, interface, section)
PacketRow = tuple[int, float, int, int, int, int, int, int]
_BOM_LE = b"\x4d\x3c\x2b\x1a"
_BOM_BE = b"\x1a\x2b\x3c\x4d"


class Interface(NamedTuple):
    """What a section's IDB says about its packets' link type and timestamps."""

    linktype: int
    snaplen: int
    ts_divisor: int  # timestamp units per second
    ts_offset_units: int  # if_tsoffset expressed in timestamp units


class Resume(NamedTuple):
    """What a walk needs to take up a pcapng stream at a packet block in the
    middle of a file (`walk_blocks`' ``resume``): the section's byte order,
    the interfaces its IDBs defined before that block, and the section's
    count as the whole walk keeps it."""

    big_endian: bool
    interfaces: tuple[Interface, ...]
    section: int


# (stream offset, BT_SHB or BT_IDB, the section's byte order is big-endian or the IDB's Interface)
LayoutEntry = tuple[int, int, "bool | Interface"]


class _Order:
    """Struct unpackers for one byte order."""

    def __init__(self, order: str) -> None:
        self.block = struct.Struct(order + "II").unpack_from
        self.u32 = struct.Struct(order + "I").unpack_from
        self.epb = struct.Struct(order + "IIIII").unpack_from
        self.pb = struct.Struct(order + "HHIIII").unpack_from
        self.idb = struct.Struct(order + "HHI").unpack_from
        self.shb = struct.Struct(order + "HH").unpack_from
        self.opt = struct.Struct(order + "HH").unpack_from
        self.i64 = struct.Struct(order + "q").unpack_from


_LE = _Order("<")
_BE = _Order(">")


def _order_for(bom: bytes) -> _Order | None:
    return _LE if bom == _BOM_LE else _BE if bom == _BOM_BE else None


def pcapng_order(big_endian: bool) -> _Order:
    """The struct readers of a section in that byte order."""
    return _BE if big_endian else _LE


def parse_idb(buf: bytes, pos: int, blen: int, o: _Order) -> Interface:
    """Interface fields and timestamp options of the IDB at ``buf[pos:pos+blen]``."""
    linktype, _reserved, snaplen = o.idb(buf, pos + 8)
    divisor, offset = 1_000_000, 0
    p, stop = pos + 16, pos + blen - 4
    while p + 4 <= stop:
        code, length = o.opt(buf, p)
        value = p + 4
        if code == OPT_ENDOFOPT or value + length > stop:
            break
        if code == OPT_IF_TSRESOL and length >= 1:
            v = buf[value]
            divisor = 1 << (v & 0x7F) if v & 0x80 else 10 ** v
        elif code == OPT_IF_TSOFFSET and length >= 8:
            offset = o.i64(buf, value)[0]
        p = value + ((length + 3) & ~3)
    return Interface(linktype, snaplen, divisor, offset * divisor)


def _check_shb(buf: bytes, pos: int) -> tuple[_Order | None, int, str | None]:
    """(byte order, block length, problem) for the SHB at ``pos`` (12 bytes present)."""
    o = _order_for(buf[pos + 8:pos + 12])
    if o is None:
        return None, 0, f"bad byte-order magic {buf[pos + 8:pos + 12].hex()}"
    blen = o.u32(buf, pos + 4)[0]
    if blen < 28 or blen % 4 or blen > MAX_BLOCK_LEN:
        return o, blen, f"impossible block length {blen}"
    return o, blen, None


def _packet_problem(buf: bytes, pos: int, blen: int, caplen: int, iface: int, n_ifaces: int,
                    o: _Order) -> str | None:
    """What is wrong with the EPB/PB at ``pos`` (whole block in ``buf``), if anything."""
    if caplen > blen - 32 or caplen > MAX_CAPLEN:
        return f"captured length {caplen} does not fit the block"
    if iface >= n_ifaces:
        return f"interface {iface} is not defined ({n_ifaces} in section)"
    trailer = o.u32(buf, pos + blen - 4)[0]
    if trailer != blen:
        return f"trailing length {trailer} != leading length {blen}"
    return None


class PcapngParser:
    """A pcapng stream whose first Section Header Block is valid."""

    def __init__(self, src: ByteSource, head: bytes, shown: str) -> None:
        head = self._fill(src, head, 12, shown)
        o, blen, problem = _check_shb(head, 0)
        if problem is not None:
            raise CaptureError(f"{shown}: corrupt pcapng section header ({problem})")
        head = self._fill(src, head, blen, shown)
        major, minor = o.shb(head, 12)
        if major != 1:
            raise CaptureError(f"{shown}: unsupported pcapng version {major}.{minor}")
        self._src = src
        self._head = head

    @staticmethod
    def _fill(src: ByteSource, head: bytes, need: int, shown: str) -> bytes:
        while len(head) < need:
            more = src.read()
            if not more:
                raise CaptureError(f"{shown}: pcapng section header truncated "
                                   f"({len(head)} of {need} bytes)")
            head += more
        return head

    def frames(self, issues: list[CaptureIssue]) -> Iterator[Frame]:
        """Yield the packets of every section; append an issue and stop at damage."""
        for buf, _base, rows in self.batches(issues):
            for number, ts, caplen, wirelen, start, linktype, iface, _section in rows:
                yield new_frame((number, ts, caplen, wirelen, linktype, buf[start:start + caplen], iface))

    def batches(self, issues: list[CaptureIssue], read_size: int | None = None,
                batch_frames: int = BATCH_FRAMES, layout: list[LayoutEntry] | None = None
                ) -> Iterator[tuple[bytes, int, list[PacketRow]]]:
        """`walk_blocks` from where the section header left the stream (once)."""
        head, self._head = self._head, b""
        return walk_blocks(self._src, head, issues, read_size, batch_frames, layout=layout)



def walk_blocks(src: ByteSource, buf: bytes, issues: list[CaptureIssue], read_size: int | None = None,
                batch_frames: int = BATCH_FRAMES, *, resume: Resume | None = None, base: int = 0,
                number: int = 0, layout: list[LayoutEntry] | None = None
                ) -> Iterator[tuple[bytes, int, list[PacketRow]]]:
    """Walk the pcapng stream whose first bytes are ``buf`` and the rest
    ``src``: yield ``(buffer, stream offset of buffer[0], rows)`` with at most
    ``batch_frames`` packet rows (`PacketRow`) at a time, each packet's
    captured bytes ``buffer[start:start + caplen]``. The one walk every
    reader of pcapng uses (frames, the columnar chunks, the frame index): on
    damage (a bad block, an implausible run of empty packets, a cut-short
    end) it appends the capture issue after the rows before it and stops.
    ``read_size`` bytes are read at a time (None: the source's default).

    A part of a file (`columns.range_chunks`) is walked from a packet block
    at stream offset ``base``, after ``number`` packets, in the state
    ``resume`` gives. ``layout``, when
    given, gets a `LayoutEntry` for every Section Header and Interface
    Description Block walked (`columns.record_ranges`)."""
    read = src.read if read_size is None else lambda: src.read(read_size)
    pos = section = 0
    o = _LE
    ifaces: list[Interface] = []
    if resume is not None:
        o = pcapng_order(resume.big_endian)
        ifaces = list(resume.interfaces)
        section = resume.section
    block, epb, u32 = o.block, o.epb, o.u32
    n_ifaces = len(ifaces)
    problem: str | None = None
    empty = EmptyRun()
    while True:
        end = len(buf)
        rows: list[PacketRow] = []
        keep = rows.append
        stop: CaptureIssue | None = None
        while pos + 12 <= end and len(rows) < batch_frames:
            btype, blen = block(buf, pos)
            nxt = pos + blen
            # fast path: a well-formed EPB, by far the most common block
            if btype == BT_EPB and 32 <= blen <= MAX_BLOCK_LEN and not blen & 3:
                if nxt > end:
                    break
                iface, hi, lo, caplen, wirelen = epb(buf, pos + 8)
                if (caplen > blen - 32 or caplen > MAX_CAPLEN or iface >= n_ifaces
                        or u32(buf, nxt - 4)[0] != blen):
                    problem = _packet_problem(buf, pos, blen, caplen, iface, n_ifaces, o)
                    break
                lt, _snap, div, off = ifaces[iface]
                number += 1
                if not caplen and empty.add(number, wirelen, buf[pos + 8:pos + 28], base + pos):
                    stop = empty.issue(src, "packet blocks")
                    break
                keep((number, (((hi << 32) | lo) + off) / div, caplen, wirelen, pos + 28, lt, iface, section))
                pos = nxt
                continue
            if btype == BT_SHB:
                o, blen, problem = _check_shb(buf, pos)
                if problem is not None:
                    break
                block, epb, u32 = o.block, o.epb, o.u32
                nxt = pos + blen
            elif blen < _MIN_LEN.get(btype, 12) or blen & 3 or blen > MAX_BLOCK_LEN:
                problem = f"impossible block length {blen}"
                break
            if nxt > end:
                break
            if u32(buf, nxt - 4)[0] != blen:
                problem = f"trailing length {u32(buf, nxt - 4)[0]} != leading length {blen}"
                break
            if btype == BT_IDB:
                ifaces.append(parse_idb(buf, pos, blen, o))
                n_ifaces += 1
                if layout is not None:
                    layout.append((base + pos, BT_IDB, ifaces[-1]))
            elif btype == BT_SPB:
                if not ifaces:
                    problem = "interface 0 is not defined (0 in section)"
                    break
                wirelen = u32(buf, pos + 8)[0]
                lt, snap = ifaces[0][:2]
                caplen = min(wirelen, blen - 16, snap or MAX_CAPLEN)
                number += 1
                if not caplen and empty.add(number, wirelen, buf[pos + 4:pos + 12], base + pos):
                    stop = empty.issue(src, "packet blocks")
                    break
                # an SPB has no timestamp; 0.0 is what Wireshark shows too
                keep((number, 0.0, caplen, wirelen, pos + 12, lt, 0, section))
            elif btype == BT_PB:
                iface, _drops, hi, lo, caplen, wirelen = o.pb(buf, pos + 8)
                problem = _packet_problem(buf, pos, blen, caplen, iface, n_ifaces, o)
                if problem is not None:
                    break
                lt, _snap, div, off = ifaces[iface]
                number += 1
                if not caplen and empty.add(number, wirelen, buf[pos + 8:pos + 28], base + pos):
                    stop = empty.issue(src, "packet blocks")
                    break
                keep((number, (((hi << 32) | lo) + off) / div, caplen, wirelen, pos + 28, lt, iface, section))
            elif btype == BT_SHB:
                major, minor = o.shb(buf, pos + 12)
                if major != 1:
                    problem = f"unsupported pcapng version {major}.{minor}"
                    break
                ifaces = []
                n_ifaces = 0
                section += 1
                if layout is not None:
                    layout.append((base + pos, BT_SHB, o is _BE))
            pos = nxt
        if rows:
            yield buf, base, rows
        if problem is not None:
            btype = block(buf, pos)[0]
            name = _BLOCK_NAMES.get(btype, f"block type 0x{btype:08x}")
            stop = CaptureIssue(ISSUE_CORRUPT_BLOCK,
                                f"{name} at {src.where(base + pos)}: {problem}; reading stopped",
                                number + 1 if btype in _PACKET_BLOCKS else None)
        if stop is not None:
            issues.append(stop)
            src.close()
            return
        if len(rows) == batch_frames:
            continue  # the rest of the buffer first
        chunk = read()
        if not chunk:
            break
        base += pos
        buf = buf[pos:] + chunk
        pos = 0
    src.close()
    issue = _end_issue(src, buf, pos, base, number, o)
    if issue is not None:
        issues.append(issue)


def _end_issue(src: ByteSource, buf: bytes, pos: int, base: int, number: int,
               o: _Order) -> CaptureIssue | None:
    """The issue for the end of a pcapng stream: None at a clean end."""
    have = len(buf) - pos
    if not have:
        return src.eof_issue(base + pos, number + 1)
    # with fewer than 4 bytes the block type, so whether a packet was cut, is unknown
    btype = o.u32(buf, pos)[0] if have >= 4 else None
    if have < 8:
        what = f"{have} of 8 block header bytes"
    else:
        if btype == BT_SHB and have >= 12:
            o = _order_for(buf[pos + 8:pos + 12]) or o
        what = f"{have} of {o.u32(buf, pos + 4)[0]} bytes"
    name = "block" if btype is None else _BLOCK_NAMES.get(btype, f"block type 0x{btype:08x}")
    frame = number + 1 if btype in _PACKET_BLOCKS else None
    return src.cut_issue(f"{name} at {src.where(base + pos)} is cut short: {what}", frame)

