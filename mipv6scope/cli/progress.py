"""The progress line of a long read on stderr: frames, frames/s, time left.

``analysing: 196,608 frames  52,310 frames/s  38% of 80 MB  6 s left``. The
engine calls back every `engine.PROGRESS_EVERY` frames with the bytes read
and the files' total size, so the frame count is a multiple of that step and
the time left is (bytes left) x (seconds so far / bytes read so far); a pipe
(stdin) has no size, so its line has no share and no time left. The line is
drawn only when stderr is a terminal, at most a few times a second, and
erased when the read ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from ..analysis.engine import PROGRESS_EVERY

REDRAW_S = 0.2


def progress_text(frames: int, done: int, total: int, elapsed_s: float) -> str:
    """The line's text (without the leading carriage return)."""
    text = f"analysing: {frames:,} frames"
    if elapsed_s > 0 and frames:
        text += f"  {frames / elapsed_s:,.0f} frames/s"
    if total > 0:
        text += f"  {100 * min(done, total) // total}% of {total / 1e6:,.0f} MB"
        if elapsed_s > 0 and 0 < done < total:
            text += f"  {(total - done) * elapsed_s / done:,.0f} s left"
    return text


class ProgressLine:
    """A `engine.analyze` progress callback that redraws one line on ``stream``.

    Call `close` when the read is over: it erases the line."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic,
                 step: int = PROGRESS_EVERY) -> None:
        self._stream = stream
        self._clock = clock
        self._step = step
        self._start = clock()
        self._calls = 0
        self._drawn_at: float | None = None
        self._width = 0

    def __call__(self, done: int, total: int) -> None:
        self._calls += 1
        if total > 0 and done >= total:  # the last call, at the end of the read
            return
        now = self._clock()
        if self._drawn_at is not None and now - self._drawn_at < REDRAW_S:
            return
        self._drawn_at = now
        text = progress_text(self._calls * self._step, done, total, now - self._start)
        self._stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self._stream.flush()

    def close(self) -> None:
        """Erase the line, if one was drawn."""
        if self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0


def progress_line(stream: TextIO | None = None) -> ProgressLine | None:
    """A `ProgressLine` on stderr when it is a terminal, else None (no line)."""
    stream = stream if stream is not None else sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return ProgressLine(stream) if tty else None
