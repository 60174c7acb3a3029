"""Runs of records that cannot be real (issue 11, section 3): a gzip bomb of
zeros, zero padding after real records, one empty header repeated, empty
pcapng packet blocks. Reading stops with an `implausible_records` issue
after `IMPLAUSIBLE_RUN` of them, in bounded time and memory, and the CLI
exits 3."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from mipv6scope.capture.pcap import IMPLAUSIBLE_RUN, ISSUE_IMPLAUSIBLE_RECORDS
from mipv6scope.capture.reader import open_capture

REPO = Path(__file__).resolve().parents[2]
PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)  # raw IPv6
PACKET = bytes.fromhex("6000000000003b40") + bytes(32)  # an IPv6 header, no next header


def _record(ts: int, data: bytes, wirelen: int | None = None) -> bytes:
    return struct.pack("<IIII", ts, 0, len(data), len(data) if wirelen is None else wirelen) + data


def _zero_bomb(path: Path, megabytes: int) -> None:
    """A gzip file: a pcap header, then ``megabytes`` MB of zeros, written streaming."""
    zeros = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=6) as gz:
        gz.write(PCAP_HEADER)
        for _ in range(megabytes):
            gz.write(zeros)


def _read(path: Path) -> tuple[int, list]:
    with open_capture(path) as reader:
        frames = sum(1 for _ in reader)
        return frames, list(reader.issues)


def test_a_gzip_bomb_of_zeros_stops_at_once_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.pcap.gz"
    _zero_bomb(bomb, 100)
    assert bomb.stat().st_size < 1_000_000
    tracemalloc.start()
    started = time.monotonic()
    try:
        frames, issues = _read(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 64 << 20
    assert frames < IMPLAUSIBLE_RUN
    assert [i.code for i in issues] == [ISSUE_IMPLAUSIBLE_RECORDS]
    assert "decompressed byte offset 24" in issues[0].detail and issues[0].frame == 1


def test_the_cli_exits_3_on_the_bomb(tmp_path):
    bomb = tmp_path / "bomb.pcap.gz"
    _zero_bomb(bomb, 100)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for command in (["summary"], ["packets"], ["findings", "--format", "json"]):
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "mipv6scope", *command, str(bomb)], env=env,
                              capture_output=True, timeout=60)
        assert time.monotonic() - started < 15
        assert done.returncode == 3, (command, done.stderr)
        assert ISSUE_IMPLAUSIBLE_RECORDS.encode() in done.stderr
        assert b"Traceback" not in done.stderr


def test_zero_padding_after_real_records_keeps_them(tmp_path):
    path = tmp_path / "padded.pcap"
    real = b"".join(_record(1_700_000_000 + i, PACKET) for i in range(10))
    path.write_bytes(PCAP_HEADER + real + bytes(16 * 5000))
    frames, issues = _read(path)
    assert frames >= 10 and frames < 10 + IMPLAUSIBLE_RUN
    assert [i.code for i in issues] == [ISSUE_IMPLAUSIBLE_RECORDS]
    assert issues[0].frame == 11


def test_one_empty_header_repeated_is_implausible(tmp_path):
    path = tmp_path / "repeated.pcap"
    path.write_bytes(PCAP_HEADER + _record(1_700_000_000, b"", wirelen=60) * 5000)
    assert [i.code for i in _read(path)[1]] == [ISSUE_IMPLAUSIBLE_RECORDS]


def test_a_few_empty_records_are_not_a_bomb(tmp_path):
    path = tmp_path / "few.pcap"
    empties = b"".join(_record(1_700_000_000 + i, b"", wirelen=0) for i in range(IMPLAUSIBLE_RUN - 1))
    path.write_bytes(PCAP_HEADER + (empties + _record(1_700_001_000, PACKET)) * 3)
    frames, issues = _read(path)
    assert frames == 3 * IMPLAUSIBLE_RUN and issues == []


def _pcapng(blocks: bytes) -> bytes:
    shb = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
    idb = struct.pack("<IIHHII", 1, 20, 101, 0, 0, 20)
    return shb + idb + blocks


def test_empty_pcapng_packet_blocks_are_implausible(tmp_path):
    epb = struct.pack("<IIIIIIII", 6, 32, 0, 0, 0, 0, 0, 32)  # caplen 0, wirelen 0, time 0
    spb = struct.pack("<IIII", 3, 16, 0, 16)  # wire length 0
    for name, block in (("epb", epb), ("spb", spb)):
        path = tmp_path / f"{name}.pcapng.gz"
        with gzip.open(path, "wb") as gz:
            gz.write(_pcapng(block * 200_000))
        frames, issues = _read(path)
        assert frames < IMPLAUSIBLE_RUN, name
        assert [i.code for i in issues] == [ISSUE_IMPLAUSIBLE_RECORDS], name


def test_the_frame_index_stops_at_an_empty_run_as_the_reader_does(tmp_path):
    """`FrameIndex.build` walks the file with the readers' own walk: the same
    frames and the same implausible-run issue, for pcap and pcapng."""
    from mipv6scope.capture.index import FrameIndex

    epb = struct.pack("<IIIIIIII", 6, 32, 0, 0, 0, 0, 0, 32)
    real = struct.pack("<IIIIIII", 6, 32 + 40, 0, 0, 7, 40, 40) + PACKET + struct.pack("<I", 32 + 40)
    captures = {"bomb.pcap": PCAP_HEADER + _record(1_700_000_000, PACKET) * 3 + bytes(16 * 3000),
                "bomb.pcapng": _pcapng(real * 3 + epb * 3000)}
    for name, data in captures.items():
        path = tmp_path / name
        path.write_bytes(data)
        frames, issues = _read(path)
        with FrameIndex.build(path) as index:
            assert len(index) == frames, name
            assert [(i.code, i.frame) for i in index.issues] == [(i.code, i.frame) for i in issues], name
            assert [i.code for i in index.issues] == [ISSUE_IMPLAUSIBLE_RECORDS], name
            assert index.read_frame(2).data == PACKET, name
