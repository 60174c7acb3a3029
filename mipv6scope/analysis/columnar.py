"""The columnar engine: the analysis pass over `capture.columns` chunks.

Each chunk of a capture is gathered at once (`columns.gather`): the frames
the fast layouts explain go to the analyzers' data handlers as the same
field tuples the reference engine's fast path gives (`classify`), and the
masked ones are decoded in full (`decode_frame`) as there, all in frame
order. The work is in two halves: `Gatherer` (walk, gather, distinct routes:
no analyzer state, so it can run in this process, a ``--jobs`` producer
process (`parallel`) or a cluster task (`cluster`)) makes a `Gathered` per
chunk, and `ChunkRows` / `run_one` / `merged` in the analysing process turn
it into field tuples and Frames for the analyzers. Several captures are merged by time, with the same duplicate check,
as in the reference engine (`engine._frames`, `engine._Dedupe`).

A field tuple is (ts, frame, file) + the route's fields (outer source and
destination, source, destination, tunnelled, hao, rh2, proto, sport, dport)
+ (length, inner_length, route). The route's fields and its `routes.Route`
are made once per distinct route (the addresses, kind and ports, read as
integer ids from the chunk's columns), so the analyzers' per-route memos
work as on the reference path; numpy values become Python values once per
chunk (``tolist``), not per element.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from ipaddress import IPv6Address

import numpy as np

from ..capture.columns import (
    NO_ID,
    TUNNELLED,
    AddressTable,
    Chunk,
    chunks,
    gather,
    unique_rows,
)
from ..capture.frame import Frame, new_frame
from ..capture.reader import CaptureReader
from ..decode.addresses import address
from .base import DataHandler
from .routes import Route

ROUTES_MAX = 1 << 16  # routes remembered; when full they are forgotten (new Routes)
ADDRESSES_MAX = 1 << 18  # address ids kept; when full, ids and routes start again

FrameHandler = Callable[[Frame, int], None]
# (the route's fields after (ts, frame, file), its Route, its kind)
RouteEntry = tuple[tuple, Route, int]


class PackedAddresses(AddressTable):
    """An `AddressTable` that keeps each id's 16 packed bytes (not an address
    object): what a producer sends on (`Gathered.addresses`)."""

    def id_of(self, packed: bytes) -> int:
        found = self.ids.get(packed)
        if found is None:
            found = self.ids[packed] = len(self.objects)
            self.objects.append(packed)  # type: ignore[arg-type]  # bytes, not an address
        return found


@dataclass
class Gathered:
    """What the columnar pass made of one chunk, before anything touches the
    analyzers: plain arrays and bytes, so a producer process (`parallel`) or
    a cluster worker (`cluster`) can make it and the analysing process take
    it (`ChunkRows`). Address ids are the producer's: ``addresses`` are the
    packed addresses this chunk added, in id order, after a reset of the ids
    when ``reset``."""

    ts: np.ndarray            # float64, one per row (frame), in frame order
    number: np.ndarray        # int64
    reset: bool
    addresses: list[bytes]
    keys: np.ndarray          # (routes, 10) int32: kind, address ids, proto, ports
    slot: np.ndarray          # int32 per row: its route's index in ``keys``; len(keys) if masked
    length: np.ndarray        # int32 per row (0 if masked)
    inner_length: np.ndarray  # int32 per row (0 if masked)
    fast: int                 # rows not masked
    frames: Chunk             # the rows ``ChunkRows.frame`` can give: all, or the masked ones
    frame_rows: np.ndarray | None  # rows of the chunk ``frames`` holds (None: all)


class Gatherer:
    """The columnar pass of one capture that touches no analyzer state:
    chunk -> `Gathered`, with its own address ids."""

    def __init__(self, keep_frames: bool = True) -> None:
        self.addresses = PackedAddresses()
        self.keep_frames = keep_frames  # False: only the masked frames' bytes are kept

    def bound(self) -> bool:
        """Between chunks: forget every address id once the pass has met
        `ADDRESSES_MAX` addresses (a scan's), so memory stays bounded; True
        when it did."""
        if len(self.addresses.objects) < ADDRESSES_MAX:
            return False
        self.addresses.ids.clear()
        self.addresses.objects.clear()
        return True

    def __call__(self, chunk: Chunk) -> Gathered:
        reset = self.bound()
        known = len(self.addresses.objects)
        cols = gather(chunk, self.addresses)
        keys = np.stack((cols.kind, cols.outer_src, cols.outer_dst, cols.src, cols.dst, cols.hao,
                         cols.rh2, cols.proto, cols.sport, cols.dport), axis=1)
        n = len(chunk)
        slot = np.zeros(n, np.int64)
        if len(keys):
            first, inverse = unique_rows(keys)
            keys = keys[first]
        else:
            inverse = np.zeros(0, np.int64)
        slot[:] = len(keys)  # masked rows point past the routes
        slot[cols.rows] = inverse
        length = np.zeros(n, np.int64)
        length[cols.rows] = cols.length
        inner_length = np.zeros(n, np.int64)
        inner_length[cols.rows] = cols.inner_length
        frames, frame_rows = chunk, None
        if not self.keep_frames:
            frame_rows = np.flatnonzero(cols.mask)
            frames = _rows_of(chunk, frame_rows)
        # 32 bits hold every id, port and length: half the bytes a producer sends
        return Gathered(chunk.ts, chunk.number, reset,
                        self.addresses.objects[known:],  # type: ignore[arg-type]  # bytes
                        keys.astype(np.int32), slot.astype(np.int32), length.astype(np.int32),
                        inner_length.astype(np.int32), len(cols.rows), frames, frame_rows)


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
    """Route key (kind, address ids, proto, ports) -> `RouteEntry`, for the
    chunks of one producer (its address ids)."""

    def __init__(self) -> None:
        self.addresses: list[IPv6Address] = []  # by the producer's id
        self.entries: dict[tuple, RouteEntry] = {}

    def of_chunk(self, g: Gathered) -> list[RouteEntry]:
        """The chunk's distinct routes (``g.keys``) as entries."""
        if g.reset:
            self.addresses.clear()
            self.entries.clear()
        self.addresses.extend(map(address, g.addresses))
        entries, get = self.entries, self.entries.get
        found = []
        for key in map(tuple, g.keys.tolist()):
            entry = get(key)
            if entry is None:
                if len(entries) >= ROUTES_MAX:
                    entries.clear()
                entry = entries[key] = self._entry(key)
            found.append(entry)
        return found

    def _entry(self, key: tuple) -> RouteEntry:
        kind, outer_src, outer_dst, src, dst, hao, rh2, proto, sport, dport = key
        obj = self.addresses
        fields = (obj[outer_src], obj[outer_dst], obj[src], obj[dst], kind == TUNNELLED,
                  None if hao == NO_ID else obj[hao], None if rh2 == NO_ID else obj[rh2], proto,
                  None if sport == NO_ID else sport, None if dport == NO_ID else dport)
        return fields, Route(), kind


class ChunkRows:
    """One gathered chunk as Python lists, row by row in frame order:
    ``route[i]`` is the frame's `RouteEntry`, or None for a masked frame
    (``frame(i)`` builds its Frame for the decoder)."""

    def __init__(self, g: Gathered, routes: RouteTable) -> None:
        entries = routes.of_chunk(g)
        self.gathered = g
        self.ts: list[float] = g.ts.tolist()
        self.number: list[int] = g.number.tolist()
        self.route: list[RouteEntry | None] = list(map((entries + [None]).__getitem__, g.slot.tolist()))
        self.length: list[int] = g.length.tolist()
        self.inner_length: list[int] = g.inner_length.tolist()
        self.fast = g.fast
        self._frame_at = (None if g.frame_rows is None else
                          {row: j for j, row in enumerate(g.frame_rows.tolist())})

    def frame(self, i: int) -> Frame:
        """Row ``i`` as the Frame the record readers give."""
        c = self.gathered.frames
        j = i if self._frame_at is None else self._frame_at[i]
        return new_frame((self.number[i], self.ts[i], int(c.caplen[j]), int(c.wirelen[j]),
                          int(c.linktype[j]), c.frame_bytes(j), int(c.interface[j])))


def _time_span(ts: np.ndarray) -> tuple[float, float]:
    """(earliest, latest) of ``ts`` as the reference engine's loop finds them
    (NaN is never earlier or later): (inf, -inf) when there is none."""
    values = ts[~np.isnan(ts)]
    if not len(values):
        return math.inf, -math.inf
    return float(values.min()), float(values.max())


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
        rows = ChunkRows(g, routes)
        until = next_at - frames_before  # the row (1-based) due for progress
        done = 0
        try:
            for ts, number, route, length, inner_length in zip(
                    rows.ts, rows.number, rows.route, rows.length, rows.inner_length, strict=True):
                done += 1
                if done == until:
                    saw(*_time_span(g.ts[:done]))
                    progress(frames_before + done)  # type: ignore[misc]  # until > 0: progress given
                    until += progress_every
                if route is None:
                    decoded(rows.frame(done - 1), 0)
                    continue
                fields = (ts, number, 0, *route[0], length, inner_length, route[1])
                for handler in by_kind[route[2]]:
                    handler(fields)
        finally:
            saw(*_time_span(g.ts[:done]))
            counted(rows.fast if done == len(rows.ts) else
                    sum(route is not None for route in rows.route[:done]))
        if progress is not None:
            next_at = frames_before + until
        frames_before += len(rows.ts)


def _keyed(source: Iterable[Gathered], file: int
           ) -> Iterator[tuple[float, int, int, Frame, RouteEntry | None, int, int]]:
    """(ts, file, number, frame, route, length, inner_length) of every frame of
    one capture (gathered with every frame kept): sorts by time, then file,
    then frame number."""
    routes = RouteTable()
    for g in source:
        rows = ChunkRows(g, routes)
        for i, (ts, number) in enumerate(zip(rows.ts, rows.number, strict=True)):
            yield ts, file, number, rows.frame(i), rows.route[i], rows.length[i], rows.inner_length[i]


def merged(sources: Sequence[Iterable[Gathered]]
           ) -> Iterator[tuple[float, int, int, Frame, RouteEntry | None, int, int]]:
    """The frames of several captures merged by time (as `engine._frames`);
    each capture has its own address ids, so its own `RouteTable`."""
    return heapq.merge(*(_keyed(source, i) for i, source in enumerate(sources)))


def dispatch(fields_of: tuple[float, int, int, Frame, RouteEntry | None, int, int],
             by_kind: Sequence[Sequence[DataHandler]], decoded: FrameHandler) -> bool:
    """Hand one merged frame on; True when it took the fast path."""
    ts, file, number, frame, route, length, inner_length = fields_of
    if route is None:
        decoded(frame, file)
        return False
    fields = (ts, number, file, *route[0], length, inner_length, route[1])
    for handler in by_kind[route[2]]:
        handler(fields)
    return True
