"""Runs of packet times: where a stream of packets went on and where it fell
silent, without keeping every packet's time.

The handoff analyzer asks of a move's window whether it holds a silence
longer than ``Settings.DISRUPTION_IDLE_GAP_S`` (handoffs.py, "Disruption").
It keeps at most MAX_FRAMES_KEPT packets per count, but the question is
about all of them: a node that only receives can be sent thousands of
packets between its own, and a gap among the oldest of them must not vanish
with them, nor a dense stream look like a silence where its packets were
not kept. `Runs` keeps, for a gap ``gap``, the packets' times as runs in
which consecutive packets are at most ``gap`` apart: (first, last) per run,
one pair per silence, whatever the number of packets.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_RUNS = 1024  # past this, the two oldest runs are joined (their silence no longer shows)


class Runs:
    """Packet times as runs at most ``gap`` apart within (see the module docstring)."""

    __slots__ = ("gap", "first", "spans")

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self.first: float | None = None  # the first time added (in the order added)
        self.spans: list[list[float]] = []  # [earliest, latest] per run, in the order opened

    def add(self, ts: float) -> None:
        """One more packet at ``ts`` (in capture order; times may step back)."""
        if self.first is None:
            self.first = ts
        spans = self.spans
        if spans:
            last = spans[-1]
            if last[0] - self.gap <= ts <= last[1] + self.gap:
                if ts > last[1]:
                    last[1] = ts
                elif ts < last[0]:
                    last[0] = ts
                return
            if len(spans) >= MAX_RUNS:
                spans[0:2] = [[min(spans[0][0], spans[1][0]), max(spans[0][1], spans[1][1])]]
        spans.append([ts, ts])

    def add_all(self, times: Iterable[float]) -> None:
        """``add`` each of ``times``, in order."""
        for ts in times:
            self.add(ts)


def silent(points: Iterable[float], runs: Iterable[Runs | None], start: float, end: float,
           gap: float) -> bool:
    """Whether [``start``, ``end``] holds a silence longer than ``gap``: two
    neighbouring moments with nothing between them, the moments being
    ``start``, ``end``, the ``points`` and every packet of ``runs`` (each made
    with this ``gap``) that fall within the window. The same answer as taking
    every packet's time as a point: within a run neighbours are at most
    ``gap`` apart, so a run that reaches into the window leaves no silence
    where it covers it, even past the window's edges."""
    if start > end:
        return False  # an empty window holds no silence
    spans = [(p, p) for p in (start, end, *points) if start <= p <= end]
    for r in runs:
        if r is not None:
            spans += [(a, b) for a, b in r.spans if b >= start and a <= end]
    spans.sort()
    reached = spans[0][1]
    for a, b in spans[1:]:
        if a - reached > gap:
            return True
        if b > reached:
            reached = b
    return False
