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

The output is written all or nothing (a temporary file renamed over it, see
`outfile.atomic_path`), never through a symlink. Reading stops at damage, as
the readers do: what was kept before it is written.
"""

from __future__ import annotations

import gzip
import os
import struct
from collections.abc import Container
from typing import BinaryIO

from ..outfile import atomic_path
from .pcap import FILE_HEADER_LEN

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


def capture_format(path: str | os.PathLike[str]) -> str:
    """'pcap' or 'pcapng': the format of the capture at ``path`` (what -w writes)."""
    with _open_input(path) as f:
        magic = f.read(4)
    if magic in _PCAP_RECORD_LEN:
        return "pcap"
    if magic == _PCAPNG_MAGIC:
        return "pcapng"
    raise UnsupportedCapture(f"{os.fspath(path)} is not a pcap or pcapng capture")


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


def write_frames(src: str | os.PathLike[str], keep: Container[int],
                 out_path: str | os.PathLike[str]) -> int:
    """Copy the frames of ``src`` whose numbers are in ``keep`` to ``out_path``
    (pcap to pcap, pcapng to pcapng, original bytes and timestamps), all or
    nothing; return how many were written.

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
        with atomic_path(out_path) as target, open(target, "wb") as out:
            return copy(f, out, keep)
