"""FrameSource.positions_matching: a node's frames found through a raw-bytes
prefilter are exactly those a decode of every frame finds."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mipv6scope.analysis.engine import analyze, default_analyzers
from mipv6scope.browse import FilterCancelled, FrameSource, node_address_bytes
from mipv6scope.filter import FilterContext, compile_filter

SAMPLES = Path(__file__).resolve().parents[1] / "sample_captures"
SCENARIOS = ("scenario-handoff.pcap", "scenario-route-optimization.pcap", "scenario-recovery.pcap")


def slow_positions(source: FrameSource, expression: str, context: FilterContext) -> list[int]:
    """Every frame decoded and tested, as the packet list used to."""
    compiled = compile_filter(expression)
    return [i for i in range(len(source))
            if compiled.matches(source.decoded(i), context, data=source.raw(i),
                                first_ts=source.first_ts)]


@pytest.mark.parametrize("name", SCENARIOS)
def test_node_frames_match_the_full_decode(name: str) -> None:
    path = SAMPLES / name
    report = analyze([str(path)], default_analyzers())
    context = FilterContext.from_report(report)
    assert report.mobile_nodes
    with FrameSource.open(path) as source:
        for node in report.mobile_nodes:
            for key in {str(node.home_address), node.name} - {None}:
                assert key is not None
                expression = f"mn == {key}"
                expected = slow_positions(source, expression, context)
                assert expected, f"{name}: no frame for {expression}"
                fast = source.positions_matching(
                    compile_filter(expression), context,
                    candidates_with=node_address_bytes(context, key))
                assert fast.tolist() == expected, f"{name}: {expression}"
            # and-ed with a display filter, still the same frames
            expression = f"mn == {node.home_address} and (mipv6 or ipv6.hlim < 64)"
            fast = source.positions_matching(
                compile_filter(expression), context,
                candidates_with=node_address_bytes(context, str(node.home_address)))
            assert fast.tolist() == slow_positions(source, expression, context)


def test_without_candidates_every_frame_is_tested() -> None:
    path = SAMPLES / "scenario-handoff.pcap"
    report = analyze([str(path)], default_analyzers())
    context = FilterContext.from_report(report)
    with FrameSource.open(path) as source:
        for expression in ("mipv6", "ipv6.hlim == 64", "frame.number > 3 and not mipv6"):
            fast = source.positions_matching(compile_filter(expression), context)
            assert fast.tolist() == slow_positions(source, expression, context)


def test_small_chunks_find_addresses_across_chunk_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    """An address split by the read chunks is still found."""
    import mipv6scope.browse as browse

    path = SAMPLES / "scenario-route-optimization.pcap"
    report = analyze([str(path)], default_analyzers())
    context = FilterContext.from_report(report)
    node = report.mobile_nodes[0]
    key = str(node.home_address)
    compiled = compile_filter(f"mn == {key}")
    with FrameSource.open(path) as source:
        expected = source.positions_matching(compiled, context,
                                             candidates_with=node_address_bytes(context, key))
        for chunk in (7, 16, 17, 101):
            monkeypatch.setattr(browse, "SCAN_CHUNK_BYTES", chunk)
            got = source.positions_matching(compiled, context,
                                            candidates_with=node_address_bytes(context, key))
            assert got == expected, chunk


def test_no_address_no_frame_and_cancel() -> None:
    path = SAMPLES / "scenario-handoff.pcap"
    with FrameSource.open(path) as source:
        assert len(source.positions_matching(compile_filter("ipv6"), None, candidates_with=[])) == 0
        stop = threading.Event()
        stop.set()
        with pytest.raises(FilterCancelled):
            source.positions_matching(compile_filter("ipv6"), None,
                                      candidates_with=[b"\x00" * 16], cancel=stop)
        calls: list[tuple[int, int]] = []
        source.positions_matching(compile_filter("ipv6"), None,
                                  progress=lambda done, total: calls.append((done, total)))
        assert calls[-1] == (len(source), len(source))
