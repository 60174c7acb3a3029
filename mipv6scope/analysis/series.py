"""Packets over time in a bounded number of bins, for the charts' data strips
and the TUI's sparklines.

A `Series` starts at its first packet's time with bins of `FIRST_WIDTH_S`;
when a packet falls past the last of `MAX_BINS` bins, neighbouring bins are
merged in pairs and the width doubles, as often as needed. Memory is bounded
by `MAX_BINS` per series, whatever the capture's length, and every packet is
counted in exactly one bin. A series holds no array until `advance` first
bins packets (an empty array costs 80 bytes; in a capture of many nodes with
a few packets each, most series are frozen before that).

On the hot path a series rides along a packet counter the analyzer keeps
anyway: the analyzer compares each packet's time with the end of the open bin
(`Series.end`) and calls `advance` only when a packet falls past it, handing
over how many packets it had counted before that one. The packets of a bin
are thus one subtraction, not one call each. A packet whose timestamp goes
back in time (captures merged from several probes are sorted, single files
nearly so) is counted in the bin that is open.
"""

from __future__ import annotations

from array import array
from operator import add

from ..report.model import TrafficSeries

MAX_BINS = 256
_INF = float("inf")
FIRST_WIDTH_S = 0.05
_ZEROS = [array("I", [0]) * k for k in range(MAX_BINS)]  # k zero bins, to extend by (k < MAX_BINS)


class Series:
    """A growing histogram of packet times (see the module docstring)."""

    __slots__ = ("start", "width", "counts", "current", "counted", "end")

    def __init__(self, start: float, width: float = FIRST_WIDTH_S) -> None:
        self.start = start
        self.width = width
        self.counts: array | tuple[()] = ()  # an array from the first binned packet (most have few)
        self.current = 0        # the open bin
        self.counted = 0        # packets given to bins before the open one was opened
        self.end = start        # the open bin's end: no bin is open yet

    def advance(self, ts: float, total: int) -> float:
        """A packet at ``ts`` fell past the open bin, after ``total`` packets in
        all: those not yet binned go to the open bin, and the bin of ``ts`` opens.
        Returns its end (also in `end`).

        Called for most packets of a sparse counter (one whose packets are
        fewer than its bins), so the usual case (the open bin is the next one
        to fill, the new bin fits without coarsening) is worked out here
        without further calls."""
        n = total - self.counted
        if n > 0:
            counts = self.counts
            gap = self.current - len(counts)
            if gap < 0:
                counts[self.current] += n
            else:
                if not counts:
                    counts = self.counts = array("I")
                if gap:
                    counts.extend(_ZEROS[gap])
                counts.append(n)
        self.counted = total
        start, width = self.start, self.width
        at = (ts - start) / width
        if 0 < at < MAX_BINS:  # not negative, NaN, infinite or past the last bin
            i = int(at)
        else:
            i = self._index(ts)
            start, width = self.start, self.width
        self.current = i
        end = self.end = start + (i + 1) * width
        return end

    def freeze(self, total: int | None = None) -> TrafficSeries:
        """The report's immutable copy; ``total``: the packets counted in all
        along `advance` (the open bin gets those not yet binned)."""
        counts = array("I", self.counts)
        if total is not None and total > self.counted:
            extra = self.current + 1 - len(counts)
            if extra > 0:
                counts.extend(array("I", [0]) * extra)
            counts[self.current] += total - self.counted
        return TrafficSeries(self.start, self.width, tuple(counts))

    def _index(self, ts: float) -> int:
        """The bin of ``ts``, coarsening until it fits (a time that is not a
        finite number, flagged timestamp_out_of_range on its frame: the first bin)."""
        at = (ts - self.start) / self.width
        if not at > 0 or at == _INF:  # negative, NaN or infinite
            return 0
        i = int(at)
        while i >= MAX_BINS:
            self._coarsen()
            i = int((ts - self.start) / self.width)
        return i

    def _coarsen(self) -> None:
        """Merge bins in pairs and double the width (the open bin follows)."""
        old = self.counts
        merged = array("I", map(add, old[0::2], old[1::2]))
        if len(old) % 2:
            merged.append(old[-1])
        self.counts = merged
        self.current //= 2
        self.width *= 2
