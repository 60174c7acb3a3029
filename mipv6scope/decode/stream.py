"""Decode one or more capture files as a stream of DecodedFrame, counting every
frame as decoded, skipped (with why) or malformed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..capture.frame import CaptureIssue, Frame
from ..capture.reader import open_capture
from .frame_decoder import decode_frame
from .model import DECODED, MALFORMED, DecodedFrame


@dataclass
class FrameCounts:
    """How many frames were read, and what became of them."""

    frames: int = 0
    decoded: int = 0
    malformed: int = 0
    skipped: int = 0
    skip_reasons: Counter[str] = field(default_factory=Counter)
    esp_no_key: int = 0  # ESP that no --esp-sa SA opened and that is not NULL encryption

    def add(self, frame: DecodedFrame) -> None:
        """Count one decoded frame."""
        self.frames += 1
        if frame.esp is not None and frame.esp.get("no_key"):
            self.esp_no_key += 1
        if frame.status == DECODED:
            self.decoded += 1
        elif frame.status == MALFORMED:
            self.malformed += 1
        else:
            self.skipped += 1
            self.skip_reasons[frame.skip_reason or "unknown"] += 1

    def summary(self) -> str:
        """One line for stderr, e.g. '12 frames: 10 decoded, 1 malformed, 1 skipped (IPv4: 1)'."""
        line = (f"{self.frames} frames: {self.decoded} decoded, {self.malformed} malformed, "
                f"{self.skipped} skipped")
        if self.skip_reasons:
            line += " (" + ", ".join(f"{r}: {n}" for r, n in self.skip_reasons.most_common()) + ")"
        if self.esp_no_key:
            line += f"; {self.esp_no_key} encrypted, no key (ESP: see --esp-sa)"
        return line


@dataclass
class DecodeStream:
    """Iterate the decoded frames of several files in the order given.

    ``capture_issues`` collects (path, CaptureIssue) for damaged files once the
    iteration reaches them. Raises CaptureError from open_capture when a file
    cannot be read at all.
    """

    paths: Sequence[str | Path]
    counts: FrameCounts = field(default_factory=FrameCounts)
    capture_issues: list[tuple[str, CaptureIssue]] = field(default_factory=list)

    def __iter__(self) -> Iterator[DecodedFrame]:
        for decoded, _frame in self.with_frames():
            yield decoded

    def with_frames(self) -> Iterator[tuple[DecodedFrame, Frame]]:
        """(decoded frame, the frame as captured): for callers that need the
        captured bytes too (display filters on raw fields, -V, -x)."""
        label_files = len(self.paths) > 1
        for path in self.paths:
            with open_capture(path) as reader:
                for frame in reader:
                    decoded = decode_frame(frame)
                    if label_files:
                        decoded.file = str(path)
                    self.counts.add(decoded)
                    yield decoded, frame
                self.capture_issues.extend((str(path), issue) for issue in reader.issues)
