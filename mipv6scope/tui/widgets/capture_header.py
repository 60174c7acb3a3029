"""The header line: which capture, how many frames, the time span."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from ...render.tabular import clock, day
from ...report.model import Report


def header_text(paths: list[str], indexed: int | None, report: Report | None) -> str:
    """`` mipv6scope  FILE  N frames (M malformed, S skipped)  HH:MM:SS -> HH:MM:SS UTC``;
    frame counts come from the report once there is one, else from the index so far."""
    names = [Path(p).name for p in paths]
    parts = ["mipv6scope", names[0] if len(names) == 1 else f"{names[0]} +{len(names) - 1} more"]
    if report is not None:
        info = report.capture
        parts.append(f"{info.frames:,} frames ({info.malformed:,} malformed, {info.skipped:,} skipped)")
        if info.first_ts is not None and info.last_ts is not None:
            parts.append(f"{day(info.first_ts)} {clock(info.first_ts)} -> {clock(info.last_ts)} UTC")
        vantage = getattr(info, "vantage", None)
        if vantage:
            parts.append(f"vantage: {vantage}")
        if info.partial:
            parts.append("PARTIAL")
    elif indexed is not None:
        parts.append(f"{indexed:,} frames indexed, analysing...")
    else:
        parts.append("reading...")
    return "  ".join(parts)


class CaptureHeader(Static):
    """One line: file, frames decoded/malformed/skipped, time span (and vantage)."""

    DEFAULT_CSS = """
    CaptureHeader { height: 1; background: $panel; color: $text; text-style: bold; }
    """

    def show(self, paths: list[str], indexed: int | None, report: Report | None) -> None:
        """Redraw from what is known so far."""
        self.update(" " + header_text(paths, indexed, report))
