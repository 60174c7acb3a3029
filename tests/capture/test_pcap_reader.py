"""Classic pcap reading, checked against dpkt's writer, editcap and tshark."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import struct
import subprocess
import threading
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.capture import CaptureError, open_capture
from mipv6scope.capture.frame import MAX_CAPLEN
from mipv6scope.capture.reader import CHUNK_SIZE

needs_editcap = pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap not on PATH")
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not on PATH")

ETH_IPV6 = bytes.fromhex("333300000001" "000000000001" "86dd")

# (seconds, microseconds, data)
RECORDS = [
    (1_700_000_000, 123_456, ETH_IPV6 + bytes([0x60]) + bytes(range(39))),
    (1_700_000_000, 999_999, ETH_IPV6 + bytes([0x60]) + b"\xaa" * 70),
    (1_700_000_001, 1, b"\x01" * 60),
    (1_700_000_002, 0, ETH_IPV6 + bytes([0x60]) + bytes(range(200)) * 7),
]


SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"


def pcap_bytes(records: list[tuple[int, int, bytes]], *, order: str = "<", nano: bool = False,
               network: int = 1, wirelen_extra: int = 0) -> bytes:
    """A pcap file built field by field with struct."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, network)]
    for sec, frac, data in records:
        out.append(struct.pack(order + "IIII", sec, frac, len(data), len(data) + wirelen_extra))
        out.append(data)
    return b"".join(out)


def read_all(path: Path):
    with open_capture(path) as reader:
        frames = list(reader)
    return reader, frames


def exact_ts(sec: int, frac: int, per_second: int) -> float:
    """The float nearest to sec + frac/per_second."""
    return float(Fraction(sec) + Fraction(frac, per_second))


def tshark_frames(path: Path) -> list[tuple[Fraction, int, int, int]]:
    """(epoch time, caplen, wirelen, interface) per frame, as tshark reads the file."""
    out = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch",
         "-e", "frame.cap_len", "-e", "frame.len", "-e", "frame.interface_id"],
        check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        ts, cap, wire, iface = line.split("\t")
        rows.append((Fraction(Decimal(ts)), int(cap), int(wire), int(iface or 0)))
    return rows


def assert_matches_source(frames, records, per_second: int, linktype: int = 1) -> None:
    assert [f.number for f in frames] == list(range(1, len(records) + 1))
    for frame, (sec, frac, data) in zip(frames, records, strict=True):
        assert frame.data == data
        assert frame.caplen == frame.wirelen == len(data)
        assert frame.ts == exact_ts(sec, frac, per_second)
        assert frame.linktype == linktype
        assert frame.interface == 0


@pytest.fixture
def dpkt_pcap(tmp_path: Path) -> Path:
    """RECORDS written by dpkt's pcap writer (an encoder independent of ours)."""
    path = tmp_path / "dpkt.pcap"
    with open(path, "wb") as f:
        writer = dpkt.pcap.Writer(f, snaplen=65535, linktype=1)
        for sec, usec, data in RECORDS:
            writer.writepkt_time(data, Decimal(sec) + Decimal(usec) / 1_000_000)
    return path


def test_dpkt_written_pcap(dpkt_pcap: Path) -> None:
    reader, frames = read_all(dpkt_pcap)
    assert (reader.format, reader.compressed, reader.issues) == ("pcap", False, [])
    assert_matches_source(frames, RECORDS, 1_000_000)


@needs_tshark
def test_agrees_with_tshark(dpkt_pcap: Path) -> None:
    _, frames = read_all(dpkt_pcap)
    expected = tshark_frames(dpkt_pcap)
    assert [(f.ts, f.caplen, f.wirelen, f.interface) for f in frames] == [
        (float(ts), cap, wire, iface) for ts, cap, wire, iface in expected]


@needs_editcap
def test_editcap_nanosecond_pcap(dpkt_pcap: Path, tmp_path: Path) -> None:
    out = tmp_path / "ns.pcap"
    subprocess.run(["editcap", "-F", "nsecpcap", str(dpkt_pcap), str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes()[:4] == b"\x4d\x3c\xb2\xa1"
    _, frames = read_all(out)
    assert_matches_source(frames, [(s, u * 1000, d) for s, u, d in RECORDS], 10**9)


@needs_editcap
def test_editcap_modified_pcap(dpkt_pcap: Path, tmp_path: Path) -> None:
    out = tmp_path / "mod.pcap"
    subprocess.run(["editcap", "-F", "modpcap", str(dpkt_pcap), str(out)], check=True,
                   capture_output=True)
    _, frames = read_all(out)
    assert_matches_source(frames, RECORDS, 1_000_000)


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_hand_built_byte_orders_and_resolutions(tmp_path: Path, order: str, nano: bool) -> None:
    per_second = 10**9 if nano else 10**6
    records = [(s, u * 1000 + 789 if nano else u, d) for s, u, d in RECORDS]
    path = tmp_path / "x.pcap"
    path.write_bytes(pcap_bytes(records, order=order, nano=nano))
    reader, frames = read_all(path)
    assert reader.issues == []
    assert_matches_source(frames, records, per_second)
    if nano:  # not representable exactly; the nearest float is within 120 ns at 2023 epochs
        assert abs(frames[0].ts - 1_700_000_000.123456789) < 2e-7


def test_fcs_bits_in_network_field_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "fcs.pcap"
    path.write_bytes(pcap_bytes(RECORDS[:1], network=0x1000_0000 | 229))
    _, frames = read_all(path)
    assert frames[0].linktype == 229


def test_snaplen_cut_records_keep_wire_length(tmp_path: Path) -> None:
    path = tmp_path / "snap.pcap"
    path.write_bytes(pcap_bytes(RECORDS, wirelen_extra=100))
    _, frames = read_all(path)
    assert [f.wirelen - f.caplen for f in frames] == [100] * len(RECORDS)


def test_many_records_across_chunk_boundaries(tmp_path: Path) -> None:
    records = [(1_600_000_000 + i, i % 1_000_000, bytes([i % 256]) * (700 + i % 977))
               for i in range(4000)]
    blob = pcap_bytes(records)
    assert len(blob) > 2 * CHUNK_SIZE
    path = tmp_path / "big.pcap"
    path.write_bytes(blob)
    reader, frames = read_all(path)
    assert reader.issues == []
    assert_matches_source(frames, records, 10**6)


def test_largest_allowed_record_then_absurd_caplen(tmp_path: Path) -> None:
    huge = b"\x5a" * MAX_CAPLEN
    blob = pcap_bytes([(1, 0, huge), (2, 0, b"ok")])
    blob += struct.pack("<IIII", 3, 0, MAX_CAPLEN + 1, MAX_CAPLEN + 1) + b"\x00" * 64
    path = tmp_path / "absurd.pcap"
    path.write_bytes(blob)
    reader, frames = read_all(path)
    assert [f.data for f in frames] == [huge, b"ok"]
    assert [(i.code, i.frame) for i in reader.issues] == [("corrupt_record", 3)]
    assert f"byte offset {len(blob) - 80}" in reader.issues[0].detail


def test_every_cut_point(tmp_path: Path) -> None:
    records = RECORDS[:3]
    blob = pcap_bytes(records)
    starts = [24]
    for _, _, data in records:
        starts.append(starts[-1] + 16 + len(data))
    path = tmp_path / "cut.pcap"
    for cut in range(len(blob) + 1):
        path.write_bytes(blob[:cut])
        if cut < 24:
            with pytest.raises(CaptureError):
                open_capture(path)
            continue
        reader, frames = read_all(path)
        whole = sum(1 for end in starts[1:] if end <= cut)
        assert [f.data for f in frames] == [d for _, _, d in records[:whole]], cut
        if cut in starts:
            assert reader.issues == [], cut
        else:
            [issue] = reader.issues
            assert (issue.code, issue.frame) == ("truncated_record", whole + 1)
            assert f"byte offset {starts[whole]}" in issue.detail


def test_gzip_pcap_reads_the_same_frames(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap.gz"
    path.write_bytes(gzip.compress(pcap_bytes(RECORDS)))
    reader, frames = read_all(path)
    assert (reader.format, reader.compressed, reader.issues) == ("pcap", True, [])
    assert_matches_source(frames, RECORDS, 10**6)


def test_gzip_of_many_records_and_two_members(tmp_path: Path) -> None:
    records = [(1_600_000_000 + i, i, bytes([i % 256]) * (100 + i % 1500)) for i in range(3000)]
    blob = pcap_bytes(records)
    half = len(blob) // 2
    path = tmp_path / "x.pcap.gz"
    path.write_bytes(gzip.compress(blob[:half]) + gzip.compress(blob[half:]))
    reader, frames = read_all(path)
    assert reader.issues == []
    assert_matches_source(frames, records, 10**6)


def random_records(count: int) -> list[tuple[int, int, bytes]]:
    rng = random.Random(count)
    return [(1_600_000_000 + i, i, rng.randbytes(60 + i % 700)) for i in range(count)]


def test_truncated_gzip_reports_an_issue(tmp_path: Path) -> None:
    records = random_records(2000)
    packed = gzip.compress(pcap_bytes(records))
    path = tmp_path / "cut.pcap.gz"
    for cut in (len(packed) // 3, len(packed) // 2, len(packed) - 9, len(packed) - 1):
        path.write_bytes(packed[:cut])
        reader, frames = read_all(path)
        if cut < len(packed) // 2 + 1:
            assert 0 < len(frames) < len(records)
        assert [f.data for f in frames] == [d for _, _, d in records[:len(frames)]]
        [issue] = reader.issues
        assert issue.code == "truncated_record"
        assert issue.frame == len(frames) + 1
        assert "\n" not in issue.detail


def test_corrupt_gzip_reports_an_issue(tmp_path: Path) -> None:
    records = random_records(2000)
    packed = bytearray(gzip.compress(pcap_bytes(records)))
    packed[len(packed) // 2:len(packed) // 2 + 64] = b"\xff" * 64
    path = tmp_path / "bad.pcap.gz"
    path.write_bytes(bytes(packed))
    reader, frames = read_all(path)
    assert len(frames) < len(records)
    assert [f.data for f in frames] == [d for _, _, d in records[:len(frames)]]
    assert len(reader.issues) == 1
    assert reader.issues[0].code == "corrupt_stream"
    assert "bad compressed data" in reader.issues[0].detail


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_gzip_from_a_pipe(tmp_path: Path) -> None:
    """A pipe cannot seek back over the bytes read to sniff the format."""
    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)
    packed = gzip.compress(pcap_bytes(RECORDS))

    def feed() -> None:
        with open(fifo, "wb") as f:
            f.write(packed[:3])
            f.flush()
            f.write(packed[3:])

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        reader, frames = read_all(fifo)
    finally:
        writer.join(timeout=10)
    assert (reader.format, reader.compressed, reader.issues) == ("pcap", True, [])
    assert_matches_source(frames, RECORDS, 10**6)


def test_reader_closes_file_at_end_and_iterates_once(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(pcap_bytes(RECORDS))
    reader = open_capture(str(path))
    assert reader.path == str(path)
    assert len(list(reader)) == len(RECORDS)
    assert list(reader) == []
    reader.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.binary(max_size=600), nano=st.booleans(), order=st.sampled_from("<>"))
def test_random_bytes_after_valid_header(tmp_path: Path, tail: bytes, nano: bool, order: str) -> None:
    path = tmp_path / "fuzz.pcap"
    path.write_bytes(pcap_bytes([], order=order, nano=nano) + tail)
    with open_capture(path) as reader:
        frames = list(reader)
    for frame in frames:
        assert len(frame.data) == frame.caplen <= MAX_CAPLEN
    assert len(reader.issues) <= 1


# -- visiting records without Frames (the analysis engine's single-file path) ------------------

def visit_all(path: Path):
    """(reader, [(number, ts, caplen, wirelen, linktype, bytes)]) through `CaptureReader.visit`."""
    seen = []
    with open_capture(path) as reader:
        assert reader.can_visit
        reader.visit(lambda number, ts, caplen, wirelen, linktype, buf, start: seen.append(
            (number, ts, caplen, wirelen, linktype, bytes(buf[start:start + caplen]))))
    return reader, seen


def as_records(frames) -> list[tuple]:
    return [(f.number, f.ts, f.caplen, f.wirelen, f.linktype, f.data) for f in frames]


def test_visit_gives_the_records_iteration_gives(tmp_path: Path) -> None:
    records = [(1_600_000_000 + i, i % 1_000_000, bytes([i % 256]) * (700 + i % 977))
               for i in range(4000)]
    path = tmp_path / "big.pcap"
    path.write_bytes(pcap_bytes(records, wirelen_extra=3))
    reader, seen = visit_all(path)
    assert reader.issues == []
    _, frames = read_all(path)
    assert seen == as_records(frames)
    assert [(r[0], r[1], r[5], r[3] - r[2]) for r in seen] == [
        (i + 1, exact_ts(sec, frac, 10**6), data, 3) for i, (sec, frac, data) in enumerate(records)]


def test_visit_stops_at_damage_like_iteration(tmp_path: Path) -> None:
    huge = b"\x5a" * MAX_CAPLEN
    blob = pcap_bytes([(1, 0, huge), (2, 0, b"ok")])
    blob += struct.pack("<IIII", 3, 0, MAX_CAPLEN + 1, MAX_CAPLEN + 1) + b"\x00" * 64
    path = tmp_path / "absurd.pcap"
    path.write_bytes(blob)
    reader, seen = visit_all(path)
    assert [r[5] for r in seen] == [huge, b"ok"]
    assert [(i.code, i.frame) for i in reader.issues] == [("corrupt_record", 3)]
    records = RECORDS[:3]
    blob = pcap_bytes(records)
    for cut in range(24, len(blob) + 1):
        path.write_bytes(blob[:cut])
        reader, seen = visit_all(path)
        it_reader, frames = read_all(path)
        assert seen == as_records(frames), cut
        assert reader.issues == it_reader.issues, cut


def test_frames_come_before_the_issue_that_follows_them(tmp_path: Path) -> None:
    blob = pcap_bytes(RECORDS[:3])
    blob += struct.pack("<IIII", 3, 0, MAX_CAPLEN + 1, MAX_CAPLEN + 1)
    path = tmp_path / "absurd.pcap"
    path.write_bytes(blob)
    with open_capture(path) as reader:
        issues_when_seen = [len(reader.issues) for _ in reader]
    assert issues_when_seen == [0, 0, 0] and len(reader.issues) == 1


def test_visit_is_for_pcap_files_not_yet_iterated(tmp_path: Path, dpkt_pcap: Path) -> None:
    with open_capture(dpkt_pcap) as reader:
        next(iter(reader))
        assert not reader.can_visit
        with pytest.raises(TypeError):
            reader.visit(lambda *record: None)
    ng = SAMPLES / "scenario-handoff-vlan.pcapng"
    with open_capture(ng) as reader:
        assert not reader.can_visit


def test_close_twice_and_after_visiting(dpkt_pcap: Path) -> None:
    reader = open_capture(dpkt_pcap)
    reader.visit(lambda *record: None)
    reader.close()
    reader.close()
    assert list(reader) == []
