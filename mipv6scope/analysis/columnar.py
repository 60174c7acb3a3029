"""The columnar engine: the analysis pass over `capture.columns` chunks.

Each chunk of a capture is gathered at once (`columns.gather`): the frames
the fast layouts explain go to the analyzers' data handlers as the same
field tuples the reference engine's fast path gives (`classify`), and the
masked ones are decoded in full (`decode_frame`) as there, all in frame
order. Several captures are merged by time, with the same duplicate check,
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
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ..capture.columns import (
    NO_ID,
    TUNNELLED,
    AddressTable,
    Chunk,
    Columns,
    chunks,
    gather,
    unique_rows,
)
from ..capture.frame import Frame, new_frame
from ..capture.reader import CaptureReader
from .base import DataHandler
from .routes import Route

ROUTES_MAX = 1 << 16  # routes remembered; when full they are forgotten (new Routes)
ADDRESSES_MAX = 1 << 18  # address ids kept; when full, ids and routes start again

FrameHandler = Callable[[Frame, int], None]
# (the route's fields after (ts, frame, file), its Route, its kind)
RouteEntry = tuple[tuple, Route, int]


class RouteTable:
    """Route key (kind, address ids, proto, ports) -> `RouteEntry`, for one pass."""

    def __init__(self, addresses: AddressTable) -> None:
        self.addresses = addresses
        self.entries: dict[tuple, RouteEntry] = {}

    def bound(self) -> None:
        """Between chunks: forget every address id and route once the pass has
        met `ADDRESSES_MAX` addresses (a scan's), so memory stays bounded."""
        if len(self.addresses.objects) >= ADDRESSES_MAX:
            self.addresses.ids.clear()
            self.addresses.objects.clear()
            self.entries.clear()

    def of_chunk(self, cols: Columns) -> tuple[list[RouteEntry], np.ndarray]:
        """(the chunk's distinct routes, each fast frame's index into them)."""
        keys = np.stack((cols.kind, cols.outer_src, cols.outer_dst, cols.src, cols.dst, cols.hao,
                         cols.rh2, cols.proto, cols.sport, cols.dport), axis=1)
        if not len(keys):
            return [], np.zeros(0, np.int64)
        first, inverse = unique_rows(keys)
        entries, get = self.entries, self.entries.get
        found = []
        for key in map(tuple, keys[first].tolist()):
            entry = get(key)
            if entry is None:
                if len(entries) >= ROUTES_MAX:
                    entries.clear()
                entry = entries[key] = self._entry(key)
            found.append(entry)
        return found, inverse

    def _entry(self, key: tuple) -> RouteEntry:
        kind, outer_src, outer_dst, src, dst, hao, rh2, proto, sport, dport = key
        obj = self.addresses.objects
        fields = (obj[outer_src], obj[outer_dst], obj[src], obj[dst], kind == TUNNELLED,
                  None if hao == NO_ID else obj[hao], None if rh2 == NO_ID else obj[rh2], proto,
                  None if sport == NO_ID else sport, None if dport == NO_ID else dport)
        return fields, Route(), kind


class ChunkRows:
    """One gathered chunk as Python lists, row by row in frame order:
    ``route[i]`` is the frame's `RouteEntry`, or None for a masked frame
    (``frame(i)`` builds its Frame for the decoder)."""

    def __init__(self, chunk: Chunk, routes: RouteTable) -> None:
        routes.bound()
        cols = gather(chunk, routes.addresses)
        entries, which = routes.of_chunk(cols)
        n = len(chunk)
        self.chunk = chunk
        self.ts: list[float] = chunk.ts.tolist()
        self.number: list[int] = chunk.number.tolist()
        # each row's index into the routes; masked rows point past them, at None
        slot = np.full(n, len(entries), np.int64)
        slot[cols.rows] = which
        self.route: list[RouteEntry | None] = list(map((entries + [None]).__getitem__, slot.tolist()))
        length = np.zeros(n, np.int64)
        length[cols.rows] = cols.length
        self.length: list[int] = length.tolist()
        length[cols.rows] = cols.inner_length
        self.inner_length: list[int] = length.tolist()
        self.fast = len(cols.rows)

    def frame(self, i: int) -> Frame:
        """Row ``i`` as the Frame the record readers give."""
        c = self.chunk
        return new_frame((self.number[i], self.ts[i], int(c.caplen[i]), int(c.wirelen[i]),
                          int(c.linktype[i]), c.frame_bytes(i), int(c.interface[i])))


def _time_span(ts: np.ndarray) -> tuple[float, float]:
    """(earliest, latest) of ``ts`` as the reference engine's loop finds them
    (NaN is never earlier or later): (inf, -inf) when there is none."""
    values = ts[~np.isnan(ts)]
    if not len(values):
        return math.inf, -math.inf
    return float(values.min()), float(values.max())


def run_one(reader: CaptureReader, routes: RouteTable, by_kind: Sequence[Sequence[DataHandler]],
            decoded: FrameHandler, saw: Callable[[float, float], None], counted: Callable[[int], None],
            progress: Callable[[int], None] | None, progress_every: int) -> None:
    """One capture, chunk by chunk: fast frames to their kind's handlers,
    masked frames to ``decoded(frame, 0)``. ``saw(first, last)`` gets the
    time span and ``counted(n)`` the fast frames, of every chunk, also when
    a handler raises (Ctrl-C) part way through one (up to that frame).
    ``progress(frames read)`` is called, as the reference engine does, before
    handing on every ``progress_every``-th frame, after ``saw`` of the
    frames up to it."""
    frames_before = 0
    next_at = progress_every if progress is not None else 0  # 0: never
    for chunk in chunks(reader):
        rows = ChunkRows(chunk, routes)
        until = next_at - frames_before  # the row (1-based) due for progress
        done = 0
        try:
            for ts, number, route, length, inner_length in zip(
                    rows.ts, rows.number, rows.route, rows.length, rows.inner_length, strict=True):
                done += 1
                if done == until:
                    saw(*_time_span(chunk.ts[:done]))
                    progress(frames_before + done)  # type: ignore[misc]  # until > 0: progress given
                    until += progress_every
                if route is None:
                    decoded(rows.frame(done - 1), 0)
                    continue
                fields = (ts, number, 0, *route[0], length, inner_length, route[1])
                for handler in by_kind[route[2]]:
                    handler(fields)
        finally:
            saw(*_time_span(chunk.ts[:done]))
            counted(rows.fast if done == len(rows.ts) else
                    sum(route is not None for route in rows.route[:done]))
        if progress is not None:
            next_at = frames_before + until
        frames_before += len(rows.ts)


def _keyed(reader: CaptureReader, file: int, routes: RouteTable
           ) -> Iterator[tuple[float, int, int, Frame, RouteEntry | None, int, int]]:
    """(ts, file, number, frame, route, length, inner_length) of every frame of
    one capture: sorts by time, then file, then frame number."""
    for chunk in chunks(reader):
        rows = ChunkRows(chunk, routes)
        for i, (ts, number) in enumerate(zip(rows.ts, rows.number, strict=True)):
            yield ts, file, number, rows.frame(i), rows.route[i], rows.length[i], rows.inner_length[i]


def merged(readers: Sequence[CaptureReader], routes: RouteTable
           ) -> Iterator[tuple[float, int, int, Frame, RouteEntry | None, int, int]]:
    """The frames of several captures merged by time (as `engine._frames`)."""
    return heapq.merge(*(_keyed(reader, i, routes) for i, reader in enumerate(readers)))


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
