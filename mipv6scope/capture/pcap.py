"""Streaming reader for classic libpcap files (µs and ns timestamps, either byte order)."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .frame import (
    ISSUE_CORRUPT_RECORD,
    LINKTYPE_NAMES,
    MAX_CAPLEN,
    SUPPORTED_LINKTYPES,
    CaptureError,
    CaptureIssue,
    Frame,
    new_frame,
)

if TYPE_CHECKING:
    from .reader import ByteSource

FILE_HEADER_LEN = 24

# magic as it appears on disk -> (struct byte order, timestamp divisor, record header length)
_VARIANTS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000, 16),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000, 16),
    # "modified" (Kuznetzov) pcap: 8 more bytes (ifindex, protocol, type) per record
    b"\x34\xcd\xb2\xa1": ("<", 1_000_000, 24),
    b"\xa1\xb2\xcd\x34": (">", 1_000_000, 24),
}
PCAP_MAGICS = frozenset(_VARIANTS)

# A run of records that cannot be real ends reading (a zero-filled or
# decompression-bomb file would otherwise give hundreds of millions of them).
ISSUE_IMPLAUSIBLE_RECORDS = "implausible_records"
IMPLAUSIBLE_RUN = 1000
BATCH_FRAMES = 4096  # records handed on at a time at most (`walk_records`)

# visitor(number, ts, caplen, wirelen, linktype, buf, start): one record, whose
# captured bytes are buf[start:start + caplen] (see `PcapParser.visit`)
RecordVisitor = Callable[[int, float, int, int, int, bytes, int], None]


def supported_linktypes_text() -> str:
    """The supported link types as a short list for messages."""
    return ", ".join(f"{lt} {LINKTYPE_NAMES[lt]}" for lt in sorted(SUPPORTED_LINKTYPES))


class PcapParser:
    """A validated pcap file header; ``frames()`` streams the records after it."""

    def __init__(self, src: ByteSource, head: bytes, shown: str) -> None:
        while len(head) < FILE_HEADER_LEN:
            more = src.read()
            if not more:
                raise CaptureError(
                    f"{shown}: pcap file header truncated ({len(head)} of {FILE_HEADER_LEN} bytes)")
            head += more
        order, self.ts_divisor, self.record_header_len = _VARIANTS[head[:4]]
        major, minor, _zone, _sigfigs, self.snaplen, network = struct.unpack_from(
            order + "HHiIII", head, 4)
        if major != 2:
            raise CaptureError(f"{shown}: unsupported pcap version {major}.{minor}")
        # the upper bits of the network field carry FCS information
        self.linktype = network & 0xFFFF
        if self.linktype not in SUPPORTED_LINKTYPES:
            raise CaptureError(f"{shown}: unsupported link type {self.linktype} "
                               f"(supported: {supported_linktypes_text()})")
        self._record = struct.Struct(order + "IIII")
        self._src = src
        self._head = head

    def frames(self, issues: list[CaptureIssue]) -> Iterator[Frame]:
        """Yield every whole record as a Frame; append an issue and stop at damage."""
        unpack, hlen, div, linktype = self._record.unpack_from, self.record_header_len, self.ts_divisor, self.linktype
        for buf, _base, heads, number in self.batches(issues):
            for pos in heads:
                sec, frac, caplen, wirelen = unpack(buf, pos)
                start = pos + hlen
                yield new_frame((number, sec + frac / div, caplen, wirelen, linktype, buf[start:start + caplen], 0))
                number += 1

    def visit(self, issues: list[CaptureIssue], visitor: RecordVisitor) -> None:
        """Call ``visitor(number, ts, caplen, wirelen, linktype, buf, start)``
        for every whole record, in order, where the record's captured bytes
        are ``buf[start:start + caplen]``: what `frames` gives, without making
        a Frame or copying the bytes. Append an issue and stop at damage."""
        unpack, hlen, div, linktype = self._record.unpack_from, self.record_header_len, self.ts_divisor, self.linktype
        for buf, _base, heads, number in self.batches(issues):
            for pos in heads:
                sec, frac, caplen, wirelen = unpack(buf, pos)
                visitor(number, sec + frac / div, caplen, wirelen, linktype, buf, pos + hlen)
                number += 1

    def batches(self, issues: list[CaptureIssue], read_size: int | None = None,
                batch_frames: int = BATCH_FRAMES, *, number: int = 0,
                offset: int = FILE_HEADER_LEN) -> Iterator[tuple[bytes, int, list[int], int]]:
        """`walk_records` from the end of the file header (once); the source
        after the header holds the records from file offset ``offset`` on,
        ``number`` of them before (a part of a file: `columns.range_chunks`)."""
        head, self._head = self._head, b""
        return walk_records(self._src, head, FILE_HEADER_LEN, self._record.format[0], self.record_header_len,
                            issues, read_size, batch_frames, number=number, base=offset - FILE_HEADER_LEN)



def walk_records(src: ByteSource, buf: bytes, pos: int, order: str, hlen: int, issues: list[CaptureIssue],
                 read_size: int | None = None, batch_frames: int = BATCH_FRAMES, *, number: int = 0,
                 base: int = 0) -> Iterator[tuple[bytes, int, list[int], int]]:
    """Walk the pcap records of the stream whose first bytes are ``buf`` and
    the rest ``src``, from ``pos`` (``order``: the struct byte order,
    ``hlen``: the record header length): yield ``(buffer, stream offset of
    buffer[0], where each record header starts in buffer, number of the first
    record)`` with at most ``batch_frames`` records at a time. The one walk
    every reader of pcap uses (frames, visit, the columnar chunks, the frame
    index): on damage (an impossible captured length, an implausible run of
    empty records, a cut-short end) it appends the capture issue after the
    records before it and stops. ``read_size`` bytes are read at a time
    (None: the source's default). ``number`` records came before the stream
    and it starts at file offset ``base`` (a part of a file: `columns.range_chunks`)."""
    read = src.read if read_size is None else lambda: src.read(read_size)
    caplen_at = struct.Struct(order + "I").unpack_from
    empty = EmptyRun()
    while True:
        end = len(buf)
        heads: list[int] = []
        keep = heads.append
        first = number + 1
        stop: CaptureIssue | None = None
        while pos + hlen <= end and len(heads) < batch_frames:
            (caplen,) = caplen_at(buf, pos + 8)
            if caplen > MAX_CAPLEN:
                at = first + len(heads)
                stop = CaptureIssue(
                    ISSUE_CORRUPT_RECORD,
                    f"record {at} at {src.where(base + pos)} claims {caplen} "
                    f"captured bytes (limit {MAX_CAPLEN}); reading stopped", at)
                break
            nxt = pos + hlen + caplen
            if nxt > end:
                break
            if not caplen and empty.add(first + len(heads), caplen_at(buf, pos + 12)[0],
                                        buf[pos:pos + hlen], base + pos):
                stop = empty.issue(src, "records")
                break
            keep(pos)
            pos = nxt
        number = first + len(heads) - 1
        if heads:
            yield buf, base, heads, first
        if stop is not None:
            issues.append(stop)
            src.close()
            return
        if len(heads) == batch_frames:
            continue  # the rest of the buffer first
        chunk = read()
        if not chunk:
            break
        base += pos
        buf = buf[pos:] + chunk
        pos = 0
    src.close()
    have = len(buf) - pos
    if have:
        if have < hlen:
            what = f"{have} of {hlen} record header bytes"
        else:
            what = f"{have - hlen} of {caplen_at(buf, pos + 8)[0]} data bytes"
        issues.append(src.cut_issue(
            f"record {number + 1} at {src.where(base + pos)} is cut short: {what}", number + 1))
    else:
        issue = src.eof_issue(base + pos, number + 1)
        if issue is not None:
            issues.append(issue)


class EmptyRun:
    """Counts consecutive records that carry nothing: no captured byte and
    either no wire length or the very same header as the one before (a file
    of zeros, a header repeated). A packet always has a wire length, and a
    real capture never repeats one empty header a thousand times in a row."""

    __slots__ = ("first", "last", "count", "header", "offset")

    def __init__(self) -> None:
        self.first = self.last = self.count = self.offset = 0
        self.header = b""

    def add(self, number: int, wirelen: int, header: bytes, offset: int) -> bool:
        """Count the empty record ``number``; True once the run is implausible."""
        if self.count and self.last == number - 1 and (not wirelen or header == self.header):
            self.count += 1
        else:
            self.first, self.count, self.offset = number, 1, offset
        self.last = number
        self.header = header
        return self.count >= IMPLAUSIBLE_RUN

    def issue(self, src: ByteSource, what: str) -> CaptureIssue:
        """The one-line issue for the run."""
        return CaptureIssue(
            ISSUE_IMPLAUSIBLE_RECORDS,
            f"{self.count} consecutive empty {what} (no captured bytes, no wire length or the same "
            f"header repeated) from {what[:-1]} {self.first} at {src.where(self.offset)}: not a "
            f"real capture (zero padding or a decompression bomb?); reading stopped",
            self.first)
