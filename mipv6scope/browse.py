"""Per-frame access for a browser (the terminal UI): one capture, read by position.

`FrameSource` wraps a `capture.index.FrameIndex` and hands out, for the frame
at 0-based position ``i``: its packet-list row (the same text as
``mipv6scope packets``), its kind (what the row is coloured and marked by), the
decoder's view, the details tree and the raw bytes. A browser decodes nothing
itself: it asks this for what it shows.

Frames are decoded when asked for and kept in a bounded LRU cache, so scrolling
a capture of millions of frames decodes only the rows on screen, and memory is
the index's columns (about 26 bytes a frame) plus the cache. Reads are
thread-safe: the index reads with ``os.pread`` and the cache is locked.

No UI here: nothing in this module imports textual, rich or click.
"""

from __future__ import annotations

import os
import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from .capture.frame import Frame
from .capture.index import Cancel, FrameIndex, ProgressCallback
from .decode.detail import DetailNode, build_detail
from .decode.frame_decoder import decode_frame
from .decode.model import MALFORMED, SKIPPED, DecodedFrame
from .decode.packet_list import PacketRow, packet_row

if TYPE_CHECKING:  # the filter is only needed by positions_matching's callers
    from .filter import CompiledFilter, FilterContext

DEFAULT_CACHE_FRAMES = 4096
SCAN_CHUNK_BYTES = 8 << 20  # positions_matching reads the file this much at a time
FILTER_CHUNK_FRAMES = 2048  # frames between progress reports and cancellation checks

# progress(frames done, frames total) of positions_matching
MatchProgress = Callable[[int, int], object]

# Row kinds, most telling first (a lost tunnelled frame is "lost").
SIGNALLING = "signalling"
TUNNELLED = "tunnelled"
ROUTE_OPTIMISED = "route_optimised"
LOST = "lost"
MALFORMED_KIND = "malformed"
SKIPPED_KIND = "skipped"
DATA = "data"
KINDS = (SIGNALLING, TUNNELLED, ROUTE_OPTIMISED, LOST, MALFORMED_KIND, SKIPPED_KIND, DATA)

# ICMPv6 types that count as signalling: RA, NS, NA (movement detection) and
# the Mobile IPv6 messages 144-147 (DHAAD, mobile prefix solicitation/advertisement)
SIGNALLING_ICMP6_TYPES = frozenset({134, 135, 136, 144, 145, 146, 147})


class FilterCancelled(Exception):
    """`FrameSource.positions_matching` was cancelled."""


class CachedFrame(NamedTuple):
    """One frame as read and decoded, with its packet-list row and kind."""

    frame: Frame
    decoded: DecodedFrame
    row: PacketRow


def frame_kind(decoded: DecodedFrame, lost: bool = False) -> str:
    """The kind of a decoded frame: malformed, skipped, lost (when ``lost``),
    signalling (a Mobility Header, ICMPv6 RA/NS/NA or 144-147), route-optimised
    (data carrying a HAO or RH2), tunnelled (IPv6-in-IPv6) or data."""
    if decoded.status == MALFORMED:
        return MALFORMED_KIND
    if decoded.status == SKIPPED:
        return SKIPPED_KIND
    if lost:
        return LOST
    if decoded.mh is not None:
        return SIGNALLING
    if decoded.icmp6 is not None and decoded.icmp6.get("type") in SIGNALLING_ICMP6_TYPES:
        return SIGNALLING
    if decoded.ip6:
        inner = decoded.ip6[-1]
        if inner.hao is not None or inner.rh2 is not None:
            return ROUTE_OPTIMISED
        if len(decoded.ip6) > 1:
            return TUNNELLED
    return DATA


def node_address_bytes(context: FilterContext, node: str) -> list[bytes]:
    """The packed (16-byte) home and care-of addresses of the mobile nodes
    ``mn == node`` names in ``context`` (by name or home address, as the
    filter compares): the ``candidates_with`` of
    `FrameSource.positions_matching` for that test."""
    from ipaddress import IPv6Address

    try:
        address: IPv6Address | None = IPv6Address(node)
    except ValueError:
        address = None
    chosen = {ref.index for ref in context.nodes
              if ref.name == node or (address is not None and address in ref.home_addresses)}
    return [a.packed for a, owners in context.node_of_address.items() if chosen.intersection(owners)]


class FrameSource:
    """Random access to the frames of one capture, for a browser.

    Positions are 0-based (``len(source)`` frames); frame numbers, as the
    packet list shows them, are ``position + 1``. Build with `open` (which
    indexes the file) or from an existing `FrameIndex`. Use as a context
    manager, or call `close`.
    """

    def __init__(self, index: FrameIndex, cache_frames: int = DEFAULT_CACHE_FRAMES) -> None:
        self.index = index
        self.path = index.path
        self.cache_frames = max(1, cache_frames)
        self.first_ts = index.ts[0] if len(index) else 0.0
        self._cache: OrderedDict[int, CachedFrame] = OrderedDict()
        self._lock = threading.Lock()
        self._lost: frozenset[int] = frozenset()

    @classmethod
    def open(cls, path: str | os.PathLike[str], progress: ProgressCallback | None = None,
             cancel: Cancel | None = None,
             cache_frames: int = DEFAULT_CACHE_FRAMES) -> FrameSource:
        """Index the capture at ``path`` (see `FrameIndex.build` for ``progress``,
        ``cancel`` and the errors raised) and return its FrameSource."""
        return cls(FrameIndex.build(path, progress, cancel), cache_frames)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def issues(self) -> list:
        """The capture issues met while indexing."""
        return self.index.issues

    # -- per frame -----------------------------------------------------------

    def ts(self, i: int) -> float:
        """Epoch timestamp of the frame at position ``i`` (no decoding)."""
        return self.index.ts[i]

    def _get(self, i: int) -> CachedFrame:
        """The frame at position ``i`` read and decoded, from the cache if there."""
        if i < 0:
            i += len(self.index)
        with self._lock:
            hit = self._cache.get(i)
            if hit is not None:
                self._cache.move_to_end(i)
                return hit
        frame = self.index.read_frame(i)
        decoded = decode_frame(frame)
        entry = CachedFrame(frame, decoded, packet_row(decoded, self.first_ts))
        with self._lock:
            self._cache[i] = entry
            self._cache.move_to_end(i)
            while len(self._cache) > self.cache_frames:
                self._cache.popitem(last=False)
        return entry

    def row(self, i: int) -> PacketRow:
        """The packet-list row of the frame at ``i``: the text `packets` prints."""
        return self._get(i).row

    def decoded(self, i: int) -> DecodedFrame:
        """The decoder's view of the frame at ``i``."""
        return self._get(i).decoded

    def frame(self, i: int) -> Frame:
        """The captured frame at ``i`` (number, ts, lengths, link type, bytes)."""
        return self._get(i).frame

    def raw(self, i: int) -> bytes:
        """The captured bytes of the frame at ``i``, from the link header on."""
        return bytes(self._get(i).frame.data)

    def kind(self, i: int) -> str:
        """The frame's kind (one of `KINDS`), for colours and markers."""
        if i < 0:
            i += len(self.index)
        return frame_kind(self._get(i).decoded, i + 1 in self._lost)

    def detail(self, i: int) -> list[DetailNode]:
        """The details tree of the frame at ``i`` (not cached: built per call)."""
        entry = self._get(i)
        return build_detail(entry.frame, entry.decoded)

    # -- filtering -----------------------------------------------------------

    def positions_matching(self, compiled: CompiledFilter, context: FilterContext | None = None,
                           candidates_with: Sequence[bytes] | None = None,
                           progress: MatchProgress | None = None,
                           cancel: Cancel | None = None) -> array:
        """The 0-based positions (an ``array('q')``, ascending) of the frames
        ``compiled`` matches, with ``context`` for the analysis fields.

        With ``candidates_with`` (16-byte packed addresses), only the frames
        whose captured bytes hold one of them are decoded and tested: the file
        is read sequentially and searched with ``bytes.find`` (C speed), so a
        node's frames in a capture of millions come back in seconds. The
        result is the same as testing every frame as long as every frame the
        filter matches carries one of the addresses, e.g. for ``mn == NODE``
        (alone or and-ed with more) and the node's home and care-of
        addresses: the decoder takes every address it reports from the
        frame's own bytes. An empty ``candidates_with`` matches nothing.

        ``progress(frames done, frames total)`` is called now and then;
        ``cancel`` (an Event or a callable returning True) is checked as often
        and raises FilterCancelled. Frames tested are decoded outside the
        cache, so the rows on screen stay cached.
        """
        if cancel is None:
            cancelled: Callable[[], bool] = lambda: False  # noqa: E731
        else:
            cancelled = cancel.is_set if isinstance(cancel, threading.Event) else cancel
        total = len(self.index)
        if candidates_with is None:
            candidates: Sequence[int] = range(total)
        else:
            candidates = self._frames_with(candidates_with, progress, cancelled)
        matches = compiled.matches
        read_frame = self.index.read_frame
        needs_bytes = compiled.needs_bytes
        first_ts = self.first_ts
        out = array("q")
        for done, i in enumerate(candidates):
            if not done % FILTER_CHUNK_FRAMES and done:
                if cancelled():
                    raise FilterCancelled
                if progress is not None and candidates_with is None:
                    progress(i, total)
            frame = read_frame(i)
            if matches(decode_frame(frame), context,
                       data=bytes(frame.data) if needs_bytes else None, first_ts=first_ts):
                out.append(i)
        if progress is not None:
            progress(total, total)
        return out

    def _frames_with(self, needles: Sequence[bytes], progress: MatchProgress | None,
                     cancelled: Callable[[], bool]) -> list[int]:
        """The positions of the frames whose captured bytes hold any of ``needles``
        (ascending), from one sequential read of the file."""
        needles = [bytes(n) for n in dict.fromkeys(needles) if n]
        if not needles or not len(self.index):
            return []
        offsets, caplens = self.index.offsets, self.index.caplens
        total = len(offsets)
        overlap = max(len(n) for n in needles) - 1
        start = offsets[0]
        stop = offsets[-1] + caplens[-1]
        found: set[int] = set()
        with open(self.path, "rb") as fh:
            fh.seek(start)
            base = start  # the file offset of buf[0]
            buf = b""
            while base + len(buf) < stop:
                if cancelled():
                    raise FilterCancelled
                chunk = fh.read(min(SCAN_CHUNK_BYTES, stop - base - len(buf)))
                if not chunk:
                    break
                keep = buf[max(0, len(buf) - overlap):] if overlap else b""
                base += len(buf) - len(keep)
                buf = keep + chunk
                for needle in needles:
                    size = len(needle)
                    hit = buf.find(needle)
                    while hit >= 0:
                        at = base + hit
                        i = bisect_right(offsets, at) - 1
                        if i >= 0 and at + size <= offsets[i] + caplens[i]:
                            found.add(i)
                        hit = buf.find(needle, hit + 1)
                if progress is not None:
                    progress(min(total, bisect_right(offsets, base + len(buf))), total)
        return sorted(found)

    # -- state ---------------------------------------------------------------

    def set_lost(self, frames: Iterable[int]) -> None:
        """Mark these frame numbers (1-based) as lost, e.g. the frames of the
        report's ``lost_to_old_care_of`` findings."""
        self._lost = frozenset(int(f) for f in frames)

    @property
    def lost(self) -> frozenset[int]:
        """The frame numbers marked lost."""
        return self._lost

    def position_of(self, number: int) -> int:
        """The position of 1-based frame ``number``; raises IndexError outside."""
        if not 1 <= number <= len(self.index):
            raise IndexError(f"no frame {number} ({len(self.index)} frames)")
        return number - 1

    @property
    def cached(self) -> int:
        """How many decoded frames the cache holds."""
        return len(self._cache)

    @property
    def nbytes(self) -> int:
        """Memory held by the frame index columns, in bytes."""
        return self.index.nbytes

    def close(self) -> None:
        """Close the capture file and drop the cache."""
        with self._lock:
            self._cache.clear()
        self.index.close()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FrameSource {self.path!r} {len(self)} frames>"
