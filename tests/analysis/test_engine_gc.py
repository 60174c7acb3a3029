"""The pass freezes the cyclic collector's view of its state (engine module
docstring) and gives it back however `analyze` ends."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from mipv6scope.analysis import engine
from mipv6scope.analysis.base import Analyzer
from mipv6scope.analysis.engine import analyze
from mipv6scope.capture.frame import CaptureError
from mipv6scope.report.builder import ReportBuilder

REPO = Path(__file__).resolve().parents[2]
HANDOFF = REPO / "sample_captures" / "scenario-handoff.pcap"


def test_the_pass_freezes_and_analyze_gives_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "FREEZE_EVERY", 8)
    monkeypatch.setattr(engine, "PROGRESS_EVERY", 16)
    frozen_during: list[int] = []
    gc.unfreeze()
    report = analyze([HANDOFF], progress=lambda done, total: frozen_during.append(gc.get_freeze_count()))
    assert report.mobile_nodes
    assert max(frozen_during) > 0  # objects were frozen while the pass ran
    assert gc.get_freeze_count() == 0


def test_the_pass_collects_the_young_less_often_and_gives_the_thresholds_back() -> None:
    before = gc.get_threshold()
    during: list[tuple[int, ...]] = []
    analyze([HANDOFF], progress=lambda done, total: during.append(gc.get_threshold()))
    assert during and all(t == (engine.YOUNG_THRESHOLD, *before[1:]) for t in during)
    assert gc.get_threshold() == before
    gc.set_threshold(0, *before[1:])  # collection off: left off
    try:
        analyze([HANDOFF], progress=lambda done, total: during.append(gc.get_threshold()))
        assert during[-1][0] == 0
    finally:
        gc.set_threshold(*before)


def test_a_failed_analysis_gives_the_collector_back(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-capture.pcap"
    bad.write_bytes(b"this is not a capture file at all")
    with pytest.raises(CaptureError):
        analyze([HANDOFF, bad])
    assert gc.get_freeze_count() == 0


def test_interrupted_pass_gives_the_collector_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "FREEZE_EVERY", 8)
    monkeypatch.setattr(engine, "PROGRESS_EVERY", 8)

    calls = []

    def interrupt(done: int, total: int) -> None:
        # the first call comes after 8 frames, mid-pass (the columnar engine reads the
        # whole small file in one chunk, so ``done`` may already equal ``total``)
        calls.append(done)
        if len(calls) == 1:
            raise KeyboardInterrupt

    report = analyze([HANDOFF], progress=interrupt)
    assert report.capture.partial
    assert gc.get_freeze_count() == 0


def test_overlapping_passes_give_the_collector_back_when_the_last_ends() -> None:
    """Two passes overlapping (threads of the TUI): the first to end does not
    put the thresholds back under the other; the last to end does."""
    before = gc.get_threshold()
    first, second = engine._collector_given_back(), engine._collector_given_back()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == (engine.YOUNG_THRESHOLD, *before[1:])
    gc.freeze()
    assert gc.get_freeze_count() > 0  # still the running pass's
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


class _CollectorSeen(Analyzer):
    """Records whether the cyclic collector was on while it contributed to the report."""

    def __init__(self) -> None:
        self.enabled: list[bool] = []

    def contribute(self, builder: ReportBuilder) -> None:
        self.enabled.append(gc.isenabled())


def test_the_final_report_is_built_with_collection_off_and_it_comes_back() -> None:
    seen = _CollectorSeen()
    analyze([HANDOFF], analyzers=[*engine.default_analyzers(), seen])
    assert seen.enabled == [False]
    assert gc.isenabled()
    gc.disable()  # collection off: left off
    try:
        analyze([HANDOFF], analyzers=[*engine.default_analyzers(), seen])
        assert not gc.isenabled()
    finally:
        gc.enable()
