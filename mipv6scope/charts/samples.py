"""The chart samples `mipv6scope samples` writes beside the sample captures:
the handoff scenario's sequence chart as Mermaid text and as the PNG the
README shows.

The Mermaid text is byte-stable and checked byte for byte; the PNG is
rasterised by the system's Chromium, whose builds differ in fonts and
anti-aliasing, so it is checked for its presence and size only.
"""

from __future__ import annotations

from pathlib import Path

from ..analysis.engine import analyze
from ..outfile import write_atomic
from .build import build_figure, build_mermaid
from .export import write_static
from .options import ChartOptions

SOURCE = "scenario-handoff.pcap"
MERMAID = "scenario-handoff.sequence.mmd"
PNG = "scenario-handoff.sequence.png"
PNG_SIZE = (1400, 1000)


def _options() -> ChartOptions:
    return ChartOptions(width=PNG_SIZE[0], height=PNG_SIZE[1])


def write_mermaid_sample(out_dir: str | Path) -> Path:
    """Write the Mermaid sample (needs the sample capture in ``out_dir``)."""
    out = Path(out_dir)
    path = out / MERMAID
    write_atomic(path, build_mermaid(analyze([out / SOURCE]), _options()).encode("utf-8"))
    return path


def write_png_sample(out_dir: str | Path) -> Path:
    """Write the PNG sample through kaleido and Chromium (`export.BrowserMissing`
    without a browser)."""
    out = Path(out_dir)
    path = out / PNG
    write_static(build_figure(analyze([out / SOURCE]), _options()), path, "png",
                 width=PNG_SIZE[0], height=PNG_SIZE[1])
    return path


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of PNG bytes, or None when they are not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
