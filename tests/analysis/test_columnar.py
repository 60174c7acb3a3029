"""The columnar engine's analysing side (analysis.columnar): `run_one`'s
order, counts, progress and Ctrl-C against a row-by-row model of its
docstring, on hand-built chunks; route ids and `Route` objects that stay
the same from chunk to chunk, and new ones after the ids are forgotten."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mipv6scope.analysis import columnar
from mipv6scope.capture import columns, open_capture
from mipv6scope.capture.columns import Chunk

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
ADDRESSES = [bytes([0x20, 0x01, 0x0D, 0xB8]) + bytes(11) + bytes([i]) for i in range(4)]


class Stop(BaseException):
    """Stands for Ctrl-C."""


def hand_built(rng: np.random.Generator, first: int, n: int, routes: int, start_id: int) -> columnar.Gathered:
    """A chunk of ``n`` rows from frame ``first``: random rows masked, the
    others on routes 0..``routes``-1 (the ids from ``start_id`` new here)."""
    route = rng.integers(0, routes, n).astype(np.int32)
    route[rng.random(n) < 0.2] = -1
    ts = 100.0 + first + np.arange(n) * 0.5
    number = np.arange(first, first + n, dtype=np.int64)
    data = b"".join(bytes([i % 256]) * 3 for i in range(n))
    chunk = Chunk(data, number, ts, np.full(n, 3), np.full(n, 3), np.arange(n) * 3, np.full(n, 1),
                  np.zeros(n, np.int64))
    keys = np.array([[columns.PLAIN, 0, 1, 0, 1, -1, -1, 17, k, 9] for k in range(start_id, routes)], np.int32)
    return columnar.Gathered(ts, number, start_id == 0, ADDRESSES if start_id == 0 else [], False,
                             keys.reshape(-1, 10), route, np.where(route >= 0, 40 + number % 7, 0).astype(np.int32),
                             np.zeros(n, np.int32), int((route >= 0).sum()), chunk, None)


def model(chunks: list[columnar.Gathered], every: int | None, raise_at: int) -> list:
    """What run_one's docstring says, row by row: the calls made, up to the
    ``raise_at``-th (which raises)."""
    calls: list = []
    seen = 0
    try:
        for g in chunks:
            _model_chunk(g, every, raise_at, calls, seen)
            seen += len(g.ts)
    except Stop:
        pass
    return calls


def _model_chunk(g: columnar.Gathered, every: int | None, raise_at: int, calls: list, seen: int) -> None:
    """One chunk of `model`, ``seen`` frames before it."""
    done = 0
    try:
        for i in range(len(g.ts)):
            done = i + 1
            if every and (seen + done) % every == 0:
                values = g.ts[:done]
                calls.append(("saw", float(values.min()), float(values.max())))
                calls.append(("progress", seen + done))
                if len(calls) >= raise_at:
                    raise Stop
            calls.append(("decoded", int(g.number[i])) if g.route[i] < 0 else
                         ("data", int(g.number[i]), int(g.length[i]), 9, int(g.route[i])))
            if len(calls) >= raise_at:
                raise Stop
    finally:
        values = g.ts[:done]
        calls.append(("saw", float(values.min()), float(values.max())) if done else ("saw", math.inf, -math.inf))
        calls.append(("counted", int((g.route[:done] >= 0).sum())))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("every", [None, 1, 7, 50])
def test_run_one_hands_on_rows_as_the_model_does(seed: int, every: int | None) -> None:
    """Masked rows, rows due for progress (a masked one among them, the
    first and last of a chunk), and Ctrl-C raised by a handler, the decoder
    or progress at a random call: the same calls, in the same order, with
    the same counts and time spans."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 40, 4).tolist()
    chunks, first = [], 1
    for k, n in enumerate(sizes):
        chunks.append(hand_built(rng, first, n, 6, 0 if k == 0 else 6))
        first += n
    want_all = model(chunks, every, 10 ** 9)
    raise_at = int(rng.integers(1, len(want_all) + 1)) if seed % 3 else 10 ** 9
    want = model(chunks, every, raise_at)
    calls: list = []

    def record(call: tuple) -> None:
        calls.append(call)
        if len(calls) >= raise_at:
            raise Stop

    def handler(fields: tuple) -> None:
        assert len(fields) == 16 and fields[2] == 0 and fields[14] == 0
        record(("data", fields[1], fields[13], fields[12], fields[11]))

    by_kind = ((), (), (handler,))
    try:
        columnar.run_one(iter(chunks), columnar.RouteTable(), by_kind,
                         lambda frame, file: record(("decoded", frame.number)),
                         lambda a, b: calls.append(("saw", a, b)), lambda n: calls.append(("counted", n)),
                         (lambda n: record(("progress", n))) if every else None, every or 4096)
    except Stop:
        assert raise_at < 10 ** 9
    assert calls == want


def route_objects(path: Path, chunk_frames: int) -> list[tuple[tuple, int]]:
    """(a fast frame's route fields, id() of its Route) of every fast frame,
    gathered in chunks of ``chunk_frames``."""
    table = columnar.RouteTable()
    gatherer = columnar.Gatherer()
    found = []
    keep = []  # every Route kept alive, so no id() is reused
    with open_capture(path) as reader:
        for chunk in columns.chunks(reader, chunk_frames=chunk_frames):
            g = gatherer(chunk)
            entries = table.of_chunk(g)
            for r in g.route.tolist():
                if r >= 0:
                    keep.append(entries[r][10])
                    found.append((entries[r][:10], id(entries[r][10])))
    return found


def test_a_route_keeps_its_route_object_across_chunks() -> None:
    """Chunks of 50 frames: every frame of one route gets the same `Route`
    (where the analyzers keep their memos), different routes different ones."""
    found = route_objects(SAMPLES / "scenario-fleet.pcap", 50)
    by_fields: dict[tuple, set[int]] = {}
    for fields, route in found:
        by_fields.setdefault(fields, set()).add(route)
    assert len(found) > 1000 and len(by_fields) > 10
    assert all(len(routes) == 1 for routes in by_fields.values())
    assert len(set().union(*by_fields.values())) == len(by_fields)


def test_forgotten_route_ids_give_new_route_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """With `ROUTES_MAX` routes remembered at most, the ids start again and
    a route met after that gets a new `Route`; its fields stay right."""
    monkeypatch.setattr(columnar, "ROUTES_MAX", 3)
    found = route_objects(SAMPLES / "scenario-fleet.pcap", 50)
    by_fields: dict[tuple, set[int]] = {}
    for fields, route in found:
        by_fields.setdefault(fields, set()).add(route)
    assert any(len(routes) > 1 for routes in by_fields.values())
    unforgotten = route_objects(SAMPLES / "scenario-fleet.pcap", 50)
    assert [fields for fields, _ in found] == [fields for fields, _ in unforgotten]


@pytest.mark.parametrize("keep_frames", [True, False])
def test_gathered_frame_is_the_readers_frame(keep_frames: bool) -> None:
    """`Gathered.frame` of each row it holds (every row, or only the masked
    ones as a producer keeps them) is the Frame the record reader gives."""
    path = SAMPLES / "scenario-fleet.pcap"
    with open_capture(path) as reader:
        by_number = {f.number: f for f in reader}
    with open_capture(path) as reader:
        gathered = [columnar.Gatherer(keep_frames=keep_frames)(chunk) for chunk in columns.chunks(reader)]
    got, numbers = [], []
    for g in gathered:
        rows = np.arange(len(g.ts)) if keep_frames else np.flatnonzero(g.route < 0)
        numbers += g.number[rows].tolist()
        got += [g.frame(i) for i in rows.tolist()]
    assert len(numbers) == (len(by_number) if keep_frames else sum(len(g.ts) - g.fast for g in gathered)) > 0
    assert got == [by_number[n] for n in numbers]
