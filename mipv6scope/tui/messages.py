"""Typed messages the background workers post to the app.

Workers run in threads and report only through ``post_message`` (which is
thread-safe); each message carries plain data and the time it took, so the
UI thread never waits on the capture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from ..analysis.cache import CacheSnapshot
from ..report.model import Report


class IndexProgress(Message):
    """The frame index grew: ``frames`` indexed, ``bytes_done`` of ``bytes_total``."""

    def __init__(self, frames: int, bytes_done: int, bytes_total: int, elapsed_s: float) -> None:
        super().__init__()
        self.frames = frames
        self.bytes_done = bytes_done
        self.bytes_total = bytes_total
        self.elapsed_s = elapsed_s


class IndexReady(Message):
    """The captures are indexed: ``source`` (a FrameSource) browses them;
    ``loaded``: every index came from a stored entry (none was read from the capture)."""

    def __init__(self, source: Any, elapsed_s: float, loaded: bool = False) -> None:
        super().__init__()
        self.source = source
        self.elapsed_s = elapsed_s
        self.loaded = loaded


class AnalysisProgress(Message):
    """The analysis read ``bytes_done`` of ``bytes_total`` bytes of the captures."""

    def __init__(self, bytes_done: int, bytes_total: int, elapsed_s: float) -> None:
        super().__init__()
        self.bytes_done = bytes_done
        self.bytes_total = bytes_total
        self.elapsed_s = elapsed_s


class AnalysisSnapshot(Message):
    """The report of the frames analysed so far (partial), built in ``cost_s``
    seconds of the analysis thread; the analysis goes on."""

    def __init__(self, report: Report, elapsed_s: float, cost_s: float) -> None:
        super().__init__()
        self.report = report
        self.elapsed_s = elapsed_s
        self.cost_s = cost_s


class AnalysisReady(Message):
    """The analysis finished with ``report``."""

    def __init__(self, report: Report, elapsed_s: float) -> None:
        super().__init__()
        self.report = report
        self.elapsed_s = elapsed_s


class WorkFailed(Message):
    """A background job (``what``: index, analysis, cache, filter, export) failed."""

    def __init__(self, what: str, error: str) -> None:
        super().__init__()
        self.what = what
        self.error = error


class CacheReady(Message):
    """The binding caches and update lists at ``snapshot.at_ts``."""

    def __init__(self, snapshot: CacheSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


@dataclass(frozen=True)
class PacketView:
    """Which frames the packet list shows: the node (home address text, or
    None for all frames) and the display filter text ('' for none)."""

    node: str | None
    filter_text: str

    def expression(self) -> str:
        """The display filter these settings amount to ('' shows every frame)."""
        parts = []
        if self.node is not None:
            parts.append(f"mn == {self.node}")
        if self.filter_text.strip():
            parts.append(f"({self.filter_text.strip()})" if parts else self.filter_text.strip())
        return " and ".join(parts)


class PositionsReady(Message):
    """The frames ``view`` selects: 0-based positions, or None for all frames."""

    def __init__(self, view: PacketView, positions: list[int] | None, total: int) -> None:
        super().__init__()
        self.view = view
        self.positions = positions
        self.total = total


class FilterProgress(Message):
    """Filtering for ``view`` has looked at ``done`` of ``total`` frames."""

    def __init__(self, view: PacketView, done: int, total: int) -> None:
        super().__init__()
        self.view = view
        self.done = done
        self.total = total


class ExportDone(Message):
    """A chart was written to ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
