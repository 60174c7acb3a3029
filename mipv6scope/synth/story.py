"""A large capture quickly: the home-registration story's frames repeated, for
benchmarks and for tests that need many frames (not a scenario: no truth)."""

from __future__ import annotations

from pathlib import Path

from ..capture.frame import Frame
from ..decode.frame_decoder import decode_frame
from .samples import sample_home_registration
from .writer import CaptureWriter


def write_story_capture(path: str | Path, frames: int, signalling_every: int = 50) -> None:
    """Write ``frames`` frames from the home-registration story: data frames
    (tunnelled and route-optimised) with one signalling frame (MH or ICMPv6)
    every ``signalling_every`` frames, 0.1 ms apart, as in a field capture."""
    story = sample_home_registration()
    data, signalling = [], []
    for number, (_ts, frame, _cap) in enumerate(story.frames, 1):
        decoded = decode_frame(Frame(number, 0.0, len(frame), len(frame), story.linktype, frame))
        (data if decoded.mh is None and decoded.icmp6 is None else signalling).append(frame)
    with open(path, "wb") as fh:
        writer = CaptureWriter(fh, story.linktype)
        ts = 1_700_000_000.0
        for i in range(frames):
            if i % signalling_every == 0:
                frame = signalling[(i // signalling_every) % len(signalling)]
            else:
                frame = data[i % len(data)]
            writer.write(ts + i * 0.0001, frame)
