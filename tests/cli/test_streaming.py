"""`mipv6scope packets` streams: the first line comes out before the capture has
been read to the end, and memory does not grow with the number of frames."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
from pathlib import Path

from mipv6scope.synth.samples import sample_home_registration
from mipv6scope.synth.writer import CaptureWriter


def write_frames(fh, frames: int) -> None:
    story = sample_home_registration()
    templates = [frame for _ts, frame, _cap in story.frames]
    writer = CaptureWriter(fh, story.linktype)
    for i in range(frames):
        writer.write(1_700_000_000 + i / 1000, templates[i % len(templates)])


def test_first_line_before_the_capture_ends(tmp_path: Path):
    full = tmp_path / "big.pcap"
    with open(full, "wb") as fh:
        write_frames(fh, 100_000)
    data = full.read_bytes()
    head, rest = data[: 4 << 20], data[4 << 20:]
    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "mipv6scope", "packets", str(fifo)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    release = threading.Event()

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(head)
            fh.flush()
            release.wait(60)
            fh.write(rest)

    writer = threading.Thread(target=feed)
    writer.start()
    # read the pipe unbuffered: communicate() below reads the same descriptor, and bytes a
    # buffered readline() pulled in beyond the first line would be lost to it
    early = b""
    try:
        while b"\n" not in early:
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, "no output while only the first 4 MiB of the capture existed"
            piece = os.read(proc.stdout.fileno(), 1 << 16)
            assert piece, "output ended before its first line"
            early += piece
        assert early.split()[0] == b"1"
        assert not release.is_set()
    finally:
        release.set()
        out, err = proc.communicate(timeout=300)
        writer.join()
    assert proc.returncode == 0, err.decode()
    assert len((early + out).splitlines()) == 100_000
    assert b"100000 frames: 100000 decoded" in err


def peak_rss_kib(path: Path) -> int:
    proc = subprocess.Popen([sys.executable, "-m", "mipv6scope", "packets", "--format", "jsonl",
                             str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss


def test_memory_does_not_grow_with_frames(tmp_path: Path):
    small, large = tmp_path / "small.pcap", tmp_path / "large.pcap"
    with open(small, "wb") as fh:
        write_frames(fh, 10_000)
    with open(large, "wb") as fh:
        write_frames(fh, 100_000)
    # Ten times the frames, the same peak (5 MiB of slack for allocator noise).
    assert peak_rss_kib(large) <= peak_rss_kib(small) * 1.1 + 5 * 1024
