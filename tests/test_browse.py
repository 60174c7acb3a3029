"""FrameSource, the per-frame access the TUI browses through: the same rows as
`mipv6scope packets`, the kinds the list colours and marks, a bounded cache."""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.analysis.engine import analyze
from mipv6scope.browse import FrameSource, frame_kind
from mipv6scope.cli.main import cli
from mipv6scope.decode.packet_list import format_row
from mipv6scope.synth.story import write_story_capture

SAMPLES = Path(__file__).resolve().parents[1] / "sample_captures"
HANDOFF = SAMPLES / "scenario-handoff.pcap"
BIG_FRAMES = 200_000


def big_capture(path: Path, frames: int = BIG_FRAMES) -> Path:
    """A capture of ``frames`` frames (the home-registration story repeated)."""
    write_story_capture(path, frames)
    return path


@pytest.mark.parametrize("name", ["scenario-handoff.pcap", "malformed.pcap", "ipsec.pcap",
                                  "scenario-handoff-vlan.pcapng", "scenario-route-optimization.pcap",
                                  "mh-options-pmipv6.pcap", "icmp6-errors.pcap"])
def test_rows_are_the_packets_command_text(name):
    path = SAMPLES / name
    result = CliRunner().invoke(cli, ["packets", str(path)])
    assert result.exit_code in (0, 3), result.output
    lines = result.stdout.splitlines()
    with FrameSource.open(path) as source:
        assert len(source) == len(lines)
        for i, line in enumerate(lines):
            row = source.row(i)
            assert line.split()[0] == str(row.number)  # No.
            assert line.rstrip().endswith(f"{row.protocol:<7} {row.info}".rstrip())  # Info
            assert format_row(row) == line


def test_frame_access_and_numbers():
    with FrameSource.open(HANDOFF) as source:
        assert len(source) == 4006
        bu = source.decoded(64)
        assert bu.number == 65 and bu.mh is not None and bu.mh["type"] == 5
        assert source.row(64).protocol == "MIPv6"
        assert source.ts(64) == bu.ts
        assert source.raw(64) == bytes(source.frame(64).data)
        assert len(source.raw(64)) == bu.caplen
        assert source.detail(64)[0].label.startswith("Frame 65")
        assert source.position_of(65) == 64
        with pytest.raises(IndexError):
            source.position_of(0)
        assert source.row(-1).number == 4006


def test_kinds_of_known_frames():
    report = analyze([str(HANDOFF)])
    lost = {f for finding in report.findings if finding.code == "lost_to_old_care_of"
            for f in finding.frames}
    assert lost
    with FrameSource.open(HANDOFF) as source:
        assert source.kind(64) == "signalling"  # frame 65, the first BU (after the home call)
        assert source.kind(3) == "signalling"   # frame 4, an RA
        assert source.kind(4) == "data"         # frame 5, the call at home
        tunnelled = [i for i in range(len(source)) if len(source.decoded(i).ip6) > 1]
        assert tunnelled
        first_lost = min(lost)
        assert source.kind(first_lost - 1) == "tunnelled"
        source.set_lost(lost)
        assert source.lost == frozenset(lost)
        assert all(source.kind(f - 1) == "lost" for f in lost)
        others = [i for i in tunnelled if i + 1 not in lost]
        assert source.kind(others[0]) == "tunnelled"
    with FrameSource.open(SAMPLES / "malformed.pcap") as source:
        kinds = [source.kind(i) for i in range(len(source))]
        statuses = [source.decoded(i).status for i in range(len(source))]
        assert [k == "malformed" for k in kinds] == [s == "malformed" for s in statuses]
        assert [k == "skipped" for k in kinds] == [s == "skipped" for s in statuses]
        assert "malformed" in kinds and "skipped" in kinds
    with FrameSource.open(SAMPLES / "scenario-route-optimization.pcap") as source:
        ro = [i for i in range(len(source)) if source.kind(i) == "route_optimised"]
        assert ro
        d = source.decoded(ro[0])
        assert d.mh is None and (d.ip6[-1].hao is not None or d.ip6[-1].rh2 is not None)
        # only a tunnelled frame is lost (packets tunnelled to the old care-of
        # address): a lost frame number names a frame in each capture file
        assert frame_kind(d, lost=True) == "route_optimised"


def test_cache_is_bounded_and_reads_are_thread_safe():
    with FrameSource.open(HANDOFF, cache_frames=64) as source:
        rows = [source.row(i) for i in range(len(source))]
        assert source.cached == 64
        errors: list[BaseException] = []

        def read(start: int) -> None:
            try:
                for i in range(start, len(source), 7):
                    assert source.row(i) == rows[i]
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=read, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert source.cached <= 64


def test_memory_of_200k_frames_is_the_index_plus_the_cache(tmp_path):
    path = big_capture(tmp_path / "big.pcap")
    tracemalloc.start()
    try:
        source = FrameSource.open(path)
        assert len(source) == BIG_FRAMES
        index_bytes = source.nbytes
        assert index_bytes < BIG_FRAMES * 32  # compact columns, no object per frame
        after_open = tracemalloc.get_traced_memory()[0]
        for i in range(0, BIG_FRAMES, 20):  # 10,000 frames decoded, 4096 kept
            source.row(i)
        assert source.cached == source.cache_frames == 4096
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after_open < index_bytes + (2 << 20)
    assert held < index_bytes + source.cache_frames * 4096  # about 2 KB a cached frame
    assert source.row(BIG_FRAMES - 1).number == BIG_FRAMES
    source.close()


def test_several_files_follow_each_other_numbered_as_packets_numbers_them():
    at_ha, at_mn = SAMPLES / "scenario-handoff-vantage-ha.pcap", SAMPLES / "scenario-handoff-vantage-mn.pcap"
    listed = CliRunner().invoke(cli, ["packets", str(at_ha), str(at_mn)]).output.splitlines()
    seen: list[tuple[int, int, int]] = []
    with FrameSource.open([at_ha, at_mn], progress=lambda *a: seen.append(a)) as source:
        n_ha = len(source.indexes[0])
        assert source.files == 2 and len(source) == n_ha + len(source.indexes[1])
        total = at_ha.stat().st_size + at_mn.stat().st_size
        assert seen[-1] == (len(source), total, total)  # progress counts over both files
        assert [s[1] for s in seen] == sorted(s[1] for s in seen)
        # the rows are the lines `packets` prints for the two files: numbers and
        # relative times restart with the second file
        assert [format_row(source.row(i)) for i in range(len(source))] == listed[:len(source)]
        assert source.locate(n_ha - 1) == (0, n_ha) and source.locate(n_ha) == (1, 1)
        assert source.position_of(1, 1) == n_ha and source.row(n_ha).number == 1
        assert source.raw(n_ha + 8) == bytes(source.indexes[1].read_frame(8).data)
        with pytest.raises(IndexError):
            source.position_of(1, 2)
        with pytest.raises(IndexError):
            source.position_of(len(source.indexes[1]) + 1, 1)
        # a filter over both: each file's matches, the second file's after the first's
        from mipv6scope.filter import compile_filter
        bu = compile_filter("mip6.mhtype == 5")
        found = list(source.positions_matching(bu))
        with FrameSource.open(at_ha) as ha, FrameSource.open(at_mn) as mn:
            assert found == list(ha.positions_matching(bu)) + [n_ha + p for p in mn.positions_matching(bu)]
        assert found and any(p >= n_ha for p in found)
        # a finding's frame: the one of its numbers that lies at its time, in the file where it does
        ts = source.ts(n_ha + 99)
        assert source.finding_position((5, 100), ts) == n_ha + 99
        assert source.finding_position((100,), source.ts(99)) == 99
        assert source.finding_position((10**9,), ts) is None
