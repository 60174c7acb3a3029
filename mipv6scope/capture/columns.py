"""The columnar frame pass: a capture as numpy columns, chunk by chunk.

`chunks(reader)` walks the records of an open capture (pcap or pcapng, plain,
gzip or a pipe) in chunks (`CHUNK_BYTES` read at a time, at most
`CHUNK_FRAMES` frames) and gives, per chunk, the chunk's bytes and
arrays of frame number, timestamp (exactly the float the record readers
give), captured and wire length, where each frame's bytes start in the chunk,
link type and interface. Walking is a short Python loop per record (each
record's place depends on the one before); everything after it is numpy.

`gather(chunk, table)` then reads the fixed-layout fields of all frames of the
chunk at once with fancy indexing: the link header (Ethernet with up to
`MAX_VLAN_TAGS` VLAN tags, raw IPv6, null/loop, Linux cooked SLL and SLL2),
the outer IPv6 header, for IPv6-in-IPv6 the inner header, the canonical
RFC 6275 route-optimised layouts (`analysis.classify`), TCP/UDP ports, and
verifies every TCP/UDP checksum, vectorised. It gives `Columns`: the fields a
`DataPacket` needs for every frame the fast layouts explain, with addresses
as small integer ids into one `AddressTable`, and for every other frame a
reason code (`REASONS`): the *mask*, the frames that must go to the full
decoder. The mask is what `analysis.classify.FastPath.fields` returns None
for (tests/capture/test_columns.py checks it frame by frame), except IPv6
over 802.2 LLC/SNAP and more than `MAX_VLAN_TAGS` VLAN tags, which are masked
here and decoded in full (the same events).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import IPv6Address
from typing import NamedTuple

import numpy as np

from ..decode.addresses import address
from ..decode.issues import MAX_DATE_TS, MIN_DATE_TS
from .frame import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)
from .link import ETHERTYPE_IPV6, NULL_FAMILIES_IPV6, VLAN_TPIDS
from .pcap import FILE_HEADER_LEN, PcapParser
from .pcapng import (
    BT_EPB,
    BT_PB,
    BT_SHB,
    BT_SPB,
    Interface,
    LayoutEntry,
    PacketRow,
    PcapngParser,
    Resume,
    pcapng_order,
    walk_blocks,
)
from .reader import ByteSource, CaptureReader

CHUNK_BYTES = 4 << 20  # bytes read at a time; a chunk holds whole records from them
CHUNK_FRAMES = 1 << 14  # at most this many frames per chunk (memory stays bounded)
MAX_VLAN_TAGS = 2

NH_TCP, NH_UDP, NH_IPV6, NH_ROUTING, NH_DSTOPTS = 6, 17, 41, 43, 60
# inner next headers that need the full decoder (`classify.NOT_PLAIN_DATA`)
NOT_PLAIN_DATA = np.array(sorted((0, 43, 44, 50, 51, 58, 60, 135, 62, NH_IPV6)))
_NOT_PLAIN = np.isin(np.arange(256), NOT_PLAIN_DATA)  # by next header value
# ext[1:8] of the canonical HAO header and ext[1:4] of the RH2 one, as the
# big-endian integers of ext[0:8] and ext[0:4] without their first byte
_HAO_LAYOUT, _HAO_MASK = 0x02010200_00C910, (1 << 56) - 1
_RH2_LAYOUT, _RH2_MASK = 0x020201, (1 << 24) - 1

# Kinds of data packet (`classify.TUNNELLED`, `ROUTE_OPTIMISED`, `PLAIN`)
TUNNELLED, ROUTE_OPTIMISED, PLAIN = 0, 1, 2

# Why a frame is masked (goes to the full decoder); 0: it is not.
REASONS = (
    "fast",                     # 0: not masked
    "cut by snap length",       # caplen < wirelen
    "time not a date",          # outside 1970-9999 or NaN
    "link layer not fast",      # not IPv6, or a link layout the gather does not read
    "IPv6 header short",        # fewer than 40 bytes, version not 6, payload length 0 or past the frame
    "next header not fast",     # extension headers (other than canonical HAO/RH2), ICMPv6, MH, ESP, ...
    "inner header not fast",    # tunnelled: inner header short or odd, or its next header not data
    "segment short",            # TCP/UDP shorter than its header
    "UDP length or zero checksum",
    "bad TCP/UDP checksum",
)
(R_FAST, R_SNAPLEN, R_TIME, R_LINK, R_IP6, R_NEXT, R_INNER, R_SEGMENT, R_UDP,
 R_CHECKSUM) = range(len(REASONS))
NO_ID = -1  # no address (hao/rh2 absent) or no port


@dataclass
class Chunk:
    """Whole records of a capture read at once: ``data`` holds them, the
    arrays (one row per frame, in file order) say where each frame is."""

    data: bytes
    number: np.ndarray    # int64, 1-based in the file
    ts: np.ndarray        # float64 epoch seconds, as the record readers give
    caplen: np.ndarray    # int64
    wirelen: np.ndarray   # int64
    start: np.ndarray     # int64, where the frame's bytes start in ``data``
    linktype: np.ndarray  # int64
    interface: np.ndarray  # int64 (pcapng interface slot; 0 for pcap)

    def __len__(self) -> int:
        return len(self.number)

    def frame_bytes(self, i: int) -> bytes:
        """The captured bytes of row ``i``."""
        start = int(self.start[i])
        return self.data[start:start + int(self.caplen[i])]


class StableIds:
    """Rows of a 2-D integer array (``width`` columns) -> small integer ids
    that stay the same from call to call, found with numpy: the 64-bit mixes
    (`mix_rows`) of the values met are kept in an open-addressing hash
    table (arrays; linear probing, vectorised), each row is looked up there
    and checked whole against the value its id was given for, so an id
    always stands for one value. Rows not found get new ids, one per
    distinct value (`unique_rows`); a value whose mix another value has
    (one met before, or one new in the same call) is given a new id each
    call instead of being remembered."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.forget()

    def forget(self) -> None:
        """Start the ids again from 0."""
        self.count = 0      # ids given
        self.indexed = 0    # of them in the hash table
        self._slots(1 << 10)
        self.columns = np.zeros((self.width, 1 << 10), np.int64)  # by id (the first ``count``)

    def _slots(self, size: int) -> None:
        self.mixes = np.zeros(size, np.uint64)
        self.ids = np.full(size, -1, np.int64)  # -1: an empty slot

    def of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the id (int64) of each of ``rows``, the index in ``rows`` of one
        row of each value given a new id, in id order)."""
        mix = mix_rows(rows)
        found = self._find(mix)
        taken = found >= 0  # the mix of a remembered value
        at = np.maximum(found, 0)
        same = taken.copy()
        for column, known in zip(rows.T, self.columns, strict=True):  # the whole value
            same &= known[at] == column
        ids = np.where(same, found, -1)
        missed = np.flatnonzero(ids < 0)
        if not len(missed):
            return ids, missed
        first, inverse = unique_rows(rows[missed])
        new = missed[first]
        added = np.arange(self.count, self.count + len(new))
        ids[missed] = added[inverse]
        self._add(rows[new], mix[new], added, taken[new])
        return ids, new

    def _slot_of(self, mix: np.ndarray) -> np.ndarray:
        """The first slot to try for each mix: its top bits (the best mixed)."""
        return (mix >> np.uint64(65 - len(self.mixes).bit_length())).astype(np.int64)

    def _find(self, mix: np.ndarray) -> np.ndarray:
        """The id indexed under each of ``mix``, or -1."""
        mask = len(self.mixes) - 1
        at = self._slot_of(mix)
        held = self.ids[at]
        occupied = held >= 0
        hit = occupied & (self.mixes[at] == mix)
        found = np.where(hit, held, -1)
        pending = np.flatnonzero(occupied & ~hit)  # another mix in the slot: probe on
        at = at[pending]
        while len(pending):
            at = (at + 1) & mask
            held = self.ids[at]
            occupied = held >= 0
            hit = occupied & (self.mixes[at] == mix[pending])
            found[pending[hit]] = held[hit]
            more = occupied & ~hit
            pending, at = pending[more], at[more]
        return found

    def _add(self, rows: np.ndarray, mix: np.ndarray, ids: np.ndarray, taken: np.ndarray) -> None:
        """Keep new values, and index them by mix, but not those whose mix
        is ``taken`` or shared among them."""
        end = self.count + len(rows)
        if end > self.columns.shape[1]:
            grown = np.zeros((self.width, max(end, 2 * self.columns.shape[1])), np.int64)
            grown[:, :self.count] = self.columns[:, :self.count]
            self.columns = grown
        self.columns[:, self.count:end] = rows.T
        self.count = end
        values, index, counts = np.unique(mix, return_index=True, return_counts=True)
        alone = index[(counts == 1) & ~taken[index]]
        need = self.indexed + len(alone)
        if 2 * need > len(self.mixes):  # at most half full: grow to at most a third
            held = self.ids >= 0
            old_mixes, old_ids = self.mixes[held], self.ids[held]
            size = len(self.mixes)
            while size < 3 * need:
                size *= 2
            self._slots(size)
            self._index(old_mixes, old_ids)
        self._index(mix[alone], ids[alone])
        self.indexed += len(alone)

    def _index(self, mix: np.ndarray, ids: np.ndarray) -> None:
        """Put distinct mixes, none of them in the table yet, in free slots."""
        mask = len(self.mixes) - 1
        slot = self._slot_of(mix)
        pending = np.arange(len(mix))
        while len(pending):
            at = slot[pending]
            free = self.ids[at] < 0
            places, first = np.unique(at[free], return_index=True)  # one value a free slot
            placed = pending[free][first]
            self.mixes[places] = mix[placed]
            self.ids[places] = ids[placed]
            left = np.ones(len(pending), bool)
            left[np.flatnonzero(free)[first]] = False
            pending = pending[left]
            slot[pending] = (slot[pending] + 1) & mask


class AddressTable:
    """16-byte addresses -> small integer ids (`StableIds` of the full 128
    bits, so care-of and home addresses that share an interface id differ),
    and id -> `decode.addresses.address` object (``objects``)."""

    def __init__(self) -> None:
        self.rows = StableIds(2)
        self.objects: list[IPv6Address] = []

    def made(self, packed: bytes) -> IPv6Address:
        """What ``objects`` keeps for a new address."""
        return address(packed)

    def forget(self) -> None:
        """Start the ids again from 0."""
        self.rows.forget()
        self.objects.clear()

    def map(self, addresses: np.ndarray) -> np.ndarray:
        """Ids (int64) of the rows of an (n, 16) uint8 array of addresses."""
        addresses = np.ascontiguousarray(addresses)
        ids, new = self.rows.of(addresses.view(np.int64))
        self.objects.extend(map(self.made, map(bytes, addresses[new])))
        return ids


_MIX = np.uint64(0x9E3779B97F4A7C15)


def mix_rows(rows: np.ndarray) -> np.ndarray:
    """A 64-bit mix (uint64) of each row of a 2-D integer array: equal rows
    mix equal, different rows almost never do."""
    columns = rows.astype(np.uint64, copy=False)
    mixed = np.zeros(len(rows), np.uint64)
    with np.errstate(over="ignore"):
        for column in columns.T:
            mixed ^= column
            mixed *= _MIX
            mixed ^= mixed >> np.uint64(29)
    return mixed


def unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the index of one row of each distinct value, each row's index into
    those) of a 2-D integer array, like ``np.unique(rows, axis=0,
    return_index=True, return_inverse=True)`` but faster: rows are grouped
    by their 64-bit mix (`mix_rows`; sorting 64-bit integers is fast), and
    each group is checked to hold one value, so the answer is exact; a
    collision falls back to ``np.unique(axis=0)``."""
    _keys, first, inverse = np.unique(mix_rows(rows), return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if not (rows[first][inverse] == rows).all():  # two values share a mix
        _keys, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
    return first, inverse


@dataclass
class Columns:
    """What `gather` read from one chunk. ``reason`` has one code per frame
    (`REASONS`; 0 for a fast frame); the other arrays have one row per fast
    frame (``rows``: their row numbers in the chunk), in frame order. Address
    columns hold `AddressTable` ids; ``hao``, ``rh2``, ``sport`` and ``dport``
    hold `NO_ID` where absent."""

    reason: np.ndarray
    rows: np.ndarray
    kind: np.ndarray
    outer_src: np.ndarray
    outer_dst: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    hao: np.ndarray
    rh2: np.ndarray
    proto: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    length: np.ndarray
    inner_length: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        """True for every frame the full decoder must take."""
        return self.reason != R_FAST


# -- walking the records -------------------------------------------------------------------------

def chunks(reader: CaptureReader, chunk_bytes: int | None = None,
           chunk_frames: int | None = None) -> Iterator[Chunk]:
    """The capture's frames as `Chunk`s, in file order, with the same frames,
    numbers, timestamps and ``reader.issues`` as iterating the reader. Only
    before the reader is iterated; closes its file at the end. Reads
    ``chunk_bytes`` (`CHUNK_BYTES`) at a time, ``chunk_frames``
    (`CHUNK_FRAMES`) frames a chunk at most."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    chunk_frames = chunk_frames or CHUNK_FRAMES
    parser, _src = reader.take_stream()
    if isinstance(parser, PcapParser):
        return (_pcap_chunk(buf, heads, first, parser)
                for buf, _base, heads, first in parser.batches(reader.issues, chunk_bytes, chunk_frames))
    return (_pcapng_chunk(buf, rows)
            for buf, _base, rows in parser.batches(reader.issues, chunk_bytes, chunk_frames))


class RecordRange(NamedTuple):
    """Whole records of a capture file that a task can read apart
    (`record_ranges`, `range_chunks`)."""

    start: int            # file offset of the first record (a pcapng packet block)
    stop: int             # file offset after the last
    number: int           # number of the first record
    resume: Resume | None = None  # pcapng: the walk's state at ``start``


def record_ranges(reader: CaptureReader, frames_per_range: int) -> list[RecordRange] | None:
    """The whole records of an uncompressed pcap or pcapng file in ranges of
    ``frames_per_range`` records, for `range_chunks` to read apart (a cluster
    task each); the walk fills ``reader.issues``, and the ranges end where it
    stopped. None for a compressed capture: a gzip stream cannot be entered
    in the middle. A pcapng range carries the state its first packet block
    is read in (its section's byte order and interfaces), so a range may
    start anywhere in a section, and cross into the next."""
    parser, _src = reader.take_stream()
    if reader.compressed:
        return None
    if isinstance(parser, PcapParser):
        return _pcap_ranges(parser, reader.issues, frames_per_range)
    return _pcapng_ranges(parser, reader.issues, frames_per_range)


def _pcap_ranges(parser: PcapParser, issues: list, frames_per_range: int) -> list[RecordRange]:
    hlen = parser.record_header_len
    caplen_at = parser._record.unpack_from  # noqa: SLF001 - the parser's record header
    starts: list[tuple[int, int, Resume | None]] = []
    end = FILE_HEADER_LEN
    for buf, base, heads, first in parser.batches(issues):
        for i in range(-(first - 1) % frames_per_range, len(heads), frames_per_range):
            starts.append((base + heads[i], first + i, None))
        end = base + heads[-1] + hlen + caplen_at(buf, heads[-1])[2]
    return _tiled(starts, end)


def _pcapng_ranges(parser: PcapngParser, issues: list, frames_per_range: int) -> list[RecordRange]:
    layout: list[LayoutEntry] = []
    state = _LayoutState(layout)
    starts: list[tuple[int, int, Resume | None]] = []
    end = 0
    for buf, base, rows in parser.batches(issues, layout=layout):
        first = rows[0][0]
        for i in range(-(first - 1) % frames_per_range, len(rows), frames_per_range):
            at, resume = state.at_packet(buf, base, rows[i])
            starts.append((at, rows[i][0], resume))
        at, _resume = state.at_packet(buf, base, rows[-1])
        end = at + state.order.u32(buf, at - base + 4)[0]
    return _tiled(starts, end)


def _tiled(starts: list[tuple[int, int, Resume | None]], end: int) -> list[RecordRange]:
    """Ranges from each start to the next (the last to ``end``)."""
    return [RecordRange(start, starts[i + 1][0] if i + 1 < len(starts) else end, number, resume)
            for i, (start, number, resume) in enumerate(starts)]


class _LayoutState:
    """The sections and interfaces a pcapng walk has met (its ``layout``),
    read forward: the state at a packet block as `Resume`."""

    def __init__(self, layout: list[LayoutEntry]) -> None:
        self.layout = layout
        self.seen = 0  # layout entries applied
        self.big_endian = False
        self.order = pcapng_order(False)
        self.interfaces: list[Interface] = []
        self.section = 0

    def at_packet(self, buf: bytes, base: int, row: PacketRow) -> tuple[int, Resume]:
        """(stream offset of ``row``'s packet block, the walk's state there)."""
        number, _ts, caplen, wirelen, start = row[:5]
        offset = None
        for header_len in (28, 12):  # EPB and PB; SPB
            at = start - header_len
            if at >= 0:
                self._apply(base + at)
                if _is_packet_block(buf, at, header_len, caplen, wirelen, self.order.u32):
                    offset = at
                    break
        if offset is None:  # the walk just read this block: it cannot be anything else
            raise AssertionError(f"no packet block before frame {number}'s data")
        return base + offset, Resume(self.big_endian, tuple(self.interfaces), self.section)

    def _apply(self, before: int) -> None:
        layout = self.layout
        while self.seen < len(layout) and layout[self.seen][0] < before:
            _offset, kind, value = layout[self.seen]
            if kind == BT_SHB:
                self.big_endian = bool(value)
                self.order = pcapng_order(self.big_endian)
                self.interfaces = []
                self.section += 1
            else:
                self.interfaces.append(value)  # type: ignore[arg-type]  # an IDB's Interface
            self.seen += 1


def _is_packet_block(buf: bytes, at: int, header_len: int, caplen: int, wirelen: int,
                     u32: Callable[[bytes, int], tuple[int]]) -> bool:
    """Whether the packet block the walk read, whose data start ``header_len``
    bytes after ``at``, starts at ``at``: an EPB or PB has its captured and
    wire lengths just before the data, an SPB its block length and wire
    length (its block length is at least its captured length + 16, so an SPB
    never passes the EPB/PB test)."""
    btype = u32(buf, at)[0]
    if header_len == 28:
        return (btype in (BT_EPB, BT_PB) and u32(buf, at + 20)[0] == caplen
                and u32(buf, at + 24)[0] == wirelen)
    return btype == BT_SPB and u32(buf, at + 8)[0] == wirelen


def range_chunks(path: str, where: RecordRange, chunk_bytes: int | None = None,
                 chunk_frames: int | None = None) -> Iterator[Chunk]:
    """The records of one `record_ranges` range of the capture file at
    ``path`` as Chunks: the frames, numbers and timestamps reading the whole
    file gives."""
    chunk_bytes, chunk_frames = chunk_bytes or CHUNK_BYTES, chunk_frames or CHUNK_FRAMES
    with open(path, "rb") as f:
        head = f.read(FILE_HEADER_LEN) if where.resume is None else b""
        data = os.pread(f.fileno(), where.stop - where.start, where.start)
    src = ByteSource([io.BytesIO(data)], compressed=False)
    if where.resume is not None:
        for buf, _base, rows in walk_blocks(src, b"", [], chunk_bytes, chunk_frames, resume=where.resume,
                                            base=where.start, number=where.number - 1):
            yield _pcapng_chunk(buf, rows)
        return
    parser = PcapParser(src, head, path)
    for buf, _base, heads, first in parser.batches([], chunk_bytes, chunk_frames,
                                                   number=where.number - 1, offset=where.start):
        yield _pcap_chunk(buf, heads, first, parser)


def _u8(data: bytes) -> np.ndarray:
    return np.frombuffer(data, np.uint8)


def _pcap_chunk(data: bytes, heads: list[int], first_number: int, parser: PcapParser) -> Chunk:
    head = np.array(heads, np.int64)
    start = head + parser.record_header_len
    order = parser._record.format[0]  # noqa: SLF001 - the parser's byte order
    # every record header is whole in ``data`` (the walk saw it): its 4 words at once
    words = _windows(_u8(data), 16)[head].view(order + "u4").reshape(-1, 4).astype(np.int64)
    sec, frac, caplen, wirelen = words.T
    # as `PcapParser`: sec + frac / div, each operation rounded once as Python does
    ts = sec.astype(np.float64) + frac.astype(np.float64) / float(parser.ts_divisor)
    n = len(start)
    return Chunk(data, np.arange(first_number, first_number + n, dtype=np.int64), ts, caplen,
                 wirelen, start, np.full(n, parser.linktype, np.int64), np.zeros(n, np.int64))


def _pcapng_chunk(data: bytes, rows: list[PacketRow]) -> Chunk:
    number, ts, caplen, wirelen, start, linktype, interface, _section = zip(*rows, strict=True)
    return Chunk(data, np.array(number, np.int64), np.array(ts, np.float64),
                 np.array(caplen, np.int64), np.array(wirelen, np.int64), np.array(start, np.int64),
                 np.array(linktype, np.int64), np.array(interface, np.int64))


# -- gathering the fields -------------------------------------------------------------------------

def _windows(u8: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` bytes at every offset of ``u8`` (at least ``width``
    long), as one item each (a read-only view, no copy)."""
    return np.ndarray((len(u8) - width + 1,), np.dtype((np.void, width)), u8, 0, (1,))


class _Bytes:
    """Reads at per-frame offsets of one chunk; offsets past the chunk read
    zeros (the caller's length checks reject those frames anyway)."""

    TAIL = 256  # reads wider than this are not made

    def __init__(self, data: bytes) -> None:
        self.u8 = _u8(data)
        # the chunk's last bytes and zeros after them: where reads past the end come from
        self.tail_at = max(len(self.u8) - self.TAIL, 0)
        self.tail = np.concatenate((self.u8[self.tail_at:], np.zeros(2 * self.TAIL, np.uint8)))

    def at(self, where: np.ndarray, width: int = 1) -> np.ndarray:
        """(n, width) uint8 (or (n,) for width 1) of the bytes at ``where``."""
        end = len(self.u8)
        where = np.minimum(where, end)
        past = where > end - width  # read from ``tail``
        inside = np.where(past, 0, where)
        if end < width:
            found = np.zeros((len(where), width), np.uint8)
        elif width == 1:
            found = self.u8[inside][:, None]
        else:  # items of ``width`` bytes at every offset: numpy copies each at once
            found = _windows(self.u8, width)[inside].view(np.uint8).reshape(len(where), width)
        if past.any():
            found[past] = _windows(self.tail, width)[where[past] - self.tail_at].view(np.uint8).reshape(-1, width)
        return found[:, 0] if width == 1 else found

    def be16(self, where: np.ndarray) -> np.ndarray:
        """The big-endian 16-bit words (int64) at ``where``."""
        return self.at(where, 2).view(">u2").ravel().astype(np.int64)


def _after_ethertype(read: _Bytes, start: np.ndarray, ethertype: np.ndarray, offset: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(is IPv6, where it starts in the frame) after ``ethertype`` read just
    before ``offset`` of frames at ``start``, through up to `MAX_VLAN_TAGS`
    VLAN tags (`link._after_ethertype`)."""
    ethertype, offset = ethertype.copy(), offset.copy()
    for _ in range(MAX_VLAN_TAGS):
        tagged = np.zeros(len(ethertype), bool)
        for tpid in VLAN_TPIDS:
            tagged |= ethertype == tpid
        if not tagged.any():
            break
        ethertype[tagged] = read.be16(start[tagged] + offset[tagged] + 2)
        offset[tagged] += 4
    return ethertype == ETHERTYPE_IPV6, offset


def _link_offsets(read: _Bytes, chunk: Chunk) -> tuple[np.ndarray, np.ndarray]:
    """(is IPv6 in a layout read here, where the IPv6 header starts in the frame)."""
    n = len(chunk)
    ok = np.zeros(n, bool)
    off = np.zeros(n, np.int64)
    linktypes = chunk.linktype
    one = n and (linktypes == linktypes[0]).all()  # as in every pcap file
    for linktype in [int(linktypes[0])] if one else np.unique(linktypes).tolist():
        rows = np.arange(n) if one else np.flatnonzero(linktypes == linktype)
        start = chunk.start[rows]
        if linktype == LINKTYPE_ETHERNET:
            is6, at = _after_ethertype(read, start, read.be16(start + 12), np.full(len(rows), 14, np.int64))
        elif linktype == LINKTYPE_LINUX_SLL:
            protocol = read.be16(start + 14)
            is6, at = _after_ethertype(read, start, protocol, np.full(len(rows), 16, np.int64))
        elif linktype == LINKTYPE_LINUX_SLL2:
            protocol = read.be16(start)
            is6, at = _after_ethertype(read, start, protocol, np.full(len(rows), 20, np.int64))
        elif linktype == LINKTYPE_RAW:
            is6, at = (read.at(start) >> 4) == 6, np.zeros(len(rows), np.int64)
        elif linktype == LINKTYPE_IPV6:
            is6, at = np.ones(len(rows), bool), np.zeros(len(rows), np.int64)
        elif linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
            b = read.at(start, 4).astype(np.int64)
            family = b[:, 0] | b[:, 1] << 8 | b[:, 2] << 16 | b[:, 3] << 24
            family = np.where(family > 0xFFFF, b[:, 3] | b[:, 2] << 8 | b[:, 1] << 16 | b[:, 0] << 24,
                              family)
            is6, at = np.isin(family, sorted(NULL_FAMILIES_IPV6)), np.full(len(rows), 4, np.int64)
        else:
            continue
        ok[rows] = is6
        off[rows] = at
    return ok, off


def _segment_sums(read: _Bytes, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The one's complement sums (modulo 0xFFFF) of the byte ranges
    ``[lo, hi)`` of the chunk, each read as big-endian 16-bit words from its
    own first byte (an odd last byte padded with zero), as
    `classify.segment_verifies` reads them. Ranges are in increasing order,
    do not overlap, and are at least 8 bytes long.

    Since 2^16 = 1 modulo 0xFFFF, a little-endian 32-bit word of the chunk
    is worth its bytes at even offsets times 1 plus those at odd offsets
    times 256: one `np.add.reduceat` over the chunk's aligned 32-bit words
    sums every range's whole words, the up to 3 bytes at either end are
    added one by one, and the result is the range's sum times 256 (a range
    starting at an even offset) or the sum itself (odd)."""
    u8 = read.u8
    words = u8[:len(u8) & ~3].view("<u4")
    first = (lo + 3) >> 2          # first whole word inside the range
    stop = hi >> 2                 # one past the last whole word
    bounds = np.empty(2 * len(lo), np.int64)
    bounds[0::2] = first
    bounds[1::2] = stop
    if len(bounds) and bounds[-1] >= len(words):
        bounds = bounds[:-1]  # the last range runs to the end of the words
    total = np.add.reduceat(words, bounds, dtype=np.uint64)[0::2].astype(np.int64)
    total %= 0xFFFF
    # the bytes before the first whole word and after the last
    for k in range(3):
        for at, inside in ((lo + k, lo + k < first << 2), ((stop << 2) + k, (stop << 2) + k < hi)):
            weight = np.where(at & 1, 256, 1)
            total += np.where(inside, read.at(at).astype(np.int64) * weight, 0)
    return np.where(lo & 1, total, total << 8) % 0xFFFF


def _words(block: np.ndarray) -> np.ndarray:
    """(n, k / 2) big-endian 16-bit words (int32) of an (n, k) uint8 block."""
    return block.view(">u2").astype(np.int32)


def gather(chunk: Chunk, table: AddressTable) -> Columns:
    """The fields of every fast frame of ``chunk``, and the reason every
    other frame is masked (see the module docstring)."""
    n = len(chunk)
    read = _Bytes(chunk.data)
    reason = np.zeros(n, np.int8)

    def fail(where: np.ndarray, code: int) -> None:
        reason[where & (reason == R_FAST)] = code

    caplen = chunk.caplen
    fail(caplen < chunk.wirelen, R_SNAPLEN)
    ts = chunk.ts
    fail(~((ts >= MIN_DATE_TS) & (ts < MAX_DATE_TS)), R_TIME)
    is6, off = _link_offsets(read, chunk)
    fail(~is6, R_LINK)
    fail(caplen - off < 40, R_IP6)
    ip = chunk.start + off
    # every field read is in the first 88 bytes from the IPv6 header: outer
    # header, inner header (or HAO/RH2 header) and the first 8 bytes of TCP/UDP
    head = read.at(ip, 88)
    words = _words(head)
    plen, nh = words[:, 2].astype(np.int64), head[:, 6].astype(np.int64)
    fail((head[:, 0] >> 4 != 6) | (plen == 0) | (off + 40 + plen > caplen), R_IP6)
    tunnel = nh == NH_IPV6
    plain = (nh == NH_TCP) | (nh == NH_UDP)
    routed = (nh == NH_DSTOPTS) | (nh == NH_ROUTING)
    fail(~(tunnel | plain | routed), R_NEXT)

    # the inner header of a tunnel
    iplen, inh = words[:, 22].astype(np.int64), head[:, 46].astype(np.int64)
    fail(tunnel & ((plen < 40) | (head[:, 40] >> 4 != 6) | (iplen == 0) | (40 + iplen > plen)
                   | _NOT_PLAIN[inh]), R_INNER)
    # the canonical HAO / RH2 header of route-optimised data
    hao_layout = (nh == NH_DSTOPTS) & (head[:, 40:48].view(">u8").ravel() & _HAO_MASK == _HAO_LAYOUT)
    rh2_layout = (nh == NH_ROUTING) & (head[:, 40:44].view(">u4").ravel() & _RH2_MASK == _RH2_LAYOUT)
    ext_nh = head[:, 40].astype(np.int64)
    fail(routed & ((plen < 28) | ~(hao_layout | rh2_layout)
                   | ~((ext_nh == NH_TCP) | (ext_nh == NH_UDP))), R_NEXT)

    # the TCP/UDP segment of each kind: where (in 16-bit words from the IPv6
    # header), how long, which protocol
    proto = np.where(tunnel, inh, np.where(routed, ext_nh, nh))
    seg_word = np.where(tunnel, 40, np.where(routed, 32, 20))
    seg_len = np.where(tunnel, iplen, np.where(routed, plen - 24, plen))
    rows = np.arange(n)
    sport, dport = words[rows, seg_word], words[rows, seg_word + 1]
    is_tcp, is_udp = proto == NH_TCP, proto == NH_UDP
    fail((is_tcp & (seg_len < 20)) | (is_udp & (seg_len < 8)), R_SEGMENT)
    fail(is_udp & ((words[rows, seg_word + 2] != seg_len) | (words[rows, seg_word + 3] == 0)), R_UDP)

    # pseudo-header addresses: the inner ones; HAO for the source, RH2 for the
    # destination. Only their sums modulo 0xFFFF count: a 64-bit big-endian
    # word is its four 16-bit words' sum modulo 0xFFFF (2^16 is 1 modulo 0xFFFF)
    outer = (head[:, 8:40].view(">u8") % 0xFFFF).astype(np.int64)
    inner = (head[:, 48:80].view(">u8") % 0xFFFF).astype(np.int64)
    outer_src, outer_dst = outer[:, 0] + outer[:, 1], outer[:, 2] + outer[:, 3]
    third, fourth = inner[:, 0] + inner[:, 1], inner[:, 2] + inner[:, 3]
    checked = np.flatnonzero((reason == R_FAST) & (is_tcp | is_udp))
    if len(checked):
        c = checked
        src = np.where(tunnel[c] | hao_layout[c], third[c], outer_src[c])
        dst = np.where(tunnel[c], fourth[c], np.where(rh2_layout[c], third[c], outer_dst[c]))
        length = seg_len[c]
        pseudo = src + dst + (length >> 16) + (length & 0xFFFF) + proto[c]
        lo = ip[c] + 2 * seg_word[c]
        bad = np.zeros(n, bool)
        bad[c] = (_segment_sums(read, lo, lo + length) + pseudo) % 0xFFFF != 0
        fail(bad, R_CHECKSUM)

    fast = np.flatnonzero(reason == R_FAST)
    ported = is_tcp | is_udp
    return _fast_columns(table, reason, fast, head[fast], tunnel[fast], hao_layout[fast],
                         rh2_layout[fast], proto[fast], np.where(ported, sport, NO_ID)[fast],
                         np.where(ported, dport, NO_ID)[fast], plen[fast], iplen[fast])


def _fast_columns(table: AddressTable, reason: np.ndarray, rows: np.ndarray, head: np.ndarray,
                  tunnel: np.ndarray, hao: np.ndarray, rh2: np.ndarray, proto: np.ndarray,
                  sport: np.ndarray, dport: np.ndarray, plen: np.ndarray,
                  iplen: np.ndarray) -> Columns:
    """The DataPacket columns of the fast ``rows`` (their header blocks and
    fields given)."""
    m = len(rows)
    # one address table lookup for the addresses the frames carry: both outer
    # ones, the inner pair of a tunnel, the HAO's or RH2's
    third_rows, fourth_rows = np.flatnonzero(tunnel | hao | rh2), np.flatnonzero(tunnel)
    ids = table.map(np.concatenate((head[:, 8:24], head[:, 24:40], head[third_rows, 48:64],
                                    head[fourth_rows, 64:80])))
    outer_src, outer_dst = ids[:m], ids[m:2 * m]
    third = np.full(m, NO_ID, np.int64)
    third[third_rows] = ids[2 * m:2 * m + len(third_rows)]
    fourth = np.full(m, NO_ID, np.int64)
    fourth[fourth_rows] = ids[2 * m + len(third_rows):]
    src = np.where(tunnel, third, np.where(hao, third, outer_src))
    dst = np.where(tunnel, fourth, np.where(rh2, third, outer_dst))
    length = 40 + plen
    kind = np.where(tunnel, TUNNELLED, np.where(hao | rh2, ROUTE_OPTIMISED, PLAIN))
    return Columns(reason, rows, kind, outer_src, outer_dst, src, dst,
                   np.where(hao, third, NO_ID), np.where(rh2, third, NO_ID), proto, sport, dport,
                   length, np.where(tunnel, 40 + iplen, length))
