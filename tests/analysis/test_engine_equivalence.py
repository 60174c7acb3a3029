"""The columnar engine against the reference engine: the same report, byte
for byte (`report --format json`), on every sample, synth scenarios, the
external captures, several captures merged, gzip, stdin and a pipe, and on
hypothesis-damaged captures through the in-process API."""

from __future__ import annotations

import gzip
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipv6scope.analysis.engine import DUPLICATE_REASON, analyze
from mipv6scope.cli.main import cli
from mipv6scope.synth.engine import CaptureOptions
from mipv6scope.synth.run import run_scenario
from mipv6scope.synth.scenarios import ScenarioParams
from tests.analysis.damage import draw_damaged_capture, reports_by
from tests.conftest import REPO_ROOT, external_captures

SAMPLES = REPO_ROOT / "sample_captures"
SAMPLE_CAPTURES = sorted(p for p in SAMPLES.iterdir() if ".pcap" in p.name and not p.name.endswith(".json"))
ENGINES = ("reference", "columnar")


def report_json(paths: list[Path | str], engine: str, *extra: str) -> bytes:
    """``mipv6scope report --format json --engine ENGINE PATHS`` run in-process."""
    result = CliRunner().invoke(cli, ["report", "--format", "json", "--engine", engine, *extra,
                                      *map(str, paths)], catch_exceptions=False)
    assert result.exit_code in (0, 3), result.output
    return result.stdout_bytes


def assert_same_report(paths: list[Path | str], *extra: str) -> bytes:
    reference, columnar = (report_json(paths, engine, *extra) for engine in ENGINES)
    assert reference, "no report"
    assert columnar == reference
    return reference


@pytest.mark.parametrize("path", SAMPLE_CAPTURES, ids=lambda p: p.name)
def test_samples(path: Path) -> None:
    assert_same_report([path])


def test_external_captures() -> None:
    for path in sorted(external_captures().glob("*/*.pcap")):
        assert_same_report([path])


SCENARIOS = [
    ("handoff", ScenarioParams(seed=3)),
    ("handoff", ScenarioParams(seed=4, options=CaptureOptions(vantage="mn", linktype="sll2", fmt="pcapng"))),
    ("handoff", ScenarioParams(seed=5, options=CaptureOptions(vantage="ha", vlan=7, snaplen=96))),
    ("handoff", ScenarioParams(seed=6, options=CaptureOptions(vantage="cn", linktype="null", esp_null=True))),
    ("route-optimization", ScenarioParams(seed=2, options=CaptureOptions(vantage="tap", linktype="raw"))),
    ("recovery", ScenarioParams(seed=2)),
    ("malformed", ScenarioParams(seed=2)),
    ("fleet", ScenarioParams(seed=2, mobile_nodes=12, duration=20.0, handoff_rate=1 / 5, loss=0.02,
                             esp_share=0.3)),
]


@pytest.mark.parametrize("name, params", SCENARIOS, ids=lambda v: v if isinstance(v, str) else "")
def test_synth_scenarios(tmp_path: Path, name: str, params: ScenarioParams) -> None:
    out = tmp_path / f"{name}.{params.options.fmt}"
    run_scenario(name, params, out)
    assert_same_report([out])
    assert_same_report([out], "--vantage", "ha", "--require-ipsec")


def test_several_captures_merged_with_copies_skipped(tmp_path: Path) -> None:
    """Two vantages of one scenario (the same packets seen twice: the
    duplicate check takes them), a pcapng and a gzip among them."""
    ha, mn = SAMPLES / "scenario-handoff-vantage-ha.pcap", SAMPLES / "scenario-handoff-vantage-mn.pcap"
    compressed = tmp_path / "mn.pcap.gz"
    compressed.write_bytes(gzip.compress(mn.read_bytes()))
    for paths in ([ha, mn], [ha, compressed, SAMPLES / "scenario-handoff-vlan.pcapng"],
                  [SAMPLES / "scenario-route-optimization.pcap", SAMPLES / "home-registration.pcap"]):
        assert_same_report(paths)
    report = analyze([ha, mn], engine="columnar")
    assert report.capture.skip_reasons.get(DUPLICATE_REASON, 0) > 100


def test_gzip(tmp_path: Path) -> None:
    source = SAMPLES / "scenario-recovery.pcap"
    compressed = tmp_path / "r.pcap.gz"
    compressed.write_bytes(gzip.compress(source.read_bytes()))
    assert_same_report([compressed])


@pytest.mark.parametrize("how", ["file", "pipe"])
def test_stdin(how: str) -> None:
    """``report -`` reading stdin, a regular file or a pipe, as child processes."""
    source = SAMPLES / "scenario-handoff.pcap"
    outputs = []
    for engine in ENGINES:
        cmd = [sys.executable, "-m", "mipv6scope", "report", "--format", "json", "--engine", engine, "-"]
        if how == "file":
            with open(source, "rb") as stdin:
                proc = subprocess.run(cmd, stdin=stdin, capture_output=True, check=True)
        else:
            proc = subprocess.run(cmd, input=source.read_bytes(), capture_output=True, check=True)
        outputs.append(proc.stdout)
    assert outputs[0] and outputs[0] == outputs[1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_captures(tmp_path_factory, data) -> None:
    """Bit flips, truncation and corrupted record headers: the same report
    (capture issues, frames counted, findings) from both engines."""
    sources = ("scenario-handoff.pcap", "scenario-route-optimization.pcap", "scenario-handoff-vlan.pcapng",
               "scenario-malformed.pcap", "home-registration.pcap")
    # a record header's captured length made absurd or slightly off
    path = draw_damaged_capture(data, tmp_path_factory.mktemp("damaged"), sources,
                                (b"\xff\xff\xff\x00", b"\x10\x00\x00\x00", b"\x00\x00\x00\x00"))
    reference, columnar = reports_by(path, (partial(analyze, engine=engine) for engine in ENGINES))
    assert columnar == reference


def test_forgetting_addresses_and_routes_keeps_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the address and route tables reset at every chunk (bounds of 3
    addresses and 2 routes), reports stay the reference's."""
    from mipv6scope.analysis import columnar
    from mipv6scope.capture import columns
    monkeypatch.setattr(columnar, "ADDRESSES_MAX", 3)
    monkeypatch.setattr(columnar, "ROUTES_MAX", 2)
    monkeypatch.setattr(columns, "CHUNK_FRAMES", 50)
    resets = []
    real_bound = columnar.Gatherer.bound
    monkeypatch.setattr(columnar.Gatherer, "bound", lambda self: resets.append(
        len(self.addresses.objects) >= 3) or real_bound(self))
    for name in ("scenario-handoff.pcap", "scenario-route-optimization.pcap", "scenario-fleet.pcap"):
        path = SAMPLES / name
        reference = analyze([path], engine="reference").to_dict()
        assert analyze([path], engine="columnar", jobs=1).to_dict() == reference
        assert analyze([path], engine="columnar", jobs=2).to_dict() == reference  # resets in a producer
    assert sum(resets) > 50


@pytest.mark.parametrize("name", ["scenario-handoff.pcap", "scenario-handoff-vlan.pcapng"])
def test_interim_reports_come_at_the_same_frames(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The terminal UI's interim reports (every PROGRESS_EVERY frames) are the
    same reports from both engines, mid-chunk included."""
    from mipv6scope.analysis import engine
    from mipv6scope.capture import columns
    monkeypatch.setattr(engine, "PROGRESS_EVERY", 333)
    monkeypatch.setattr(columns, "CHUNK_FRAMES", 1000)
    interim = {}
    for which in ENGINES:
        seen = interim[which] = []
        analyze([SAMPLES / name], engine=which,
                interim=lambda build, seen=seen: seen.append(build().to_dict()))
    assert len(interim["columnar"]) == 4006 // 333
    assert interim["columnar"] == interim["reference"]
