"""FrameIndex: the same frames and issues as open_capture, from a few bytes a frame."""

from __future__ import annotations

import gzip
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.capture import CaptureError, open_capture
from mipv6scope.capture.frame import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW
from mipv6scope.capture.index import FrameIndex, IndexCancelled
from tests.capture.test_pcapng_reader import block, epb, idb, old_pb, shb, spb

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".pcap", ".pcapng"))

ETH_IPV6 = bytes.fromhex("333300000001" "000000000001" "86dd") + bytes([0x60]) + bytes(39)
RAW_IPV6 = bytes([0x60]) + bytes(range(50))


def pcap_bytes(records: list[tuple[int, int, bytes]], *, order: str = "<", nano: bool = False,
               network: int = 1, wirelen_extra: int = 0) -> bytes:
    """A pcap file built field by field with struct."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, network)]
    for sec, frac, data in records:
        out.append(struct.pack(order + "IIII", sec, frac, len(data), len(data) + wirelen_extra))
        out.append(data)
    return b"".join(out)


def assert_agrees(path: Path) -> FrameIndex:
    """The index gives exactly the reader's frames (all seven fields) and issues."""
    with open_capture(path) as reader:
        frames = list(reader)
    index = FrameIndex.build(path)
    assert len(index) == len(frames)
    for i, frame in enumerate(frames):
        assert index.ts[i] == frame.ts
        assert (index.caplens[i], index.wirelens[i]) == (frame.caplen, frame.wirelen)
        assert (index.linktype(i), index.interface(i)) == (frame.linktype, frame.interface)
        assert index.read_frame(i) == frame, (path, i)
    assert index.issues == reader.issues
    return index


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_capture(path: Path) -> None:
    with assert_agrees(path) as index:
        assert len(index) > 0 and index.format == path.suffix[1:]


def two_interface_pcapng(order: str = "<") -> bytes:
    """Ethernet at microseconds and raw IP at nanoseconds with an offset; SPB, PB;
    then a second section whose interface 0 is Linux cooked at 2^-10 s."""
    return b"".join([
        shb(order),
        idb(LINKTYPE_ETHERNET, opts=[(9, b"\x06")], order=order),
        idb(LINKTYPE_RAW, snaplen=40, opts=[(9, b"\x09"), (14, struct.pack(order + "q", 100))],
            order=order),
        epb(0, 1_700_000_000_123_456, ETH_IPV6, order=order),
        epb(1, 1_700_000_000_987_654_321, RAW_IPV6, wirelen=1500, order=order),
        block(0x00000BAD, b"unknown block", order),
        spb(ETH_IPV6 + b"\x00" * 3, len(ETH_IPV6) + 3, order=order),
        old_pb(1, 5_000_000_000, RAW_IPV6[:33], order=order),
        epb(0, 1_700_000_001_000_000, ETH_IPV6[:20], wirelen=80, order=order,
            opts=[(1, b"a comment")]),
        shb(order),
        idb(LINKTYPE_LINUX_SLL, opts=[(9, b"\x8a")], order=order),
        epb(0, 1_700_000_002 << 10 | 512, bytes(16) + RAW_IPV6, order=order),
    ])


@pytest.mark.parametrize("order", "<>")
def test_pcapng_with_interfaces_of_different_link_types_and_resolutions(
        tmp_path: Path, order: str) -> None:
    path = tmp_path / "two.pcapng"
    path.write_bytes(two_interface_pcapng(order))
    with assert_agrees(path) as index:
        assert [index.linktype(i) for i in range(len(index))] == [1, 101, 1, 101, 1, 113]
        assert [index.interface(i) for i in range(len(index))] == [0, 1, 0, 1, 0, 0]
        assert index.ts[1] == (1_700_000_000_987_654_321 + 100 * 10**9) / 10**9
        assert index.ts[5] == 1_700_000_002.5
        assert index.read_frame(-1).number == 6


def test_every_cut_point_of_a_pcapng(tmp_path: Path) -> None:
    blob = two_interface_pcapng()
    path = tmp_path / "cut.pcapng"
    for cut in range(len(shb()), len(blob) + 1):
        path.write_bytes(blob[:cut])
        index = assert_agrees(path)
        index.close()


def test_every_cut_point_of_a_pcap(tmp_path: Path) -> None:
    blob = pcap_bytes([(1, 2, ETH_IPV6), (3, 4, b"\x01" * 61), (5, 6, ETH_IPV6 * 3)])
    path = tmp_path / "cut.pcap"
    for cut in range(24, len(blob) + 1):
        path.write_bytes(blob[:cut])
        with assert_agrees(path) as index:
            if cut < len(blob):
                assert [i.code for i in index.issues] in ([], ["truncated_record"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 999_999_999),
                                  st.binary(max_size=300)), max_size=12),
       order=st.sampled_from("<>"), nano=st.booleans(), modified=st.booleans(),
       cut=st.integers(0, 40), network=st.sampled_from([1, 101, 113, 276, 0]))
def test_generated_pcaps(tmp_path: Path, records: list[tuple[int, int, bytes]], order: str,
                         nano: bool, modified: bool, cut: int, network: int) -> None:
    if modified:  # Kuznetzov pcap: 8 more bytes per record header
        nano = False
        head = struct.pack(order + "IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, network)
        blob = head + b"".join(struct.pack(order + "IIII", s, f % 1_000_000, len(d), len(d) + 7)
                               + bytes(8) + d for s, f, d in records)
    else:
        blob = pcap_bytes(records, order=order, nano=nano, network=network, wirelen_extra=7)
    path = tmp_path / "gen.pcap"
    path.write_bytes(blob[:len(blob) - cut] if len(blob) - cut >= 24 else blob)
    assert_agrees(path).close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tail=st.binary(max_size=600), order=st.sampled_from("<>"))
def test_random_bytes_after_a_valid_pcapng_header(tmp_path: Path, tail: bytes, order: str) -> None:
    path = tmp_path / "fuzz.pcapng"
    path.write_bytes(shb(order) + idb(1, order=order) + tail)
    assert_agrees(path).close()


def test_memory_per_frame(tmp_path: Path) -> None:
    count = 200_000
    data = (ETH_IPV6 + RAW_IPV6)[:62]
    record = struct.pack("<IIII", 1_700_000_000, 1, 62, 62) + data
    path = tmp_path / "many.pcap"
    path.write_bytes(pcap_bytes([]) + record * count)
    with FrameIndex.build(path) as index:
        assert len(index) == count
        assert index.nbytes / count < 30  # 26 bytes of columns a frame, plus array headers
        assert index.read_frame(count - 1).data == data
        assert index.offsets[count - 1] == 24 + count * 16 + (count - 1) * 62


def test_progress_and_cancellation(tmp_path: Path) -> None:
    path = tmp_path / "p.pcap"
    path.write_bytes(pcap_bytes([(i, 0, ETH_IPV6) for i in range(1000)]))
    size = path.stat().st_size
    calls: list[tuple[int, int, int]] = []
    with FrameIndex.build(path, progress=lambda *a: calls.append(a), chunk_frames=100):
        pass
    assert [c[0] for c in calls] == [*range(100, 1001, 100), 1000]
    assert calls[-1] == (1000, size, size)
    assert all(c[2] == size and c[1] <= size for c in calls)

    stop = threading.Event()

    def stop_at_300(frames: int, _done: int, _total: int) -> None:
        if frames >= 300:
            stop.set()

    with pytest.raises(IndexCancelled):
        FrameIndex.build(path, progress=stop_at_300, cancel=stop, chunk_frames=100)
    ng = tmp_path / "p.pcapng"
    ng.write_bytes(two_interface_pcapng())
    with pytest.raises(IndexCancelled):
        FrameIndex.build(ng, cancel=lambda: True, chunk_frames=2)


def test_gzip_needs_an_uncompressed_file(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap.gz"
    path.write_bytes(gzip.compress(pcap_bytes([(1, 2, ETH_IPV6)])))
    with pytest.raises(CaptureError, match="gzip-compressed: random access needs an uncompressed"):
        FrameIndex.build(path)


def test_errors_are_the_readers(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="No such file"):
        FrameIndex.build(tmp_path / "missing.pcap")
    (tmp_path / "text.pcap").write_text("hello, world")
    with pytest.raises(CaptureError, match="not a pcap or pcapng"):
        FrameIndex.build(tmp_path / "text.pcap")


def test_positions_closing_and_a_file_that_shrank(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    blob = pcap_bytes([(1, 2, ETH_IPV6), (3, 4, ETH_IPV6)])
    path.write_bytes(blob)
    index = FrameIndex.build(path)
    with pytest.raises(IndexError):
        index.read_frame(2)
    with pytest.raises(IndexError):
        index.read_frame(-3)
    path.write_bytes(blob[:-10])
    with pytest.raises(CaptureError, match="frame 2 is no longer in the file"):
        index.read_frame(1)
    index.close()
    with pytest.raises(CaptureError, match="closed"):
        index.read_frame(0)


def test_threads_read_frames_concurrently() -> None:
    path = SAMPLES / "scenario-handoff.pcap"
    with open_capture(path) as reader:
        frames = list(reader)
    with FrameIndex.build(path) as index, ThreadPoolExecutor(4) as pool:
        order = list(range(len(index)))[::-7] * 3
        assert list(pool.map(index.read_frame, order)) == [frames[i] for i in order]
