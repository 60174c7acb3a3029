"""Packets over time in a bounded number of bins, for the charts' data strips
and the TUI's sparklines.

A `Series` starts at its first packet's time with bins of `FIRST_WIDTH_S`;
when a packet falls past the last of `MAX_BINS` bins, neighbouring bins are
merged in pairs and the width doubles, as often as needed. Memory is bounded
by `MAX_BINS` per series, whatever the capture's length, and every packet is
counted in exactly one bin.
"""

from __future__ import annotations

from array import array

from ..report.model import TrafficSeries

MAX_BINS = 256
FIRST_WIDTH_S = 0.05


class Series:
    """A growing histogram of packet times (see the module docstring)."""

    __slots__ = ("start", "width", "scale", "counts")

    def __init__(self, start: float, width: float = FIRST_WIDTH_S) -> None:
        self.start = start
        self.width = width
        self.scale = 1.0 / width
        self.counts = array("I")

    def add(self, ts: float) -> None:
        """Count one packet seen at ``ts`` (before the start counts in the first bin)."""
        i = int((ts - self.start) * self.scale)
        counts = self.counts
        if 0 <= i < len(counts):
            counts[i] += 1
            return
        if i < 0:
            i = 0
        while i >= MAX_BINS:
            self._coarsen()
            i = int((ts - self.start) * self.scale)
        counts = self.counts
        if i >= len(counts):
            counts.extend(array("I", [0]) * (i + 1 - len(counts)))
        counts[i] += 1

    def _coarsen(self) -> None:
        """Merge bins in pairs and double the width."""
        old = self.counts
        merged = array("I", (old[j] + (old[j + 1] if j + 1 < len(old) else 0)
                             for j in range(0, len(old), 2)))
        self.counts = merged
        self.width *= 2
        self.scale = 1.0 / self.width

    def freeze(self) -> TrafficSeries:
        """The report's immutable copy."""
        return TrafficSeries(self.start, self.width, tuple(self.counts))
