"""The engine's interim reports (`analyze(..., interim=...)`), which the
terminal UI shows while the analysis runs: building one reads the analyzers'
state only, so the final report is the same with or without them, and they
grow with the frames read."""

from __future__ import annotations

from pathlib import Path

import pytest

from mipv6scope.analysis import engine
from mipv6scope.analysis.engine import analyze
from mipv6scope.report.model import Report

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
CAPTURES = sorted(str(p) for p in SAMPLES.iterdir() if p.suffix in (".pcap", ".pcapng"))
VANTAGES = [str(SAMPLES / f"scenario-handoff-vantage-{v}.pcap") for v in ("ha", "mn", "cn")]
EVERY = 97  # frames between interim reports: many per sample, at odd places


def with_interims(paths: list[str]) -> tuple[Report, list[Report]]:
    """The final report of ``paths``, built while taking an interim report at every tick."""
    interims: list[Report] = []
    final = analyze(paths, interim=lambda build: interims.append(build()))
    return final, interims


@pytest.mark.parametrize("paths", [[c] for c in CAPTURES] + [VANTAGES],
                         ids=[Path(c).name for c in CAPTURES] + ["three-vantages"])
def test_interim_reports_leave_the_final_report_as_it_is(paths, monkeypatch):
    monkeypatch.setattr(engine, "PROGRESS_EVERY", EVERY)
    final, interims = with_interims(paths)
    frames = final.capture.frames
    assert len(interims) == frames // EVERY
    assert final.to_dict() == analyze(paths).to_dict()
    assert not final.capture.partial


def test_interim_reports_grow_with_the_frames_read(monkeypatch):
    monkeypatch.setattr(engine, "PROGRESS_EVERY", 200)
    handoff = str(SAMPLES / "scenario-handoff.pcap")
    final, interims = with_interims([handoff])
    assert len(interims) == 4006 // 200
    assert [r.capture.frames for r in interims] == [200 * (i + 1) for i in range(len(interims))]
    assert all(r.capture.partial for r in interims)
    for r in interims:  # every count adds up, as in a final report
        info = r.capture
        assert info.decoded + info.malformed + info.skipped == info.frames
        assert info.first_ts == final.capture.first_ts and info.last_ts <= final.capture.last_ts
    # the node appears early (its first BU is within the first 200 frames) and
    # its registrations only grow
    counts = [len(r.mobile_nodes[0].registrations) if r.mobile_nodes else 0 for r in interims]
    assert counts[0] >= 1 and counts == sorted(counts)
    assert counts[-1] <= len(final.mobile_nodes[0].registrations)
    assert len(interims[-1].signalling) <= len(final.signalling)
    assert len(interims[0].signalling) < len(interims[-1].signalling)


def test_no_interim_callback_no_interim_work(monkeypatch):
    monkeypatch.setattr(engine, "PROGRESS_EVERY", EVERY)
    built: list[int] = []
    monkeypatch.setattr(engine, "_build_report",
                        lambda *a, _real=engine._build_report: built.append(1) or _real(*a))
    analyze([str(SAMPLES / "scenario-handoff.pcap")])
    assert built == [1]  # the final report only


def test_the_ui_takes_interim_reports_less_often_when_they_cost_more(monkeypatch):
    """The analysis worker builds one at most every SNAPSHOT_EVERY_S, and waits
    ten times what the last one cost (SNAPSHOT_SHARE 0.1) before the next."""
    import threading
    import time

    from mipv6scope.cli.output import AnalysisOptions
    from mipv6scope.tui import workers
    from mipv6scope.tui.messages import AnalysisReady, AnalysisSnapshot

    handoff = str(SAMPLES / "scenario-handoff.pcap")
    report = analyze([handoff])

    def fake_analyze(paths, analyzers, progress=None, names=None, interim=None, vantage="auto"):
        def costly() -> Report:
            time.sleep(0.05)  # an interim report that costs 50 ms
            return report
        end = time.monotonic() + 1.0
        while time.monotonic() < end:  # a tick every 10 ms for a second
            interim(costly)
            time.sleep(0.01)
        return report
    monkeypatch.setattr(workers, "analyze", fake_analyze)
    monkeypatch.setattr(workers, "SNAPSHOT_EVERY_S", 0.0)
    posted: list = []
    workers.run_analysis([handoff], AnalysisOptions(None, None, {}), posted.append, threading.Event())
    snapshots = [m for m in posted if isinstance(m, AnalysisSnapshot)]
    assert isinstance(posted[-1], AnalysisReady)
    # 50 ms each, then 0.5 s of waiting: at most three in the second, not 1 s / 60 ms = 16
    assert 1 <= len(snapshots) <= 3
    assert all(s.cost_s >= 0.05 for s in snapshots)
