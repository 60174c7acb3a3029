"""pcapng reading, checked against editcap/mergecap/tshark output and hand-built blocks."""

from __future__ import annotations

import gzip
import shutil
import struct
import subprocess
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
from tests.capture.pcapng_blocks import block, epb, idb, old_pb, shb, spb

needs_editcap = pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap not on PATH")
needs_mergecap = pytest.mark.skipif(shutil.which("mergecap") is None, reason="mergecap not on PATH")
needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not on PATH")

ETH_IPV6 = bytes.fromhex("333300000001" "000000000001" "86dd")
IPV6 = bytes([0x60]) + bytes(39)

# (seconds, microseconds, data)
RECORDS = [
    (1_700_000_000, 123_456, ETH_IPV6 + IPV6),
    (1_700_000_000, 999_999, ETH_IPV6 + IPV6 + b"\xaa" * 33),
    (1_700_000_001, 1, b"\x01" * 61),
]


def write(tmp_path: Path, blob: bytes, name: str = "x.pcapng") -> Path:
    path = tmp_path / name
    path.write_bytes(blob)
    return path


def read_all(path: Path):
    with open_capture(path) as reader:
        frames = list(reader)
    return reader, frames


def usec_units(sec: int, usec: int) -> int:
    return sec * 1_000_000 + usec


def exact(sec: int | Fraction, frac: int = 0, per_second: int = 1) -> float:
    return float(Fraction(sec) + Fraction(frac, per_second))


def tshark_times(path: Path) -> list[tuple[float, int, int, int]]:
    out = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch",
         "-e", "frame.cap_len", "-e", "frame.len", "-e", "frame.interface_id"],
        check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        ts, cap, wire, iface = line.split("\t")
        rows.append((float(Fraction(Decimal(ts))), int(cap), int(wire), int(iface)))
    return rows


# --- files written by Wireshark's tools ---------------------------------------------------

def dpkt_pcap(path: Path, records, linktype: int = 1) -> Path:
    with open(path, "wb") as f:
        writer = dpkt.pcap.Writer(f, snaplen=65535, linktype=linktype)
        for sec, usec, data in records:
            writer.writepkt_time(data, Decimal(sec) + Decimal(usec) / 1_000_000)
    return path


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@needs_editcap
def test_editcap_pcapng_matches_source(tmp_path: Path) -> None:
    src = dpkt_pcap(tmp_path / "a.pcap", RECORDS)
    out = tmp_path / "a.pcapng"
    run("editcap", "-F", "pcapng", str(src), str(out))
    reader, frames = read_all(out)
    assert (reader.format, reader.issues) == ("pcapng", [])
    assert [(f.number, f.data, f.caplen, f.wirelen, f.linktype, f.interface) for f in frames] == [
        (i, d, len(d), len(d), 1, 0) for i, (_, _, d) in enumerate(RECORDS, 1)]
    assert [f.ts for f in frames] == [exact(s, u, 10**6) for s, u, _ in RECORDS]
    if shutil.which("tshark"):
        assert [(f.ts, f.caplen, f.wirelen, f.interface) for f in frames] == tshark_times(out)


@needs_editcap
def test_editcap_nanosecond_pcapng(tmp_path: Path) -> None:
    src = dpkt_pcap(tmp_path / "a.pcap", RECORDS)
    ns = tmp_path / "a.ns.pcap"
    out = tmp_path / "a.ns.pcapng"
    run("editcap", "-F", "nsecpcap", str(src), str(ns))
    run("editcap", "-F", "pcapng", str(ns), str(out))
    _, frames = read_all(out)
    assert [f.ts for f in frames] == [exact(s, u * 1000, 10**9) for s, u, _ in RECORDS]
    assert [f.data for f in frames] == [d for _, _, d in RECORDS]


@needs_mergecap
def test_mergecap_two_link_types(tmp_path: Path) -> None:
    eth = [(1_700_000_000, 10, ETH_IPV6 + IPV6), (1_700_000_002, 30, ETH_IPV6 + IPV6 + b"e")]
    raw = [(1_700_000_001, 20, IPV6 + b"r1"), (1_700_000_003, 40, IPV6 + b"r2")]
    a = dpkt_pcap(tmp_path / "a.pcap", eth, linktype=1)
    b = dpkt_pcap(tmp_path / "b.pcap", raw, linktype=101)
    out = tmp_path / "m.pcapng"
    run("mergecap", "-F", "pcapng", "-w", str(out), str(a), str(b))
    reader, frames = read_all(out)
    assert reader.issues == []
    assert [(f.number, f.linktype, f.interface, f.data) for f in frames] == [
        (1, 1, 0, eth[0][2]), (2, 101, 1, raw[0][2]), (3, 1, 0, eth[1][2]), (4, 101, 1, raw[1][2])]
    assert [f.ts for f in frames] == [exact(s, u, 10**6) for s, u, _ in (eth[0], raw[0], eth[1], raw[1])]
    if shutil.which("tshark"):
        assert [(f.ts, f.caplen, f.wirelen, f.interface) for f in frames] == tshark_times(out)


# --- hand-built blocks ---------------------------------------------------------------------

@pytest.mark.parametrize("order", ["<", ">"])
def test_byte_orders_with_options_and_unknown_blocks(tmp_path: Path, order: str) -> None:
    comment = [(1, b"a comment that is not a multiple of four")]
    blob = (shb(order) + idb(1, 65535, [(2, b"eth0")], order)
            + block(4, b"\x00" * 8, order)  # name resolution block
            + epb(0, usec_units(*RECORDS[0][:2]), RECORDS[0][2], order=order, opts=comment)
            + block(0x00000BAD, b"custom", order)
            + block(5, b"\x00" * 12, order)  # interface statistics
            + epb(0, usec_units(*RECORDS[1][:2]), RECORDS[1][2], wirelen=1500, order=order))
    reader, frames = read_all(write(tmp_path, blob))
    assert reader.issues == []
    assert [(f.number, f.data, f.caplen, f.wirelen) for f in frames] == [
        (1, RECORDS[0][2], 54, 54), (2, RECORDS[1][2], 87, 1500)]
    assert [f.ts for f in frames] == [exact(s, u, 10**6) for s, u, _ in RECORDS[:2]]


@pytest.mark.parametrize("order", ["<", ">"])
def test_timestamp_resolutions_and_offset(tmp_path: Path, order: str) -> None:
    blob = (shb(order)
            + idb(101, opts=[(9, b"\x09")], order=order)  # 10^-9
            + idb(101, opts=[(9, b"\x94")], order=order)  # 2^-20
            + idb(101, opts=[(9, b"\x03"), (14, struct.pack(order + "q", 1_000_000))], order=order)
            + epb(0, 1_700_000_000_123_456_789, IPV6, order=order)
            + epb(1, (1_700_000_000 << 20) + 3, IPV6, order=order)
            + epb(2, 1_699_000_000_250, IPV6, order=order))
    _, frames = read_all(write(tmp_path, blob))
    assert [f.interface for f in frames] == [0, 1, 2]
    assert frames[0].ts == exact(1_700_000_000, 123_456_789, 10**9)
    assert frames[1].ts == exact(1_700_000_000, 3, 1 << 20)
    assert frames[2].ts == 1_700_000_000.25


def test_simple_packet_blocks(tmp_path: Path) -> None:
    payload = IPV6 + bytes(range(60))
    # 62 bytes stored (padded to 64): the snaplen, not the block room, sets caplen
    blob = (shb() + idb(229, snaplen=62) + spb(payload[:62], wirelen=100)
            + shb() + idb(229, snaplen=0) + idb(1, snaplen=8) + spb(payload[:50], wirelen=50)
            + spb(payload[:40], wirelen=200))
    reader, frames = read_all(write(tmp_path, blob))
    assert reader.issues == []
    assert [(f.caplen, f.wirelen, f.data, f.ts, f.interface, f.linktype) for f in frames] == [
        (62, 100, payload[:62], 0.0, 0, 229),
        (50, 50, payload[:50], 0.0, 0, 229),
        (40, 200, payload[:40], 0.0, 0, 229)]


def test_obsolete_packet_block(tmp_path: Path) -> None:
    blob = shb() + idb(1) + idb(229) + old_pb(1, usec_units(1_600_000_000, 5), IPV6 + b"old")
    _, frames = read_all(write(tmp_path, blob))
    [frame] = frames
    assert (frame.interface, frame.linktype, frame.data, frame.ts) == (
        1, 229, IPV6 + b"old", exact(1_600_000_000, 5, 10**6))


def test_sections_reset_interfaces(tmp_path: Path) -> None:
    blob = (shb("<") + idb(1) + idb(229) + epb(1, 5_000_000, IPV6)
            + shb(">") + idb(101, order=">") + epb(0, 7_000_000, IPV6 + b"s2", order=">")
            + epb(1, 8_000_000, IPV6 + b"gone", order=">"))
    reader, frames = read_all(write(tmp_path, blob))
    assert [(f.number, f.linktype, f.interface, f.ts) for f in frames] == [
        (1, 229, 1, 5.0), (2, 101, 0, 7.0)]
    [issue] = reader.issues
    assert (issue.code, issue.frame) == ("corrupt_block", 3)
    assert "interface 1" in issue.detail


def test_unsupported_interface_link_type_is_still_yielded(tmp_path: Path) -> None:
    blob = shb() + idb(147) + epb(0, 1, b"\x01\x02\x03")
    reader, frames = read_all(write(tmp_path, blob))
    assert reader.issues == []
    assert [(f.linktype, f.data) for f in frames] == [(147, b"\x01\x02\x03")]


def test_record_bigger_than_a_read_chunk(tmp_path: Path) -> None:
    big = bytes(range(256)) * (CHUNK_SIZE // 256 - 1)
    blob = shb() + idb(1) + b"".join(epb(0, i, big[i:]) for i in range(3))
    reader, frames = read_all(write(tmp_path, blob))
    assert reader.issues == []
    assert [f.data for f in frames] == [big, big[1:], big[2:]]


def test_epb_over_the_caplen_limit(tmp_path: Path) -> None:
    blob = shb() + idb(1) + epb(0, 1, b"a" * MAX_CAPLEN) + epb(0, 2, b"b" * (MAX_CAPLEN + 1))
    reader, frames = read_all(write(tmp_path, blob))
    assert [f.caplen for f in frames] == [MAX_CAPLEN]
    assert [(i.code, i.frame) for i in reader.issues] == [("corrupt_block", 2)]


GOOD = shb() + idb(1) + epb(0, 1_000_000, ETH_IPV6 + IPV6)


@pytest.mark.parametrize(("bad", "frame", "words"), [
    (block(6, b"\x00" * 28, length=45), 2, "impossible block length 45"),
    (struct.pack("<II", 6, 8) + b"\x00" * 40, 2, "impossible block length 8"),
    (struct.pack("<II", 1, 0x7FFFFFF0) + b"\x00" * 40, None, "impossible block length"),
    (block(6, struct.pack("<IIIII", 0, 0, 0, 8, 8) + b"\x00" * 8, trailer=44), 2, "trailing length"),
    (block(6, struct.pack("<IIIII", 0, 0, 0, 9, 9) + b"\x00" * 8), 2, "does not fit"),
    (block(1, struct.pack("<HHI", 1, 0, 0), trailer=24), None, "trailing length 24"),
    (block(6, struct.pack("<IIIII", 3, 0, 0, 4, 4) + b"\x00" * 4), 2, "interface 3"),
    (block(2, struct.pack("<HHIIII", 0, 0, 0, 0, 99, 99) + b"\x00" * 4), 2, "does not fit"),
    (block(0x0A0D0D0A, b"\x01\x02\x03\x04" + b"\x00" * 12), None, "byte-order magic"),
    (shb(major=2), None, "unsupported pcapng version 2.0"),
])
def test_corrupt_blocks_stop_reading(tmp_path: Path, bad: bytes, frame: int | None,
                                     words: str) -> None:
    blob = GOOD + bad + epb(0, 2_000_000, ETH_IPV6 + IPV6)
    reader, frames = read_all(write(tmp_path, blob))
    assert [f.number for f in frames] == [1]
    [issue] = reader.issues
    assert (issue.code, issue.frame) == ("corrupt_block", frame)
    assert words in issue.detail
    assert f"byte offset {len(GOOD)}" in issue.detail


def test_every_cut_point(tmp_path: Path) -> None:
    head = shb() + idb(1, opts=[(9, b"\x06")])
    packets = [epb(0, usec_units(s, u), d) for s, u, d in RECORDS]
    blob = head + b"".join(packets)
    ends = [len(head)]
    for p in packets:
        ends.append(ends[-1] + len(p))
    first_shb = len(shb())
    path = tmp_path / "cut.pcapng"
    for cut in range(len(blob) + 1):
        path.write_bytes(blob[:cut])
        if cut < first_shb:
            with pytest.raises(CaptureError):
                open_capture(path)
            continue
        reader, frames = read_all(path)
        whole = sum(1 for end in ends[1:] if end <= cut)
        assert [f.data for f in frames] == [d for _, _, d in RECORDS[:whole]], cut
        if cut == first_shb or cut in ends:
            assert reader.issues == [], cut
            continue
        [issue] = reader.issues
        assert issue.code == "truncated_record"
        if cut < len(head):  # inside the IDB
            assert issue.frame is None and f"byte offset {first_shb}" in issue.detail
        else:
            assert f"byte offset {ends[whole]}" in issue.detail
            # fewer than 4 bytes do not even say that the block is a packet
            assert issue.frame == (whole + 1 if cut - ends[whole] >= 4 else None)


def test_gzip_pcapng(tmp_path: Path) -> None:
    blob = shb() + idb(1) + b"".join(epb(0, usec_units(s, u), d) for s, u, d in RECORDS)
    reader, frames = read_all(write(tmp_path, gzip.compress(blob), "x.pcapng.gz"))
    assert (reader.format, reader.compressed, reader.issues) == ("pcapng", True, [])
    assert [f.data for f in frames] == [d for _, _, d in RECORDS]
    reader, frames = read_all(write(tmp_path, gzip.compress(blob)[:-30], "cut.pcapng.gz"))
    assert [f.data for f in frames] == [d for _, _, d in RECORDS[:len(frames)]]
    assert [i.code for i in reader.issues] == ["truncated_record"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.binary(max_size=600), order=st.sampled_from("<>"))
def test_random_bytes_after_valid_header(tmp_path: Path, tail: bytes, order: str) -> None:
    path = write(tmp_path, shb(order) + idb(1, order=order) + tail, "fuzz.pcapng")
    with open_capture(path) as reader:
        frames = list(reader)
    for frame in frames:
        assert len(frame.data) == frame.caplen
    assert len(reader.issues) <= 1
