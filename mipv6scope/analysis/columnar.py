"""The columnar engine: the analysis pass over `capture.columns` chunks.

Each chunk of a capture is gathered at once (`columns.gather`): the frames
the fast layouts explain go to the analyzers' data handlers as the same
field tuples the reference engine's fast path gives (`classify`), and the
masked ones are decoded in full (`decode_frame`) as there, all in frame
order. The work is in two halves: `Gatherer` (walk, gather, route ids: no
analyzer state, so it can run in this process, a ``--jobs`` producer
process (`parallel`) or a cluster task (`cluster`)) makes a `Gathered` per
chunk, and `RouteTable` / `run_one` / `merged` in the analysing process
turn it into field tuples and Frames for the analyzers. Several captures
are merged by time, with the same duplicate check, as in the reference
engine (`engine._frames`, `engine._Dedupe`).

A field tuple is (ts, frame, file) + the route's fields (outer source and
destination, source, destination, tunnelled, hao, rh2, proto, sport, dport)
+ (length, inner_length, route). Every fast frame's route (kind, address
ids, proto, ports) has an id that stays the same from chunk to chunk
(`columns.StableIds`, in the `Gatherer`); the route's fields and its
`routes.Route` are made once, when its id is new (`RouteTable`), so the
analyzers' per-route memos work as on the reference path; numpy values
become Python values once per chunk (``tolist``), not per element.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv6Address

import numpy as np

from ..capture.columns import (
    NO_ID,
    TUNNELLED,
    AddressTable,
    Chunk,
    Columns,
    StableIds,
    chunks,
    gather,
)
from ..capture.frame import Frame, new_frame
from ..capture.reader import CaptureReader
from ..decode.addresses import address
from .base import DataHandler
from .routes import Route

ROUTES_MAX = 1 << 16  # routes remembered; when full they are forgotten (new Routes)
ADDRESSES_MAX = 1 << 18  # address ids kept; when full, ids and routes start again

FrameHandler = Callable[[Frame, int], None]
# the route's 10 fields after (ts, frame, file), then its Route and its kind
RouteEntry = tuple


class PackedAddresses(AddressTable):
    """An `AddressTable` that keeps each id's 16 packed bytes (not an address
    object): what a producer sends on (`Gathered.addresses`)."""

    def made(self, packed: bytes) -> bytes:  # type: ignore[override]  # bytes, not an address
        return packed


@dataclass
class Gathered:
    """What the columnar pass made of one chunk, before anything touches the
    analyzers: plain arrays and bytes, so a producer process (`parallel`) or
    a cluster worker (`cluster`) can make it and the analysing process take
    it (`RouteTable`, `run_one`). Address and route ids are the producer's
    and stay the same from chunk to chunk: ``addresses`` are the packed
    addresses this chunk added, in id order, and ``routes`` the keys of the
    routes it added, in id order, after the ids start again from 0 (both
    when ``reset``, the routes alone when ``routes_reset``)."""

    ts: np.ndarray            # float64, one per row (frame), in frame order
    number: np.ndarray        # int64
    reset: bool
    addresses: list[bytes]
    routes_reset: bool
    routes: np.ndarray        # (new routes, 10) int32: kind, address ids, proto, ports
    route: np.ndarray         # int32 per row: its route's id; -1 if masked
    length: np.ndarray        # int32 per row (0 if masked)
    inner_length: np.ndarray  # int32 per row (0 if masked)
    fast: int                 # rows not masked
    frames: Chunk             # the rows ``frame`` can give: all, or the masked ones
    frame_rows: np.ndarray | None  # rows of the chunk ``frames`` holds (None: all)

    def frame(self, i: int) -> Frame:
        """Row ``i`` as the Frame the record readers give (a row ``frames`` holds).
        The first call reads the chunk's columns into lists (`frame_columns`)."""
        rows, number, ts, caplen, wirelen, linktype, start, interface = self.frame_columns
        j = i if rows is None else bisect_left(rows, i)
        begin, size = start[j], caplen[j]
        return new_frame((number[j], ts[j], size, wirelen[j], linktype[j],
                          self.frames.data[begin:begin + size], interface[j]))

    @cached_property
    def frame_columns(self) -> tuple[list[int] | None, list[int], list[float], list[int], list[int],
                                     list[int], list[int], list[int]]:
        """The columns `frame` reads, as lists indexed like ``frames``
        (numbers and times taken at ``frame_rows``), with those rows (None: all)."""
        c, rows = self.frames, self.frame_rows
        number, ts = (self.number, self.ts) if rows is None else (self.number[rows], self.ts[rows])
        return (None if rows is None else rows.tolist(), number.tolist(), ts.tolist(), c.caplen.tolist(),
                c.wirelen.tolist(), c.linktype.tolist(), c.start.tolist(), c.interface.tolist())


class Gatherer:
    """The columnar pass of one capture that touches no analyzer state:
    chunk -> `Gathered`, with its own address and route ids."""

    def __init__(self, keep_frames: bool = True) -> None:
        self.addresses = PackedAddresses()
        self.routes = StableIds(4)  # route keys (`_route_words`)
        self.keep_frames = keep_frames  # False: only the masked frames' bytes are kept

    def bound(self) -> bool:
        """Between chunks: forget every address id once the pass has met
        `ADDRESSES_MAX` addresses (a scan's), so memory stays bounded; True
        when it did."""
        if len(self.addresses.objects) < ADDRESSES_MAX:
            return False
        self.addresses.forget()
        return True

    def __call__(self, chunk: Chunk) -> Gathered:
        reset = self.bound()
        routes_reset = reset or self.routes.count >= ROUTES_MAX
        if routes_reset:
            self.routes.forget()
        known = len(self.addresses.objects)
        cols = gather(chunk, self.addresses)
        ids, new = self.routes.of(_route_words(cols))
        keys = np.stack([column[new] for column in (cols.kind, cols.outer_src, cols.outer_dst, cols.src,
                                                    cols.dst, cols.hao, cols.rh2, cols.proto,
                                                    cols.sport, cols.dport)], axis=1)
        n = len(chunk)
        route = np.full(n, -1, np.int32)
        route[cols.rows] = ids
        length = np.zeros(n, np.int32)
        length[cols.rows] = cols.length
        inner_length = np.zeros(n, np.int32)
        inner_length[cols.rows] = cols.inner_length
        frames, frame_rows = chunk, None
        if not self.keep_frames:
            frame_rows = np.flatnonzero(cols.mask)
            frames = _rows_of(chunk, frame_rows)
        # 32 bits hold every id, port and length: half the bytes a producer sends
        return Gathered(chunk.ts, chunk.number, reset,
                        self.addresses.objects[known:],  # type: ignore[arg-type]  # bytes
                        routes_reset, keys.astype(np.int32), route, length, inner_length,
                        len(cols.rows), frames, frame_rows)


def _route_words(cols: Columns) -> np.ndarray:
    """The route key of every fast row (kind, address ids, proto, ports) in
    4 int64 words, exactly: ids and ports + 1 (`NO_ID` is -1) take at most
    32 and 17 bits."""
    return np.stack((cols.outer_src << 32 | cols.outer_dst, (cols.src + 1) << 32 | (cols.dst + 1),
                     (cols.hao + 1) << 32 | (cols.rh2 + 1),
                     cols.kind << 42 | cols.proto << 34 | (cols.sport + 1) << 17 | (cols.dport + 1)), axis=1)


def _rows_of(chunk: Chunk, rows: np.ndarray) -> Chunk:
    """A Chunk of only ``rows`` of ``chunk`` (their bytes copied out)."""
    start, caplen = chunk.start[rows], chunk.caplen[rows]
    data = chunk.data
    kept = b"".join([data[s:s + c] for s, c in zip(start.tolist(), caplen.tolist(), strict=True)])
    at = np.zeros(len(rows), np.int64)
    np.cumsum(caplen[:-1], out=at[1:])
    return Chunk(kept, chunk.number[rows], chunk.ts[rows], caplen, chunk.wirelen[rows], at,
                 chunk.linktype[rows], chunk.interface[rows])


def gathered_here(reader: CaptureReader) -> Iterator[Gathered]:
    """The chunks of one capture gathered in this process."""
    gatherer = Gatherer()
    for chunk in chunks(reader):
        yield gatherer(chunk)


class RouteTable:
    """Route id -> `RouteEntry`, for the chunks of one producer (its address
    and route ids): an entry is made once per route id, so a route keeps its
    `Route` (and the analyzers' memos in it) while the producer remembers it."""

    def __init__(self) -> None:
        self.addresses: list[IPv6Address] = []  # by the producer's id
        self.entries: list[RouteEntry] = []     # by the producer's route id

    def of_chunk(self, g: Gathered) -> list[RouteEntry]:
        """Every remembered route's entry by id, the chunk's new ones (``g.routes``) added."""
        if g.reset:
            self.addresses.clear()
        if g.reset or g.routes_reset:
            self.entries.clear()
        self.addresses.extend(map(address, g.addresses))
        self.entries.extend(map(self._entry, g.routes.tolist()))
        return self.entries

    def _entry(self, key: list[int]) -> RouteEntry:
        kind, outer_src, outer_dst, src, dst, hao, rh2, proto, sport, dport = key
        obj = self.addresses
        fields = (obj[outer_src], obj[outer_dst], obj[src], obj[dst], kind == TUNNELLED,
                  None if hao == NO_ID else obj[hao], None if rh2 == NO_ID else obj[rh2], proto,
                  None if sport == NO_ID else sport, None if dport == NO_ID else dport)
        return (*fields, Route(), kind)


def _time_span(ts: np.ndarray) -> tuple[float, float]:
    """(earliest, latest) of ``ts`` as the reference engine's loop finds them
    (NaN is never earlier or later): (inf, -inf) when there is none."""
    values = ts[~np.isnan(ts)]
    if not len(values):
        return math.inf, -math.inf
    return float(values.min()), float(values.max())


def _numbers(number: np.ndarray) -> Sequence[int]:
    """A chunk's frame numbers (increasing) as a range when they follow each
    other (as they do), else a list."""
    if len(number) and int(number[-1]) - int(number[0]) == len(number) - 1:
        return range(int(number[0]), int(number[-1]) + 1)
    return number.tolist()


def run_one(source: Iterable[Gathered], routes: RouteTable, by_kind: Sequence[Sequence[DataHandler]],
            decoded: FrameHandler, saw: Callable[[float, float], None], counted: Callable[[int], None],
            progress: Callable[[int], None] | None, progress_every: int) -> None:
    """One capture's gathered chunks (``source``): fast frames to their kind's handlers,
    masked frames to ``decoded(frame, 0)``. ``saw(first, last)`` gets the
    time span and ``counted(n)`` the fast frames, of every chunk, also when
    a handler raises (Ctrl-C) part way through one (up to that frame).
    ``progress(frames read)`` is called, as the reference engine does, before
    handing on every ``progress_every``-th frame, after ``saw`` of the
    frames up to it."""
    frames_before = 0
    next_at = progress_every if progress is not None else 0  # 0: never
    for g in source:
        entries = routes.of_chunk(g)
        n = len(g.ts)
        until = next_at - frames_before  # the row (1-based) due for progress
        due = set(range(until - 1, n, progress_every)) if progress is not None else set()
        ts, number, route = g.ts.tolist(), _numbers(g.number), g.route.tolist()
        length, inner_length = g.length.tolist(), g.inner_length.tolist()
        done = begin = 0  # rows begun; the first row of the next run of fast rows
        try:
            # runs of fast rows, stopped at each row due for progress (given
            # before the row is handed on) and at each masked row (decoded)
            for stop in (*sorted(due.union(np.flatnonzero(g.route < 0).tolist())), n):
                frame = None
                try:
                    # (none between two masked rows: a capture of signalling is all masked)
                    for t, frame, r, size, inner in zip(
                            ts[begin:stop], number[begin:stop], route[begin:stop], length[begin:stop],
                            inner_length[begin:stop], strict=True) if begin < stop else ():
                        (outer_src, outer_dst, src, dst, tunnelled, hao, rh2, proto, sport, dport, memo,
                         kind) = entries[r]
                        fields = (t, frame, 0, outer_src, outer_dst, src, dst, tunnelled, hao, rh2, proto,
                                  sport, dport, size, inner, memo)
                        for handler in by_kind[kind]:
                            handler(fields)
                except BaseException:
                    if frame is not None:  # the frame a handler raised on
                        done = number.index(frame) + 1
                    raise
                if stop == n:
                    break
                done = begin = stop + 1
                if stop in due:
                    saw(*_time_span(g.ts[:done]))
                    progress(frames_before + done)  # type: ignore[misc]  # due: progress given
                if route[stop] < 0:
                    decoded(g.frame(stop), 0)
                else:
                    begin = stop  # the next run hands it on
            done = n
        finally:
            saw(*_time_span(g.ts[:done]))
            counted(g.fast if done == n else int(np.count_nonzero(g.route[:done] >= 0)))
        next_at = frames_before + until + progress_every * len(due)
        frames_before += n


def _keyed(source: Iterable[Gathered], file: int
           ) -> Iterator[tuple[float, int, int, Frame, RouteEntry | None, int, int]]:
    """(ts, file, number, frame, route, length, inner_length) of every frame of
    one capture (gathered with every frame kept): sorts by time, then file,
    then frame number."""
    routes = RouteTable()
    for g in source:
        entries = routes.of_chunk(g)
        c = g.frames  # every row's (frame_rows is None)
        data = c.data
        for ts, number, route, length, inner_length, start, caplen, wirelen, linktype, interface in zip(
                g.ts.tolist(), g.number.tolist(), g.route.tolist(), g.length.tolist(),
                g.inner_length.tolist(), c.start.tolist(), c.caplen.tolist(), c.wirelen.tolist(),
                c.linktype.tolist(), c.interface.tolist(), strict=True):
            frame = new_frame((number, ts, caplen, wirelen, linktype, data[start:start + caplen], interface))
            yield ts, file, number, frame, None if route < 0 else entries[route], length, inner_length


def merged(sources: Sequence[Iterable[Gathered]]
           ) -> Iterator[tuple[float, int, int, Frame, RouteEntry | None, int, int]]:
    """The frames of several captures merged by time (as `engine._frames`);
    each capture has its own address and route ids, so its own `RouteTable`."""
    return heapq.merge(*(_keyed(source, i) for i, source in enumerate(sources)))


def dispatch(fields_of: tuple[float, int, int, Frame, RouteEntry | None, int, int],
             by_kind: Sequence[Sequence[DataHandler]], decoded: FrameHandler) -> bool:
    """Hand one merged frame on; True when it took the fast path."""
    ts, file, number, frame, route, length, inner_length = fields_of
    if route is None:
        decoded(frame, file)
        return False
    fields = (ts, number, file, *route[:10], length, inner_length, route[10])
    for handler in by_kind[route[11]]:
        handler(fields)
    return True
