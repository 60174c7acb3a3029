"""Deterministic capture writing, pcap or pcapng.

dpkt's writers always record the original length equal to the captured
length, so they cannot write a frame cut by a snap length; these can.
Timestamps come only from the caller, so the same input gives the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..outfile import atomic_path

_PCAP_HEADER = struct.Struct("<IHHiIII")
_PCAP_RECORD = struct.Struct("<IIII")


def _pad4(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


class CaptureWriter:
    """Write frames to an open binary file as pcap (microseconds) or pcapng."""

    def __init__(self, fh: BinaryIO, linktype: int, fmt: str = "pcap", snaplen: int = 65535) -> None:
        if fmt not in ("pcap", "pcapng"):
            raise ValueError(f"unknown capture format {fmt!r}")
        self.fh, self.fmt, self.snaplen = fh, fmt, snaplen
        self.count = 0
        if fmt == "pcap":
            fh.write(_PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        else:
            shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
            fh.write(self._block(0x0A0D0D0A, shb_body))
            # if_tsresol = 6 (microseconds) is the default, so no options.
            fh.write(self._block(1, struct.pack("<HHI", linktype, 0, snaplen)))

    @staticmethod
    def _block(block_type: int, body: bytes) -> bytes:
        body = _pad4(body)
        total = len(body) + 12
        return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)

    def write(self, ts: float, frame: bytes, caplen: int | None = None) -> None:
        """Write one frame; bytes past the snap length (or ``caplen``) are cut and
        the original length kept."""
        wirelen = len(frame)
        data = frame[:min(self.snaplen, wirelen if caplen is None else caplen)]
        usec_total = round(ts * 1_000_000)
        if self.fmt == "pcap":
            sec, usec = divmod(usec_total, 1_000_000)
            self.fh.write(_PCAP_RECORD.pack(sec, usec, len(data), wirelen) + data)
        else:
            body = struct.pack("<IIIII", 0, usec_total >> 32, usec_total & 0xFFFFFFFF,
                               len(data), wirelen) + _pad4(data)
            self.fh.write(self._block(6, body))
        self.count += 1


def write_capture(path: str | Path, frames: Iterable[tuple[float, bytes, int | None]],
                  linktype: int, fmt: str = "pcap", snaplen: int = 65535, force: bool = True) -> int:
    """Write (ts, frame bytes, caplen or None) records to ``path``; returns how
    many were written. All or nothing (a temporary file beside ``path``,
    renamed when complete), never through a symlink and, with ``force=False``,
    never over an existing file (`outfile.atomic_path`)."""
    with atomic_path(path, force) as target, open(target, "wb") as fh:
        writer = CaptureWriter(fh, linktype, fmt, snaplen)
        for ts, frame, caplen in frames:
            writer.write(ts, frame, caplen)
        return writer.count
