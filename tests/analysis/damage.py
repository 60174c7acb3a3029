"""Damaged captures drawn by hypothesis, and reports of one capture by several
analysis settings: what the engine-equivalence and ``--jobs`` tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from hypothesis import strategies as st

from mipv6scope.capture.frame import CaptureError

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"


def draw_damaged_capture(data: st.DataObject, directory: Path, sources: Sequence[str],
                         bad_lengths: Sequence[bytes]) -> Path:
    """A sample from ``sources`` cut to 2,000-60,000 bytes with up to 12 bit
    flips, for a pcap maybe one record header's captured length replaced by
    one of ``bad_lengths``, maybe cut again; written into ``directory``."""
    source = data.draw(st.sampled_from(tuple(sources)))
    raw = bytearray((SAMPLES / source).read_bytes()[:data.draw(st.integers(2000, 60000))])
    for _ in range(data.draw(st.integers(0, 12))):
        at = data.draw(st.integers(24, len(raw) - 1))
        raw[at] ^= 1 << data.draw(st.integers(0, 7))
    if source.endswith(".pcap") and data.draw(st.booleans()):
        at = data.draw(st.integers(24, len(raw) - 16))
        raw[at + 8:at + 12] = data.draw(st.sampled_from(tuple(bad_lengths)))
    if data.draw(st.booleans()):
        del raw[data.draw(st.integers(24, len(raw))):]
    path = directory / f"d{Path(source).suffix}"
    path.write_bytes(bytes(raw))
    return path


def reports_by(path: Path, runs: Iterable[Callable[[list[Path]], object]]) -> tuple[dict | str, ...]:
    """``run([path]).to_dict()`` for each run, or the CaptureError it raised, as text."""
    found: list[dict | str] = []
    for run in runs:
        try:
            found.append(run([path]).to_dict())  # type: ignore[attr-defined]
        except CaptureError as exc:
            found.append(f"CaptureError: {exc}")
    return tuple(found)
