"""Per-frame access for a browser (the terminal UI): captures, read by position.

`FrameSource` wraps one `capture.index.FrameIndex` per capture file and hands
out, for the frame at 0-based position ``i``: its packet-list row (the same
text as ``mipv6scope packets``), its kind (what the row is coloured and marked
by), the decoder's view, the details tree and the raw bytes. A browser decodes
nothing itself: it asks this for what it shows.

Several files follow each other, in the order given, as ``mipv6scope
packets`` lists them: positions run on from one file to the next, while frame
numbers (``position_of``, ``locate``) and relative times restart with each
file, as the report numbers them (an event's ``frame`` and ``file``).

Frames are decoded when asked for and kept in a bounded LRU cache, so scrolling
a capture of millions of frames decodes only the rows on screen, and memory is
the index's columns (about 26 bytes a frame) plus the cache. `open` can take
the index from a stored entry (`capture.index_store`) instead of reading the
file. Reads are thread-safe: the index reads with ``os.pread`` and the cache
is locked.

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
from .capture.index_store import IndexStore, Opened
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
    """The kind of a decoded frame: malformed, skipped, lost (when ``lost`` and
    it is tunnelled: the ``lost_to_old_care_of`` frames are packets tunnelled to
    the old care-of address, and with several files a lost frame number names
    a frame in each), signalling (a Mobility Header, ICMPv6 RA/NS/NA or
    144-147), route-optimised (data carrying a HAO or RH2), tunnelled
    (IPv6-in-IPv6) or data."""
    if decoded.status == MALFORMED:
        return MALFORMED_KIND
    if decoded.status == SKIPPED:
        return SKIPPED_KIND
    if lost and len(decoded.ip6) > 1:
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
    """Random access to the frames of one or more captures, for a browser.

    Positions are 0-based (``len(source)`` frames, the files one after the
    other); `locate` gives a position's file (0-based) and 1-based frame
    number in it, `position_of` the way back. With one file the frame number
    is ``position + 1``. Build with `open` (which indexes the files) or from
    existing `FrameIndex` objects. Use as a context manager, or call `close`.
    """

    def __init__(self, index: FrameIndex | Sequence[FrameIndex],
                 cache_frames: int = DEFAULT_CACHE_FRAMES) -> None:
        self.indexes: list[FrameIndex] = [index] if isinstance(index, FrameIndex) else list(index)
        if not self.indexes:
            raise ValueError("a FrameSource needs at least one frame index")
        self.index = self.indexes[0]
        self.path = self.index.path
        self.paths = [i.path for i in self.indexes]
        self.cache_frames = max(1, cache_frames)
        # the first position of each file, and the total
        self.starts = [0]
        for i in self.indexes:
            self.starts.append(self.starts[-1] + len(i))
        # relative times count from each file's first frame (as `packets` prints them)
        self.file_first_ts = [i.ts[0] if len(i) else 0.0 for i in self.indexes]
        self.first_ts = self.file_first_ts[0]
        self._cache: OrderedDict[int, CachedFrame] = OrderedDict()
        self._lock = threading.Lock()
        self._lost: frozenset[int] = frozenset()
        # how each file's index was had (`IndexStore.open`), when `open` used a store
        self.opened: list[Opened] = []

    @classmethod
    def open(cls, path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
             progress: ProgressCallback | None = None, cancel: Cancel | None = None,
             cache_frames: int = DEFAULT_CACHE_FRAMES,
             store: IndexStore | None = None) -> FrameSource:
        """Index the capture at ``path`` (or each of several paths, in turn;
        see `FrameIndex.build` for ``cancel`` and the errors raised) and
        return their FrameSource. ``progress(frames, bytes done, bytes
        total)`` counts over all the files.

        With ``store``, a file's valid stored index is used instead of reading
        the file (`IndexStore.open`); nothing is written here: ``opened``
        lists how each index was had, and the caller stores the built ones
        (`IndexStore.store`) when it sees fit, e.g. after showing them."""
        paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
        sizes = [os.stat(p).st_size for p in paths]
        opened: list[Opened] = []
        indexes: list[FrameIndex] = []
        try:
            for n, p in enumerate(paths):
                frames_before, bytes_before = sum(len(i) for i in indexes), sum(sizes[:n])

                def each(frames: int, done: int, _total: int, fb: int = frames_before,
                         bb: int = bytes_before) -> None:
                    if progress is not None:
                        progress(fb + frames, bb + done, sum(sizes))
                if store is None:
                    indexes.append(FrameIndex.build(p, each, cancel))
                else:
                    opened.append(store.open(p, each, cancel, save=False))
                    indexes.append(opened[-1].index)
        except BaseException:
            for i in indexes:
                i.close()
            raise
        source = cls(indexes, cache_frames)
        source.opened = opened
        return source

    def __len__(self) -> int:
        return self.starts[-1]

    @property
    def files(self) -> int:
        """How many capture files."""
        return len(self.indexes)

    def locate(self, i: int) -> tuple[int, int]:
        """(file, 1-based frame number in that file) of the frame at position ``i``."""
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"frame position {i} out of range ({len(self)} frames)")
        if len(self.indexes) == 1:
            return 0, i + 1
        f = bisect_right(self.starts, i) - 1
        return f, i - self.starts[f] + 1

    def time_span(self) -> float:
        """The longest time from a file's first frame to its last (s)."""
        return max((i.ts[-1] - i.ts[0] for i in self.indexes if len(i)), default=0.0)

    @property
    def issues(self) -> list:
        """The capture issues met while indexing (every file's, in order)."""
        return [issue for index in self.indexes for issue in index.issues]

    # -- per frame -----------------------------------------------------------

    def ts(self, i: int) -> float:
        """Epoch timestamp of the frame at position ``i`` (no decoding)."""
        f, number = self.locate(i)
        return self.indexes[f].ts[number - 1]

    def _get(self, i: int) -> CachedFrame:
        """The frame at position ``i`` read and decoded, from the cache if there."""
        if i < 0:
            i += len(self)
        with self._lock:
            hit = self._cache.get(i)
            if hit is not None:
                self._cache.move_to_end(i)
                return hit
        f, number = self.locate(i)
        frame = self.indexes[f].read_frame(number - 1)
        decoded = decode_frame(frame)
        entry = CachedFrame(frame, decoded, packet_row(decoded, self.file_first_ts[f]))
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
        return frame_kind(self._get(i).decoded, self.locate(i)[1] in self._lost)

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
        total = len(self)
        matches = compiled.matches
        needs_bytes = compiled.needs_bytes
        out = array("q")
        for f, index in enumerate(self.indexes):
            base = self.starts[f]

            def file_progress(done: int, _total: int, base: int = base) -> None:
                if progress is not None:
                    progress(base + done, total)
            if candidates_with is None:
                candidates: Sequence[int] = range(len(index))
            else:
                candidates = self._frames_with(index, candidates_with, file_progress, cancelled)
            read_frame = index.read_frame
            first_ts = self.file_first_ts[f]
            for done, i in enumerate(candidates):
                if not done % FILTER_CHUNK_FRAMES and done:
                    if cancelled():
                        raise FilterCancelled
                    if candidates_with is None:
                        file_progress(i, total)
                frame = read_frame(i)
                if matches(decode_frame(frame), context,
                           data=bytes(frame.data) if needs_bytes else None, first_ts=first_ts):
                    out.append(base + i)
        if progress is not None:
            progress(total, total)
        return out

    @staticmethod
    def _frames_with(index: FrameIndex, needles: Sequence[bytes], progress: MatchProgress | None,
                     cancelled: Callable[[], bool]) -> list[int]:
        """The positions in ``index`` of the frames whose captured bytes hold
        any of ``needles`` (ascending), from one sequential read of its file."""
        needles = [bytes(n) for n in dict.fromkeys(needles) if n]
        if not needles or not len(index):
            return []
        offsets, caplens = index.offsets, index.caplens
        total = len(offsets)
        overlap = max(len(n) for n in needles) - 1
        start = offsets[0]
        stop = offsets[-1] + caplens[-1]
        found: set[int] = set()
        with open(index.path, "rb") as fh:
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
        report's ``lost_to_old_care_of`` findings (with several files: that
        number in every file, as the display filter's ``lost`` matches)."""
        self._lost = frozenset(int(f) for f in frames)

    @property
    def lost(self) -> frozenset[int]:
        """The frame numbers marked lost."""
        return self._lost

    def position_of(self, number: int, file: int = 0) -> int:
        """The position of 1-based frame ``number`` of ``file``; raises
        IndexError outside."""
        if not 0 <= file < len(self.indexes):
            raise IndexError(f"no file {file + 1} ({len(self.indexes)} files)")
        frames = len(self.indexes[file])
        if not 1 <= number <= frames:
            raise IndexError(f"no frame {number} ({frames} frames)")
        return self.starts[file] + number - 1

    def finding_position(self, frames: Sequence[int], ts: float) -> int | None:
        """The position of the frame a finding points to: the first of its
        frame numbers ``frames`` that lies at its time ``ts`` (the time of the
        finding's first occurrence), else its first frame, in the file where
        that frame lies nearest to ``ts``. A finding lists frame numbers
        without their file; with one file this is ``frames[0]``. None when no
        file holds such a frame."""
        best: tuple[float, int] | None = None
        for number in frames:
            for f, index in enumerate(self.indexes):
                if 1 <= number <= len(index) and index.ts[number - 1] == ts:
                    return self.starts[f] + number - 1
        for number in frames[:1]:
            for f, index in enumerate(self.indexes):
                if 1 <= number <= len(index):
                    gap = abs(index.ts[number - 1] - ts)
                    if best is None or gap < best[0]:
                        best = (gap, self.starts[f] + number - 1)
        return None if best is None else best[1]

    @property
    def cached(self) -> int:
        """How many decoded frames the cache holds."""
        return len(self._cache)

    @property
    def nbytes(self) -> int:
        """Memory held by the frame index columns, in bytes."""
        return sum(i.nbytes for i in self.indexes)

    def close(self) -> None:
        """Close the capture files and drop the cache."""
        with self._lock:
            self._cache.clear()
        for index in self.indexes:
            index.close()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FrameSource {', '.join(map(repr, self.paths))} {len(self)} frames>"
