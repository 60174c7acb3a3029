"""A compact index of one capture file's frames, for random access by frame.

``FrameIndex.build`` reads a pcap or pcapng file once, streaming, and keeps
per frame only what it takes to read the frame again: the file offset of its
packet data, caplen, wirelen, timestamp and interface slot, in
``array.array`` columns (26 bytes a frame, no Python object per frame).
``read_frame(i)`` re-reads frame ``i`` with ``os.pread``, so worker threads
can read frames concurrently without sharing a file position.

pcap records are found with ``CaptureReader.visit``, pcapng blocks with
`pcapng.walk_blocks`: the readers' own walks, so the index has the frames,
timestamps and capture issues ``open_capture`` gives.

gzip-compressed captures are refused with a CaptureError: random access needs
the uncompressed file (``gunzip -k capture.pcap.gz``); nothing is decompressed
behind the user's back into a temporary file.
"""

from __future__ import annotations

import os
import sys
import threading
from array import array
from collections.abc import Callable, Sequence
from types import TracebackType

from . import pcapng as ng
from .frame import (
    CaptureError,
    CaptureIssue,
    Frame,
    new_frame,
)
from .pcap import _VARIANTS as _PCAP_VARIANTS
from .pcap import FILE_HEADER_LEN
from .reader import ByteSource, CaptureReader, _display, open_capture

# progress(frames indexed, bytes done, bytes total); called from the indexing thread
ProgressCallback = Callable[[int, int, int], object]
Cancel = threading.Event | Callable[[], bool]

# the per-frame columns of a FrameIndex and their array typecodes
COLUMNS = {"offsets": "q", "caplens": "I", "wirelens": "I", "ts": "d", "slots": "H"}

DEFAULT_CHUNK_FRAMES = 65536
PROGRESS_BYTES = 8 << 20  # report at least this often, for captures of big frames


class IndexCancelled(Exception):
    """Indexing was cancelled through the ``cancel`` event or callback."""


class IndexColumns:
    """The growing per-frame columns, with progress reporting and cancellation.

    ``add`` is what the format walkers call once per frame; ``tick`` reports
    progress and raises IndexCancelled when asked to stop.
    """

    __slots__ = ("offsets", "caplens", "wirelens", "ts", "slots", "interfaces", "_slot_of",
                 "next_frames", "next_bytes", "_chunk", "_total", "_progress", "_cancelled")

    def __init__(self, bytes_total: int, progress: ProgressCallback | None,
                 cancel: Cancel | None, chunk_frames: int) -> None:
        self.offsets = array(COLUMNS["offsets"])
        self.caplens = array(COLUMNS["caplens"])
        self.wirelens = array(COLUMNS["wirelens"])
        self.ts = array(COLUMNS["ts"])
        self.slots = array(COLUMNS["slots"])
        # (link type, interface id in its section) per slot
        self.interfaces: list[tuple[int, int]] = []
        self._slot_of: dict[tuple[int, int, int], int] = {}
        self._chunk = max(1, chunk_frames)
        self.next_frames = self._chunk
        self.next_bytes = PROGRESS_BYTES
        self._total = bytes_total
        self._progress = progress
        if cancel is None:
            self._cancelled: Callable[[], bool] | None = None
        else:
            self._cancelled = cancel.is_set if isinstance(cancel, threading.Event) else cancel

    def slot(self, section: int, iface: int, linktype: int) -> int:
        """The slot number of interface ``iface`` of section ``section``."""
        key = (section, iface, linktype)
        slot = self._slot_of.get(key)
        if slot is None:
            slot = self._slot_of[key] = len(self.interfaces)
            self.interfaces.append((linktype, iface))
        return slot

    @property
    def batch_frames(self) -> int:
        """Frames between two progress reports at most."""
        return self._chunk

    def tick(self, frames: int, bytes_done: int) -> None:
        """Report progress; raise IndexCancelled if cancellation was asked for."""
        self.next_frames = frames + self._chunk
        self.next_bytes = bytes_done + PROGRESS_BYTES
        if self._cancelled is not None and self._cancelled():
            raise IndexCancelled(f"indexing cancelled after {frames} frames")
        if self._progress is not None:
            self._progress(frames, bytes_done, self._total)

    def trim(self) -> None:
        """Give back the columns' spare capacity (arrays over-allocate as they grow)."""
        for name in COLUMNS:
            setattr(self, name, array(getattr(self, name).typecode, getattr(self, name)))


def _visit_pcap(reader: CaptureReader, fd: int, cols: IndexColumns) -> list[CaptureIssue]:
    """Index a pcap file's records through ``reader.visit``."""
    hlen = _PCAP_VARIANTS[os.pread(fd, 4, 0)][2]
    slot = cols.slot(0, 0, reader.linktype or 0)
    add_offset, add_caplen = cols.offsets.append, cols.caplens.append
    add_wirelen, add_ts, add_slot = cols.wirelens.append, cols.ts.append, cols.slots.append
    end = FILE_HEADER_LEN  # where the previous record's data ended

    def visitor(number: int, ts: float, caplen: int, wirelen: int, _lt: int,
                _buf: bytes, _start: int) -> None:
        nonlocal end
        offset = end + hlen
        add_offset(offset)
        add_caplen(caplen)
        add_wirelen(wirelen)
        add_ts(ts)
        add_slot(slot)
        end = offset + caplen
        if number >= cols.next_frames or end >= cols.next_bytes:
            cols.tick(number, end)

    reader.visit(visitor)
    return reader.issues


def walk_pcapng(src: ByteSource, cols: IndexColumns) -> list[CaptureIssue]:
    """Index every packet block of the pcapng stream ``src`` (an uncompressed
    file read from its start) into ``cols``; the capture issues as the
    reader reports them (`pcapng.walk_blocks`, the one walk)."""
    issues: list[CaptureIssue] = []
    slots: dict[tuple[int, int, int], int] = {}  # (section, interface, link type) -> slot
    for _buf, base, rows in ng.walk_blocks(src, b"", issues, batch_frames=cols.batch_frames):
        number, ts, caplen, wirelen, start, linktype, iface, section = zip(*rows, strict=True)
        cols.offsets.extend([base + s for s in start])
        cols.caplens.extend(caplen)
        cols.wirelens.extend(wirelen)
        cols.ts.extend(ts)
        cols.slots.extend([slots[key] if key in slots else slots.setdefault(key, cols.slot(*key))
                           for key in zip(section, iface, linktype, strict=True)])
        last = rows[-1]
        cols.tick(number[-1], base + last[4] + last[2])
    return issues


class FrameIndex:
    """Where every frame of one capture file lies, and how to read it again.

    Positions ``i`` are 0-based (``len(index)`` frames); the Frame that
    ``read_frame(i)`` returns has the 1-based ``number`` ``i + 1`` that
    ``open_capture`` gives it. ``ts``, ``caplens``, ``wirelens`` and
    ``offsets`` are read-only columns indexed by position. ``issues`` holds
    the capture issues the reader reports (a truncated last record is left
    out of the index, as the reader leaves it out of its frames).
    Use as a context manager, or call ``close()``.
    """

    def __init__(self, path: str, fmt: str, columns: dict[str, array],
                 interfaces: Sequence[tuple[int, int]], issues: list[CaptureIssue],
                 file_size: int) -> None:
        """An index over ``columns`` (every name of `COLUMNS`, equal lengths);
        `build` makes one from the file, `capture.index_store` from a stored entry."""
        self.path = path
        self.format = fmt
        self.issues = issues
        self.file_size = file_size
        self.offsets = columns["offsets"]
        self.caplens = columns["caplens"]
        self.wirelens = columns["wirelens"]
        self.ts = columns["ts"]
        self.slots = columns["slots"]
        self.interfaces = tuple(interfaces)
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by close()

    @classmethod
    def build(cls, path: str | os.PathLike[str], progress: ProgressCallback | None = None,
              cancel: Cancel | None = None,
              chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> FrameIndex:
        """Index the pcap or pcapng file at ``path`` in one streaming pass.

        ``progress(frames, bytes_done, bytes_total)`` is called about every
        ``chunk_frames`` frames (and every few MiB) and once at the end;
        ``cancel`` (a threading.Event or a callable returning True to stop)
        is checked at the same points and raises IndexCancelled. Raises
        CaptureError when the file cannot be read as a capture or is
        gzip-compressed; damage met while reading ends the index cleanly
        with a capture issue in ``issues``.
        """
        path = os.fsdecode(path)
        with open_capture(path) as reader, open(path, "rb", buffering=0) as f:
            if reader.compressed:
                raise CaptureError(f"{_display(path)} is gzip-compressed: random access needs "
                                   "an uncompressed capture (decompress it first: gunzip -k)")
            size = os.fstat(f.fileno()).st_size
            cols = IndexColumns(size, progress, cancel, chunk_frames)
            if reader.format == "pcap":
                issues = _visit_pcap(reader, f.fileno(), cols)
            else:
                issues = walk_pcapng(ByteSource([f], compressed=False), cols)
            cols.tick(len(cols.offsets), size)
        cols.trim()
        return cls(path, reader.format, {name: getattr(cols, name) for name in COLUMNS},
                   cols.interfaces, issues, size)

    def __len__(self) -> int:
        return len(self.offsets)

    def _position(self, i: int) -> int:
        n = len(self.offsets)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"frame position {i} out of range ({n} frames)")
        return i

    def linktype(self, i: int) -> int:
        """The link type of the frame at position ``i``."""
        return self.interfaces[self.slots[self._position(i)]][0]

    def interface(self, i: int) -> int:
        """The pcapng interface id (within its section) of the frame at ``i``; 0 for pcap."""
        return self.interfaces[self.slots[self._position(i)]][1]

    def read_frame(self, i: int) -> Frame:
        """Frame at 0-based position ``i`` (``number`` ``i + 1``), read again from the file.

        Raises IndexError for a position outside the index, CaptureError when
        the file no longer holds the frame's bytes (changed since indexing).
        """
        i = self._position(i)
        caplen = self.caplens[i]
        try:
            data = os.pread(self._file.fileno(), caplen, self.offsets[i])
        except ValueError:  # fileno() of a closed file
            raise CaptureError(f"{self.path}: the frame index is closed") from None
        except OSError as exc:
            raise CaptureError(f"{self.path}: cannot read frame {i + 1}: {exc}") from None
        if len(data) != caplen:
            raise CaptureError(f"{self.path}: frame {i + 1} is no longer in the file "
                               "(changed since it was indexed?)")
        linktype, iface = self.interfaces[self.slots[i]]
        return new_frame((i + 1, self.ts[i], caplen, self.wirelens[i], linktype, data, iface))

    def columns(self) -> dict[str, array]:
        """The per-frame columns by name (`COLUMNS`), as the index holds them."""
        return {name: getattr(self, name) for name in COLUMNS}

    @property
    def nbytes(self) -> int:
        """Memory held by the per-frame columns (allocated, with object headers), in bytes."""
        return sum(sys.getsizeof(getattr(self, name)) for name in COLUMNS)

    def close(self) -> None:
        """Close the file; safe to call more than once."""
        self._file.close()

    def __enter__(self) -> FrameIndex:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FrameIndex {self.path!r} {self.format} {len(self)} frames>"
