"""The engine over small written captures, with a stub analyzer of its own:
merge order, dedupe across files, Ctrl-C, counts, progress and memory."""

from __future__ import annotations

import struct
import tracemalloc
from ipaddress import IPv6Address
from pathlib import Path

import pytest

from mipv6scope.analysis import engine
from mipv6scope.analysis.base import Analyzer
from mipv6scope.analysis.engine import DUPLICATE_REASON, analyze, read_names
from mipv6scope.capture.frame import LINKTYPE_ETHERNET, LINKTYPE_RAW, CaptureError
from mipv6scope.capture.reader import CaptureReader
from mipv6scope.events import BindingUpdate, DataPacket, Event
from mipv6scope.report.builder import ReportBuilder
from mipv6scope.synth.writer import CaptureWriter

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
HA = bytes.fromhex("20010db8000100000000000000000001")
COA = bytes.fromhex("20010db8000200000000000000000100")
HOA = bytes.fromhex("20010db8000100000000000000000100")
CN = bytes.fromhex("20010db8000900000000000000000009")


def tunnelled(sport: int, hop_limit: int = 64) -> bytes:
    """HA -> CoA tunnel carrying CN -> HoA UDP from ``sport``."""
    udp = struct.pack("!HHHH", sport, 53, 12, 0) + b"data"
    inner = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + CN + HOA + udp
    return struct.pack("!IHBB", 6 << 28, len(inner), 41, hop_limit) + HA + COA + inner


def write(path: Path, packets: list[tuple[float, bytes]], linktype: int = LINKTYPE_RAW) -> Path:
    with open(path, "wb") as fh:
        writer = CaptureWriter(fh, linktype)
        for ts, data in packets:
            writer.write(ts, data)
    return path


class Recorder(Analyzer):
    """Keeps (file, frame, ts, sport) of every data packet and every event."""

    def __init__(self) -> None:
        self.data: list[tuple[int, int, float, int | None]] = []
        self.events: list[Event] = []
        self.finished_at: float | None = None
        self.contributed = False

    def on_data_packet(self, event: DataPacket) -> None:
        self.data.append((event.file, event.frame, event.ts, event.sport))
        self.events.append(event)

    def on_binding_update(self, event: BindingUpdate) -> None:
        self.events.append(event)

    def finish(self, end_ts: float | None) -> None:
        self.finished_at = end_ts

    def contribute(self, builder: ReportBuilder) -> None:
        self.contributed = True
        builder.node(IPv6Address(HOA)).care_of_addresses.append(IPv6Address(COA))


def test_two_files_are_merged_by_timestamp(tmp_path: Path):
    a = write(tmp_path / "a.pcap", [(10.0, tunnelled(1)), (10.2, tunnelled(3)), (10.4, tunnelled(5))])
    b = write(tmp_path / "b.pcap", [(10.1, tunnelled(2)), (10.3, tunnelled(4))])
    rec = Recorder()
    report = analyze([a, b], analyzers=[rec])
    assert rec.data == [(0, 1, 10.0, 1), (1, 1, 10.1, 2), (0, 2, 10.2, 3), (1, 2, 10.3, 4),
                        (0, 3, 10.4, 5)]
    assert report.capture.files == (str(a), str(b))
    assert (report.capture.first_ts, report.capture.last_ts) == (10.0, 10.4)
    assert rec.finished_at == 10.4 and rec.contributed
    assert [str(n.home_address) for n in report.mobile_nodes] == ["2001:db8:1::100"]


def test_same_packet_in_two_files_counts_once(tmp_path: Path):
    # b saw the same packets one hop later (hop limit 63) and a few ms later,
    # plus one packet of its own; a repeats one packet itself (kept: same file).
    a = write(tmp_path / "a.pcap", [(10.0, tunnelled(1)), (10.5, tunnelled(2)), (10.6, tunnelled(2))])
    b = write(tmp_path / "b.pcap", [(10.002, tunnelled(1, 63)), (10.3, tunnelled(9)),
                                     (10.501, tunnelled(2, 63)), (11.0, tunnelled(1, 63))])
    rec = Recorder()
    info = analyze([a, b], analyzers=[rec]).capture
    assert [d[3] for d in rec.data] == [1, 9, 2, 2, 1]  # the 11.0 copy is outside the window
    assert (info.frames, info.decoded, info.skipped) == (7, 5, 2)
    assert info.skip_reasons == {DUPLICATE_REASON: 2}


def test_one_file_is_never_deduplicated(tmp_path: Path):
    a = write(tmp_path / "a.pcap", [(10.0, tunnelled(1)), (10.0, tunnelled(1))])
    rec = Recorder()
    assert analyze([a], analyzers=[rec]).capture.decoded == 2
    assert len(rec.data) == 2


def test_dedupe_window_state_stays_bounded():
    from mipv6scope.capture.frame import Frame
    dedupe = engine._Dedupe(max_entries=100)
    for i in range(1000):
        data = tunnelled(i % 60000)
        assert not dedupe.duplicate(Frame(i + 1, 10.0 + i * 1e-6, len(data), len(data), LINKTYPE_RAW, data), 0)
    assert len(dedupe.order) <= 100 and len(dedupe.seen) <= 100


class Interrupting(Recorder):
    def on_data_packet(self, event: DataPacket) -> None:
        super().on_data_packet(event)
        if event.frame == 3:
            raise KeyboardInterrupt


def test_ctrl_c_gives_a_partial_report(tmp_path: Path):
    a = write(tmp_path / "a.pcap", [(10.0 + i, tunnelled(i)) for i in range(10)])
    rec = Interrupting()
    report = analyze([a], analyzers=[rec])
    assert report.capture.partial
    assert len(rec.data) == 3 and rec.finished_at == 12.0 and rec.contributed
    assert report.capture.frames == 3
    assert report.mobile_nodes  # the analyzers still contributed


def test_signalling_goes_through_the_decoder():
    rec = Recorder()
    report = analyze([SAMPLES / "scenario-handoff.pcap"], analyzers=[rec])
    bus = [e for e in rec.events if isinstance(e, BindingUpdate)]
    assert bus and all(bu.flags >= {"H"} for bu in bus if bu.dst == bu.wire_dst)
    assert report.capture.frames == report.capture.decoded + report.capture.malformed + report.capture.skipped
    assert not report.capture.partial


def test_unreadable_capture_raises_capture_error(tmp_path: Path):
    with pytest.raises(CaptureError):
        analyze([tmp_path / "missing.pcap"], analyzers=[])
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture at all")
    with pytest.raises(CaptureError):
        analyze([SAMPLES / "mh-bu.pcap", bad], analyzers=[])


def test_truncated_capture_is_a_capture_issue(tmp_path: Path):
    a = write(tmp_path / "a.pcap", [(10.0 + i, tunnelled(i)) for i in range(3)])
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(a.read_bytes()[:-5])
    info = analyze([cut], analyzers=[]).capture
    assert info.frames == 2 and len(info.capture_issues) == 1
    assert "truncated_record" in info.capture_issues[0]


def test_progress_reports_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(engine, "PROGRESS_EVERY", 2)
    a = write(tmp_path / "a.pcap", [(10.0 + i, tunnelled(i)) for i in range(9)], LINKTYPE_ETHERNET)
    calls: list[tuple[int, int]] = []
    analyze([a], analyzers=[], progress=lambda done, total: calls.append((done, total)))
    size = a.stat().st_size
    assert calls[-1] == (size, size) and len(calls) >= 2
    assert all(0 <= done <= total == size for done, total in calls)


def test_default_analyzers_share_one_bindings_analyzer():
    analyzers = engine.default_analyzers()
    bindings = analyzers[0]
    assert type(bindings).__name__ == "BindingsAnalyzer"
    assert all(getattr(a, "bindings", bindings) is bindings for a in analyzers[1:])


def test_names_name_the_nodes(tmp_path: Path):
    hosts = tmp_path / "hosts"
    hosts.write_text("# comment\n2001:db8:1::100  laptop  alias\nnot-an-address x\n10.0.0.1 v4host\n")
    names = read_names(hosts)
    assert names == {IPv6Address(HOA): "laptop"}
    a = write(tmp_path / "a.pcap", [(10.0, tunnelled(1))])
    report = analyze([a], analyzers=[Recorder()], names=names)
    assert report.mobile_nodes[0].name == "laptop"


def _peak(path: Path, engine: str) -> int:
    tracemalloc.start()
    analyze([path], analyzers=[Recorder.__base__()], engine=engine)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("engine_name", ["reference", "columnar"])
def test_memory_does_not_grow_with_frames(tmp_path: Path, engine_name: str):
    # both captures span several of the columnar engine's chunks (columns.CHUNK_FRAMES)
    one = write(tmp_path / "one.pcap", [(10.0 + i * 1e-3, tunnelled(i % 1000)) for i in range(40_000)])
    two = write(tmp_path / "two.pcap", [(10.0 + i * 1e-3, tunnelled(i % 1000)) for i in range(80_000)])
    small, large = _peak(one, engine_name), _peak(two, engine_name)
    assert large < small * 1.3


# -- one pcap file visited record by record, against iterating Frames ------------------------

PCAPS = sorted(p for p in SAMPLES.iterdir() if p.suffix == ".pcap")


def iterating_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the engine take its Frame-iterating path for every file."""
    monkeypatch.setattr(CaptureReader, "can_visit", property(lambda self: False))


@pytest.mark.parametrize("path", PCAPS, ids=lambda p: p.name)
def test_visiting_records_gives_the_report_iterating_frames_gives(path: Path, monkeypatch):
    calls = []
    real_visit = CaptureReader.visit
    monkeypatch.setattr(CaptureReader, "visit", lambda self, v: calls.append(1) or real_visit(self, v))
    visited = analyze([path], engine="reference").to_dict()
    assert calls == [1]
    iterating_frames(monkeypatch)
    iterated = analyze([path], engine="reference").to_dict()
    assert visited == iterated


def test_remembered_headers_keep_their_own_frames_across_flows(tmp_path: Path):
    """Many packets of few headers: each packet keeps its own time and number
    on the visiting path, exactly as on the iterating path."""
    packets = [(10.0 + i * 0.001, tunnelled(4000 + i % 3)) for i in range(300)]
    path = write(tmp_path / "flows.pcap", packets, LINKTYPE_RAW)
    rec = Recorder()
    analyze([path], analyzers=[rec])
    assert rec.data == [(0, i + 1, 10.0 + i * 0.001, 4000 + i % 3) for i in range(300)]


def test_progress_and_ctrl_c_on_every_path(tmp_path: Path, monkeypatch):
    a = write(tmp_path / "a.pcap", [(10.0 + i, tunnelled(i)) for i in range(10)])
    for path_kind in ("columnar", "visit", "iterate"):
        if path_kind == "iterate":
            iterating_frames(monkeypatch)
        rec = Interrupting()
        report = analyze([a], analyzers=[rec], engine="columnar" if path_kind == "columnar" else "reference")
        assert report.capture.partial, path_kind
        assert report.capture.frames == 3 and (report.capture.first_ts, report.capture.last_ts) == (10.0, 12.0)
