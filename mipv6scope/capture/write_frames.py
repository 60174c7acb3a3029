"""Writing chosen frames of a capture to a new file, as they were captured.

`write_frames` copies the records of the frames it is told to keep, byte for
byte, from the input to the output: a pcap input gives a pcap output with the
same file header (byte order, link type, snap length, micro- or nanosecond
timestamps), a pcapng input gives a pcapng output with the same Section Header
Blocks (options and comments; the section length is set to "unknown"), every
Interface Description Block (with its options: name, description, timestamp
resolution and offset), the Name Resolution, Decryption Secrets and custom
blocks, and the kept packet blocks with their options (comments, flags).
Interface Statistics Blocks are left out: their counts would describe the
input. Frames are numbered as the readers number them (1-based, every packet
record or packet block of the file), so a number from `open_capture` names the
same record here.

`write_merged` writes the kept frames of several captures as one, in time
order (the inputs merged as mergecap merges them: each input is taken to be in
time order): a pcap file when every input has one link type (microsecond
timestamps when every input has them, else nanoseconds), else a pcapng file
with one interface per link type (nanosecond timestamps). Its records are
rebuilt from each frame's bytes, lengths and exact timestamp; the inputs'
pcapng options and comments are not carried over.

The output is written all or nothing (a temporary file renamed over it, see
`outfile.atomic_path`), never through a symlink; ``-`` writes it to stdout.
Reading stops at damage, as the readers do: what was kept before it is
written.
"""

from __future__ import annotations

import gzip
import heapq
import os
import struct
import sys
from collections.abc import Container, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import BinaryIO, NamedTuple

from ..outfile import atomic_path
from .pcap import FILE_HEADER_LEN
from .pcapng import _BE, _LE, parse_idb

_GZIP_MAGIC = b"\x1f\x8b"
_PCAP_RECORD_LEN = {b"\xd4\xc3\xb2\xa1": 16, b"\xa1\xb2\xc3\xd4": 16, b"\x4d\x3c\xb2\xa1": 16,
                    b"\xa1\xb2\x3c\x4d": 16, b"\x34\xcd\xb2\xa1": 24, b"\xa1\xb2\xcd\x34": 24}
_PCAP_LITTLE = (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\x34\xcd\xb2\xa1")
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

BT_SHB, BT_IDB, BT_PB, BT_SPB, BT_NRB, BT_ISB, BT_EPB = 0x0A0D0D0A, 1, 2, 3, 4, 5, 6
BT_DSB = 0x0000000A
BT_CUSTOM = (0x00000BAD, 0x40000BAD)
_PACKET_BLOCKS = (BT_EPB, BT_SPB, BT_PB)
_KEPT_BLOCKS = (BT_IDB, BT_NRB, BT_DSB, *BT_CUSTOM)
_MAX_BLOCK = 128 * 1024 * 1024


class UnsupportedCapture(ValueError):
    """The input is neither pcap nor pcapng (gzip-compressed or not)."""


def _open_input(path: str | os.PathLike[str]) -> BinaryIO:
    """The capture's bytes, decompressed when it is gzip-compressed."""
    raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    if raw.read(2) == _GZIP_MAGIC:
        raw.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw


def _copy_pcap(f: BinaryIO, out: BinaryIO, keep: Container[int]) -> int:
    """pcap: the file header, then the kept records; the number written."""
    header = f.read(FILE_HEADER_LEN)
    if len(header) < FILE_HEADER_LEN:
        raise UnsupportedCapture("pcap file header cut short")
    out.write(header)
    magic = header[:4]
    hlen = _PCAP_RECORD_LEN[magic]
    caplen_at = struct.Struct("<I" if magic in _PCAP_LITTLE else ">I")
    number = written = 0
    while True:
        rec = f.read(hlen)
        if len(rec) < hlen:
            return written
        (caplen,) = caplen_at.unpack_from(rec, 8)
        if caplen > _MAX_BLOCK:
            return written
        data = f.read(caplen)
        if len(data) < caplen:
            return written
        number += 1
        if number in keep:
            out.write(rec)
            out.write(data)
            written += 1


def _copy_pcapng(f: BinaryIO, out: BinaryIO, keep: Container[int]) -> int:
    """pcapng: section and interface blocks, the kept packet blocks; the number written."""
    order = "<"
    number = written = 0
    while True:
        head = f.read(8)
        if len(head) < 8:
            return written
        if head[:4] == _PCAPNG_MAGIC:
            bom = f.read(4)
            if bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                return written
            head += bom
        btype, blen = struct.unpack_from(order + "II", head)
        if blen < len(head) + 4 or blen & 3 or blen > _MAX_BLOCK:
            return written
        rest = f.read(blen - len(head))
        if len(rest) < blen - len(head):
            return written
        block = head + rest
        if btype == BT_SHB:
            if len(block) >= 28:  # section length unknown: the section is shorter now
                block = block[:16] + struct.pack(order + "q", -1) + block[24:]
            out.write(block)
        elif btype in _PACKET_BLOCKS:
            number += 1
            if number in keep:
                out.write(block)
                written += 1
        elif btype in _KEPT_BLOCKS:
            out.write(block)


@contextmanager
def _output(out_path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """The file to write: stdout's bytes for ``-``, else a temporary file
    renamed over ``out_path`` when the block ends without an error."""
    if os.fspath(out_path) == "-":
        stream = sys.stdout.buffer
        yield stream
        stream.flush()
        return
    with atomic_path(out_path) as target, open(target, "wb") as out:
        yield out


def write_frames(src: str | os.PathLike[str], keep: Container[int],
                 out_path: str | os.PathLike[str]) -> int:
    """Copy the frames of ``src`` whose numbers are in ``keep`` to ``out_path``
    (pcap to pcap, pcapng to pcapng, original bytes and timestamps), all or
    nothing (``-``: to stdout); return how many were written.

    Raises `UnsupportedCapture` for an input that is neither format and
    OSError when the output cannot be written (`outfile.SymlinkRefused` for a
    symlink). An existing file is replaced, as tshark -w does."""
    with _open_input(src) as f:
        magic = f.read(4)
        f.seek(0)
        if magic in _PCAP_RECORD_LEN:
            copy = _copy_pcap
        elif magic == _PCAPNG_MAGIC:
            copy = _copy_pcapng
        else:
            raise UnsupportedCapture(f"{os.fspath(src)} is not a pcap or pcapng capture")
        with _output(out_path) as out:
            return copy(f, out, keep)


# --- several inputs merged -----------------------------------------------------------------------

MICRO, NANO = 1_000_000, 1_000_000_000
_SNAPLEN = 262144


class Record(NamedTuple):
    """One kept frame: sorts by time (in ``units`` per second), input, number."""

    ts: int
    source: int
    number: int
    linktype: int
    wirelen: int
    data: bytes


class InputLayout(NamedTuple):
    """An input's link types and whether all its timestamps are microseconds."""

    linktypes: frozenset[int]
    micro: bool


def _pcap_layout(header: bytes) -> InputLayout:
    order = "<" if header[:4] in _PCAP_LITTLE else ">"
    network = struct.unpack_from(order + "I", header, 20)[0]
    return InputLayout(frozenset({network & 0xFFFF}), header[:4] not in (b"\x4d\x3c\xb2\xa1",
                                                                          b"\xa1\xb2\x3c\x4d"))


def _pcapng_blocks(f: BinaryIO) -> Iterator[tuple[int, bytes, bool]]:
    """(block type, whole block, little-endian) of each block, until the end or damage."""
    little = True
    while True:
        head = f.read(8)
        if len(head) < 8:
            return
        if head[:4] == _PCAPNG_MAGIC:
            bom = f.read(4)
            if bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                return
            little = bom == b"\x4d\x3c\x2b\x1a"
            head += bom
        btype, blen = struct.unpack_from("<II" if little else ">II", head)
        if blen < len(head) + 4 or blen & 3 or blen > _MAX_BLOCK:
            return
        rest = f.read(blen - len(head))
        if len(rest) < blen - len(head):
            return
        yield btype, head + rest, little


def input_layout(path: str | os.PathLike[str]) -> InputLayout:
    """The link types and timestamp resolution of the capture at ``path``."""
    with _open_input(path) as f:
        magic = f.read(4)
        f.seek(0)
        if magic in _PCAP_RECORD_LEN:
            return _pcap_layout(f.read(FILE_HEADER_LEN))
        if magic != _PCAPNG_MAGIC:
            raise UnsupportedCapture(f"{os.fspath(path)} is not a pcap or pcapng capture")
        linktypes, micro = set(), True
        for btype, block, little in _pcapng_blocks(f):
            if btype == BT_IDB and len(block) >= 20:
                iface = parse_idb(block, 0, len(block), _LE if little else _BE)
                linktypes.add(iface.linktype)
                micro = micro and iface.ts_divisor == MICRO
        return InputLayout(frozenset(linktypes), micro)


def _pcap_records(f: BinaryIO, source: int, keep: Container[tuple[int, int]],
                  units: int) -> Iterator[Record]:
    header = f.read(FILE_HEADER_LEN)
    if len(header) < FILE_HEADER_LEN:
        return
    magic = header[:4]
    order = "<" if magic in _PCAP_LITTLE else ">"
    divisor = NANO if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else MICRO
    linktype = struct.unpack_from(order + "I", header, 20)[0] & 0xFFFF
    hlen = _PCAP_RECORD_LEN[magic]
    record = struct.Struct(order + "IIII")
    number = 0
    while True:
        rec = f.read(hlen)
        if len(rec) < hlen:
            return
        sec, frac, caplen, wirelen = record.unpack_from(rec)
        if caplen > _MAX_BLOCK:
            return
        data = f.read(caplen)
        if len(data) < caplen:
            return
        number += 1
        if (source, number) in keep:
            yield Record((sec * divisor + frac) * units // divisor, source, number, linktype,
                         wirelen, data)


def _pcapng_records(f: BinaryIO, source: int, keep: Container[tuple[int, int]],
                    units: int) -> Iterator[Record]:
    interfaces: list = []
    number = 0
    for btype, block, little in _pcapng_blocks(f):
        o = _LE if little else _BE
        if btype == BT_SHB:
            interfaces = []
        elif btype == BT_IDB and len(block) >= 20:
            interfaces.append(parse_idb(block, 0, len(block), o))
        elif btype in _PACKET_BLOCKS:
            number += 1
            if btype == BT_SPB:
                iface_id, ts, wirelen = 0, None, o.u32(block, 8)[0]
                caplen, start = len(block) - 16, 12
            elif btype == BT_EPB:
                iface_id, high, low, caplen, wirelen = o.epb(block, 8)
                ts, start = (high << 32) | low, 28
            else:
                iface_id, _drops, high, low, caplen, wirelen = o.pb(block, 8)
                ts, start = (high << 32) | low, 28
            if iface_id >= len(interfaces):
                return
            iface = interfaces[iface_id]
            if btype == BT_SPB:
                caplen = min(wirelen, caplen, iface.snaplen or caplen)
            if start + caplen > len(block) - 4:
                return
            # an SPB has no timestamp: 0, as the reader and Wireshark give it
            stamp = 0 if ts is None else (ts + iface.ts_offset_units) * units // iface.ts_divisor
            if (source, number) in keep:
                yield Record(stamp, source, number, iface.linktype, wirelen,
                             block[start:start + caplen])


def _records(path: str | os.PathLike[str], stack: ExitStack, source: int,
             keep: Container[tuple[int, int]], units: int) -> Iterator[Record]:
    f = stack.enter_context(_open_input(path))
    magic = f.read(4)
    f.seek(0)
    reader = _pcap_records if magic in _PCAP_RECORD_LEN else _pcapng_records
    return reader(f, source, keep, units)


def _write_pcap(out: BinaryIO, records: Iterator[Record], linktype: int, units: int) -> int:
    magic = 0xA1B2C3D4 if units == MICRO else 0xA1B23C4D
    out.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, _SNAPLEN, linktype))
    written = 0
    for r in records:
        sec, frac = divmod(r.ts, units)
        out.write(struct.pack("<IIII", sec, frac, len(r.data), r.wirelen))
        out.write(r.data)
        written += 1
    return written


def _write_pcapng(out: BinaryIO, records: Iterator[Record], linktypes: Sequence[int],
                  units: int) -> int:
    out.write(struct.pack("<IIIHHqI", BT_SHB, 28, 0x1A2B3C4D, 1, 0, -1, 28))
    resolution = 6 if units == MICRO else 9
    for linktype in linktypes:  # if_tsresol (9), then opt_endofopt
        out.write(struct.pack("<IIHHIHHB3xHHI", BT_IDB, 32, linktype, 0, _SNAPLEN, 9, 1,
                              resolution, 0, 0, 32))
    iface = {lt: i for i, lt in enumerate(linktypes)}
    written = 0
    for r in records:
        pad = -len(r.data) & 3
        blen = 32 + len(r.data) + pad
        out.write(struct.pack("<IIIIIII", BT_EPB, blen, iface[r.linktype], r.ts >> 32,
                              r.ts & 0xFFFFFFFF, len(r.data), r.wirelen))
        out.write(r.data + b"\0" * pad)
        out.write(struct.pack("<I", blen))
        written += 1
    return written


def write_merged(srcs: Sequence[str | os.PathLike[str]], keep: Container[tuple[int, int]],
                 out_path: str | os.PathLike[str]) -> tuple[int, str]:
    """Write the frames of ``srcs`` whose (input index, frame number) is in
    ``keep`` to ``out_path`` as one capture in time order, all or nothing
    (``-``: to stdout): pcap when every input has the same single link type,
    else pcapng with one interface per link type. Returns (frames written,
    'pcap' or 'pcapng'). Raises as `write_frames`."""
    layouts = [input_layout(p) for p in srcs]
    linktypes = sorted(set().union(*(lay.linktypes for lay in layouts)))
    units = MICRO if all(lay.micro for lay in layouts) else NANO
    fmt = "pcap" if len(linktypes) == 1 else "pcapng"
    with ExitStack() as stack:
        merged = heapq.merge(*(_records(p, stack, i, keep, units) for i, p in enumerate(srcs)))
        with _output(out_path) as out:
            if fmt == "pcap":
                return _write_pcap(out, merged, linktypes[0], units), fmt
            return _write_pcapng(out, merged, linktypes, units), fmt
