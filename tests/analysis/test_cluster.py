"""``--cluster``: captures gathered by tasks on a Dask `LocalCluster` (worker
processes) give the reference engine's report byte for byte; an unusable
cluster is one line and exit 2."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.analysis import cluster
from mipv6scope.capture import columns
from mipv6scope.capture.reader import open_capture
from mipv6scope.cli.main import cli
from mipv6scope.synth.story import write_story_capture
from tests.capture.pcapng_blocks import sections_pcapng
from tests.conftest import REPO_ROOT

distributed = pytest.importorskip("distributed")

SAMPLES = REPO_ROOT / "sample_captures"


@pytest.fixture(scope="module")
def scheduler() -> str:
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as local:
        yield local.scheduler_address


def report_run(paths: list[Path | str], *options: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(cli, ["report", "--format", "json", *options, *map(str, paths)],
                                catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr


def test_same_report_as_the_reference(scheduler: str, tmp_path: Path) -> None:
    """Samples (pcap, pcapng, gzip), several captures merged with copies
    skipped, a truncated capture: report, stderr and exit code as the
    reference engine's."""
    compressed = tmp_path / "r.pcap.gz"
    compressed.write_bytes(gzip.compress((SAMPLES / "scenario-recovery.pcap").read_bytes()))
    raw = (SAMPLES / "scenario-handoff.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[:len(raw) // 2 + 7])
    cases = [[SAMPLES / name] for name in ("scenario-fleet.pcap", "scenario-handoff-vlan.pcapng",
                                           "scenario-route-optimization.pcap", "malformed.pcap")]
    cases += [[compressed], [cut],
              [SAMPLES / "scenario-handoff-vantage-ha.pcap", SAMPLES / "scenario-handoff-vantage-mn.pcap"]]
    for paths in cases:
        reference = report_run(paths, "--engine", "reference")
        assert reference[1], reference[2]
        assert report_run(paths, "--cluster", scheduler) == reference, paths
    assert json.loads(report_run([cut], "--cluster", scheduler)[1])["capture"]["capture_issues"]


def test_unreachable_scheduler_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    code, out, err = report_run([SAMPLES / "mh-bu.pcap"], "--cluster", "tcp://127.0.0.1:9")
    assert code == 2 and not out
    assert err.count("\n") == 1 and err.startswith("mipv6scope: cannot reach the Dask scheduler")


def test_without_dask_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code, out, err = report_run([SAMPLES / "mh-bu.pcap"], "--cluster", "tcp://127.0.0.1:9")
    assert code == 2 and not out
    assert err == "mipv6scope: --cluster needs Dask distributed: pip install 'mipv6scope[cluster]'\n"


def test_stdin_cannot_go_to_the_cluster(scheduler: str) -> None:
    """A pipe on stdin: the workers cannot open it; one line, exit 2."""
    done = subprocess.run([sys.executable, "-m", "mipv6scope", "report", "--cluster", scheduler, "-"],
                          input=(SAMPLES / "mh-bu.pcap").read_bytes(), capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, timeout=120)
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.decode() == ("mipv6scope: --cluster: stdin is not a regular file the workers can "
                                    "open (stdin and pipes cannot be sent; save the capture on a "
                                    "shared filesystem)\n")


def test_a_capture_of_several_chunks(scheduler: str, tmp_path: Path) -> None:
    """A capture of more than three of the workers' chunks (their default
    size: they are processes of their own)."""
    path = tmp_path / "story.pcap"
    write_story_capture(path, 60_000)
    reference = report_run([path], "--engine", "reference")
    assert json.loads(reference[1])["capture"]["frames"] > 3 * columns.CHUNK_FRAMES
    assert report_run([path], "--cluster", scheduler) == reference


@pytest.mark.parametrize("frames_per_task", [1, 97, 1000])
def test_a_pcapng_in_ranges_of_records(scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       frames_per_task: int) -> None:
    """A pcapng split into ranges, a task each: the sample (one section) and
    two sections of both byte orders with an interface defined between
    packets, SPB and PB (cut short too): report, stderr and exit code as the
    reference's."""
    monkeypatch.setattr(cluster, "FRAMES_PER_TASK", frames_per_task)
    with open_capture(SAMPLES / "scenario-handoff.pcap") as reader:
        frames = [(f.ts, f.data) for f in reader]
    sections = tmp_path / "sections.pcapng"
    sections.write_bytes(sections_pcapng(frames[:120] if frames_per_task == 1 else frames))
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(sections.read_bytes()[:-100])
    paths = [sections, cut] + ([] if frames_per_task == 1 else [SAMPLES / "scenario-handoff-vlan.pcapng"])
    for path in paths:
        with open_capture(path) as reader:
            assert len(columns.record_ranges(reader, frames_per_task)) > 1
        reference = report_run([path], "--engine", "reference")
        assert json.loads(reference[1])["mobile_nodes"], path
        assert report_run([path], "--cluster", scheduler) == reference, path


@pytest.mark.parametrize("frames_per_task", [1, 97, 1000])
def test_a_capture_in_ranges_of_records(scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        frames_per_task: int) -> None:
    """A pcap split into ranges of records, a task each (down to one record a
    task), cut short too: report, stderr and exit code as the reference's."""
    monkeypatch.setattr(cluster, "FRAMES_PER_TASK", frames_per_task)
    raw = (SAMPLES / "scenario-handoff.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[:len(raw) // 3 + 11])
    for path in (SAMPLES / "scenario-fleet.pcap", cut):
        if frames_per_task == 1 and path != cut:
            continue  # a task a record: the short capture is enough
        with open_capture(path) as reader:
            assert len(columns.record_ranges(reader, frames_per_task)) > 1
        assert report_run([path], "--cluster", scheduler) == report_run([path], "--engine", "reference")
